"""A ``-W`` worker process: ``python -m trioload.run.worker``, started by ``trioload.run.workers``.

It reads its configuration on stdin (``worker_protocol``: the parent's, already checked, with
this worker's share), runs it without a probe (the parent knocked already), writes progress
records on stderr and its run's JSON on stdout, and exits as the parent's run would: 0, 1 when
some request failed, 130 when interrupted; 2 when it could not run at all.
"""

from __future__ import annotations

import sys
from functools import partial

import trio

from trioload.config import UsageError
from trioload.output.outputs import write_stderr, write_stdout
from trioload.results.result import format_json
from trioload.run.fdlimit import check_fd_limit
from trioload.run.preflight import TargetError
from trioload.run.process import run_in_process
from trioload.run.worker_protocol import decode_config, progress_line


class _Records:
    """Progress as the parent reads it: a record a tick, nothing at the end."""

    def tick(self, finished: int, failed: int, elapsed_s: float) -> str:
        return progress_line(finished, failed)

    def finish(self, finished: int) -> str:
        return ""


def main() -> int:
    try:
        config = decode_config(sys.stdin.buffer.read())
        check_fd_limit(config.concurrency + 1)
        result = trio.run(partial(run_in_process, config, progress=_Records(), probe=False))
    except (ValueError, UsageError, TargetError, OSError) as exc:
        write_stderr(f"{exc}\n")
        return 2
    write_stdout(format_json(result))
    if result.interrupted:
        return 130
    return 1 if result.tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
