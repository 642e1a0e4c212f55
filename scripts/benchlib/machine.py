"""This machine: where things live, what it is, and the guards every bench run starts with."""

from __future__ import annotations

import ipaddress
import os
import platform
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
    """Return ``host`` if it is an IPv4 loopback address; exit otherwise.

    The bench generates load: it must never be aimed at anything but this machine.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError as exc:
        message = f"refusing {host!r}: give an IPv4 loopback address such as 127.0.0.1"
        raise SystemExit(message) from exc
    if address.version != 4 or not address.is_loopback:
        raise SystemExit(f"refusing {host!r}: the bench only ever aims load at 127.0.0.0/8")
    return host


def free_port(host: str) -> int:
    """An ephemeral port that was free a moment ago (the peer binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def is_listening(host: str, port: int) -> bool:
    """True when some socket listens on ``host:port`` (or the wildcard), per /proc/net/tcp.

    Reading the kernel's table instead of connecting keeps readiness checks from showing up
    as aborted connections in a peer's counters.
    """
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


def which(name: str) -> str | None:
    """Path of an installed command, or None."""
    return shutil.which(name)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _read_first_line(path: str) -> str:
    try:
        return Path(path).read_text().split("\n", 1)[0].strip()
    except OSError:
        return "?"


def _memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError):
        pass
    return "?"


def describe() -> list[tuple[str, str]]:
    """Key facts that decide how comparable two runs are, for the report's header."""
    usable = len(os.sched_getaffinity(0))
    return [
        ("CPUs", f"{usable} usable of {os.cpu_count()} ({_cpu_model()})"),
        ("memory", _memory_total()),
        ("kernel", f"{platform.system()} {platform.release()}"),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("somaxconn", _read_first_line("/proc/sys/net/core/somaxconn")),
        ("tcp_max_syn_backlog", _read_first_line("/proc/sys/net/ipv4/tcp_max_syn_backlog")),
        ("ip_local_port_range", _read_first_line("/proc/sys/net/ipv4/ip_local_port_range")),
        ("RLIMIT_NOFILE", str(resource.getrlimit(resource.RLIMIT_NOFILE)[0])),
    ]


def tool_version(argv: list[str]) -> str:
    """First line a tool prints about its version (stdout or stderr), or "not installed"."""
    if which(argv[0]) is None:
        return "not installed"
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (done.stdout + done.stderr).strip()
    return text.splitlines()[0] if text else "?"
