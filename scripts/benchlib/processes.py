"""Starting peers and clients, and measuring the CPU time, memory and descriptors they use.

Servers run in their own session (process group) so stopping one takes its workers too.
Clients are reaped with ``os.wait4`` so each run's CPU time is its own; their peak RSS comes
from GNU time; a process tree's current RSS and descriptors from /proc.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from trioload.compare.procfs import process_tree_cpu_s, read_stats, tree

from .machine import free_port, is_listening
from .peers import PeerSpec, slug

_POLL_SECONDS = 0.02
GNU_TIME = Path("/usr/bin/time")
_VM_RSS = re.compile(r"^VmRSS:\s+(\d+)", re.MULTILINE)


class StartError(RuntimeError):
    """A peer did not come up; the message carries the tail of its log."""


@dataclass(frozen=True, slots=True)
class Finished:
    """How one client run ended and what it cost."""

    returncode: int
    stdout: str
    stderr: str
    user_s: float
    sys_s: float
    maxrss_kb: int | None  # None without /usr/bin/time
    wall_s: float
    timed_out: bool

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


def _peak_rss_kb(time_report: Path) -> int | None:
    """The ``%M`` figure GNU time wrote (its last line; a kill notice may precede it)."""
    try:
        lines = time_report.read_text().strip().splitlines()
        return int(lines[-1])
    except (OSError, ValueError, IndexError):
        return None


def run_measured(
    argv: list[str],
    timeout: float,
    cwd: Path | None = None,
    *,
    peak_rss: bool = True,
    watch: Callable[[int], None] | None = None,
    every: float = 0.25,
    stdout: int | None = None,
) -> Finished:
    """Run ``argv`` to completion (killed after ``timeout`` s) and account for its resources;
    ``watch(pid)`` is called every ``every`` s while it runs; ``stdout``: a descriptor to
    write to instead of the captured output. Output goes to temporary files, not pipes, so a
    chatty child can never block on a full pipe while we wait for it. With ``peak_rss``, GNU
    time is wrapped around the command: Linux carries a process's high-water RSS across exec,
    so our own wait4 figure would include this (much larger) Python process, copied at fork."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as scratch,
    ):
        time_report = Path(scratch) / "time"
        if peak_rss and GNU_TIME.exists():
            argv = [str(GNU_TIME), "-o", str(time_report), "-f", "%M", *argv]
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout or out, stderr=err,
                                cwd=cwd, start_new_session=True)  # fmt: skip
        deadline, watched = started + timeout, started
        timed_out = False
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline:
                    timed_out = True
                    os.killpg(proc.pid, signal.SIGKILL)
                    _, status, usage = os.wait4(proc.pid, 0)
                    break
                if watch is not None and time.monotonic() >= watched + every:
                    watched = time.monotonic()
                    watch(proc.pid)
                time.sleep(_POLL_SECONDS)
        except BaseException:
            # Interrupted (Ctrl-C reaches only our group): take the client down with us.
            os.killpg(proc.pid, signal.SIGKILL)
            os.waitpid(proc.pid, 0)
            raise
        wall = time.monotonic() - started
        # wait4 reaped it: tell Popen, so it never waits on a pid that is gone.
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Finished(
            returncode=proc.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            user_s=usage.ru_utime,
            sys_s=usage.ru_stime,
            maxrss_kb=_peak_rss_kb(time_report),
            wall_s=wall,
            timed_out=timed_out,
        )


@dataclass(frozen=True, slots=True)
class Usage:
    """One sample of a process tree: resident memory and open descriptors, summed."""

    rss_kb: int
    fds: int


def tree_pids(root: int) -> list[int]:
    """``root`` and every live descendant (a server's workers, a client's)."""
    found = tree(read_stats() or (), root)
    return [root] if found is None else [stat.pid for stat in found]


def tree_usage(root: int) -> Usage | None:
    """RSS and open descriptors of ``root`` and its descendants; None once it is gone."""
    rss = fds = 0
    found = False
    for pid in tree_pids(root):
        with contextlib.suppress(OSError):  # it ended meanwhile
            status = Path(f"/proc/{pid}/status").read_text()
            fds += len(os.listdir(f"/proc/{pid}/fd"))
            resident = _VM_RSS.search(status)
            rss += int(resident[1]) if resident else 0
            found = True
    return Usage(rss, fds) if found else None


def start_server(spec: PeerSpec, log_dir: Path, host: str) -> Server:
    """``spec`` started on a free port of ``host``, listening; its output in ``log_dir``.
    Someone may bind the port between its choice and the server's bind: then another is
    chosen (three tries). StartError (or OSError) if it does not come up."""
    for _ in range(3):
        port = free_port(host)
        log = log_dir / f"{slug(spec.name)}.log"
        server = Server(spec.name, spec.argv(port), log, host=host, port=port, cwd=spec.cwd)
        try:
            return server.start()
        except StartError:
            if "address already in use" not in server.log().lower():
                raise
    raise StartError(f"{spec.name} found three ports taken in a row")


class Server:
    """A peer process in its own session (stopping it takes its workers too), its output in
    ``log_path``; ``start`` runs ``argv`` (again, after a kill) and waits until it listens."""

    def __init__(
        self, name: str, argv: list[str], log_path: Path, *, host: str, port: int,
        cwd: Path | None = None,
    ) -> None:  # fmt: skip
        self.name, self.argv, self.log_path, self.cwd = name, argv, log_path, cwd
        self.host, self.port = host, port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> Server:
        """Start ``argv`` and return once it listens; StartError if it never does."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab" if self.proc else "wb") as log:  # a restart appends
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.cwd, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not is_listening(self.host, self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise StartError(f"{self.name} did not start listening: {self.log_tail()}")
            time.sleep(0.02)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the whole process group (workers too)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signum)

    def cpu_seconds(self) -> float:
        """CPU of the server's whole process tree (workers, reaped children); 0.0 once gone."""
        return process_tree_cpu_s(self.pid) or 0.0

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 3) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return " | ".join(self.log().strip().splitlines()[-lines:]) or "(empty log)"

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM to the process (it stops its own workers): its exit status, or None when it
        outlives ``grace`` and is killed. What is left of its group is killed either way."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            status: int | None = self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            status = None
        self.kill()
        return status

    def kill(self) -> None:
        """SIGKILL to the whole group (woken first, in case it was stopped)."""
        if self.proc is not None:
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGKILL)
            self.proc.wait()
