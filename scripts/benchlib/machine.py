"""This machine: where things live, what it is, and the guards every bench run starts with."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import platform
import random
import resource
import shutil
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
#: everything a run writes (logs, temp configs, builds, the peers' venv); ignored by git.
OUT_DIR = REPO / "bench-out"
VENV_BIN = REPO / ".venv" / "bin"

_LISTEN_STATE = "0A"  # TCP_LISTEN in /proc/net/tcp


def venv_python() -> str:
    """The interpreter that has trio (the project's venv), for the baselines written here."""
    candidate = VENV_BIN / "python"
    return str(candidate) if candidate.exists() else sys.executable


def require_loopback(host: str) -> str:
    """Return ``host`` if it is an IPv4 loopback address; exit otherwise (the bench makes load:
    it must never be aimed at anything but this machine)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError as exc:
        message = f"refusing {host!r}: give an IPv4 loopback address such as 127.0.0.1"
        raise SystemExit(message) from exc
    if address.version != 4 or not address.is_loopback:
        raise SystemExit(f"refusing {host!r}: the bench only ever aims load at 127.0.0.0/8")
    return host


def free_port(host: str) -> int:
    """A free port of ``host`` above (or below) ``ip_local_port_range``, picked at random:
    outside that range, as a connect to a closed port in it can bind that very port as its
    source (the socket then connects to itself) and a restarted server would find it taken; at
    random, as two runs (or test workers) looking at once must not pick the same one."""
    low, high = (int(v) for v in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    candidates = [*range(high + 1, 65536), *range(low - 1, 1024, -1)]
    random.shuffle(candidates)
    for port in candidates:
        if is_listening(host, port):
            continue
        with contextlib.suppress(OSError), socket.create_server((host, port)):
            return int(port)
    raise RuntimeError("no free port outside the ephemeral range")


def is_listening(host: str, port: int) -> bool:
    """True when some socket listens on ``host:port`` (or the wildcard), per /proc/net/tcp:
    reading the kernel's table, not connecting, keeps readiness checks out of a peer's counters
    (as aborted connections)."""
    wanted = {
        f"{socket.inet_aton(host)[::-1].hex().upper()}:{port:04X}",
        f"00000000:{port:04X}",
    }
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if len(fields) > 3 and fields[1] in wanted and fields[3] == _LISTEN_STATE:
            return True
    return False


def _proc_line(path: str, key: str = "") -> str:
    """The first line of ``path`` that starts with ``key``, less the key and its colon; "?" where
    there is none."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return "?"
    found = next((line[len(key) :] for line in lines if line.startswith(key)), "?")
    return found.lstrip(" \t:").strip() if key else found.strip()


def describe() -> list[tuple[str, str]]:
    """Key facts that decide how comparable two runs are, for the report's header."""
    usable = len(os.sched_getaffinity(0))
    model = _proc_line("/proc/cpuinfo", "model name")
    kib = _proc_line("/proc/meminfo", "MemTotal").removesuffix(" kB")
    memory = f"{int(kib) / 1024 / 1024:.1f} GiB" if kib.isdigit() else "?"
    return [
        ("CPUs", f"{usable} usable of {os.cpu_count()} ({model})"),
        ("memory", memory),
        ("kernel", f"{platform.system()} {platform.release()}"),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("somaxconn", _proc_line("/proc/sys/net/core/somaxconn")),
        ("tcp_max_syn_backlog", _proc_line("/proc/sys/net/ipv4/tcp_max_syn_backlog")),
        ("ip_local_port_range", _proc_line("/proc/sys/net/ipv4/ip_local_port_range")),
        ("RLIMIT_NOFILE", str(resource.getrlimit(resource.RLIMIT_NOFILE)[0])),
    ]


def tool_version(argv: list[str]) -> str:
    """First line a tool prints about its version (stdout or stderr), or "not installed"."""
    if shutil.which(argv[0]) is None:
        return "not installed"
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (done.stdout + done.stderr).strip()
    return text.splitlines()[0] if text else "?"
