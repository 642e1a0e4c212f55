"""End to end: the real ``trioload`` console script against good and misbehaving servers.

The servers are small trio programs in this file, on 127.0.0.1 ephemeral ports, each breaking
HTTP in one known way; every failure must land in its own column of the report.
"""

from __future__ import annotations

import json
import resource
import signal
import socket
import struct
import subprocess
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import trio

from trioserve.config import ServerConfig
from trioserve.server import serve

TRIOLOAD = str(Path(sys.executable).parent / "trioload")
Handler = Callable[[trio.SocketStream, int], Awaitable[None]]


async def start_misbehaving(nursery: trio.Nursery, handler: Handler) -> int:
    """Serve ``handler(stream, n)`` (n counts connections) on a free port; the port."""
    numbers = count()

    async def per_connection(stream: trio.SocketStream) -> None:
        try:
            await handler(stream, next(numbers))
        except trio.BrokenResourceError:
            pass
        finally:
            await stream.aclose()

    listeners = await nursery.start(partial(trio.serve_tcp, per_connection, 0, host="127.0.0.1"))
    port: int = listeners[0].socket.getsockname()[1]
    return port


async def read_head(stream: trio.SocketStream) -> None:
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = await stream.receive_some(4096)
        if not chunk:
            return
        received += chunk


def response(body: bytes, status: str = "200 OK") -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n%s" % (status.encode(), len(body), body)


async def trioload(*args: str, timeout: float = 60) -> tuple[int, dict[str, Any], str]:
    """Run the console script with ``--json -``: exit status, JSON report, text report."""
    with trio.fail_after(timeout):
        done = await trio.run_process(
            [TRIOLOAD, "-q", "--json", "-", *args],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    report = json.loads(done.stdout) if done.stdout else {}
    return done.returncode, report, done.stderr.decode()


async def test_run_against_trioserve_counts_every_byte(nursery: trio.Nursery) -> None:
    port = await nursery.start(serve, ServerConfig(host="127.0.0.1", port=0))
    status, report, text = await trioload("-c", "20", "-n", "500", f"http://127.0.0.1:{port}/")
    assert status == 0
    assert report["complete"] == report["succeeded"] == 500
    assert report["failed"] == 0
    assert report["total_bytes"] == 88 * 500
    assert report["html_bytes"] == 5 * 500
    assert "Complete requests:      500\n" in text
    assert "Total transferred:      44000 bytes\n" in text
    assert "Failed requests:        0\n" in text


async def test_run_reset_after_request_is_receive_failure(nursery: trio.Nursery) -> None:
    async def reset(stream: trio.SocketStream, _: int) -> None:
        await read_head(stream)
        stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    port = await start_misbehaving(nursery, reset)
    status, report, text = await trioload("-c", "5", "-n", "40", f"http://127.0.0.1:{port}/")
    assert status == 1
    assert report["failures"]["receive"] == 40
    assert report["complete"] == 40
    assert "   (Connect: 0, Receive: 40, Length: 0, Exceptions: 0)\n" in text


async def test_run_close_before_answering_is_receive_failure(nursery: trio.Nursery) -> None:
    async def hang_up(stream: trio.SocketStream, _: int) -> None:
        await read_head(stream)

    port = await start_misbehaving(nursery, hang_up)
    status, report, _ = await trioload("-c", "5", "-n", "30", f"http://127.0.0.1:{port}/")
    assert status == 1
    assert report["failures"]["receive"] == 30


async def test_run_silent_server_times_out_within_s(nursery: trio.Nursery) -> None:
    async def never_answer(stream: trio.SocketStream, _: int) -> None:
        await read_head(stream)
        await trio.sleep_forever()

    port = await start_misbehaving(nursery, never_answer)
    start = trio.current_time()
    status, report, _ = await trioload(
        "-c", "4", "-n", "8", "-s", "0.3", f"http://127.0.0.1:{port}/"
    )
    elapsed = trio.current_time() - start
    assert status == 1
    assert report["failures"]["receive"] == 8
    assert elapsed < 0.3 * 2 + 5  # two rounds of timeouts plus interpreter start-up


async def test_run_truncated_body_is_length_failure(nursery: trio.Nursery) -> None:
    async def truncated(stream: trio.SocketStream, _: int) -> None:
        await read_head(stream)
        await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")

    port = await start_misbehaving(nursery, truncated)
    status, report, _ = await trioload("-c", "2", "-n", "10", f"http://127.0.0.1:{port}/")
    assert status == 1
    assert report["failures"]["length"] == 10


async def test_run_varying_body_length_is_length_failure(nursery: trio.Nursery) -> None:
    async def varying(stream: trio.SocketStream, n: int) -> None:
        await read_head(stream)
        await stream.send_all(response(b"x" * (5 if n % 2 == 0 else 6)))

    port = await start_misbehaving(nursery, varying)
    status, report, _ = await trioload("-c", "1", "-n", "10", f"http://127.0.0.1:{port}/")
    assert status == 1
    assert report["document_length"] == 5
    assert report["failures"]["length"] == 5
    assert report["succeeded"] == 5


async def test_run_5xx_is_non_2xx_not_failure(nursery: trio.Nursery) -> None:
    async def unavailable(stream: trio.SocketStream, _: int) -> None:
        await read_head(stream)
        await stream.send_all(response(b"busy", "503 Service Unavailable"))

    port = await start_misbehaving(nursery, unavailable)
    status, report, text = await trioload("-c", "2", "-n", "12", f"http://127.0.0.1:{port}/")
    assert status == 0
    assert report["non_2xx"] == 12
    assert report["failed"] == 0
    assert "Non-2xx responses:      12\n" in text


async def test_run_not_http_is_exception(nursery: trio.Nursery) -> None:
    async def garbage(stream: trio.SocketStream, _: int) -> None:
        await read_head(stream)
        await stream.send_all(b"SSH-2.0-OpenSSH\r\n\r\n")

    port = await start_misbehaving(nursery, garbage)
    status, report, _ = await trioload("-c", "2", "-n", "6", f"http://127.0.0.1:{port}/")
    assert status == 1
    assert report["failures"]["exceptions"] == 6


async def test_run_refused_port_is_connect_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status, report, text = await trioload("-c", "3", "-n", "9", f"http://127.0.0.1:{port}/")
    assert status == 1
    assert report["failures"]["connect"] == 9
    assert report["complete"] == 9
    assert "   (Connect: 9, Receive: 0, Length: 0, Exceptions: 0)\n" in text


async def test_run_latency_mix_percentiles(nursery: trio.Nursery) -> None:
    async def mixed(stream: trio.SocketStream, n: int) -> None:
        await read_head(stream)
        await trio.sleep(0.020 if n % 10 < 8 else 0.080)  # 80% at 20 ms, 20% at 80 ms
        await stream.send_all(response(b"ok"))

    port = await start_misbehaving(nursery, mixed)
    status, report, _ = await trioload("-c", "10", "-n", "200", f"http://127.0.0.1:{port}/")
    assert status == 0
    total = report["latency_ms"]["total"]
    assert 20 <= total["p50"] < 35
    assert 80 <= total["p95"] < 110
    assert total["min"] >= 20 and total["max"] < 150


async def test_run_keep_alive_reuses_connections(nursery: trio.Nursery) -> None:
    port = await nursery.start(serve, ServerConfig(host="127.0.0.1", port=0, keep_alive=True))
    status, report, text = await trioload("-k", "-c", "4", "-n", "200", f"http://127.0.0.1:{port}/")
    assert status == 0
    assert report["failed"] == 0
    assert report["keep_alive_requests"] == 200  # every response that kept its connection
    assert "Keep-Alive requests:    200\n" in text


async def test_run_keep_alive_chunked_responses(nursery: trio.Nursery) -> None:
    async def chunked(stream: trio.SocketStream, _: int) -> None:
        for _ in range(1000):
            await read_head(stream)
            await stream.send_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n"
            )

    port = await start_misbehaving(nursery, chunked)
    status, report, _ = await trioload("-k", "-c", "2", "-n", "50", f"http://127.0.0.1:{port}/")
    assert status == 0
    assert report["html_bytes"] == 5 * 50
    assert report["keep_alive_requests"] == 50


async def test_run_time_limit_without_n(nursery: trio.Nursery) -> None:
    port = await nursery.start(serve, ServerConfig(host="127.0.0.1", port=0))
    status, report, _ = await trioload("-c", "5", "-t", "0.5", f"http://127.0.0.1:{port}/")
    assert status == 0
    assert report["complete"] > 0
    assert 0.5 <= report["time_taken_s"] < 2.0


async def test_run_workers_merge_counts(nursery: trio.Nursery) -> None:
    port = await nursery.start(serve, ServerConfig(host="127.0.0.1", port=0))
    status, report, _ = await trioload(
        "-w", "2", "-c", "6", "-n", "301", f"http://127.0.0.1:{port}/"
    )
    assert status == 0
    assert report["workers"] == 2
    assert report["complete"] == 301
    assert report["total_bytes"] == 88 * 301


async def test_run_sigint_prints_report_and_exits_130(nursery: trio.Nursery) -> None:
    from trioserve.server import Server  # noqa: PLC0415

    server = Server(ServerConfig(host="127.0.0.1", port=0))
    port = await nursery.start(server.serve)
    process = await trio.lowlevel.open_process(
        [TRIOLOAD, "-q", "-c", "5", "-n", "100000000", f"http://127.0.0.1:{port}/"],
        stdout=subprocess.PIPE,
    )
    with trio.fail_after(20):
        while server.stats.responses < 200:  # the run is under way: interrupt it
            await trio.sleep(0.01)
        process.send_signal(signal.SIGINT)
        assert process.stdout is not None
        output = b""
        while chunk := await process.stdout.receive_some(65536):
            output += chunk
        assert await process.wait() == 130
    text = output.decode()
    assert "Interrupted" in text
    complete = int(text.split("Complete requests:")[1].split()[0])
    assert 200 <= complete <= server.stats.responses


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-c", "0"], "must be > 0"),
        (["https://127.0.0.1/"], "https is not supported"),
        (["ftp://x/"], "must start with http://"),
        (["-p", "/nonexistent/body"], "cannot read -p"),
        (["-H", "no colon"], "bad header"),
    ],
)
async def test_run_usage_errors_exit_2(args: list[str], message: str) -> None:
    status, report, text = await trioload(*args)
    assert status == 2
    assert report == {}
    assert message in text


def _tiny_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


def test_run_too_few_file_descriptors_says_how_to_fix() -> None:
    done = subprocess.run(
        [TRIOLOAD, "-c", "1000", "-n", "1000"],
        capture_output=True,
        timeout=30,
        check=False,
        preexec_fn=_tiny_fd_limit,
    )
    assert done.returncode == 2
    assert b"ulimit -n" in done.stderr
    assert done.stderr.count(b"\n") == 1


def _peak_rss_kb(requests: int, port: int) -> int:
    """Run trioload in a fresh interpreter that reports its own peak RSS."""
    code = (
        "import resource, sys\n"
        "from trioload.cli import main\n"
        f"main(['-q', '-c', '50', '-n', '{requests}', 'http://127.0.0.1:{port}/'])\n"
        "sys.stderr.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=120, check=True
    )
    return int(done.stderr.decode().split()[-1])


async def test_run_memory_flat_when_n_grows_tenfold(nursery: trio.Nursery) -> None:
    port = await nursery.start(serve, ServerConfig(host="127.0.0.1", port=0))
    small = await trio.to_thread.run_sync(_peak_rss_kb, 2_000, port)
    large = await trio.to_thread.run_sync(_peak_rss_kb, 20_000, port)
    assert large <= small * 1.1, (small, large)
