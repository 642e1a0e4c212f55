"""The ``-W`` protocol between the parent and its worker processes, sans-IO.

- **Command and stdin.** Each worker runs ``WORKER_COMMAND`` (``trioload.run.worker``) and reads
  its whole configuration on stdin (``encode_config``): the parent's, already checked, with this
  worker's share of ``-c`` and ``-n``, its place in a ``-R`` schedule and the time all begin
  (``worker_configs``). Nothing is parsed twice, and no flag exists only for workers.
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

import dataclasses
import pickle
import sys
from typing import Any

from trioload.config import LoadConfig, split
from trioload.output.outputs import OUTPUT_FLAGS

#: how the parent starts a worker; its configuration follows on stdin.
WORKER_COMMAND = (sys.executable, "-m", "trioload.run.worker")
#: statuses with which a worker's report is still valid.
REPORTING_STATUSES = frozenset({0, 1, 130})
#: a worker's progress records on stderr start so.
PROGRESS_PREFIX = "trioload-progress "


def worker_configs(config: LoadConfig, start_at: float | None = None) -> list[LoadConfig]:
    """Each worker's configuration: its share of -c and -n, and with a schedule its place in it
    and the time all begin (``start_at``). Workers show nothing and write no files: the parent
    prints the one report, merged, and writes the files."""
    workers = config.workers
    shares_c = split(config.concurrency, workers)
    shares_n = split(config.requests, workers) if config.requests else None
    # Worker i takes every workers-th of this process's requests, from the i-th; in the test's
    # schedule (this process may be a segment of it), that is every (of * workers)-th from
    # place + i * of.
    place, of = config.schedule_part
    quiet: dict[str, Any] = {"progress": False, "verbosity": 0, **dict.fromkeys(OUTPUT_FLAGS)}
    return [
        dataclasses.replace(
            config,
            concurrency=c,
            # Worker i takes requests i, i + w, ...: as many as its share of -n.
            requests=shares_n[i] if shares_n is not None else config.requests,
            workers=1,
            schedule_part=(place + i * of, of * workers) if config.rate is not None else (0, 1),
            start_at=start_at if start_at is not None else config.start_at,
            **quiet,
        )
        for i, c in enumerate(shares_c)
    ]


def encode_config(config: LoadConfig) -> bytes:
    """A worker's configuration as the parent sends it.

    Pickle, because both ends are the same interpreter running the same code: every field comes
    back exact (a ``-p`` body's bytes, the header tuples) with no schema to keep in step. A
    worker reads it only from the stdin its parent gave it.
    """
    return pickle.dumps(config, protocol=pickle.HIGHEST_PROTOCOL)


def decode_config(data: bytes) -> LoadConfig:
    """What ``encode_config`` made; ValueError for anything else."""
    try:
        config = pickle.loads(data)
    except Exception as exc:
        raise ValueError(f"not a worker configuration: {exc}") from None
    if isinstance(config, LoadConfig):
        return config
    raise ValueError(f"not a worker configuration: a {type(config).__name__}")


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
