"""The seed page's table, reproduced on this machine, under trioload, ab or both.

Builds the seed's servers that can be built offline here (our own sources in
``scripts/peers/``: Rust std, Tokio, Go std, Gin, Node std), runs Debian's Apache on its
default page (as the seed did) and on a 5-byte hello, adds nginx and trioserve, then loads
each with keep-alive off (``trioload -c 1000 -n N`` and/or ``ab -r -c 1000 -n N``) for
``--rounds`` rounds, servers interleaved. Prints one table ranked by server CPU a request,
with the seed's rank and req/s beside ours (median, min-max); also as Markdown, JSON and a
PNG chart on request. Peers whose toolchain is missing are skipped with a one-line reason;
``--install`` apt-get installs them first.

    .venv/bin/python scripts/seed_table.py --client both -n 2000 --rounds 1    # smoke run
    .venv/bin/python scripts/seed_table.py --client both -n 200000             # 3 rounds
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
from collections.abc import Sequence
from pathlib import Path

# Run as a file, the repository root is not importable; make it so, as it is for ``-m``/mypy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.benchlib.machine import OUT_DIR, VENV_BIN, describe, tool_version, which
from scripts.benchlib.peers import PeerSpec, console_script_problem
from scripts.benchlib.report import publish, publish_json, run_main
from scripts.benchlib.runner import ClientRun, Runner, client_timeout
from scripts.benchlib.seed import peers as seed
from scripts.benchlib.seed.chart import write_chart
from scripts.benchlib.seed.report import (
    NO_CLIENT,
    PeerFacts,
    as_json,
    build_rows,
    by_server_cpu,
    markdown,
    seed_ranks,
)
from scripts.benchlib.tools import ab_argv, parse_ab, parse_json_report, trioload_argv
from trioserve.fdlimit import raise_nofile_limit

HOST = "127.0.0.1"  # the peers' sources bind this address only
PART = "seed"
TRIOLOAD = VENV_BIN / "trioload"
CLIENT_CHOICES = {"trioload": ["trioload"], "ab": ["ab"], "both": ["trioload", "ab"]}
#: Debian starts these daemons on port 80 at install; ours run from their own prefixes.
SYSTEM_DAEMONS = {
    "nginx": (Path("/run/nginx.pid"), signal.SIGQUIT),
    "apache2": (Path("/run/apache2/apache2.pid"), signal.SIGTERM),
}


def install(peers: Sequence[seed.SeedPeer]) -> None:
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
    for package, (pid_file, stop) in SYSTEM_DAEMONS.items():
        if package in wanted and pid_file.exists():
            pid = int(pid_file.read_text().strip())
            print(f"stopping the system {package} the package started (pid {pid})")
            os.kill(pid, stop)


def client_run(client: str, url: str, requests: int, concurrency: int) -> ClientRun:
    """One keep-alive-off run of ``client`` ("trioload" or "ab") against ``url``."""
    if client == "ab":
        argv, parse = ab_argv(url, requests, concurrency), parse_ab
    else:
        argv, parse = trioload_argv(str(TRIOLOAD), url, requests, concurrency), parse_json_report
    return ClientRun(client, argv, parse, requests, client_timeout(requests))


def prepare(runner: Runner, peers: Sequence[seed.SeedPeer]) -> list[PeerSpec]:
    """Build every peer that can run; the others get one row saying why."""
    specs = []
    for peer in peers:
        if peer.never is not None or peer.prepare is None:
            runner.skip(PART, peer.name, [NO_CLIENT], peer.never or "not set up")
        elif (missing := peer.missing()) is not None:
            runner.skip(PART, peer.name, [NO_CLIENT], f"skipped: {missing} (--install adds it)")
        else:
            print(f"  [{PART}] preparing {peer.name} ...", flush=True)
            try:
                specs.append(peer.prepare(HOST))
            except (seed.BuildError, OSError, subprocess.TimeoutExpired) as exc:
                runner.skip(PART, peer.name, [NO_CLIENT], f"build failed: {exc}")
    return specs


def measure(
    runner: Runner, specs: Sequence[PeerSpec], clients: Sequence[str], args: argparse.Namespace
) -> dict[str, PeerFacts]:
    """Every client against every started peer once a round, for ``args.rounds`` rounds; what
    each peer answers to one ab-style request, and its listen backlog."""
    with runner.started(PART, specs, clients) as live:
        found = {}
        for name, peer in live.items():
            reply = seed.fetch_once(HOST, peer.port)
            found[name] = PeerFacts(
                len(reply), seed.describe_reply(reply), seed.listen_backlogs(peer.port)
            )
        for round_number in range(args.rounds):
            # Every other round backward (servers and clients): a run's figures depend on
            # what ran just before it, so no pair always follows the same one.
            forward = round_number % 2 == 0
            servers = list(live.items())
            for name, peer in servers if forward else reversed(servers):
                for client in clients if forward else reversed(clients):
                    run = client_run(client, peer.url, args.requests, args.concurrency)
                    runner.measure(PART, name, peer, run)
    return found


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--client", choices=CLIENT_CHOICES, default="trioload")
    add("--requests", "-n", type=int, default=1_000_000)
    add("--concurrency", "-c", type=int, default=1000)
    add("--rounds", type=int, default=3, help="interleaved rounds (3)")
    add("--only", help="comma-separated server names (as in the table)")
    add("--install", action="store_true", help="apt-get install missing tools")
    add("--pause", type=float, help="seconds between runs (2; 0.5 under 10k)")
    add("--markdown", type=Path, help="also write the report to this file")
    add("--json", type=Path, help="write the rows as JSON to this file")
    add("--png", type=Path, default=OUT_DIR / "seed-table.png", help="chart")
    add("--no-png", action="store_true", help="draw no chart")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    args = parse_args(args_list)
    clients = CLIENT_CHOICES[args.client]
    pause = args.pause if args.pause is not None else (2.0 if args.requests >= 10_000 else 0.5)
    raise_nofile_limit()
    OUT_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="seed-", dir=OUT_DIR) as tmp:
        peers = seed.seed_peers(Path(tmp))
        ranks = seed_ranks(peers)
        if args.only:
            chosen = {name.strip().lower() for name in args.only.split(",")}
            peers = [peer for peer in peers if peer.name.lower() in chosen]
        if args.install:
            install(peers)
        if "ab" in clients and which("ab") is None:
            print("ab is not installed (apt-get install apache2-utils, or --install)")
            return 2
        if "trioload" in clients and (problem := console_script_problem(TRIOLOAD)) is not None:
            print(f"trioload cannot run: {problem}")
            return 2
        runner = Runner(HOST, OUT_DIR / "logs", pause)
        found = measure(runner, prepare(runner, peers), clients, args)
    rows = by_server_cpu(build_rows(peers, ranks, runner.rows(), found))
    command = shlex.join(["scripts/seed_table.py", *args_list])
    when = time.strftime("%Y-%m-%d %H:%M %Z")
    machine = [*describe(), ("ab", tool_version(["ab", "-V"])),
               ("trioload", tool_version([str(TRIOLOAD), "-V"]))]  # fmt: skip
    load = f"{' and '.join(clients)} at -c {args.concurrency} -n {args.requests}, keep-alive off"
    how = f"{load}, {args.rounds} round(s) interleaved: medians (min-max), worst round's failures"
    report = [
        "# The seed's keep-alive-off table, here",
        "",
        f"`{command}` on {when}: {how}. The seed: `ab -r -c 1000 -n 1000000`, on another"
        " machine. Ranked by server CPU a request (the first client's).",
        "",
        *(f"- {key}: {value}" for key, value in machine),
        "",
        markdown(rows),
        "",
    ]
    publish("\n".join(report), args.markdown)
    meta = {"command": command, "date": when, "how": how, "machine": dict(machine)}
    publish_json({**meta, "rows": [as_json(row) for row in rows]}, args.json)
    if not args.no_png:
        title = f"The seed's table here: {load}, {args.rounds} round(s)"
        print(write_chart(rows, clients, args.png, title))
    return 0


if __name__ == "__main__":
    run_main(main)
