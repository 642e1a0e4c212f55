"""The ``trioload compare`` command line the seed table runs (``benchlib.seed.table``), read
back by compare's own parser. Nothing here starts a process."""

from __future__ import annotations

import shlex
from pathlib import Path

from scripts.benchlib.peers import PeerSpec
from scripts.benchlib.seed.table import (
    LoadOptions,
    choose_baseline,
    compare_argv,
    serve_command,
    trioload_command,
)
from trioload.compare.command import build_parser, plan_from_args

HOST = "127.0.0.1"
HERE = Path("/repo")
OPTIONS = LoadOptions(20_000, 1000, 5, 2.0, Path("/out/seed-table.json"))


def spec(name: str, *argv: str, cwd: Path = HERE) -> PeerSpec:
    return PeerSpec(name, lambda port: [*argv, str(port)], cwd=cwd)


PEERS = [
    spec("Tokio", "/build/seed-tokio"),
    spec("Apache (88-byte reply)", "/usr/sbin/apache2", "-f", "/run dir/apache2.conf"),
    spec("nginx", "/usr/sbin/nginx", "-g", "daemon off;"),
    spec("trioserve --workers auto", "/venv/bin/trioserve", "--workers", "auto", "--port"),
]
PORTS = [41001, 41002, 41003, 41004]


def built() -> list[str]:
    return compare_argv(["trioload"], list(zip(PEERS, PORTS, strict=True)), OPTIONS,
                        host=HOST, cwd=HERE)  # fmt: skip


def option(argv: list[str], flag: str) -> list[str]:
    return [argv[index + 1] for index, item in enumerate(argv) if item == flag]


def test_compare_argv_gives_the_load_ranks_by_cpu_and_writes_the_json() -> None:
    argv = built()
    assert argv[:2] == ["trioload", "compare"]
    assert option(argv, "-c") == ["1000"]
    assert option(argv, "-n") == ["20000"]
    assert option(argv, "--rounds") == ["5"]
    assert option(argv, "--rank-by") == ["cpu"]
    assert option(argv, "--pause") == ["2"]
    assert option(argv, "--json") == ["/out/seed-table.json"]
    assert "-k" not in argv  # keep-alive off, as the seed


def test_compare_argv_serves_every_peer_on_its_port_and_targets_its_url() -> None:
    argv = built()
    serves = [text.partition("=") for text in option(argv, "--serve")]
    assert [(name, shlex.split(command)) for name, _, command in serves] == [
        (peer.name, peer.argv(port)) for peer, port in zip(PEERS, PORTS, strict=True)
    ]
    assert argv[-len(PEERS) :] == [
        f"{peer.name}=http://127.0.0.1:{port}/" for peer, port in zip(PEERS, PORTS, strict=True)
    ]


def test_compare_reads_the_argv_back_into_the_same_targets_and_servers() -> None:
    plan = plan_from_args(build_parser().parse_args(built()[2:]))
    assert [target.name for target in plan.targets] == [peer.name for peer in PEERS]
    assert [target.config.url for target in plan.targets] == [
        f"http://127.0.0.1:{port}/" for port in PORTS
    ]
    assert [list(target.serve or ()) for target in plan.targets] == [
        peer.argv(port) for peer, port in zip(PEERS, PORTS, strict=True)
    ]
    assert (plan.baseline, plan.rank_by, plan.rounds, plan.pause_s) == ("nginx", "cpu", 5, 2.0)
    assert plan.targets[0].config.requests == 20_000
    assert plan.targets[0].config.concurrency == 1000


def test_baseline_is_nginx_when_present_else_the_first() -> None:
    assert choose_baseline(["Tokio", "nginx", "trioserve"]) == "nginx"
    assert choose_baseline(["Tokio", "trioserve"]) == "Tokio"
    argv = compare_argv(["trioload"], [(PEERS[0], 1), (PEERS[3], 2)], OPTIONS,
                        host=HOST, cwd=HERE)  # fmt: skip
    assert option(argv, "--baseline") == ["Tokio"]


def test_serve_command_moves_a_peer_with_its_own_folder_there_with_env() -> None:
    elsewhere = spec("Gin", "./server", cwd=Path("/build/gin dir"))
    assert shlex.split(serve_command(elsewhere, 7, HERE)) == [
        "env", "-C", "/build/gin dir", "./server", "7",
    ]  # fmt: skip
    assert shlex.split(serve_command(PEERS[0], 7, HERE)) == ["/build/seed-tokio", "7"]


def test_trioload_command_prefers_the_console_script_beside_the_interpreter(
    tmp_path: Path,
) -> None:
    python = tmp_path / "python"
    assert trioload_command(str(python)) == [str(python), "-m", "trioload"]
    (tmp_path / "trioload").touch()
    assert trioload_command(str(python)) == [str(tmp_path / "trioload")]
