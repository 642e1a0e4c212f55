"""The bench's tls part: its target, its certificates, nginx's TLS server block and trioserve's
flags (``benchlib.bench.targets``, ``peers``; the clients' command lines are in
``test_parts.py``). Nothing here opens a socket: the certificates are checked with a handshake
between two memory buffers."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from scripts.benchlib.bench import targets as t
from scripts.benchlib.peers import BACKLOG, TlsFiles, make_certificates, nginx
from scripts.benchlib.report import Row, RowTable

URL = "https://127.0.0.1:8443/"
FILES = TlsFiles(Path("/x/ca.pem"), Path("/x/chain.pem"), Path("/x/server.key"))


def rows(ours: float, ab: float = 1000.0, failed: int | None = 0, **cpu: float) -> RowTable:
    return RowTable(
        [
            Row(t.TLS, t.NGINX_TLS, t.AB_TLS, runs=1, requests_per_second=ab, failed=0,
                client_cpu_us=cpu.get("ab_cpu"), client_user_us=cpu.get("ab_user")),
            Row(t.TLS, t.NGINX_TLS, t.TRIOLOAD_TLS_INSECURE, runs=1, requests_per_second=ours,
                failed=failed, client_cpu_us=cpu.get("cpu"), client_user_us=cpu.get("user")),
        ]
    )  # fmt: skip


def judged(table: RowTable) -> list[str | bool | None]:
    (verdict,) = t.judge(table, {t.TLS}, (1, 2))
    return [verdict.target, verdict.measured, verdict.passed]


# --- the target ------------------------------------------------------------------------------


def test_tls_target_names_both_clients_and_nginx() -> None:
    target = judged(rows(1000.0))[0]
    # ab never verifies certificates: the judged trioload does the same work (--insecure).
    assert target == (
        "trioload (https, --insecure) >= 1.0x ab (https) (vs nginx TLS (1 worker)), 0 failed"
    )


@pytest.mark.parametrize(("ours", "passed"), [(1000.0, True), (999.0, False), (1500.0, True)])
def test_tls_threshold_is_10_of_ab(ours: float, passed: bool) -> None:
    assert judged(rows(ours))[2] is passed


def test_tls_one_failure_fails_however_fast() -> None:
    _, measured, passed = judged(rows(3000.0, failed=1))
    assert passed is False
    assert "failed 1" in str(measured)


def test_tls_unknown_failures_are_not_judged() -> None:
    assert judged(rows(3000.0, failed=None))[2] is None


def test_tls_without_ab_is_not_judged() -> None:
    ours = Row(t.TLS, t.NGINX_TLS, t.TRIOLOAD_TLS_INSECURE, runs=1, requests_per_second=9.0)
    _, measured, passed = judged(RowTable([ours]))
    assert passed is None
    assert measured == f"n/a ({t.AB_TLS} vs {t.NGINX_TLS} was not run)"


def test_tls_measured_shows_both_clients_cpu() -> None:
    table = rows(1100.0, cpu=150.25, user=90.0, ab_cpu=140.0, ab_user=60.04)
    assert judged(table)[1] == (
        "1.100x (1,100.0 / 1,000.0); failed 0;"
        " client CPU µs/req: trioload (https, --insecure) 150.2 (90.0 user),"
        " ab (https) 140.0 (60.0 user)"
    )


def test_tls_measured_cpu_unknown_shows_a_dash() -> None:
    assert str(judged(rows(1100.0, cpu=150.0, user=90.0))[1]).endswith(
        "client CPU µs/req: trioload (https, --insecure) 150.0 (90.0 user), ab (https) -"
    )


def test_tls_is_judged_only_when_its_part_ran() -> None:
    everything = [v.target for v in t.judge(rows(1000.0), set(t.PARTS) - {t.TLS}, (1, 2))]
    assert not any(target.startswith(t.TRIOLOAD_TLS) for target in everything)
    assert t.TLS in t.PARTS


def test_tls_ratios_compare_the_servers_under_ab_and_verifying_with_not() -> None:
    table = RowTable(
        [
            Row(t.TLS, t.NGINX_TLS, t.AB_TLS, runs=1, requests_per_second=2000.0),
            Row(t.TLS, t.TRIOSERVE_TLS, t.AB_TLS, runs=1, requests_per_second=1000.0),
            Row(t.TLS, t.NGINX_TLS, t.TRIOLOAD_TLS, runs=1, requests_per_second=900.0),
            Row(t.TLS, t.NGINX_TLS, t.TRIOLOAD_TLS_INSECURE, runs=1, requests_per_second=1000.0),
        ]
    )
    assert t.baseline_ratios(table, {t.TLS}) == [
        (
            "trioserve --certfile vs nginx TLS (1 worker) (TLS handshakes a second under ab)",
            "0.500x (1,000.0 / 2,000.0)",
        ),
        (
            "trioload verifying (--cacert) vs --insecure (req/s vs nginx TLS)",
            "0.900x (900.0 / 1,000.0)",
        ),
        (
            "trioload verifying (--cacert) vs ab, which never verifies (req/s vs nginx TLS)",
            "0.450x (900.0 / 2,000.0)",
        ),
    ]


@pytest.mark.parametrize(
    ("requests", "expected"), [(200_000, 20_000), (2000, 2000), (20_000, 2000), (30_000, 3000)]
)
def test_tls_requests_are_a_tenth_of_requests_and_at_least_2000(
    requests: int, expected: int
) -> None:
    assert t.tls_requests(requests) == expected


# --- nginx's TLS server block ----------------------------------------------------------------


def nginx_conf(tmp_path: Path, port: int, tls: TlsFiles | None = None) -> str:
    """The config nginx("n", ...) writes for ``port``, nginx or not on this machine."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("shutil.which", lambda name: "/usr/sbin/nginx")
        argv = nginx("n", "127.0.0.1", "1", tmp_path, tls=tls).argv(port)
    assert argv[argv.index("-c") + 1] == str(tmp_path / "n" / "nginx.conf")
    return (tmp_path / "n" / "nginx.conf").read_text()


def test_nginx_tls_conf_listens_with_ssl_and_the_files(tmp_path: Path) -> None:
    conf = nginx_conf(tmp_path, 8443, tls=FILES)
    server = conf[conf.index("    server {") :]
    assert server.splitlines()[:6] == [
        "    server {",
        f"        listen 127.0.0.1:8443 ssl backlog={BACKLOG};",
        "        ssl_certificate /x/chain.pem;",
        "        ssl_certificate_key /x/server.key;",
        "        ssl_protocols TLSv1.2 TLSv1.3;",
        "        ssl_session_tickets off;",
    ]
    assert 'return 200 "hello";' in server
    assert "keepalive_timeout 0;" in conf
    assert "worker_processes 1;" in conf


def test_nginx_plain_conf_has_no_tls(tmp_path: Path) -> None:
    conf = nginx_conf(tmp_path, 8080)
    assert f"listen 127.0.0.1:8080 backlog={BACKLOG};\n        location / {{" in conf
    assert "ssl" not in conf


# --- the certificates ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    files = make_certificates(tmp_path_factory.mktemp("tls"), "127.0.0.1")
    assert isinstance(files, TlsFiles), files
    return files


def handshake(files: TlsFiles, server_hostname: str) -> str:
    """A TLS 1.3 handshake through memory buffers, the client verifying against the CA."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(files.chain, files.key)
    client_ctx = ssl.create_default_context(cafile=str(files.ca))
    client_ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=server_hostname)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(10):
        for name, end in (("client", client), ("server", server)):
            if not done[name]:
                try:
                    end.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            break
    assert all(done.values())
    assert client.version() == "TLSv1.3"
    cipher = client.cipher()
    assert cipher is not None
    return cipher[0]


def test_certificates_are_the_ca_the_chain_and_a_private_key(made: TlsFiles) -> None:
    names = [path.name for path in (made.ca, made.chain, made.key)]
    assert names == ["ca.pem", "server-chain.pem", "server.key"]
    assert all(path.is_file() for path in (made.ca, made.chain, made.key))
    assert made.key.stat().st_mode & 0o077 == 0


def test_certificates_verify_for_the_address_and_localhost(made: TlsFiles) -> None:
    assert handshake(made, "127.0.0.1")
    assert handshake(made, "localhost")


def test_certificates_do_not_verify_for_another_name(made: TlsFiles) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(made, "example.com")


def test_certificate_key_is_ecdsa_p256(made: TlsFiles) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import load_pem_private_key  # noqa: PLC0415

    key = load_pem_private_key(made.key.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == "secp256r1"
