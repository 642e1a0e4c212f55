"""Beyond one machine, on one machine: three client hosts simulated with Linux network
namespaces load one trioserve together (``trioload --start-at``), and ``trioload merge`` turns
their three ``--json`` runs into one report, which is then checked against the three.

Each host is a namespace joined to the root one by a veth pair. Every address is in 127/8: a
run draws a free second octet B; host i is 127.B.i.2 (its gateway, root's end, 127.B.i.1), and
all aim at ``http://127.B.0.1:PORT/``, where trioserve listens in the root namespace. Needs root
and iproute2; namespaces, veths and processes are removed on every exit, Ctrl-C included.

    sudo .venv/bin/python scripts/multihost.py                         # 3 x 3000 requests, ~5 s
    sudo .venv/bin/python scripts/multihost.py --requests 300 --rate 300 --out bench-out/mh

Exit status: 0 when every check passes, 1 when one fails (or the set-up does), 2 when network
namespaces cannot be made here (not root, no ``ip``, no permission): a skip.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from hdrh.histogram import HdrHistogram

HOSTS = 3
#: from launching the trioloads to their shared ``--start-at``: room for three interpreters
#: to start on a busy machine before the run begins.
START_LEAD_S = 2.0
IP_TIMEOUT_S = 10.0  # one ip/sysctl command, or one probe
SERVER_START_S = 10.0
STOP_WAIT_S = 3.0
SYS_NET = Path("/sys/class/net")

#: run in a namespace to prove its route: print the source address the kernel chose for a
#: connection to the target, and the status line that came back.
PROBE = """\
import socket, sys
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as sock:
    source = sock.getsockname()[0]
    sock.sendall(b"GET / HTTP/1.0\\r\\nHost: " + sys.argv[1].encode() + b"\\r\\n\\r\\n")
    reply = b""
    while chunk := sock.recv(4096):
        reply += chunk
print(source, reply.split(b"\\r\\n", 1)[0].decode("latin-1"))
"""


class NoNamespacesError(Exception):
    """Network namespaces or veths cannot be made on this machine (exit 2, a skip)."""


class SetupError(Exception):
    """The simulated hosts or the server did not come up as planned (exit 1)."""


@dataclass(frozen=True, slots=True)
class Options:
    requests: int
    concurrency: int
    rate: float
    out: Path | None


# --- the plan: names, addresses and ip commands (no I/O) ---------------------------------------


@dataclass(frozen=True, slots=True)
class Host:
    """One simulated client machine: a namespace and the veth pair that joins it to root."""

    index: int
    namespace: str
    root_if: str
    ns_if: str
    root_addr: str  # 127.B.i.1, on root's end of the veth (the namespace's gateway)
    ns_addr: str  # 127.B.i.2, the host's own address: its requests come from here

    @property
    def addresses(self) -> tuple[str, str]:
        return self.root_addr, self.ns_addr


@dataclass(frozen=True, slots=True)
class Net:
    """A run's hosts and the one address they all aim at."""

    block: int
    hosts: tuple[Host, ...]

    @property
    def target(self) -> str:
        """The URL's host: local in root (lo's 127/8), routed via its veth from each host."""
        return f"127.{self.block}.0.1"


def plan(suffix: str, block: int, count: int = HOSTS) -> Net:
    """Names (``tl-SUFFIX-i`` namespaces, ``tlSUFFIXr<i>``/``tlSUFFIXn<i>`` veth ends, under
    Linux's 15 characters) and loopback addresses (127.BLOCK.i.1 and .2) for ``count`` hosts."""
    if not 1 <= block <= 254 or not 1 <= count <= 254:
        raise ValueError(f"block must be 1..254 and count 1..254, got {block} and {count}")
    net = Net(block, tuple(
        Host(i, f"tl-{suffix}-{i}", f"tl{suffix}r{i}", f"tl{suffix}n{i}",
             f"127.{block}.{i}.1", f"127.{block}.{i}.2")
        for i in range(1, count + 1)
    ))  # fmt: skip
    # Load generated here must never leave the machine: refuse anything outside 127/8.
    for address in (net.target, *(a for h in net.hosts for a in h.addresses)):
        if not ipaddress.IPv4Address(address).is_loopback:
            raise ValueError(f"refusing {address}: multihost only uses 127.0.0.0/8")
    if any(max(len(h.root_if), len(h.ns_if)) > 15 for h in net.hosts):
        raise ValueError(f"suffix {suffix!r} makes interface names over 15 characters")
    return net


def used_blocks(ip_output: str) -> set[int]:
    """Second octets of the 127/8 addresses and routes in ``ip`` output (0 always: 127.0.0.1,
    and resolvers such as 127.0.0.53 live there)."""
    return {0} | {int(m) for m in re.findall(r"\b127\.(\d{1,3})\.\d{1,3}\.\d{1,3}\b", ip_output)}


def pick_block(used: set[int], rng: random.Random) -> int:
    """A second octet no address or route of this machine uses yet."""
    free = sorted(set(range(1, 255)) - used)
    if not free:
        raise SetupError("every 127.B.0.0/16 block is in use")
    return rng.choice(free)


def in_namespace(namespace: str, argv: Sequence[str]) -> list[str]:
    return ["ip", "netns", "exec", namespace, *argv]


def link_commands(dev: str) -> list[list[str]]:
    """One veth end: IPv6 off (so it carries no other address), 127/8 allowed on it (without
    ``route_localnet`` the kernel drops 127/8 packets off ``lo`` as martians), then up."""
    return [
        ["sysctl", "-qew", f"net.ipv6.conf.{dev}.disable_ipv6=1"],  # -e: no IPv6, no error
        ["sysctl", "-qw", f"net.ipv4.conf.{dev}.route_localnet=1"],
        ["ip", "link", "set", dev, "up"],
    ]


def root_link_commands(host: Host) -> list[list[str]]:
    return link_commands(host.root_if)


def claim_command(host: Host) -> list[str]:
    """Root's route back to the host, in the *local* table: its ``local 127.0.0.0/8 dev lo``
    would otherwise answer 127.B.i.2 from root itself, and a /32 beats the /8. It fails with
    "File exists" when another run holds the block, so it also claims the block."""
    return ["ip", "route", "add", f"{host.ns_addr}/32", "dev", host.root_if, "table", "local"]


def namespace_commands(host: Host, target: str) -> list[list[str]]:
    """The host's side: ``lo`` up, its veth end as root's, its address, and /32 routes in its
    local table to its gateway and to the target, so that both leave by the veth."""
    dev, local = host.ns_if, ["src", host.ns_addr, "table", "local"]
    commands = [
        ["ip", "link", "set", "lo", "up"],
        ["ip", "addr", "add", f"{host.ns_addr}/24", "dev", dev],
        *link_commands(dev),
        ["ip", "route", "add", f"{host.root_addr}/32", "dev", dev, *local],
        ["ip", "route", "add", f"{target}/32", "via", host.root_addr, "dev", dev, *local],
    ]
    return [in_namespace(host.namespace, argv) for argv in commands]


def trioload_argv(
    trioload: Path, url: str, options: Options, start_at: float, json_path: Path
) -> list[str]:
    """One host's run: the same URL and ``--start-at`` on every host, its own ``--json``."""
    load = ["-q", "-c", str(options.concurrency), "-n", str(options.requests)]
    load += ["-R", f"{options.rate:g}", "--start-at", f"{start_at:.6f}"]
    return [str(trioload), *load, "--json", str(json_path), url]


def listen_port(start_line: str) -> int | None:
    """The port in trioserve's start line (``trioserve listening on http://H:P/ ...``)."""
    match = re.search(r"listening on http://[^/\s]+:(\d+)/", start_line)
    return int(match[1]) if match else None


def parse_probe(output: str) -> tuple[str, str] | None:
    """(source address, status line) from the probe's one line."""
    parts = output.strip().split(" ", 1)
    return (parts[0], parts[1]) if len(parts) == 2 else None


# --- the checks (no I/O) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def hdr_count(report: dict[str, Any], phase: str) -> int:
    """Samples in one phase's histogram of a ``--json`` report, decoded here (not by trioload)."""
    encoded = report.get("hdr", {}).get(phase)
    if not encoded:
        return 0
    return int(HdrHistogram.decode(encoded.encode("ascii")).get_total_count())


def _sum(parts: Sequence[int]) -> str:
    return f"{' + '.join(map(str, parts))} = {sum(parts)}"


def judge(
    requests: int,
    runs: Sequence[dict[str, Any] | None],
    merged: dict[str, Any] | None,
    veth_rx: Sequence[int],
) -> list[Check]:
    """The merged report against the hosts' own: nothing lost, nothing counted twice, runs
    that went on together, and traffic that really crossed the veths (``veth_rx``: packets
    each root end received; a request takes at least three)."""
    hosts = [run for run in runs if run is not None]
    if merged is None or len(hosts) < len(runs):
        missing = [f"host {i}" for i, run in enumerate(runs, 1) if run is None]
        missing += [] if merged is not None else ["the merge"]
        return [Check("reports", False, f"no --json report from {', '.join(missing)}")]
    done = [(run["finished"], run["failed"]) for run in hosts]
    finished = [run["finished"] for run in hosts]
    phases = sorted({phase for report in (*hosts, merged) for phase in report.get("hdr", {})})
    wrong = [p for p in phases if hdr_count(merged, p) != sum(hdr_count(r, p) for r in hosts)]
    totals = [hdr_count(run, "total") for run in hosts]
    agree = f"differs in {', '.join(wrong)}" if wrong else f"all {len(phases)} phases agree"
    checks = [
        Check("every host finished its requests",
              all(f == requests and not x for f, x in done),
              ", ".join(f"{f} finished/{x} failed" for f, x in done) + f" (of {requests} each)"),
        Check("merged finished = sum of the hosts'", merged["finished"] == sum(finished),
              f"{merged['finished']} vs {_sum(finished)}"),
        Check("merged histogram count = sum of the hosts'", bool(phases) and not wrong,
              f"total: {hdr_count(merged, 'total')} vs {_sum(totals)}; {agree}"),
    ]  # fmt: skip
    windows = [run["window_unix_s"] for run in hosts]
    if all(windows):
        together = min(end for _, end in windows) - max(start for start, _ in windows)
        spread = max(start for start, _ in windows) - min(start for start, _ in windows)
        detail = f"all {len(windows)} sent together for {together:.3f} s; "
        detail += f"their starts {spread * 1000:.1f} ms apart"
        checks.append(Check("the hosts' windows overlap", together > 0, detail))
    else:
        checks.append(Check("the hosts' windows overlap", False, "a run made no request"))
    crossed = len(veth_rx) == len(hosts) and all(n >= requests for n in veth_rx)
    received = f"root ends received {', '.join(map(str, veth_rx))} packets"
    checks.append(Check("the traffic crossed the veths", crossed,
                        f"{received} (at least {requests} each)"))  # fmt: skip
    return checks


# --- running it ------------------------------------------------------------------------------


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", "-n", type=int, default=3000, help="per host (3000)")
    parser.add_argument("--concurrency", "-c", type=int, default=10, help="per host (10)")
    parser.add_argument("--rate", "-R", type=float, default=1000.0, help="req/s per host (1000)")
    parser.add_argument("--out", type=Path, help="keep the runs' JSON and logs here")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1 or args.rate <= 0:
        parser.error("--requests, --concurrency and --rate must be positive")
    return Options(args.requests, args.concurrency, args.rate, args.out)


def run_ip(argv: Sequence[str]) -> str:
    """Run one set-up command; SetupError with its message when it fails."""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=IP_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SetupError(f"{' '.join(argv)}: {exc}") from None
    if done.returncode != 0:
        raise SetupError(f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def listed_namespaces() -> set[str]:
    """The names ``ip netns list`` shows (empty when it cannot run)."""
    with contextlib.suppress(SetupError):
        return {line.split()[0] for line in run_ip(["ip", "netns", "list"]).splitlines() if line}
    return set()


@dataclass
class Lab:
    """Everything a run creates, undone on exit whatever happens: its processes stopped,
    veths deleted (one end takes the pair), namespaces deleted."""

    processes: list[subprocess.Popen[Any]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # A second Ctrl-C must not cut the clean-up short and leave namespaces behind.
        signals = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in signals}
        try:
            self.clean_up()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def spawn(self, argv: Sequence[str], log: Path | None = None) -> subprocess.Popen[str]:
        # Own session: a Ctrl-C at the terminal reaches this script only, which stops the
        # children in order instead of having them print half-runs over its output.
        stdout: Any = log.open("w") if log else subprocess.PIPE  # a log, or read by the caller
        try:
            process = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.STDOUT, text=True,
                                       start_new_session=True)  # fmt: skip
        finally:
            if log:
                stdout.close()
        self.processes.append(process)
        return process

    def create(self, host: Host) -> None:
        """The host's namespace and veth pair; NoNamespacesError when the kernel refuses them."""
        # Noted first: a Ctrl-C between a command's success and its noting would leak it,
        # while deleting one that was never made is harmless.
        self.namespaces.append(host.namespace)
        self.links.append(host.root_if)
        try:
            run_ip(["ip", "netns", "add", host.namespace])
            run_ip(["ip", "link", "add", host.root_if, "type", "veth",
                    "peer", "name", host.ns_if, "netns", host.namespace])  # fmt: skip
        except SetupError as exc:
            raise NoNamespacesError(str(exc)) from None

    def clean_up(self) -> None:
        running = [process for process in self.processes if process.poll() is None]
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        links = [link for link in self.links if (SYS_NET / link).exists()]
        namespaces = [ns for ns in self.namespaces if ns in listed_namespaces()]
        # The veth first: a namespace deleted while its peer end lives on is freed later,
        # by the kernel, and the root end would linger until then.
        commands = [["ip", "link", "del", link] for link in links]
        for argv in commands + [["ip", "netns", "del", ns] for ns in namespaces]:
            with contextlib.suppress(SetupError):
                run_ip(argv)
        left = [link for link in links if (SYS_NET / link).exists()]
        left += [ns for ns in namespaces if ns in listed_namespaces()]
        if left:
            print(f"multihost: could not remove {', '.join(left)}", file=sys.stderr)
        elif links or namespaces:
            print(f"cleaned up: {len(running)} processes stopped, {len(links)} veth pairs "
                  f"and {len(namespaces)} namespaces deleted")  # fmt: skip


def build_net(lab: Lab, suffix: str, rng: random.Random) -> Net:
    """Namespaces and veths for HOSTS hosts, in a free 127.B.0.0/16 block, addressed, routed."""
    for host in plan(suffix, 1).hosts:  # names only: the block is drawn once the veths exist
        lab.create(host)
        for argv in root_link_commands(host):
            run_ip(argv)
    for _ in range(5):
        taken = run_ip(["ip", "-4", "-o", "addr", "show"])
        taken += run_ip(["ip", "-4", "route", "show", "table", "all"])
        net = plan(suffix, pick_block(used_blocks(taken), rng))
        try:
            run_ip(claim_command(net.hosts[0]))
            break
        except SetupError as exc:
            if "File exists" not in str(exc):
                raise
    else:
        raise SetupError("no free 127.B.0.0/16 block after 5 tries")
    for host in net.hosts:
        if host.index > 1:
            run_ip(claim_command(host))
        run_ip(["ip", "addr", "add", f"{host.root_addr}/24", "dev", host.root_if])
        for argv in namespace_commands(host, net.target):
            run_ip(argv)
    return net


def start_server(lab: Lab, host: str, out: Path) -> tuple[int, str]:
    """trioserve on ``host`` and a free port; (port, its start line)."""
    log = out / "trioserve.log"
    trioserve = Path(sys.executable).parent / "trioserve"
    process = lab.spawn([str(trioserve), "--host", host, "--port", "0", "--grace", "1"], log)
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline and process.poll() is None:
        for line in log.read_text(errors="replace").splitlines():
            if (port := listen_port(line)) is not None:
                return port, line
        time.sleep(0.02)
    raise SetupError(f"trioserve did not start: {log.read_text(errors='replace').strip()}")


def probe(lab: Lab, net: Net, port: int) -> list[Check]:
    """One real connection from each host to the target; it must leave from the host's own
    address (so by its veth) and get a 200."""
    runs = [
        lab.spawn(in_namespace(h.namespace, [sys.executable, "-c", PROBE, net.target, str(port)]))
        for h in net.hosts
    ]
    checks = []
    for host, run in zip(net.hosts, runs, strict=True):
        try:
            output, _ = run.communicate(timeout=IP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            run.kill()
            output, _ = run.communicate()
        answer = parse_probe(output) if run.returncode == 0 else None
        ok = answer is not None and answer[0] == host.ns_addr and " 200 " in f"{answer[1]} "
        detail = f"{answer[0]} -> {net.target}:{port}: {answer[1]}" if answer else output.strip()
        checks.append(Check(f"host {host.index} reaches the target", ok, detail))
    return checks


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def load_and_merge(lab: Lab, net: Net, url: str, options: Options, out: Path) -> list[Check]:
    """The recipe: one trioload per host with a shared ``--start-at``, then ``trioload merge``."""
    trioload = Path(sys.executable).parent / "trioload"
    start_at = time.time() + START_LEAD_S
    paths = [out / f"host{host.index}.json" for host in net.hosts]
    print(f"all {len(net.hosts)} hosts start at {start_at:.6f} (in {START_LEAD_S:g} s):")
    loads = []
    for host, path in zip(net.hosts, paths, strict=True):
        argv = trioload_argv(trioload, url, options, start_at, path)
        print(f"  host {host.index}: ip netns exec {host.namespace} trioload {' '.join(argv[1:])}")
        loads.append(lab.spawn(in_namespace(host.namespace, argv), out / f"host{host.index}.log"))
    deadline = time.monotonic() + START_LEAD_S + options.requests / options.rate + 60
    for load in loads:
        with contextlib.suppress(subprocess.TimeoutExpired):
            load.wait(timeout=max(0.0, deadline - time.monotonic()))
    runs = [read_json(path) for path in paths]
    for host, run in zip(net.hosts, runs, strict=True):
        if run is None:
            print(f"  host {host.index}: no report")
            continue
        window = [w - start_at for w in run.get("window_unix_s") or [start_at, start_at]]
        print(f"  host {host.index} ({host.ns_addr}): {run['finished']} finished, "
              f"{run['failed']} failed, {run['requests_per_second']:.0f} req/s, "
              f"sent from +{window[0]:.3f} s to +{window[1]:.3f} s")  # fmt: skip
    merged_path = out / "merged.json"
    print(f"--- trioload merge {' '.join(p.name for p in paths)} --json {merged_path.name} ---")
    merge = [str(trioload), "merge", *map(str, paths), "--json", str(merged_path)]
    done = subprocess.run(merge, capture_output=True, text=True, timeout=60, check=False)
    print(done.stdout.rstrip())
    if done.returncode == 2:
        print(done.stderr.strip())
    merged = read_json(merged_path) if done.returncode != 2 else None
    veth_rx = []
    for host in net.hosts:
        with contextlib.suppress(OSError, ValueError):
            veth_rx.append(int((SYS_NET / host.root_if / "statistics/rx_packets").read_text()))
    return judge(options.requests, runs, merged, veth_rx)


def run(options: Options, out: Path) -> int:
    suffix = secrets.token_hex(3)  # random: runs side by side never share a name
    with Lab() as lab:
        net = build_net(lab, suffix, random.Random())
        print(f"{len(net.hosts)} hosts in namespaces tl-{suffix}-1..{len(net.hosts)}, "
              f"all aiming at {net.target} (local in root, routed via each veth):")  # fmt: skip
        for h in net.hosts:
            print(f"  host {h.index}: {h.namespace}, veth {h.root_if} {h.root_addr}/24 (root)"
                  f" <-> {h.ns_if} {h.ns_addr}/24; {net.target}/32 via {h.root_addr}")  # fmt: skip
        port, start_line = start_server(lab, net.target, out)
        print(start_line)
        checks = probe(lab, net, port)
        print("\n".join(check.line() for check in checks))
        if all(check.ok for check in checks):
            checks = load_and_merge(lab, net, f"http://{net.target}:{port}/", options, out)
            print("\n".join(check.line() for check in checks))
    failed = sum(not check.ok for check in checks)
    print(f"multihost: {f'{failed} checks failed' if failed else 'all checks passed'}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    for tool in ("trioload", "trioserve"):
        if not (Path(sys.executable).parent / tool).exists():
            print(f"multihost: no {tool} beside {sys.executable}: run it with the venv's python")
            return 1
    tools = {"ip": "iproute2", "sysctl": "procps"}
    missing = [f"`{tool}` ({package})" for tool, package in tools.items() if not shutil.which(tool)]
    if os.geteuid() != 0 or missing:
        need = f"no {', '.join(missing)}" if missing else "network namespaces need root (sudo)"
        print(f"multihost: skipped: {need}")
        return 2

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # the same clean-up as Ctrl-C

    signal.signal(signal.SIGTERM, stop)
    try:
        with _out_dir(options.out) as out:
            return run(options, out)
    except NoNamespacesError as exc:
        print(f"multihost: skipped: cannot make network namespaces here: {exc}")
        return 2
    except SetupError as exc:
        print(f"multihost: set-up failed: {exc}")
        return 1
    except KeyboardInterrupt:
        print("multihost: interrupted (processes, veths and namespaces removed)", file=sys.stderr)
        return 130


@contextlib.contextmanager
def _out_dir(path: Path | None) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="multihost-") as temporary:
        yield Path(temporary)


if __name__ == "__main__":
    sys.exit(main())
