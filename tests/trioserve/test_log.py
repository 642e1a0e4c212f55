"""The server's printed lines: operational messages on stderr, the access log on stdout."""

from __future__ import annotations

import re

import pytest

from trioserve.log import access_log, client_host, log

HEAD = b"GET /x?y=1 HTTP/1.1\r\nHost: example\r\n\r\n"
STAMP = r"\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]"


def test_log_log_writes_one_prefixed_line_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    log("accept recovered")
    assert capsys.readouterr() == ("", "trioserve: accept recovered\n")


def test_log_access_log_common_log_format(capsys: pytest.CaptureFixture[str]) -> None:
    access_log("127.0.0.1", HEAD, 404, 123)
    out, err = capsys.readouterr()
    assert re.fullmatch(rf'127\.0\.0\.1 - - {STAMP} "GET /x\?y=1 HTTP/1\.1" 404 123\n', out)
    assert err == ""


def test_log_access_log_undecodable_request_line_is_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    access_log("-", b"\xffGET / HTTP/1.0\n\n", 200, 88)
    out = capsys.readouterr().out
    assert re.fullmatch(rf'- - - {STAMP} "\xffGET / HTTP/1\.0" 200 88\n', out)


@pytest.mark.parametrize(
    ("peer", "host"),
    [(("127.0.0.1", 40000), "127.0.0.1"), (("::1", 40000, 0, 0), "::1"), ("", "-"), (b"", "-")],
    ids=["ipv4", "ipv6", "unix", "unix-abstract"],
)
def test_log_client_host_is_the_address_or_a_dash(peer: object, host: str) -> None:
    assert client_host(peer) == host
