"""The naive baselines (``benchlib.baselines``): the trio server answers each client, and each
client's report is trioload's shape, with every request counted."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.benchlib.baselines import Tally, nearest_rank, request_bytes
from scripts.benchlib.machine import free_port, is_listening

ROOT = Path(__file__).resolve().parents[2]


def baseline(*args: str) -> list[str]:
    return [sys.executable, "-m", "scripts.benchlib.baselines", *args]


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    port = free_port("127.0.0.1")
    server = subprocess.Popen(baseline("server", "--port", str(port)), cwd=ROOT)
    try:
        for _ in range(500):
            if is_listening("127.0.0.1", port):
                break
            time.sleep(0.02)
        yield port
    finally:
        server.kill()
        server.wait()


@pytest.mark.parametrize("client", ["trio", "blocking", "epoll"])
def test_each_client_reports_its_requests_against_the_trio_server(client: str, port: int) -> None:
    done = subprocess.run(
        baseline(client, "-n", "50", "-c", "5", "--port", str(port)),
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    report = json.loads(done.stdout)
    assert (report["finished"], report["succeeded"], report["failed"]) == (50, 50, 0)
    total = report["latency_ms"]["total"]
    assert 0 < total["p50"] <= total["p99"] <= total["max"]


def test_a_client_counts_refused_connections_as_failed() -> None:
    port = free_port("127.0.0.1")  # nobody listens there
    done = subprocess.run(
        baseline("blocking", "-n", "3", "-c", "2", "--port", str(port)),
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert json.loads(done.stdout)["failed"] == 3


def test_tally_fails_a_reply_of_another_length_than_the_first_good_one() -> None:
    tally = Tally(3)
    assert tally.take() and tally.take() and tally.take() and not tally.take()
    tally.record(b"HTTP/1.1 200 OK\r\n\r\nhello", 0)
    tally.record(b"HTTP/1.1 200 OK\r\n\r\nhello!", 0)
    tally.record(b"HTTP/1.1 503 Busy\r\n\r\nhello", 0)
    assert (tally.completed, tally.failed, len(tally.samples_ns)) == (3, 2, 1)


def test_nearest_rank_and_the_request() -> None:
    assert nearest_rank([1_000_000, 2_000_000, 3_000_000], 50) == 2.0
    assert nearest_rank([1_000_000], 99) == 1.0
    assert request_bytes("127.0.0.1", 80, "x").startswith(
        b"GET / HTTP/1.0\r\nHost: 127.0.0.1:80\r\n"
    )
