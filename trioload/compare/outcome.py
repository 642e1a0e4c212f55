"""What the rounds of a comparison measured: each run's whole result, with the server CPU read
around it. Plain data: built by ``compare.rounds``, read by ``compare.summary`` and
``compare.document``."""

from __future__ import annotations

from dataclasses import dataclass, field

from trioload.results.result import RunResult


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run of one target in one round."""

    target: str
    #: the round, from 0; -1 for the warm-up, which no figure counts.
    round: int
    #: its place in the round's order, from 0.
    position: int
    result: RunResult
    #: the server's process tree's CPU seconds over the run; None when no server is known.
    server_cpu_s: float | None
    #: False when the server was found dead after this run.
    server_alive: bool = True

    @property
    def server_cpu_us_per_request(self) -> float | None:
        finished = self.result.tally.finished
        if self.server_cpu_s is None or not finished:
            return None
        return self.server_cpu_s / finished * 1e6


@dataclass
class Outcome:
    """Every run so far, and how the rounds ended."""

    runs: list[RunRecord] = field(default_factory=list)
    #: rounds in which every target still alive ran to its end.
    rounds_completed: int = 0
    interrupted: bool = False
    #: target → the round after which its server was found dead.
    died: dict[str, int] = field(default_factory=dict)

    def counted(self) -> list[RunRecord]:
        """The runs the figures cover: those of completed rounds (no warm-up, no round cut
        short by Ctrl-C) whose server was still alive after them."""
        return [
            run for run in self.runs if 0 <= run.round < self.rounds_completed and run.server_alive
        ]
