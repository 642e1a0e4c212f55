"""What every engine task of a run shares: who takes the next request, and when the run ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from time import perf_counter_ns

from trioload.config import LoadConfig
from trioload.tally import Tally


@dataclass
class EngineState:
    """The run's counters and its stop flag, read and written by the engine's tasks."""

    config: LoadConfig
    tally: Tally = field(default_factory=Tally)
    started: int = 0
    #: set by a time limit or a signal: no new request is taken.
    stopping: bool = False
    start_ns: int = 0
    end_ns: int = 0
    #: copied out of ``config`` for the per-request path (one attribute look-up, not two).
    head_request: bool = field(init=False)
    keep_alive: bool = field(init=False)

    def __post_init__(self) -> None:
        self.head_request = self.config.method == "HEAD"
        self.keep_alive = self.config.keep_alive

    def take(self) -> bool:
        """Claim the next request, if the run still wants one."""
        limit = self.config.requests
        if self.stopping or (limit is not None and self.started >= limit):
            return False
        self.started += 1
        return True

    @property
    def elapsed_s(self) -> float:
        end = self.end_ns or perf_counter_ns()
        return (end - self.start_ns) / 1e9
