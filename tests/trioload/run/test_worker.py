"""A ``-W`` worker process, run as its parent runs it: configuration on stdin, progress records
on stderr, its JSON alone on stdout."""

from __future__ import annotations

import json
import subprocess

import trio

from tests.trioload.conftest import StartTrioserve, refused_port, url
from trioload.config import LoadConfig
from trioload.run.worker_protocol import WORKER_COMMAND, encode_config, parse_progress_line


async def _run_worker(stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return await trio.run_process(
        list(WORKER_COMMAND), stdin=stdin, capture_stdout=True, capture_stderr=True, check=False
    )


async def test_worker_writes_its_json_on_stdout_and_records_on_stderr(
    start_trioserve: StartTrioserve,
) -> None:
    server, port = await start_trioserve()
    config = LoadConfig(url=url(port), concurrency=2, requests=7, progress=False)
    done = await _run_worker(encode_config(config))
    assert done.returncode == 0
    report = json.loads(done.stdout)
    assert (report["finished"], report["succeeded"], report["concurrency"]) == (7, 7, 2)
    assert server.stats.responses == 7
    records = [parse_progress_line(line) for line in done.stderr.decode().splitlines(True)]
    assert records, "a worker reports its counters at least once, at the end"
    assert records[-1] == (7, 0)
    assert None not in records  # a worker writes nothing else on stderr


async def test_worker_exits_1_with_a_report_when_requests_failed() -> None:
    # No probe: the parent knocked already, so a refused port is counted request by request.
    config = LoadConfig(url=url(refused_port()), concurrency=1, requests=3, progress=False)
    done = await _run_worker(encode_config(config))
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert (report["finished"], report["failed"]) == (3, 3)


async def test_worker_refuses_a_stdin_that_is_no_configuration() -> None:
    done = await _run_worker(b"-c 10 http://127.0.0.1/")
    assert done.returncode == 2
    assert done.stdout == b""
    assert b"not a worker configuration" in done.stderr
