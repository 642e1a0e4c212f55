"""The seed's peers (``benchlib.seed.peers``): the list, what it explains, and the seed's
ranking of them."""

from __future__ import annotations

from pathlib import Path

from scripts.benchlib.seed.peers import NOT_PACKAGED, SeedPeer, seed_peers, seed_ranks


def test_seed_peers_explain_hyperlane_and_rocket_and_apt_install_apache(tmp_path: Path) -> None:
    peers = {peer.name: peer for peer in seed_peers(tmp_path)}
    assert peers["hyperlane"].never == NOT_PACKAGED
    assert peers["Rocket"].never == NOT_PACKAGED
    assert "not packaged here" in NOT_PACKAGED
    for name in ("Apache", "Apache (88-byte reply)"):
        assert peers[name].packages == ("apache2",)
        assert peers[name].prepare is not None
    assert peers["Apache"].seed_rps == 18017.33
    assert peers["Apache (88-byte reply)"].seed_rps is None


def test_seed_ranks_orders_the_seeds_figures_highest_first() -> None:
    peers = [SeedPeer("b", 10.0), SeedPeer("ours", None), SeedPeer("a", 30.0)]
    assert seed_ranks(peers) == {"a": 1, "b": 2}
