"""The engine over real sockets: responses, closing, deadlines, limits.

Most tests talk TCP on 127.0.0.1. The deadline tests use a Unix socket and trio's MockClock
(see ``conftest.start_unix_server``): the deadlines then hold to the exact virtual second, and
a loaded machine cannot make them flaky.
"""

from __future__ import annotations

import socket
import struct
import uuid

import pytest
import trio
import trio.testing

from tests.trioserve.conftest import (
    AB_REQUEST,
    CURL_REQUEST,
    EXACT_RESPONSE,
    StartServer,
    StartUnixServer,
    connect,
    exchange,
    read_to_eof,
)
from trioserve.config import ServerConfig
from trioserve.responses import Responses
from trioserve.server import Server


@pytest.mark.parametrize("request_bytes", [AB_REQUEST, CURL_REQUEST], ids=["http10", "http11"])
async def test_server_answers_exact_88_bytes(
    start_server: StartServer, request_bytes: bytes
) -> None:
    server, port = await start_server()
    assert len(EXACT_RESPONSE) == 88
    assert await exchange(port, request_bytes) == EXACT_RESPONSE
    assert server.stats.responses == 1


async def test_server_request_split_byte_by_byte(start_server: StartServer) -> None:
    _, port = await start_server()
    pieces = [AB_REQUEST[i : i + 1] for i in range(len(AB_REQUEST))]
    assert await exchange(port, *pieces) == EXACT_RESPONSE


async def test_server_lf_only_request(start_server: StartServer) -> None:
    _, port = await start_server()
    assert await exchange(port, b"GET / HTTP/1.1\nHost: x\n\n") == EXACT_RESPONSE


async def test_server_half_close_after_request(start_server: StartServer) -> None:
    _, port = await start_server()
    assert await exchange(port, CURL_REQUEST, half_close=True) == EXACT_RESPONSE


async def test_server_pipelined_requests_one_response_clean_close(
    start_server: StartServer,
) -> None:
    server, port = await start_server()
    # read_to_eof raises BrokenResourceError on a reset: reaching EOF proves a clean close.
    assert await exchange(port, CURL_REQUEST + CURL_REQUEST) == EXACT_RESPONSE
    assert server.stats.responses == 1


async def test_server_large_post_body_response_intact(start_server: StartServer) -> None:
    _, port = await start_server()
    body = b"x" * 200_000
    head = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
    assert await exchange(port, head, body) == EXACT_RESPONSE


async def test_server_garbage_gets_400(start_server: StartServer) -> None:
    server, port = await start_server()
    response = await exchange(port, b"\x16\x03\x01 hello there\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 400 ")
    assert server.stats.rejected[400] == 1


# Each MUST of RFC 9112 for request heads, sent to the real server (the old server answered
# every one of these with 200).
MUST_REFUSE = [
    pytest.param(b"Host: x\r\nConnection : upgrade\r\n", id="5.1-whitespace-before-colon"),
    pytest.param(b"User-Agent: x\r\n", id="3.2-http11-without-host"),
    pytest.param(b"Host: x\r\nHost: y\r\n", id="3.2-two-hosts"),
    pytest.param(b"Host: a b\r\n", id="3.2-invalid-host"),
    pytest.param(b"Host: x\r\nContent-Length: 4 2\r\n", id="6.3-invalid-length"),
    pytest.param(b"Host: x\r\nContent-Length:\r\n", id="6.3-empty-length"),
    pytest.param(b"Host: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n", id="6.3-lengths"),
    pytest.param(b"Host: x\r\nFoo: 1\rBar: 2\r\n", id="2.2-bare-cr"),
    pytest.param(b"Host: x\r\nFoo: a\x00b\r\n", id="9110-5.5-nul"),
    pytest.param(b"Host: x\r\nFoo: a\r\n b\r\n", id="5.2-obs-fold"),
    pytest.param(b"Host: x\r\nTransfer-Encoding: gzip\r\n", id="6.3-transfer-coding-not-chunked"),
    pytest.param(
        b"Host: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        id="6.1-length-and-chunked",
    ),
]


@pytest.mark.parametrize("keep_alive", [False, True], ids=["close", "keep-alive"])
@pytest.mark.parametrize("fields", MUST_REFUSE)
async def test_server_refuses_rfc9112_must_violations_with_400_and_closes(
    start_server: StartServer, fields: bytes, keep_alive: bool
) -> None:
    server, port = await start_server(keep_alive=keep_alive)
    request = b"POST / HTTP/1.1\r\n" + fields + b"\r\n"
    # The next request rides along: it must not be answered (nothing after a refusal is framed).
    response = await exchange(port, request + CURL_REQUEST)
    assert response == Responses.build(b"hello", "text/plain").errors[400]
    assert server.stats.rejected[400] == 1
    assert server.stats.responses == 0


ERRORS = Responses.build(b"hello", "text/plain").errors
#: Bytes after which nginx answers 400 at once, the connection held open: the first bad line.
BAD_AT_ONCE = [
    pytest.param(b"GET /\x01 HTTP/1.1\r\n", id="ctl-in-the-target"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\n\rZ", id="bare-cr"),
    pytest.param(b"GET / HTTP/1.1\r\nHo st: a\r\n", id="space-in-a-name"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nX-Dummy: a\r\naaa\r\n", id="no-colon"),
]
#: llhttp's request corpus, "Headers separated by dummy characters", byte for byte.
LLHTTP_DUMMY_CHARACTERS = (
    b"GET / HTTP/1.1\r\nConnection: close\r\nHost: a\r\n\rZGET /evil: HTTP/1.1\r\nHost: a\r\n"
)
#: Far beyond any wait below: a 400 read within those came from the bad line, not a timeout.
LONG_HEAD_TIMEOUT = 600.0


@pytest.mark.parametrize("keep_alive", [False, True], ids=["first-request", "later-request"])
@pytest.mark.parametrize("sent", BAD_AT_ONCE)
async def test_server_refuses_a_head_at_its_first_bad_line_while_it_is_held_open(
    start_server: StartServer, sent: bytes, keep_alive: bool
) -> None:
    server, port = await start_server(head_timeout=LONG_HEAD_TIMEOUT, keep_alive=keep_alive)
    async with await connect(port) as stream:
        if keep_alive:
            await stream.send_all(CURL_REQUEST)
            response = b""
            while not response.endswith(b"hello"):
                response += await stream.receive_some(1024)
        await stream.send_all(sent)  # and nothing more: no empty line, no EOF
        with trio.fail_after(10):  # a small fraction of the head timeout
            assert await read_to_eof(stream) == ERRORS[400]  # the server half-closed after it
    assert server.stats.rejected[400] == 1
    assert server.stats.timeouts == 0


@pytest.mark.parametrize(
    "sent",
    [
        *BAD_AT_ONCE,
        pytest.param(LLHTTP_DUMMY_CHARACTERS, id="llhttp-dummy-characters"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nX-Dummy: a\r\n\x01\x02", id="ctls-no-lf"),
    ],
)
async def test_server_refuses_a_bad_head_cut_short_by_a_half_close(
    start_server: StartServer, sent: bytes
) -> None:
    server, port = await start_server(head_timeout=LONG_HEAD_TIMEOUT)
    with trio.fail_after(10):
        assert await exchange(port, sent, half_close=True) == ERRORS[400]
    assert server.stats.rejected[400] == 1
    assert server.stats.closed_early == 0


async def test_server_closes_quietly_on_a_half_close_in_a_head_valid_so_far(
    start_server: StartServer,
) -> None:
    server, port = await start_server(head_timeout=LONG_HEAD_TIMEOUT)
    with trio.fail_after(10):
        assert await exchange(port, b"GET / HTTP/1.1\r\nHost: a\r\nX-Du", half_close=True) == b""
    assert server.stats.closed_early == 1
    assert not server.stats.rejected


async def test_server_answers_an_unknown_transfer_coding_with_501(
    start_server: StartServer,
) -> None:
    server, port = await start_server()
    head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    response = await exchange(port, head + b"0\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 501 Not Implemented\r\n")
    assert server.stats.rejected[501] == 1


async def test_server_keep_alive_frames_chunked_bodies(start_server: StartServer) -> None:
    server, port = await start_server(keep_alive=True)
    chunked = (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n1a\r\n" + b"G" * 26 + b"\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )
    last = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    # All in one write, the body split over two more: each request starts where the last ends.
    response = await exchange(port, chunked[:60], chunked[60:] + CURL_REQUEST + chunked, last)
    assert response.count(b"HTTP/1.1 200 OK") == 4
    assert response.endswith(EXACT_RESPONSE)
    assert server.stats.responses == 4


async def test_server_keep_alive_closes_after_a_malformed_chunked_body(
    start_server: StartServer,
) -> None:
    server, port = await start_server(keep_alive=True)
    smuggled = b"GET /admin HTTP/1.1\r\nHost: x\r\n\r\n"
    request = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    # Data longer than its size: a lenient reader would find a request inside the body.
    response = await exchange(port, request + b"3\r\nabc" + smuggled + b"\r\n0\r\n\r\n")
    assert response.count(b"HTTP/1.1 200 OK") == 1
    assert server.stats.responses == 1
    assert server.stats.malformed_bodies == 1


async def test_server_oversized_head_gets_431_and_reading_stops(start_server: StartServer) -> None:
    server, port = await start_server(max_head=1024, linger_bytes=64 * 1024, linger_time=5.0)
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    sent = 0
    header_line = b"X-Filler: " + b"a" * 1000 + b"\r\n"
    async with stream:
        await stream.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        # An endless head: the server must answer 431 and then stop taking bytes, which the
        # client sees as a failed send once the bounded drain is over.
        with pytest.raises(trio.BrokenResourceError):
            with trio.fail_after(60):  # only against a hang: a pass takes milliseconds
                while sent < 50_000_000:
                    await stream.send_all(header_line)
                    sent += len(header_line)
        assert sent < 10_000_000
    assert server.stats.rejected[431] == 1


async def test_server_oversized_head_client_reads_431(start_server: StartServer) -> None:
    _, port = await start_server(max_head=1024)
    head = b"GET / HTTP/1.1\r\n" + b"X-Filler: " + b"a" * 2000 + b"\r\n\r\n"
    response = await exchange(port, head)
    assert response.startswith(b"HTTP/1.1 431 ")


async def test_server_long_request_line_gets_414(start_server: StartServer) -> None:
    _, port = await start_server()
    response = await exchange(port, b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 414 ")


async def test_server_idle_and_slowloris_cut_at_deadline_while_others_served(
    start_unix_server: StartUnixServer, autojump_clock: trio.testing.MockClock
) -> None:
    timeout = 10.0
    server, address = await start_unix_server(head_timeout=timeout)
    idle = await connect(address)
    slow = await connect(address)
    start = trio.current_time()
    outcome: dict[str, float] = {}

    async def drip() -> None:
        # One byte a second: never completes a head, always "active".
        with pytest.raises(trio.BrokenResourceError):
            for byte in b"GET / HTTP/1.1\r\nX-Slow: " + b"z" * 1000:
                await slow.send_all(bytes([byte]))
                await trio.sleep(1)
        outcome["slow"] = trio.current_time() - start

    async def idle_client() -> None:
        response = await read_to_eof(idle)
        outcome["idle"] = trio.current_time() - start
        assert response.startswith(b"HTTP/1.1 408 ")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(drip)
        nursery.start_soon(idle_client)
        for _ in range(20):
            assert await exchange(address, AB_REQUEST) == EXACT_RESPONSE
            # No virtual time passed: nobody waited on the slow ones.
            assert trio.current_time() == start
    assert outcome["idle"] == pytest.approx(timeout)
    # Cut at the same deadline; the drip notices at its next byte, at most a second later.
    assert timeout <= outcome["slow"] <= timeout + 1
    assert server.stats.timeouts == 2
    assert server.stats.responses == 20


async def test_server_survives_connect_then_reset_flood(start_server: StartServer) -> None:
    # Without TCP_DEFER_ACCEPT, so that the kernel hands every one of them to the server.
    server, port = await start_server(defer_accept=False)
    abortive = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST
    for _ in range(2000):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, abortive)
        sock.connect(("127.0.0.1", port))
        sock.close()
    with trio.fail_after(60):  # only against a hang: a pass takes a fraction of that
        assert await exchange(port, AB_REQUEST) == EXACT_RESPONSE
    # The accept queue is FIFO: once the last client is answered, all before it were accepted.
    assert server.stats.accepted == 2001
    assert server.stats.internal_errors == 0
    assert server.stats.responses == 1


async def test_server_max_connections_applies_backpressure(start_server: StartServer) -> None:
    # Without TCP_DEFER_ACCEPT: the holders send nothing, and must still be accepted at once.
    server, port = await start_server(max_connections=2, defer_accept=False)
    holders = [await trio.open_tcp_stream("127.0.0.1", port) for _ in range(2)]
    waiting = await trio.open_tcp_stream("127.0.0.1", port)  # queued in the backlog
    await waiting.send_all(AB_REQUEST)
    # Every task blocked: the server has done all it will with what the kernel holds.
    await trio.testing.wait_all_tasks_blocked()
    assert server.stats.accepted == 2, "accepted beyond --max-connections"
    assert server.open_connections == 2
    await holders[0].aclose()  # frees a slot: the queued client is accepted and answered
    with trio.fail_after(60):  # only against a hang
        assert await read_to_eof(waiting) == EXACT_RESPONSE
    await holders[1].aclose()
    assert server.stats.responses == 1


async def test_server_keep_alive_serves_successive_requests(start_server: StartServer) -> None:
    server, port = await start_server(keep_alive=True)
    body = b"b" * 10
    post = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n" + body
    async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
        for request in (CURL_REQUEST, post, CURL_REQUEST):
            await stream.send_all(request)
            response = b""
            while not response.endswith(b"hello"):
                response += await stream.receive_some(1024)
            assert b"Connection: keep-alive" in response
        await stream.send_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert await read_to_eof(stream) == EXACT_RESPONSE
    assert server.stats.responses == 4


async def test_server_keep_alive_http10_needs_asking(start_server: StartServer) -> None:
    _, port = await start_server(keep_alive=True)
    assert await exchange(port, AB_REQUEST) == EXACT_RESPONSE
    ask = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
        await stream.send_all(ask)
        response = await stream.receive_some(1024)
        assert b"Connection: keep-alive" in response
        await stream.send_all(ask)
        assert b"hello" in await stream.receive_some(1024)


async def test_server_keep_alive_idle_timeout_closes(
    start_unix_server: StartUnixServer, autojump_clock: trio.testing.MockClock
) -> None:
    # Distinct from the head timeout, so that the exact moment shows which one closed it.
    _, address = await start_unix_server(keep_alive=True, keep_alive_timeout=3.0, head_timeout=7)
    async with await connect(address) as stream:
        await stream.send_all(CURL_REQUEST)
        start = trio.current_time()
        response = await read_to_eof(stream)
        assert response.endswith(b"hello")
        assert b"Connection: keep-alive" in response
        assert trio.current_time() - start == pytest.approx(3.0)


async def test_server_graceful_stop_lets_inflight_finish(start_server: StartServer) -> None:
    server, port = await start_server(grace=5.0)
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(AB_REQUEST[:10])
    await trio.testing.wait_all_tasks_blocked()  # the server has taken the connection in
    assert server.open_connections == 1
    server.stop()
    with pytest.raises(OSError):  # the listener closes at once
        await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(AB_REQUEST[10:])  # the in-flight client still gets its answer
    assert await read_to_eof(stream) == EXACT_RESPONSE


async def test_server_graceful_stop_answers_the_clients_already_queued(
    start_server: StartServer,
) -> None:
    # One idle holder fills --max-connections: the next clients wait in the kernel's queue,
    # connected, their requests sent. Closing the listener would reset them; stop() takes
    # them in and answers them first.
    server, port = await start_server(max_connections=1, defer_accept=False, grace=5.0)
    holder = await trio.open_tcp_stream("127.0.0.1", port)
    queued = [await trio.open_tcp_stream("127.0.0.1", port) for _ in range(3)]
    for stream in queued:
        await stream.send_all(AB_REQUEST)
    await trio.testing.wait_all_tasks_blocked()
    assert server.stats.accepted == 1, "the queued clients were accepted before the stop"
    server.stop()
    with trio.fail_after(60):  # only against a hang
        for stream in queued:
            assert await read_to_eof(stream) == EXACT_RESPONSE
    await holder.aclose()
    assert (server.stats.accepted, server.stats.responses) == (4, 3)


async def test_server_custom_body_and_content_type(start_server: StartServer) -> None:
    _, port = await start_server(body=b'{"ok":true}', content_type="application/json")
    response = await exchange(port, AB_REQUEST)
    assert response.endswith(b'\r\n\r\n{"ok":true}')
    assert b"Content-Type: application/json\r\nContent-Length: 11\r\n" in response


async def test_server_head_request_gets_no_body(start_server: StartServer) -> None:
    _, port = await start_server()
    response = await exchange(port, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert response == EXACT_RESPONSE[: -len(b"hello")]


async def test_server_defer_accept_answers_every_request_inline(start_server: StartServer) -> None:
    server, port = await start_server(defer_accept=True)
    for _ in range(20):
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            # Connected, request not sent yet: the kernel holds it. A sleep, as no event says
            # "the server would have accepted by now"; without TCP_DEFER_ACCEPT it would have.
            await trio.sleep(0.01)
            await stream.send_all(AB_REQUEST)
            assert await read_to_eof(stream) == EXACT_RESPONSE
    assert server.stats.responses == 20
    assert server.stats.waited == 0  # without TCP_DEFER_ACCEPT each of these would wait


async def test_server_connection_accepted_before_its_request_waits_then_is_answered(
    start_server: StartServer,
) -> None:
    server, port = await start_server(defer_accept=False)
    async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
        await trio.testing.wait_all_tasks_blocked()  # the server has taken it in
        assert server.stats.accepted == 1  # the kernel handed it over at once, request or not
        assert server.stats.waited == 1
        assert server.open_connections == 1
        await stream.send_all(CURL_REQUEST)
        assert await read_to_eof(stream) == EXACT_RESPONSE
    assert server.open_connections == 0


def pipelined(count: int) -> bytes:
    return CURL_REQUEST * count


async def test_server_keep_alive_pipelined_burst_waits_for_a_slow_reader(
    start_unix_server: StartUnixServer,
) -> None:
    count = 5000  # ~350 KB of requests, ~500 KB of responses: more than the socket buffers
    server, address = await start_unix_server(keep_alive=True)
    async with await connect(address) as stream, trio.open_nursery() as nursery:
        nursery.start_soon(stream.send_all, pipelined(count))
        await trio.testing.wait_all_tasks_blocked()  # both buffers full: the server waits
        expected = Responses.build(b"hello", "text/plain").keep_alive * count
        received = bytearray()
        while len(received) < len(expected):
            received += await stream.receive_some(65536)
    assert received == expected  # every response, in order
    assert server.stats.responses == count


async def test_server_keep_alive_reader_that_never_reads_is_cut_at_the_deadline(
    start_unix_server: StartUnixServer, autojump_clock: trio.testing.MockClock
) -> None:
    server, address = await start_unix_server(keep_alive=True, head_timeout=4.0)
    start = trio.current_time()
    async with await connect(address) as stream:
        with pytest.raises(trio.BrokenResourceError):
            await stream.send_all(pipelined(50_000))  # never reads a response
    assert trio.current_time() - start == pytest.approx(4.0)
    assert server.stats.timeouts == 1
    assert server.open_connections == 0


# -- --delay: responses held in the loop's FIFO --------------------------------------------


async def connect_with_request_in(address: str, request: bytes) -> trio.SocketStream:
    """A client whose request is in the server's socket before the server can accept it."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Blocking calls, no checkpoint between them: the server task cannot run in between.
    sock.connect(address)
    sock.sendall(request)
    return trio.SocketStream(trio.socket.from_stdlib_socket(sock))


@pytest.mark.parametrize("accepted_first", [False, True], ids=["request-in", "accepted-first"])
async def test_server_delay_holds_each_response_for_the_delay(
    start_unix_server: StartUnixServer, autojump_clock: trio.testing.MockClock, accepted_first: bool
) -> None:
    # A head timeout shorter than the delay: no phase deadline may run while a response is held.
    server, address = await start_unix_server(response_delay=0.25, head_timeout=0.1)
    start = trio.current_time()
    if accepted_first:
        stream = await connect(address)
        await trio.testing.wait_all_tasks_blocked()  # the server has taken it in
        await stream.send_all(AB_REQUEST)
    else:
        stream = await connect_with_request_in(address, AB_REQUEST)
    async with stream:
        assert await read_to_eof(stream) == EXACT_RESPONSE
    assert trio.current_time() - start == pytest.approx(0.25)
    assert server.stats.waited == int(accepted_first)  # each path was the one meant
    assert server.stats.timeouts == 0
    assert server.open_connections == 0


async def test_server_delay_holds_many_connections_at_once(
    start_unix_server: StartUnixServer, autojump_clock: trio.testing.MockClock
) -> None:
    server, address = await start_unix_server(response_delay=1.5)
    start = trio.current_time()
    answered: list[float] = []

    async def client() -> None:
        assert await exchange(address, AB_REQUEST) == EXACT_RESPONSE
        answered.append(trio.current_time() - start)

    async with trio.open_nursery() as nursery:
        for _ in range(50):
            nursery.start_soon(client)
    # All at the delay: each waits for its own time, not behind the others.
    assert answered == pytest.approx([1.5] * 50)
    assert server.stats.responses == 50


async def test_server_delay_keep_alive_reads_the_next_request_after_the_response(
    start_unix_server: StartUnixServer, autojump_clock: trio.testing.MockClock
) -> None:
    _, address = await start_unix_server(keep_alive=True, response_delay=0.5)
    ok = Responses.build(b"hello", "text/plain")
    head = b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
    last = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    start = trio.current_time()
    arrivals: list[tuple[float, bytes]] = []

    async def send(stream: trio.SocketStream) -> None:
        await stream.send_all(CURL_REQUEST)
        # Each of the next two arrives while the response before it is held: the first on a
        # connection answered as it was accepted, the second on one back in the epoll set.
        await trio.sleep_until(start + 0.1)
        await stream.send_all(head)
        await trio.sleep_until(start + 0.7)
        await stream.send_all(last)

    async with await connect(address) as stream, trio.open_nursery() as nursery:
        nursery.start_soon(send, stream)
        while chunk := await stream.receive_some(65536):
            elapsed = trio.current_time() - start
            if arrivals and arrivals[-1][0] == elapsed:
                arrivals[-1] = (elapsed, arrivals[-1][1] + chunk)
            else:
                arrivals.append((elapsed, chunk))
    # Each head is read only once the response before it is out, then held a whole delay.
    assert [at for at, _ in arrivals] == pytest.approx([0.5, 1.0, 1.5])
    assert [data for _, data in arrivals] == [
        ok.keep_alive,
        ok.keep_alive_for_head,
        EXACT_RESPONSE,
    ]


async def test_server_delay_held_response_outlives_a_graceful_stop(
    start_unix_server: StartUnixServer, autojump_clock: trio.testing.MockClock
) -> None:
    server, address = await start_unix_server(response_delay=2.0, grace=5.0)
    start = trio.current_time()
    async with await connect_with_request_in(address, AB_REQUEST) as stream:
        await trio.sleep(1.0)
        assert server.open_connections == 1  # held, and open
        server.stop()
        with trio.fail_after(10):
            assert await read_to_eof(stream) == EXACT_RESPONSE
    assert trio.current_time() - start == pytest.approx(2.0)
    assert server.open_connections == 0


async def test_server_delay_held_connections_count_for_max_connections(
    start_unix_server: StartUnixServer, autojump_clock: trio.testing.MockClock
) -> None:
    server, address = await start_unix_server(response_delay=1.0, max_connections=2)
    start = trio.current_time()
    answered: list[float] = []

    async def client() -> None:
        async with await connect_with_request_in(address, AB_REQUEST) as stream:
            with trio.fail_after(10):
                assert await read_to_eof(stream) == EXACT_RESPONSE
        answered.append(trio.current_time() - start)

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(client)
    # The third waits in the backlog until a held one is answered and closed.
    assert answered == pytest.approx([1.0, 1.0, 2.0])
    assert server.stats.accepted == 3


# -- --stall-every/--stall-for: the whole server pauses -----------------------------------


@pytest.mark.parametrize(
    ("sent_at", "answered_at"),
    [(0.0, 0.0), (6.5, 6.5), (7.0, 10.0), (9.5, 10.0), (10.0, 10.0), (12.0, 12.0), (17.25, 20.0)],
)
async def test_server_stall_answers_a_request_made_during_it_when_it_ends(
    start_unix_server: StartUnixServer,
    autojump_clock: trio.testing.MockClock,
    sent_at: float,
    answered_at: float,
) -> None:
    server, address = await start_unix_server(stall_every=10.0, stall_for=3.0)
    start = server.listening_since  # stalls over [7, 10), [17, 20), ... from here
    await trio.sleep_until(start + sent_at)
    assert await exchange(address, AB_REQUEST) == EXACT_RESPONSE
    assert trio.current_time() - start == pytest.approx(answered_at)


async def test_server_stall_neither_accepts_nor_reads_nor_writes(
    start_unix_server: StartUnixServer, autojump_clock: trio.testing.MockClock
) -> None:
    server, address = await start_unix_server(
        stall_every=10.0, stall_for=3.0, keep_alive=True, keep_alive_timeout=30.0
    )
    start = server.listening_since
    async with await connect(address) as early:
        await early.send_all(CURL_REQUEST)
        assert (await early.receive_some(65536)).endswith(b"hello")
        await trio.sleep_until(start + 8.0)
        await early.send_all(CURL_REQUEST)  # on a connection open before the stall
        late = await connect_with_request_in(address, AB_REQUEST)  # a new one
        await trio.sleep_until(start + 9.5)
        assert server.stats.accepted == 1
        assert server.stats.responses == 1
        async with late:
            assert await read_to_eof(late) == EXACT_RESPONSE
        assert (await early.receive_some(65536)).endswith(b"hello")
        assert trio.current_time() - start == pytest.approx(10.0)
    assert server.stats.accepted == 2
    assert server.stats.responses == 3


@pytest.mark.parametrize(("head_timeout", "cut_at"), [(5.0, 5.0), (8.0, 10.0)])
async def test_server_stall_handles_deadlines_that_fall_inside_it_after_it(
    start_unix_server: StartUnixServer,
    autojump_clock: trio.testing.MockClock,
    head_timeout: float,
    cut_at: float,
) -> None:
    server, address = await start_unix_server(
        stall_every=10.0, stall_for=3.0, head_timeout=head_timeout
    )
    start = server.listening_since
    response = await exchange(address, AB_REQUEST[:10])  # a head that never completes
    assert response.startswith(b"HTTP/1.1 408 ")
    assert trio.current_time() - start == pytest.approx(cut_at)


@pytest.mark.parametrize(("open_one", "returned_at"), [(False, 6.0), (True, 7.0)])
async def test_server_stop_during_a_stall_returns_within_the_grace(
    autojump_clock: trio.testing.MockClock, open_one: bool, returned_at: float
) -> None:
    address = f"\0trioserve-test-{uuid.uuid4().hex}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen()
    listener.setblocking(False)
    server = Server(ServerConfig(stall_every=10.0, stall_for=5.0, grace=1.0))
    async with await connect_with_request_in(address, AB_REQUEST[:10]) as stream:
        async with trio.open_nursery() as nursery:
            await nursery.start(server.serve, listener)
            start = server.listening_since
            if not open_one:
                await stream.aclose()
            await trio.sleep_until(start + 6.0)  # in the stall over [5, 10)
            assert server.open_connections == int(open_one)
            server.stop()
        # serve() has returned: at once when nothing is open, else when the grace is over;
        # not at the stall's end.
        assert trio.current_time() - start == pytest.approx(returned_at)
