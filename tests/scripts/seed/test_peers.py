"""The seed's peers (``benchlib.seed.peers``): the list and what it explains, and how a peer's
reply differs from the seed's 88 bytes."""

from __future__ import annotations

from pathlib import Path

from scripts.benchlib.seed.peers import NOT_PACKAGED, REPLY, SeedPeer, describe_reply, seed_peers
from scripts.benchlib.seed.report import seed_ranks

# --- the peers -------------------------------------------------------------------------------


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


# --- replies ---------------------------------------------------------------------------------


def test_describe_reply_exact() -> None:
    assert len(REPLY) == 88
    assert describe_reply(REPLY) == "exact 88 B"


def test_describe_reply_empty() -> None:
    assert describe_reply(b"") == "no reply"


def test_describe_reply_names_extra_and_missing_headers() -> None:
    reply = REPLY.replace(b"Connection: close\r\n", b"Server: nginx\r\n")
    assert describe_reply(reply) == f"{len(reply)} B, +server, -connection"


def test_describe_reply_header_order_and_case() -> None:
    reordered = (
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nContent-Type: text/plain\r\n"
        b"Connection: close\r\n\r\nhello"
    )
    assert describe_reply(reordered) == "88 B, header order differs, header case differs"


def test_describe_reply_status_and_body() -> None:
    reply = REPLY.replace(b"200 OK", b"404 Not Found").replace(b"hello", b"nope!")
    assert (
        describe_reply(reply) == f"{len(reply)} B, status 'HTTP/1.1 404 Not Found', body b'nope!'"
    )


def test_describe_reply_long_body_by_its_length() -> None:
    page = b"<!DOCTYPE html>" + b"x" * 10_000
    reply = REPLY.replace(b"Content-Length: 5", f"Content-Length: {len(page)}".encode())
    reply = reply.replace(b"hello", page)
    assert describe_reply(reply) == f"{len(reply)} B, header values differ, body {len(page)} B"


def test_describe_reply_header_values() -> None:
    reply = REPLY.replace(b"Connection: close", b"Connection: keep-alive")
    assert describe_reply(reply) == f"{len(reply)} B, header values differ"
