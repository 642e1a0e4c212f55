"""The seed page's table, reproduced on this machine.

Builds the seed's servers that can be built offline here (our own sources in
``scripts/peers/``: Rust std, Tokio, Go std, Gin, Node std), adds nginx and trioserve, runs
``ab -r -c 1000 -n N`` (keep-alive off) against each in turn, and prints the seed's ranking
side by side with the local figures, as a Markdown table. Peers whose toolchain is missing are
skipped with a one-line reason; ``--install`` apt-get installs them first.

    .venv/bin/python scripts/seed_table.py --requests 2000    # smoke run
    .venv/bin/python scripts/seed_table.py                    # -n 1000000, as the seed
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a file, the repository root is not importable; make it so, as it is for ``-m``/mypy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.benchlib.machine import (
    OUT_DIR,
    describe,
    describe_reply,
    fetch_once,
    listen_backlogs,
    raise_nofile_limit,
    tool_version,
    which,
)
from scripts.benchlib.report import Row, markdown_table, publish, run_main
from scripts.benchlib.runner import ClientRun, Runner, client_timeout
from scripts.benchlib.seedpeers import BuildError, SeedPeer, seed_peers
from scripts.benchlib.tools import ab_argv, parse_ab

HOST = "127.0.0.1"  # the peers' sources bind this address only
PART = "seed"
SYSTEM_NGINX_PID = Path("/run/nginx.pid")


def install(peers: list[SeedPeer]) -> None:
    """apt-get install what the missing peers (and ab) need, from Debian's packages."""
    wanted = {package for peer in peers if peer.missing() for package in peer.packages}
    if which("ab") is None:
        wanted.add("apache2-utils")
    if not wanted:
        return
    print(f"installing: {' '.join(sorted(wanted))}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", *sorted(wanted)], check=True, env=env)
    if "nginx" in wanted and SYSTEM_NGINX_PID.exists():
        # Debian starts a system nginx on port 80 at install; ours runs from its own prefix.
        pid = int(SYSTEM_NGINX_PID.read_text().strip())
        print(f"stopping the system nginx the package started (pid {pid})")
        os.kill(pid, signal.SIGQUIT)


def measure_peer(runner: Runner, peer: SeedPeer, requests: int, concurrency: int) -> dict[str, str]:
    """Build, start, check and load one peer; return the table's extra cells for it."""
    extra = {"backlog": "", "reply": "", "note": peer.note}
    if peer.never is not None or peer.prepare is None:
        runner.skip(PART, peer.name, ["ab"], peer.never or "not set up")
        return extra
    if (missing := peer.missing()) is not None:
        runner.skip(PART, peer.name, ["ab"], f"skipped: {missing} (--install adds it)")
        return extra
    print(f"  [{PART}] preparing {peer.name} ...", flush=True)
    try:
        spec = peer.prepare(HOST)
    except (BuildError, OSError, subprocess.TimeoutExpired) as exc:
        runner.skip(PART, peer.name, ["ab"], f"build failed: {exc}")
        return extra
    with runner.started(PART, [spec], ["ab"]) as live:
        for server in live.values():
            extra["backlog"] = listen_backlogs(server.port)
            extra["reply"] = describe_reply(fetch_once(HOST, server.port))
            argv = ab_argv(server.url, requests, concurrency)
            run = ClientRun("ab", argv, parse_ab, requests, client_timeout(requests))
            runner.measure(PART, spec.name, server, run)
    return extra


def _cell(value: float | int | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def seed_ranks(peers: list[SeedPeer]) -> dict[str, int]:
    """Each seed peer's place in the seed's ranking (req/s, highest first)."""
    figures = sorted((-peer.seed_rps, peer.name) for peer in peers if peer.seed_rps)
    return {name: rank for rank, (_, name) in enumerate(figures, start=1)}


def table(
    peers: list[SeedPeer],
    ranks: dict[str, int],
    rows: dict[str, Row],
    extras: dict[str, dict[str, str]],
) -> str:
    measured = sorted(
        (name for name, row in rows.items() if row.requests_per_second is not None),
        key=lambda name: -(rows[name].requests_per_second or 0.0),
    )
    headers = ["seed rank", "server", "seed req/s", "rank here", "req/s here", "here / seed",
               "failed", "p99 ms", "server CPU µs/req", "backlog", "reply", "note"]  # fmt: skip
    lines = []
    for peer in peers:
        row = rows.get(peer.name)
        rps = row.requests_per_second if row else None
        ratio = rps / peer.seed_rps if rps is not None and peer.seed_rps else None
        notes = (extras[peer.name]["note"], row.note if row else "")
        lines.append(
            [
                _cell(ranks.get(peer.name), "d"),
                peer.name,
                _cell(peer.seed_rps, ",.0f"),
                _cell(measured.index(peer.name) + 1 if peer.name in measured else None, "d"),
                _cell(rps, ",.0f"),
                _cell(ratio, ".2f"),
                _cell(row.failed if row else None, "d"),
                _cell(row.p99_ms if row else None, ".0f"),
                _cell(row.server_cpu_us if row else None, ".1f"),
                extras[peer.name]["backlog"] or "-",
                extras[peer.name]["reply"] or "-",
                "; ".join(note for note in notes if note),
            ]
        )
    return markdown_table(headers, lines, numeric=[0, *range(2, 9)])


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", "-n", type=int, default=1_000_000)
    parser.add_argument("--concurrency", "-c", type=int, default=1000)
    parser.add_argument("--only", help="comma-separated server names (as in the table)")
    parser.add_argument("--install", action="store_true", help="apt-get install missing tools")
    parser.add_argument("--pause", type=float, help="seconds between peers (2; 0.5 under 10k)")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = parser.parse_args(args_list)
    pause = args.pause if args.pause is not None else (2.0 if args.requests >= 10_000 else 0.5)

    raise_nofile_limit()
    OUT_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="seed-", dir=OUT_DIR) as tmp:
        run_dir = Path(tmp)
        peers = seed_peers(run_dir)
        ranks = seed_ranks(peers)
        if args.only:
            chosen = {name.strip().lower() for name in args.only.split(",")}
            peers = [peer for peer in peers if peer.name.lower() in chosen]
        if args.install:
            install(peers)
        if which("ab") is None:
            print("ab is not installed (apt-get install apache2-utils, or --install)")
            return 2
        runner = Runner(HOST, OUT_DIR / "logs", pause)
        extras = {
            peer.name: measure_peer(runner, peer, args.requests, args.concurrency) for peer in peers
        }
    rows = {row.server: row for row in runner.rows()}
    report = "\n".join(
        [
            "# The seed's keep-alive-off table, here",
            "",
            f"`{shlex.join(['scripts/seed_table.py', *args_list])}` on"
            f" {time.strftime('%Y-%m-%d %H:%M %Z')}: `ab -r -c {args.concurrency}"
            f" -n {args.requests}` against each server in turn (the seed: -c 1000 -n 1000000).",
            "",
            *(f"- {key}: {value}" for key, value in describe()),
            f"- ab: {tool_version(['ab', '-V'])}",
            "",
            table(peers, ranks, rows, extras),
            "",
        ]
    )
    publish(report, args.markdown)
    return 0


if __name__ == "__main__":
    run_main(main)
