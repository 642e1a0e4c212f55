"""The ``-W`` protocol between the parent and its worker processes, sans-IO.

- **Command line.** Each worker runs the parent's own command line, followed by its share of
  ``-c`` and ``-n`` and the hidden ``--as-worker`` flag (``worker_commands``).
- **stderr: progress.** A worker writes ``progress_line(finished, failed)`` records a few times
  a second; the parent reads them back with ``parse_progress_line`` and shows one display for
  all. Any other line a worker writes is passed on to the user.
- **stdout: the report.** A worker writes its run's JSON (``trioload.results.result``) and nothing
  else; the parent merges the reports with ``result.merge_reports``.
- **Exit status.** 0, 1 (some requests failed) and 130 (interrupted) still carry a report;
  anything else is a failed worker.

``trioload.run.workers`` is the trio side that runs the processes.
"""

from __future__ import annotations

import sys

from trioload.config import LoadConfig, split

#: the hidden flag that makes a process a worker of a ``-W`` parent.
AS_WORKER_FLAG = "--as-worker"
#: the hidden flag that gives a worker its place in a ``-R`` schedule: ``I/W``.
SCHEDULE_PART_FLAG = "--schedule-part"
#: statuses with which a worker's report is still valid.
REPORTING_STATUSES = frozenset({0, 1, 130})
#: a worker's progress records on stderr start so.
PROGRESS_PREFIX = "trioload-progress "


def worker_commands(
    config: LoadConfig, argv: list[str], start_at: float | None = None
) -> list[list[str]]:
    """One command line per worker: the parent's, then its share of -c and -n, and with a
    schedule its place in it and the time all begin (``start_at``)."""
    workers = config.workers
    shares_c = split(config.concurrency, workers)
    shares_n = split(config.requests, workers) if config.requests else None
    commands = []
    for i, c in enumerate(shares_c):
        extra = ["-c", str(c), "-W", "1", "-q", AS_WORKER_FLAG, "--json", "-"]
        if shares_n is not None:
            # Worker i takes requests i, i + w, ...: as many as its share of -n.
            extra += ["-n", str(shares_n[i])]
        if config.rate is not None:
            extra += [SCHEDULE_PART_FLAG, f"{i}/{workers}"]
        if start_at is not None:
            extra += ["--start-at", repr(start_at)]
        commands.append([sys.executable, "-m", "trioload", *argv, *extra])
    return commands


def schedule_part(text: str) -> tuple[int, int]:
    """``I/W`` of ``SCHEDULE_PART_FLAG``: worker I (from 0) of W."""
    index, _, parts = text.partition("/")
    if not (index.isdigit() and parts.isdigit() and int(index) < int(parts)):
        raise ValueError(f"bad schedule part {text!r}")
    return int(index), int(parts)


def progress_line(finished: int, failed: int) -> str:
    """One progress record from a worker to its parent."""
    return f"{PROGRESS_PREFIX}{finished} {failed}\n"


def parse_progress_line(line: str) -> tuple[int, int] | None:
    """(finished, failed) from a worker's progress record; None for any other line."""
    if not line.startswith(PROGRESS_PREFIX):
        return None
    fields = line[len(PROGRESS_PREFIX) :].split()
    if len(fields) != 2 or not all(f.isdigit() for f in fields):
        return None
    return int(fields[0]), int(fields[1])
