"""The seed page's table, reproduced on this machine: a thin driver of ``trioload compare``.

Builds the seed's servers that can be built offline here (our own sources in
``scripts/peers/``: Rust std, Tokio, Go std, Gin, Node std), Debian's Apache on its default
page (as the seed did) and on a 5-byte hello, nginx and trioserve; gives each a free port and
hands them all to one ``trioload compare --serve NAME=COMMAND ... NAME=URL ... --rank-by cpu``,
keep-alive off, whose report streams as it goes. compare starts and stops the servers, runs the
rounds in alternating order, reads each server's CPU and writes its JSON; from that JSON this
script prints a Markdown table beside the seed's rank and req/s, then draws it with
``trioload plot``. Peers whose toolchain is missing are skipped with a one-line reason;
``--install`` apt-get installs them first.

The seed measured with ab; this table is trioload's alone (compare drives trioload), so ab's
column is gone: ab stays beside trioload in bench.py's parts.

    .venv/bin/python scripts/seed_table.py --only trioserve,nginx -n 2000 -c 100   # smoke run
    .venv/bin/python scripts/seed_table.py --install -n 20000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Run as a file, the repository root is not importable; make it so, as it is for ``-m``/mypy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.benchlib.machine import OUT_DIR, REPO, describe, free_port, tool_version
from scripts.benchlib.peers import PeerSpec
from scripts.benchlib.report import publish, run_main
from scripts.benchlib.seed import peers as seed
from scripts.benchlib.seed import table
from scripts.benchlib.seed.table import LoadOptions, compare_argv, trioload_command
from trioserve.fdlimit import raise_nofile_limit

HOST = "127.0.0.1"  # the peers' sources bind this address only
#: Debian starts these daemons on port 80 at install; ours run from their own prefixes.
SYSTEM_DAEMONS = {
    "nginx": (Path("/run/nginx.pid"), signal.SIGQUIT),
    "apache2": (Path("/run/apache2/apache2.pid"), signal.SIGTERM),
}
#: compare's exit statuses that leave a document behind: all well, failures, interrupted.
WROTE_JSON = (0, 1, 130)


def install(peers: Sequence[seed.SeedPeer]) -> None:
    """apt-get install what the missing peers need, from Debian's packages."""
    wanted = {package for peer in peers if peer.missing() for package in peer.packages}
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


def prepare(peers: Sequence[seed.SeedPeer]) -> tuple[list[PeerSpec], dict[str, str]]:
    """Build every peer that can run; the others, by name, with why not."""
    specs, skipped = [], {}
    for peer in peers:
        if peer.never is not None or peer.prepare is None:
            skipped[peer.name] = peer.never or "not set up"
        elif (missing := peer.missing()) is not None:
            skipped[peer.name] = f"skipped: {missing} (--install adds it)"
        else:
            print(f"  preparing {peer.name} ...", flush=True)
            try:
                spec = peer.prepare(HOST)
            except (seed.BuildError, OSError, subprocess.TimeoutExpired) as exc:
                skipped[peer.name] = f"build failed: {exc}"
                continue
            if spec.missing is not None:
                skipped[peer.name] = spec.missing
            else:
                specs.append(spec)
    return specs, skipped


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that were free a moment ago."""
    ports: list[int] = []
    while len(ports) < count:
        if (port := free_port(HOST)) not in ports:
            ports.append(port)
    return ports


def run_compare(argv: list[str]) -> int:
    """Run compare from the repository, its report streaming to ours; its exit status."""
    with subprocess.Popen(argv, cwd=REPO) as process:
        while True:
            try:
                return process.wait()
            except KeyboardInterrupt:
                # compare had the same Ctrl-C: it stops its servers and writes the rounds
                # done, which takes longer than subprocess would wait before killing it.
                continue


def report(
    document: dict[str, Any], command: str, peers: Sequence[seed.SeedPeer], *,
    ranks: dict[str, int], skipped: dict[str, str], trioload: list[str],
) -> str:  # fmt: skip
    """The Markdown report: how it was run, on what, the table and compare's warnings."""
    when = time.strftime("%Y-%m-%d %H:%M %Z")
    machine = [*describe(), ("trioload", tool_version([*trioload, "-V"]))]
    rounds = f"{document['rounds_completed']} of {document['rounds']} rounds"
    how = (
        f"`trioload compare` at {document['run']}, {rounds} ({document['order']} order, after"
        f" a warm-up run of {document['warmup']:.0%} of that), ranked by server CPU a request:"
        " medians with 95% intervals; the ratio to"
        f" {document['baseline']}'s server CPU a request with its 95% interval, ~ where the"
        " difference is not significant at 95%"
    )
    return "\n".join([
        "# The seed's keep-alive-off table, here",
        "",
        f"`{command}` on {when}: {how}. The seed: `ab -r -c 1000 -n 1000000`, on another"
        " machine: compare rankings, not raw figures.",
        "",
        *(f"- {key}: {value}" for key, value in machine),
        "",
        table.markdown(document, peers, ranks, skipped),
        "",
        *(f"- {warning}" for warning in document["warnings"]),
        "",
    ])  # fmt: skip


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--requests", "-n", type=int, default=1_000_000)
    add("--concurrency", "-c", type=int, default=1000)
    add("--rounds", type=int, default=5, help="compare's rounds (5; at least 3)")
    add("--only", help="comma-separated server names (as in the table)")
    add("--install", action="store_true", help="apt-get install missing tools")
    add("--pause", type=float, help="seconds between runs (2; 0.5 under 10k)")
    add("--markdown", type=Path, help="also write the report to this file")
    add("--json", type=Path, default=OUT_DIR / "seed-table.json", help="compare's JSON")
    add("--png", type=Path, default=OUT_DIR / "seed-table.png", help="chart")
    add("--no-png", action="store_true", help="draw no chart")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    args = parse_args(args_list)
    pause = args.pause if args.pause is not None else (2.0 if args.requests >= 10_000 else 0.5)
    options = LoadOptions(args.requests, args.concurrency, args.rounds, pause, args.json.resolve())
    trioload = trioload_command()
    raise_nofile_limit()
    OUT_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="seed-", dir=OUT_DIR) as tmp:
        peers = seed.seed_peers(Path(tmp))
        ranks = seed.seed_ranks(peers)
        if args.only:
            chosen = {name.strip().lower() for name in args.only.split(",")}
            peers = [peer for peer in peers if peer.name.lower() in chosen]
        if args.install:
            install(peers)
        specs, skipped = prepare(peers)
        for name, why in skipped.items():
            print(f"  {name}: {why}")
        if len(specs) < 2:
            print(f"{len(specs)} server(s) can run here: compare needs two")
            return 2
        served = list(zip(specs, free_ports(len(specs)), strict=True))
        argv = compare_argv(trioload, served, options, host=HOST, cwd=REPO)
        print(f"$ {shlex.join(argv)}", flush=True)
        options.json_path.parent.mkdir(parents=True, exist_ok=True)
        options.json_path.unlink(missing_ok=True)  # no last run's table if this one fails
        status = run_compare(argv)
    if status not in WROTE_JSON or not options.json_path.exists():
        print(f"trioload compare exited {status}: no table")
        return status or 1
    document = json.loads(options.json_path.read_text())
    command = shlex.join(["scripts/seed_table.py", *args_list])
    text = report(document, command, peers, ranks=ranks, skipped=skipped, trioload=trioload)
    publish(text, args.markdown)
    if not args.no_png:  # trioload plot of it; a failure (no matplotlib) is said, not raised
        title = f"The seed's servers here: trioload compare {document['run']}, ranked by CPU"
        plot = [*trioload, "plot", str(options.json_path), "-o", str(args.png), "--title", title]
        if subprocess.run(plot, check=False).returncode != 0:  # it printed the path if it drew
            print("chart not drawn (see above)")
    return status


if __name__ == "__main__":
    run_main(main)
