"""HTTPS: the engine with TLS on every connection (``trioserve.tls_server``), in process.

As in ``test_server``, the deadline tests run over a Unix socket on trio's MockClock, so they
hold to the exact virtual second and take no real time.
"""

from __future__ import annotations

import socket
import ssl
import struct

import pytest
import trio
import trio.testing

from tests.conftest import TlsFiles
from tests.trioserve.conftest import (
    AB_REQUEST,
    CURL_REQUEST,
    EXACT_RESPONSE,
    StartServer,
    StartUnixServer,
    connect,
    exchange,
    read_to_eof,
    tls_connect,
    tls_exchange,
)
from trioserve.config import ServerConfig
from trioserve.exchange import Rules
from trioserve.responses import Responses
from trioserve.stats import ServerStats
from trioserve.tls_context import server_context
from trioserve.tls_exchange import TlsExchange


def client_hello(context: ssl.SSLContext) -> bytes:
    """The first bytes a TLS client sends (made in memory: no server needed)."""
    tls = context.wrap_bio(ssl.MemoryBIO(), out := ssl.MemoryBIO(), server_hostname="127.0.0.1")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return out.read()


async def test_tls_server_answers_exact_88_bytes_then_eof(
    start_tls_server: StartServer, tls_files: TlsFiles
) -> None:
    server, port = await start_tls_server()
    context = ssl.create_default_context(cafile=str(tls_files.ca))
    context.set_alpn_protocols(["h2", "http/1.1"])  # the server speaks the second only
    stream = await tls_connect(port, context)
    async with stream:
        assert stream.selected_alpn_protocol() == "http/1.1"
        assert stream.version() in {"TLSv1.2", "TLSv1.3"}
        await stream.send_all(AB_REQUEST)
        assert await read_to_eof(stream) == EXACT_RESPONSE  # ends in the server's close_notify
    assert server.stats.responses == 1
    assert server.stats.tls_errors == 0


async def test_tls_server_serves_sequential_and_concurrent_clients(
    start_tls_server: StartServer, client_context: ssl.SSLContext
) -> None:
    server, port = await start_tls_server()
    for request in (AB_REQUEST, CURL_REQUEST) * 5:
        assert await tls_exchange(port, client_context, request) == EXACT_RESPONSE
    answers: list[bytes] = []

    async def client() -> None:
        answers.append(await tls_exchange(port, client_context, AB_REQUEST))

    async with trio.open_nursery() as nursery:
        for _ in range(20):
            nursery.start_soon(client)
    assert answers == [EXACT_RESPONSE] * 20
    assert server.stats.responses == 30


async def test_tls_server_request_split_across_records(
    start_tls_server: StartServer, client_context: ssl.SSLContext
) -> None:
    _, port = await start_tls_server()
    pieces = [AB_REQUEST[i : i + 7] for i in range(0, len(AB_REQUEST), 7)]
    assert await tls_exchange(port, client_context, *pieces) == EXACT_RESPONSE


@pytest.mark.parametrize(
    "head",
    [
        b"\x16\x03\x01 hello there\r\n\r\n",  # 400
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",  # 431
        b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",  # 414
        b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",  # 501
    ],
    ids=["400", "431", "414", "501"],
)
async def test_tls_server_malformed_head_gets_the_plain_answer(
    start_server: StartServer,
    start_tls_server: StartServer,
    client_context: ssl.SSLContext,
    head: bytes,
) -> None:
    _, plain_port = await start_server()
    server, tls_port = await start_tls_server()
    plain = await exchange(plain_port, head)
    assert not plain.startswith(b"HTTP/1.1 200 ")
    assert await tls_exchange(tls_port, client_context, head) == plain
    assert sum(server.stats.rejected.values()) == 1


BAD_HEAD_NO_LF = b"GET / HTTP/1.1\r\nHost: a\r\nX-Dummy: a\r\n\x01\x02"  # bad for good, unended


async def test_tls_server_refuses_a_bad_head_at_its_first_bad_line_and_at_eof(
    start_tls_server: StartServer, client_context: ssl.SSLContext
) -> None:
    server, port = await start_tls_server(head_timeout=600)
    error = Responses.build(b"hello", "text/plain").errors[400]
    held_open = await tls_connect(port, client_context)
    async with held_open:
        await held_open.send_all(b"GET / HTTP/1.1\r\nHo st: a\r\n")
        with trio.fail_after(10):  # a small fraction of the head timeout
            assert await read_to_eof(held_open) == error
    cut_short = await tls_connect(port, client_context)
    # Closed as TCP: after its EOF, TLS could not send the close_notify of its own close.
    async with cut_short.transport_stream:
        await cut_short.send_all(BAD_HEAD_NO_LF)
        await cut_short.transport_stream.send_eof()  # TCP's half-close, under TLS
        with trio.fail_after(10):
            assert await read_to_eof(cut_short) == error
    assert server.stats.rejected[400] == 2


def test_tls_exchange_close_notify_in_a_bad_head_gets_400(tls_files: TlsFiles) -> None:
    context = server_context(str(tls_files.cert), str(tls_files.key))
    server = TlsExchange(context, Rules.build(ServerConfig()), stats := ServerStats())
    client_context = ssl.create_default_context(cafile=str(tls_files.ca))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_context.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    while True:
        try:
            client.do_handshake()
            break
        except ssl.SSLWantReadError:
            incoming.write(server.received(outgoing.read()))
    client.write(BAD_HEAD_NO_LF)
    with pytest.raises(ssl.SSLWantReadError):  # close_notify written; the server's awaited
        client.unwrap()
    incoming.write(server.received(outgoing.read()))  # the head and the close_notify at once
    assert client.read(4096) == Responses.build(b"hello", "text/plain").errors[400]
    assert server.answered
    assert stats.rejected[400] == 1


async def test_tls_server_garbage_instead_of_client_hello_closes_quietly(
    start_tls_server: StartServer, client_context: ssl.SSLContext
) -> None:
    server, port = await start_tls_server()
    stream = await connect(port)
    async with stream:
        await stream.send_all(b"\x00\xff garbage, not a ClientHello \r\n\r\n" * 4)
        with trio.fail_after(10):  # only against a hang: the server closes it at once
            reply = await read_to_eof(stream)
    assert b"HTTP/" not in reply  # at most a TLS alert
    assert await tls_exchange(port, client_context, AB_REQUEST) == EXACT_RESPONSE
    assert server.stats.tls_errors == 1
    assert server.stats.internal_errors == 0


async def test_tls_server_plain_http_request_is_closed_without_an_answer(
    start_tls_server: StartServer, client_context: ssl.SSLContext
) -> None:
    server, port = await start_tls_server()
    with trio.fail_after(10):  # only against a hang
        reply = await exchange(port, AB_REQUEST)
    assert not reply.startswith(b"HTTP/")
    assert await tls_exchange(port, client_context, AB_REQUEST) == EXACT_RESPONSE
    assert server.stats.tls_errors == 1
    assert server.stats.internal_errors == 0


async def test_tls_server_survives_a_reset_mid_handshake(
    start_tls_server: StartServer, client_context: ssl.SSLContext
) -> None:
    server, port = await start_tls_server(defer_accept=False)
    for _ in range(20):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(client_hello(client_context))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # RST, whatever the server sent meanwhile
    assert await tls_exchange(port, client_context, AB_REQUEST) == EXACT_RESPONSE
    assert server.stats.internal_errors == 0
    assert server.stats.responses == 1


async def test_tls_server_keep_alive_serves_successive_requests(
    start_tls_server: StartServer, client_context: ssl.SSLContext
) -> None:
    _, port = await start_tls_server(keep_alive=True)
    stream = await tls_connect(port, client_context)
    async with stream:
        for _ in range(3):
            await stream.send_all(CURL_REQUEST)
            response = b""
            while not response.endswith(b"hello"):
                response += await stream.receive_some(4096)
            assert response.startswith(b"HTTP/1.1 200 OK\r\n")
            assert b"Connection: close" not in response


async def test_tls_server_max_connections_holds_a_handshake_back(
    start_tls_server: StartServer, client_context: ssl.SSLContext
) -> None:
    server, port = await start_tls_server(max_connections=1, defer_accept=False)
    holder = await connect(port)
    answer: list[bytes] = []

    async def client() -> None:
        answer.append(await tls_exchange(port, client_context, AB_REQUEST))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(client)
        # Every task blocked: the server has done all it will with what the kernel holds.
        await trio.testing.wait_all_tasks_blocked()
        assert server.stats.accepted == 1, "accepted beyond --max-connections"
        await holder.aclose()  # frees the slot: the queued client is accepted and answered
    assert answer == [EXACT_RESPONSE]


# -- deadlines (MockClock, Unix socket) ---------------------------------------------------------


async def test_tls_server_client_that_never_handshakes_is_cut_at_head_timeout(
    start_tls_unix_server: StartUnixServer, autojump_clock: trio.testing.MockClock
) -> None:
    timeout = 10.0
    server, address = await start_tls_unix_server(head_timeout=timeout)
    start = trio.current_time()
    assert await exchange(address) == b""  # nothing sent, nothing said: plaintext is no use
    assert trio.current_time() - start == pytest.approx(timeout)
    assert server.stats.timeouts == 1


async def test_tls_server_client_stalling_mid_handshake_is_cut_at_head_timeout(
    start_tls_unix_server: StartUnixServer,
    autojump_clock: trio.testing.MockClock,
    client_context: ssl.SSLContext,
) -> None:
    timeout = 10.0
    server, address = await start_tls_unix_server(head_timeout=timeout)
    start = trio.current_time()
    reply = await exchange(address, client_hello(client_context))  # and never a Finished
    assert reply.startswith(b"\x16\x03")  # the server's handshake records, then EOF
    assert trio.current_time() - start == pytest.approx(timeout)
    assert server.stats.timeouts == 1


async def test_tls_server_handshake_and_head_share_one_head_timeout(
    start_tls_unix_server: StartUnixServer,
    autojump_clock: trio.testing.MockClock,
    client_context: ssl.SSLContext,
) -> None:
    timeout = 10.0
    server, address = await start_tls_unix_server(head_timeout=timeout)
    start = trio.current_time()
    raw = await connect(address)
    await trio.sleep(timeout * 0.6)  # the client is slow: this is the behaviour under test
    stream = trio.SSLStream(raw, client_context, server_hostname="127.0.0.1")
    async with stream:
        await stream.do_handshake()  # takes no virtual time
        await stream.send_all(AB_REQUEST[:20])
        response = await read_to_eof(stream)
    # From the accept, not from the ClientHello (that would be 1.6 times it).
    assert trio.current_time() - start == pytest.approx(timeout)
    assert response.startswith(b"HTTP/1.1 408 ")
    assert server.stats.timeouts == 1


async def test_tls_server_delay_holds_the_response_not_the_handshake(
    start_tls_unix_server: StartUnixServer,
    autojump_clock: trio.testing.MockClock,
    client_context: ssl.SSLContext,
) -> None:
    delay = 0.25
    _, address = await start_tls_unix_server(response_delay=delay)
    start = trio.current_time()
    stream = await tls_connect(address, client_context)
    async with stream:
        assert trio.current_time() == start  # the handshake was not held
        await stream.send_all(AB_REQUEST)
        assert await read_to_eof(stream) == EXACT_RESPONSE
    assert trio.current_time() - start == pytest.approx(delay)
