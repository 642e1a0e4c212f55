"""https: runs against trioserve with TLS and against TLS servers of the test's own, the
certificate checks, SNI, session resumption with -k, and ab's TLS flags."""

from __future__ import annotations

import ssl
from pathlib import Path

import trio
import trustme

from tests.conftest import TlsFiles
from tests.trioload.conftest import (
    RequestReader,
    StartRaw,
    StartTrioserve,
    run_trioload,
)
from trioload.configure import config_from_args
from trioload.engine.tls import describe, server_hostname
from trioload.flags import build_parser


def https(port: int, host: str = "127.0.0.1") -> str:
    return f"https://{host}:{port}/"


def server_context(tls_files: TlsFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_files.cert, tls_files.key)
    return context


KEEP_ALIVE_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
LAST_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"


async def test_tls_run_against_trioserve_verifies_and_succeeds(
    start_trioserve: StartTrioserve, tls_files: TlsFiles
) -> None:
    _, port = await start_trioserve(certfile=str(tls_files.cert), keyfile=str(tls_files.key))
    args = ("-q", "-c", "4", "-n", "40", "--cacert", str(tls_files.ca))
    run = await run_trioload(*args, "--json", "-", https(port))
    assert run.returncode == 0, run.stderr
    report = run.report
    assert (report["succeeded"], report["failed"]) == (40, 0)
    version, cipher, bits = report["tls_protocol"].split(",")  # ab's fields Python's ssl has
    assert (version, int(bits)) >= ("TLSv1.3", 128)
    assert cipher.startswith("TLS_")
    text = await run_trioload(*args, https(port, "localhost"))
    assert "SSL/TLS Protocol:       TLSv1.3," in text.stdout
    assert "TLS Server Name:        localhost" in text.stdout


async def test_tls_certificate_that_does_not_verify_is_one_line_and_exit_2(
    start_trioserve: StartTrioserve, tls_files: TlsFiles
) -> None:
    _, port = await start_trioserve(certfile=str(tls_files.cert), keyfile=str(tls_files.key))
    run = await run_trioload("-q", "-n", "2", https(port))
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1, run.stderr
    assert "does not verify" in run.stderr
    assert "--insecure" in run.stderr
    insecure = await run_trioload("-q", "-n", "2", "--insecure", "--json", "-", https(port))
    assert insecure.returncode == 0, insecure.stderr
    assert insecure.report["succeeded"] == 2


async def test_tls_to_a_plain_http_server_is_one_line_and_exit_2(
    start_trioserve: StartTrioserve,
) -> None:
    _, port = await start_trioserve()
    run = await run_trioload("-q", "-n", "2", "--insecure", https(port))
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1, run.stderr
    assert "is it an https server?" in run.stderr


async def test_tls_f_picks_the_protocol(
    start_trioserve: StartTrioserve, tls_files: TlsFiles
) -> None:
    _, port = await start_trioserve(certfile=str(tls_files.cert), keyfile=str(tls_files.key))
    run = await run_trioload(
        "-q", "-n", "3", "-f", "TLS1.2", "--cacert", str(tls_files.ca), "--json", "-", https(port)
    )
    assert run.returncode == 0, run.stderr
    assert run.report["tls_protocol"].startswith("TLSv1.2,")


async def test_tls_sni_names_the_host_unless_i(start_raw: StartRaw, tls_files: TlsFiles) -> None:
    names: list[str | None] = []
    context = server_context(tls_files)
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)

    async def handler(stream: trio.SocketStream) -> None:
        tls = trio.SSLStream(stream, context, server_side=True)
        try:
            async with tls:
                if await RequestReader(tls).next_request() is not None:  # type: ignore[arg-type]
                    await tls.send_all(LAST_RESPONSE)
        except trio.BrokenResourceError:
            pass  # the probe: it resets after its handshake

    port = await start_raw(handler)
    ca = ("--cacert", str(tls_files.ca))
    assert (await run_trioload("-q", "-n", "1", *ca, https(port, "localhost"))).returncode == 0
    assert (
        await run_trioload("-q", "-n", "1", "-I", *ca, https(port, "localhost"))
    ).returncode == 0
    # (each run's probe makes one handshake too)
    assert names == ["localhost", "localhost", None, None]


async def test_tls_keep_alive_reuses_connections_and_resumes_sessions(
    start_raw: StartRaw, tls_files: TlsFiles
) -> None:
    context = server_context(tls_files)
    handshakes: list[bool] = []

    async def handler(stream: trio.SocketStream) -> None:
        tls = trio.SSLStream(stream, context, server_side=True)
        try:
            async with tls:
                await tls.do_handshake()
                handshakes.append(tls.session_reused)
                reader = RequestReader(tls)  # type: ignore[arg-type]
                # Two requests per connection, then close: -k must connect again, resuming.
                for answer in (KEEP_ALIVE_RESPONSE, LAST_RESPONSE):
                    if await reader.next_request() is None:
                        return
                    await tls.send_all(answer)
        except trio.BrokenResourceError:
            pass  # the probe: it resets after its handshake

    port = await start_raw(handler)
    run = await run_trioload(
        "-q", "-k", "-n", "8", "--cacert", str(tls_files.ca), "--json", "-", https(port)
    )
    assert run.returncode == 0, run.stderr
    report = run.report
    assert report["succeeded"] == 8
    assert report["keep_alive_requests"] == 4  # the first of each connection's two
    run_handshakes = handshakes[1:]  # the first is the probe's
    assert len(run_handshakes) == 4
    assert not run_handshakes[0]
    assert any(run_handshakes[1:]), handshakes


async def test_tls_stalled_handshake_is_a_connect_failure(
    start_raw: StartRaw, tls_files: TlsFiles
) -> None:
    context = server_context(tls_files)
    connections = 0

    async def handler(stream: trio.SocketStream) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:  # the probe: a good handshake
            async with trio.SSLStream(stream, context, server_side=True) as tls:
                await tls.do_handshake()
            return
        await trio.sleep_forever()  # never a ServerHello

    port = await start_raw(handler)
    run = await run_trioload(
        "-q", "-n", "2", "-c", "2", "-s", "0.3", "--insecure", "--json", "-", https(port)
    )
    assert run.returncode == 1
    assert run.report["failures"]["connect"] == 2


def test_tls_hostname_follows_a_host_header_like_ab() -> None:
    def config(*argv: str) -> object:
        return config_from_args(build_parser().parse_args(list(argv)))

    assert server_hostname(config("https://a.test/")) == "a.test"  # type: ignore[arg-type]
    with_host = config("-H", "Host: b.test:8443", "https://a.test/")
    assert server_hostname(with_host) == "b.test"  # type: ignore[arg-type]
    assert server_hostname(config("-I", "https://a.test/")) is None  # type: ignore[arg-type]


class _Negotiated:
    """What ``describe`` reads of a finished handshake, without one."""

    def __init__(self, *, group: str | None) -> None:
        if group is not None:
            self.group = lambda: group

    def cipher(self) -> tuple[str, str, int]:
        return ("TLS_AES_128_GCM_SHA256", "TLSv1.3", 128)

    def version(self) -> str:
        return "TLSv1.3"


def test_tls_describe_gives_abs_fields_and_the_group_where_ssl_names_it() -> None:
    plain = describe(_Negotiated(group=None))  # type: ignore[arg-type]
    assert plain == ("TLSv1.3,TLS_AES_128_GCM_SHA256,128", "")
    named = describe(_Negotiated(group="x25519"))  # type: ignore[arg-type]
    assert named == ("TLSv1.3,TLS_AES_128_GCM_SHA256,128", "x25519")


async def test_tls_z_picks_the_cipher(start_trioserve: StartTrioserve, tls_files: TlsFiles) -> None:
    _, port = await start_trioserve(certfile=str(tls_files.cert), keyfile=str(tls_files.key))
    cipher = "ECDHE-ECDSA-AES128-GCM-SHA256"
    args = ("-q", "-n", "2", "-f", "TLS1.2", "-Z", cipher, "--cacert", str(tls_files.ca))
    run = await run_trioload(*args, "--json", "-", https(port))
    assert run.returncode == 0, run.stderr
    assert run.report["tls_protocol"] == f"TLSv1.2,{cipher},128"


async def test_tls_e_presents_the_client_certificate(
    start_raw: StartRaw, tls_files: TlsFiles, tmp_path: Path
) -> None:
    clients = trustme.CA()
    client_pem = tmp_path / "client.pem"
    clients.issue_cert("client.test").private_key_and_cert_chain_pem.write_to_path(str(client_pem))
    context = server_context(tls_files)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=clients.cert_pem.bytes().decode("ascii"))
    subjects: list[object] = []

    async def handler(stream: trio.SocketStream) -> None:
        tls = trio.SSLStream(stream, context, server_side=True)
        try:
            async with tls:
                await tls.do_handshake()
                subjects.append(tls.getpeercert()["subjectAltName"])
                if await RequestReader(tls).next_request() is not None:  # type: ignore[arg-type]
                    await tls.send_all(LAST_RESPONSE)
        except trio.BrokenResourceError:
            pass  # the probe resets after its handshake; a client without a certificate fails

    port = await start_raw(handler)
    ca = ("--cacert", str(tls_files.ca))
    with_cert = await run_trioload("-q", "-n", "2", *ca, "-E", str(client_pem), https(port))
    assert with_cert.returncode == 0, with_cert.stderr
    assert len(subjects) == 3  # the probe and two requests
    assert subjects[-1] == (("DNS", "client.test"),)
    without = await run_trioload("-q", "-n", "2", *ca, "--json", "-", https(port))
    assert without.returncode != 0
