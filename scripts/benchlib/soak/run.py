"""What the soak's scenarios share: a trioserve they can kill, stop and restart, trioload runs
they can act during and whose process tree is sampled (RSS, descriptors), and their verdicts.

Everything runs the project's console scripts on 127.0.0.1, on a port outside the kernel's
ephemeral range (``machine.free_port``), so a restarted server finds its port free.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..machine import VENV_BIN
from ..peers import PeerSpec
from ..peers import trioserve as trioserve_spec
from ..processes import Server, Usage, run_measured, start_server, tree_usage
from .hostile import Mix

HOST = "127.0.0.1"
TRIOLOAD = str(VENV_BIN / "trioload")
#: ``ulimit -n N`` (soft and hard), then exec the command: the limit without a shell or prlimit.
_EXEC_LIMITED = (
    "import os, resource, sys; n = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_NOFILE, (n, n)); os.execv(sys.argv[2], sys.argv[2:])"
)
_STOPPED_LINE = re.compile(
    r"trioserve: stopped: accepted (\d+), responses (\d+),.*socket errors (\d+)"
)


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big each scenario runs: the full soak, or ``SMALL`` for the CI test suite."""

    requests: int = 1_000_000  # scenarios 1-2
    concurrency: int = 1000
    exhaust_nofile: int = 256  # scenario 3: trioserve's descriptor limit ...
    exhaust_requests: int = 30_000  # ... hit at -c concurrency with responses held
    # 100 ms: 256 connections stay open at only 2,560 new ones a second, which even a
    # starved client makes (at 20 ms, a busy CI machine's trioload sometimes did not).
    exhaust_delay_ms: int = 100
    calm_concurrency: int = 50  # then this load must see no failure
    calm_requests: int = 5_000
    hostile_seconds: float = 20.0  # scenario 4, each of its two runs
    hostile_lead_s: float = 3.0  # the mix builds up (held connections) before the run
    hostile_head_timeout_s: float = 5.0  # trioserve's, so slowloris is cut within the run
    mix: Mix = field(default_factory=Mix)
    dying_seconds: float = 9.0  # scenario 5's runs (-t) ...
    dying_timeout_s: float = 2.0  # ... and their -s
    grace_s: float = 3.0  # scenario 6
    grace_run_s: float = 4.0
    #: scenarios 5-6's runs: closed loop (None, as fast as they go), or -R this many a second.
    #: The CI sizes pace them: the test suite shares two cores, and a saturated run would take
    #: them from every other test. (Scenario 4 stays closed-loop: its bound compares p99s.)
    rate: float | None = None

    @property
    def pace(self) -> list[str]:
        """trioload's flags for ``rate``."""
        return [] if self.rate is None else ["-R", f"{self.rate:g}"]


SMALL = Sizes(
    requests=20_000, exhaust_requests=3_000, calm_requests=500,
    hostile_seconds=1.0, hostile_lead_s=1.0, hostile_head_timeout_s=0.5,
    mix=Mix(slowloris=50, idle=100, oversized_per_s=20, garbage_per_s=20, resets_per_s=50,
            drip_s=0.2),
    dying_seconds=3.0, dying_timeout_s=0.5, grace_s=2.0, grace_run_s=1.5, rate=500.0,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Outcome:
    """One scenario's verdict and the figures behind it, for its pass/fail line."""

    name: str
    passed: bool
    figures: str
    seconds: float = 0.0

    @property
    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return f"{verdict}  {self.name}: {self.figures} ({self.seconds:.0f} s)"


def outcome(name: str, started: float, figures: str, *checks: tuple[bool, str]) -> Outcome:
    """The verdict on a scenario's (failed, problem) checks: passed when none failed; the
    problems found lead the figures."""
    problems = [problem for failed, problem in checks if failed]
    if problems:
        figures = f"{'; '.join(problems)}. Figures: {figures}"
    return Outcome(name, not problems, figures, time.monotonic() - started)


def stopped_counts(server: Server) -> tuple[int, int, int] | None:
    """(accepted, responses, socket errors) from trioserve's last shutdown line, if any."""
    matches = _STOPPED_LINE.findall(server.log())
    if not matches:
        return None
    accepted, responses, socket_errors = (int(v) for v in matches[-1])
    return accepted, responses, socket_errors


@contextlib.contextmanager
def trioserve(
    log_dir: Path, name: str, args: list[str] | None = None, *, nofile: int = 0
) -> Iterator[Server]:
    """A started trioserve on a fresh port, killed on the way out whatever happened; with
    ``nofile``, under that descriptor limit, soft and hard (trioserve lifts a soft one)."""
    spec = trioserve_spec(name, HOST, *(args or []))
    if spec.missing is not None:
        raise RuntimeError(spec.missing)
    if nofile:
        limited = spec.argv
        spec = PeerSpec(name, lambda port: [sys.executable, "-c", _EXEC_LIMITED, str(nofile),
                                            *limited(port)])  # fmt: skip
    server = start_server(spec, log_dir, HOST)
    try:
        yield server
    finally:
        server.kill()


@dataclass
class LoadRun:
    """A finished trioload: status, streams, JSON report (None if none), samples of its tree."""

    returncode: int | None  # None: it hung and was killed
    stdout: str
    stderr: str
    report: dict[str, Any] | None
    wall_s: float
    samples: list[Usage] = field(default_factory=list)

    def get(self, *keys: str) -> Any:
        value: Any = self.report
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value


def run_trioload(
    args: list[str],
    out_dir: Path,
    *,
    timeout: float,
    during: Callable[[], None] | None = None,
    stdout: int | None = None,
) -> LoadRun:
    """Run ``trioload ARGS --json FILE`` to its end (killed after ``timeout``), sampling its
    process tree; ``during()`` is called at each sample, to act on the server. Its output is
    kept beside the JSON file in ``out_dir``."""
    json_path = out_dir / f"trioload-{time.monotonic_ns()}.json"
    argv = [TRIOLOAD, *args] if "--json" in args else [TRIOLOAD, "--json", str(json_path), *args]
    samples: list[Usage] = []

    def watch(pid: int) -> None:
        if (usage := tree_usage(pid)) is not None:
            samples.append(usage)
        if during is not None:
            during()

    done = run_measured(argv, timeout, peak_rss=False, watch=watch, stdout=stdout)
    json_path.with_suffix(".out").write_text(done.stdout)
    json_path.with_suffix(".err").write_text(done.stderr)
    report = None
    with contextlib.suppress(OSError, ValueError):
        report = json.loads(json_path.read_text())
    returncode = None if done.timed_out else done.returncode
    return LoadRun(returncode, done.stdout, done.stderr, report, done.wall_s, samples)


def failures(run: LoadRun) -> dict[str, int]:
    """The run's failure columns (empty without a report)."""
    found = run.get("failures")
    return {str(k): int(v) for k, v in found.items()} if isinstance(found, dict) else {}


def rss(first: Usage, last: Usage) -> str:
    """'RSS a→b MB' for a pass/fail line."""
    return f"RSS {first.rss_kb / 1024:.1f}→{last.rss_kb / 1024:.1f} MB"


def grew(first: Usage, last: Usage) -> str:
    """'RSS a→b MB, fds c→d' for a pass/fail line."""
    return f"{rss(first, last)}, fds {first.fds}→{last.fds}"
