"""What every engine task of a run shares: who takes the next request, and when the run ends."""

from __future__ import annotations

import resource
import ssl
import time
from dataclasses import dataclass, field
from time import perf_counter_ns

from trioload.config import LoadConfig
from trioload.engine.schedule import Schedule
from trioload.output.request_log import RequestLog
from trioload.results.tally import READ_CLOCK, Tally


@dataclass
class EngineState:
    """The run's counters and its stop flag, read and written by the engine's tasks."""

    config: LoadConfig
    tally: Tally = field(default_factory=Tally)
    #: ``-v``/``-g``: what is written about each response as it arrives (None: nothing).
    log: RequestLog | None = None
    #: https: the context every connection is made with (None for http).
    tls_context: ssl.SSLContext | None = None
    #: https: the name sent as SNI and checked against the certificate.
    server_hostname: str | None = None
    started: int = 0
    #: set by a time limit or a signal: no new request is taken.
    stopping: bool = False
    start_ns: int = 0
    end_ns: int = 0
    #: ``start_ns`` as Unix time (the JSON's window, the timeline's grid, ``merge``).
    start_unix: float = 0.0
    #: with ``-R``: when request 0 of the schedule is due (``perf_counter_ns``), set with
    #: ``start_ns``; with ``--start-at`` it is that time, however late this process began.
    epoch_ns: int = 0
    #: with ``-t``: when the run stops taking requests (``perf_counter_ns``); else 0. Engines
    #: wake for it while requests wait for their due time.
    stop_ns: int = 0
    #: the clock the responses were read by (``KERNEL_CLOCK`` or ``READ_CLOCK``): the engine
    #: says which.
    clock: str = READ_CLOCK
    #: this process's CPU use when the run began and ended (``begin``, ``end``).
    cpu_at_start: resource.struct_rusage | None = None
    cpu_at_end: resource.struct_rusage | None = None
    #: copied out of ``config`` for the per-request path (one attribute look-up, not two).
    head_request: bool = field(init=False)
    keep_alive: bool = field(init=False)
    schedule: Schedule | None = field(init=False)

    def __post_init__(self) -> None:
        self.head_request = self.config.method == "HEAD"
        self.keep_alive = self.config.keep_alive
        self.schedule = self.config.schedule
        self.tally.variable_length = self.config.variable_length

    def due_ns(self) -> int:
        """When the request just taken was due (``perf_counter_ns``); needs a schedule. A
        request due once ``-t`` is up is not sent: 0."""
        assert self.schedule is not None
        due = self.epoch_ns + self.schedule.due_ns(self.started - 1)
        return 0 if self.stop_ns and due >= self.stop_ns else due

    def take(self) -> bool:
        """Claim the next request, if the run still wants one."""
        limit = self.config.requests
        if self.stopping or (limit is not None and self.started >= limit):
            return False
        self.started += 1
        return True

    def begin(self) -> None:
        """The run starts now: its clocks, and its schedule's epoch."""
        self.start_ns = perf_counter_ns()
        self.cpu_at_start = resource.getrusage(resource.RUSAGE_SELF)
        self.start_unix = time.time()
        self.epoch_ns = self.start_ns
        start_at = self.config.start_at
        if start_at is not None and self.start_unix > start_at:
            # Began late (a slow start-up): the schedule still runs from the agreed time, and
            # -t still ends it where it ends for the other processes (or segments) of the test.
            self.epoch_ns -= int((self.start_unix - start_at) * 1e9)
        if self.config.time_limit is not None:
            self.stop_ns = self.epoch_ns + int(self.config.time_limit * 1e9)

    def end(self) -> None:
        """The run is over: its wall and CPU clocks stop together, so that its CPU share
        covers what its time covers (not the set-up before, nor the report after). The CPU
        readings sit inside the wall-clock ones: one process can never show above one core."""
        self.cpu_at_end = resource.getrusage(resource.RUSAGE_SELF)
        self.end_ns = perf_counter_ns()

    @property
    def cpu_s(self) -> tuple[float, float]:
        """User and system CPU seconds this process spent in the run (0, 0 before it began)."""
        start, end = self.cpu_at_start, self.cpu_at_end or resource.getrusage(resource.RUSAGE_SELF)
        if start is None:
            return 0.0, 0.0
        return end.ru_utime - start.ru_utime, end.ru_stime - start.ru_stime

    def unix_time(self, ns: int) -> float:
        """A ``perf_counter_ns`` reading of this run as Unix time."""
        return self.start_unix + (ns - self.start_ns) / 1e9

    @property
    def elapsed_s(self) -> float:
        end = self.end_ns or perf_counter_ns()
        return (end - self.start_ns) / 1e9
