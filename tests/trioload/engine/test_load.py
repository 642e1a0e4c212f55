"""The engines end to end: the real ``trioload`` against servers that misbehave one way each.

Every request trioload starts must land in exactly one column: complete, or one failure kind.
Each test runs once per engine (``--engine shards`` and ``--engine tasks``): both must count
alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import pytest
import trio

from tests.trioload.conftest import (
    LoadRun,
    RequestReader,
    StartRaw,
    StartTrioserve,
    chunked_keep_alive,
    close_before_answer,
    latency_mix,
    never_answer,
    reset_after_request,
    response,
    run_trioload,
    server_error,
    truncated_body,
    url,
    varying_length,
)

Load = Callable[..., Awaitable[LoadRun]]


@pytest.fixture(params=["shards", "tasks"])
def load(request: pytest.FixtureRequest) -> Load:
    """``run_trioload`` with ``--engine`` set to each engine in turn."""
    return partial(run_trioload, "--engine", request.param)


NO_FAILURES = {"connect": 0, "receive": 0, "length": 0, "exceptions": 0, "write": 0}


def only(kind: str, count: int) -> dict[str, int]:
    return {**NO_FAILURES, kind: count}


async def test_engine_counts_a_reset_after_the_request_as_receive(
    load: Load, start_raw: StartRaw
) -> None:
    port = await start_raw(reset_after_request)
    run = await load("-q", "-n", "6", "-c", "2", "--json", "-", url(port))
    assert run.returncode == 1
    assert run.report["failures"] == only("receive", 6)
    assert (run.report["finished"], run.report["succeeded"]) == (6, 0)


async def test_engine_times_out_a_silent_server_as_receive_within_s(
    load: Load, start_raw: StartRaw
) -> None:
    port = await start_raw(never_answer)
    start = trio.current_time()
    run = await load("-q", "-n", "2", "-c", "2", "-s", "1", "--json", "-", url(port))
    wall = trio.current_time() - start
    assert run.returncode == 1
    assert run.report["failures"] == only("receive", 2)
    # Both requests run side by side, so the run lasts one timeout, not two.
    assert 1.0 <= run.report["time_taken_s"] < 2.0
    assert wall < 10  # process start and imports included


async def test_engine_counts_a_close_before_any_response_as_receive(
    load: Load, start_raw: StartRaw
) -> None:
    port = await start_raw(close_before_answer)
    run = await load("-q", "-n", "4", "--json", "-", url(port))
    assert run.returncode == 1
    assert run.report["failures"] == only("receive", 4)


async def test_engine_counts_a_body_short_of_content_length_as_length(
    load: Load,
    start_raw: StartRaw,
) -> None:
    # trioload's choice: the response reader raises BodyLengthError when EOF comes inside a
    # Content-Length body, and the engine files that under Length (not Receive).
    port = await start_raw(truncated_body)
    run = await load("-q", "-n", "4", "--json", "-", url(port))
    assert run.returncode == 1
    assert run.report["failures"] == only("length", 4)
    # the bytes that did arrive are still transferred bytes
    head_and_half = len(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n"
        b"Connection: close\r\n\r\nhello"
    )
    assert run.report["total_bytes"] == 4 * head_and_half


async def test_engine_counts_bodies_unlike_the_first_as_length(
    load: Load, start_raw: StartRaw
) -> None:
    port = await start_raw(varying_length())
    run = await load("-q", "-n", "10", "--json", "-", url(port))
    assert run.returncode == 1
    assert run.report["document_length"] == 5
    assert run.report["failures"] == only("length", 5)
    assert (run.report["finished"], run.report["succeeded"]) == (10, 5)
    text = run.stderr
    assert "Failed requests:        5\n" in text
    assert "   (Connect: 0, Receive: 0, Length: 5, Exceptions: 0)\n" in text


async def test_engine_counts_bytes_after_a_whole_response_as_length(
    load: Load, start_raw: StartRaw
) -> None:
    # Every other answer sends two bytes more, after the response: trioload files the request
    # under Length (and counts the bytes), as for any body longer than its Content-Length.
    answered = 0

    async def handler(stream: trio.SocketStream) -> None:
        nonlocal answered
        async with stream:
            await RequestReader(stream).next_request()
            answered += 1
            await stream.send_all(response(b"hello"))
            if answered % 2 == 0:
                # Most likely a read of its own after a response already seen whole (the
                # shard engine's short path); the count must not depend on how reads split.
                await trio.sleep(0.02)
                await stream.send_all(b"!!")

    port = await start_raw(handler)
    run = await load("-q", "-n", "6", "-c", "1", "--json", "-", url(port))
    assert run.returncode == 1
    assert run.report["failures"] == only("length", 3)
    assert (run.report["finished"], run.report["succeeded"]) == (6, 3)
    assert run.report["total_bytes"] == 6 * len(response(b"hello")) + 3 * len(b"!!")


async def test_engine_counts_5xx_apart_from_failures(load: Load, start_raw: StartRaw) -> None:
    port = await start_raw(server_error)
    run = await load("-q", "-n", "5", "-c", "2", "--json", "-", url(port))
    assert run.returncode == 0
    assert run.report["non_2xx"] == 5
    assert run.report["failures"] == NO_FAILURES
    assert "Non-2xx responses:      5\n" in run.stderr
    assert "Failed requests:        0\n" in run.stderr


async def test_engine_counts_a_response_that_is_not_http_as_exceptions(
    load: Load, start_raw: StartRaw
) -> None:
    async def not_http(stream: trio.SocketStream) -> None:
        async with stream:
            await RequestReader(stream).next_request()
            await stream.send_all(b"SSH-2.0-OpenSSH\r\n\r\n")

    port = await start_raw(not_http)
    run = await load("-q", "-n", "6", "-c", "2", "--json", "-", url(port))
    assert run.returncode == 1
    assert run.report["failures"] == only("exceptions", 6)


async def test_engine_counts_a_refused_port_as_connect(
    load: Load, start_gone: Callable[[], Awaitable[int]]
) -> None:
    run = await load("-q", "-n", "5", "-c", "2", "--json", "-", url(await start_gone()))
    assert run.returncode == 1
    assert run.report["failures"] == only("connect", 5)
    assert "   (Connect: 5, Receive: 0, Length: 0, Exceptions: 0)\n" in run.stderr


async def test_engine_percentiles_follow_a_known_latency_mix(
    load: Load, start_raw: StartRaw
) -> None:
    port = await start_raw(latency_mix(0.020, 0.080))
    run = await load("-q", "-n", "20", "-c", "2", "--json", "-", url(port))
    assert run.returncode == 0
    total = run.report["latency_ms"]["total"]
    # Exactly half the responses wait 20 ms and half 80 ms, so p50 is a fast one and p99 a
    # slow one. The mean is 50 ms: a p50 that averaged would fail. Above each floor is
    # scheduling slack, generous for a loaded machine.
    assert 20 <= total["min"] <= total["p50"] < 50
    assert 80 <= total["p99"] <= total["max"] < 400


async def test_engine_counts_every_good_response_exactly(
    load: Load,
    start_trioserve: StartTrioserve,
) -> None:
    server, port = await start_trioserve()
    n = 300
    run = await load("-q", "-n", str(n), "-c", "10", "--json", "-", url(port))
    assert run.returncode == 0
    report = run.report
    assert (report["finished"], report["succeeded"], report["failed"]) == (n, n, 0)
    assert report["total_bytes"] == 88 * n
    assert report["html_bytes"] == 5 * n
    assert report["document_length"] == 5
    assert server.stats.responses == n
    assert f"Complete requests:      {n}\n" in run.stderr
    assert f"Total transferred:      {88 * n} bytes\n" in run.stderr
    assert f"HTML transferred:       {5 * n} bytes\n" in run.stderr


async def test_engine_keeps_connections_alive_with_trioserve(
    load: Load,
    start_trioserve: StartTrioserve,
) -> None:
    server, port = await start_trioserve(keep_alive=True)
    n = 100
    run = await load("-q", "-k", "-n", str(n), "-c", "2", "--json", "-", url(port))
    assert run.returncode == 0
    assert run.report["failures"] == NO_FAILURES
    assert run.report["succeeded"] == n
    # ab counts every response that came back keep-alive, the first on each connection too.
    assert f"Keep-Alive requests:    {n}\n" in run.stderr
    assert run.report["keep_alive_requests"] == n
    assert server.stats.accepted <= 2  # one connection per worker, reused


async def test_engine_keeps_connections_alive_over_chunked_bodies(
    load: Load, start_raw: StartRaw
) -> None:
    accepted = 0

    async def counting(stream: trio.SocketStream) -> None:
        nonlocal accepted
        accepted += 1
        await chunked_keep_alive(stream)

    port = await start_raw(counting)
    n = 20
    run = await load("-q", "-k", "-n", str(n), "--json", "-", url(port))
    assert run.returncode == 0
    assert run.report["failures"] == NO_FAILURES
    assert run.report["document_length"] == 5  # chunk framing is not payload
    assert run.report["html_bytes"] == 5 * n
    assert accepted == 1


async def test_engine_timeout_covers_each_request_not_the_worker(
    load: Load, start_raw: StartRaw
) -> None:
    # One worker, three answers of 0.3 s each under -s 0.4: every request is within its own
    # timeout although the worker is busy for 0.9 s, so none may be cut short.
    port = await start_raw(latency_mix(0.3, 0.3))
    run = await load("-q", "-n", "3", "-c", "1", "-s", "0.4", "--json", "-", url(port))
    assert run.returncode == 0, run.stderr
    assert run.report["failures"] == NO_FAILURES
    assert run.report["time_taken_s"] >= 0.9


# -- the open-model schedule (-R) ---------------------------------------------------------


async def test_engine_keeps_to_the_rate(load: Load, start_trioserve: StartTrioserve) -> None:
    _, port = await start_trioserve()
    run = await load("-q", "-R", "1000", "-n", "1000", "-c", "10", "--json", "-", url(port))
    assert run.returncode == 0, run.stderr
    report = run.report
    assert report["finished"] == 1000
    # The last request is due at 999/1000 = 0.999 s; it and its response take a millisecond.
    assert 0.95 < report["time_taken_s"] < 1.3
    assert report["latency_ms"]["lag"]["p50"] < 1.0
    assert sum(entry["finished"] for entry in report["timeline"]) == 1000


def asked_and_made(report: dict[str, Any]) -> list[tuple[float, float]]:
    """Each whole (half-second) timeline interval's asked and finished requests a second."""
    return [
        (e["asked"] / length, e["finished"] / length)
        for e in report["timeline"]
        if (length := e["end_unix_s"] - e["start_unix_s"]) > 0.49
    ]


async def test_engine_ramp_rises_over_the_run(load: Load, start_trioserve: StartTrioserve) -> None:
    _, port = await start_trioserve()
    argv = ["-R", "200:1000", "-t", "2", "-c", "20", "--interval", "0.5", "--json", "-"]
    run = await load("-q", *argv, url(port))
    assert run.returncode == 0, run.stderr
    report = run.report
    assert report["finished"] == pytest.approx(1200, abs=2)  # 600 req/s on average, for 2 s
    assert report["rate"] == 600.0
    whole = asked_and_made(report)
    assert len(whole) >= 2
    asked = [rate for rate, _ in whole]
    assert asked == sorted(asked)  # the asked rate rises, interval by interval
    assert asked[-1] > asked[0] + 200
    for rate, made in whole:  # made as asked, give or take a busy machine's hiccup
        assert made == pytest.approx(rate, rel=0.2)
    # by due time, to the run's end: the last requests, due within a tick or two of the end,
    # went up to a tick early, and the run ended before they were all due
    assert sum(e["asked"] for e in report["timeline"]) == pytest.approx(1200, abs=1000 * 0.004)


async def test_engine_stages_run_in_order(load: Load, start_trioserve: StartTrioserve) -> None:
    _, port = await start_trioserve()
    argv = ["--stages", "1s@200,1s@600", "-c", "20", "--interval", "0.5", "--json", "-"]
    run = await load("-q", *argv, url(port))
    assert run.returncode == 0, run.stderr
    report = run.report
    assert report["finished"] == pytest.approx(800, abs=2)
    assert 1.9 < report["time_taken_s"] < 3.0
    rates = [rate for rate, _ in asked_and_made(report)]
    assert rates[0] == pytest.approx(200, rel=0.05)
    assert rates[-1] == pytest.approx(600, rel=0.05)


async def test_engine_rate_500_for_2500_requests_takes_5_seconds(
    start_trioserve: StartTrioserve,
) -> None:
    _, port = await start_trioserve()
    run = await run_trioload("-q", "-R", "500", "-n", "2500", "--json", "-", url(port))
    assert run.returncode == 0, run.stderr
    assert run.report["finished"] == 2500
    # Due at k/500 s for k < 2500: the last at 4.998 s.
    assert 4.95 < run.report["time_taken_s"] < 5.3


async def test_engine_rate_run_ends_at_its_time_limit(
    load: Load, start_trioserve: StartTrioserve
) -> None:
    _, port = await start_trioserve()
    # 50 slots at 2 requests/s: most slots hold a request due long after -t is up.
    began = trio.current_time()
    run = await load("-q", "-R", "2", "-c", "50", "-t", "1", "--json", "-", url(port))
    assert run.returncode == 0, run.stderr
    assert run.report["finished"] == 2
    assert run.report["time_taken_s"] < 1.2
    assert trio.current_time() - began < 5


async def test_engine_corrected_latency_shows_a_stall_that_uncorrected_hides(
    start_trioserve: StartTrioserve,
) -> None:
    """trioserve stalls 1 s in every 5 s; 500 requests/s for 5 s, at most 10 in flight.

    Any 5 s window holds 1 s of stall, so 20% of the requests are due during it, and each
    waits for its end: their corrected latency is uniform over (0, 1] s, plus the drain of the
    500 queued requests after it (tens of ms). So P(corrected > x) = 0.2 (1 - x): p90 is about
    0.5 s and p99 about 0.95 s. Uncorrected, only the 10 requests in flight when the stall
    began (0.4%) wait; the rest are sent after it and take milliseconds: p90 and p99 stay
    small, while the max is about 1 s.
    """
    _, port = await start_trioserve(stall_every=5.0, stall_for=1.0)
    run = await run_trioload("-q", "-R", "500", "-n", "2500", "-c", "10", "--json", "-", url(port))
    assert run.returncode == 0, run.stderr
    corrected, uncorrected = (
        run.report["latency_ms"]["corrected"],
        run.report["latency_ms"]["total"],
    )
    assert 400 < corrected["p90"] < 700
    assert 850 < corrected["p99"] < 1150
    assert uncorrected["p90"] < 100
    assert uncorrected["p99"] < 100
    assert 850 < uncorrected["max"] < 1150


async def test_engine_rate_reconnects_when_the_server_closed_an_idle_connection(
    load: Load, start_trioserve: StartTrioserve
) -> None:
    # Each of the 5 connections idles 125 ms between its requests; trioserve closes an idle
    # one after 60 ms. The next request must go out on a new connection, not fail.
    server, port = await start_trioserve(keep_alive=True, keep_alive_timeout=0.06)
    run = await load("-q", "-k", "-R", "40", "-n", "30", "-c", "5", "--json", "-", url(port))
    assert run.returncode == 0, run.stderr
    assert (run.report["finished"], run.report["failed"]) == (30, 0)
    assert server.stats.accepted > 5
