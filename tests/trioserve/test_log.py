"""The server's printed lines: operational messages on stderr, the access log on stdout."""

from __future__ import annotations

import re
import socket

import pytest

from trioserve.log import access_log, log

HEAD = b"GET /x?y=1 HTTP/1.1\r\nHost: example\r\n\r\n"
STAMP = r"\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]"


def test_log_log_writes_one_prefixed_line_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    log("accept recovered")
    assert capsys.readouterr() == ("", "trioserve: accept recovered\n")


def test_log_access_log_common_log_format(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        conn, _ = listener.accept()
    with client, conn:
        access_log(conn, HEAD, 404, 123)
    out, err = capsys.readouterr()
    assert re.fullmatch(rf'127\.0\.0\.1 - - {STAMP} "GET /x\?y=1 HTTP/1\.1" 404 123\n', out)
    assert err == ""


def test_log_access_log_client_gone_is_a_dash(capsys: pytest.CaptureFixture[str]) -> None:
    conn = socket.socket()
    conn.close()  # getpeername() fails, as after a reset
    access_log(conn, b"\xffGET / HTTP/1.0\n\n", 200, 88)
    out = capsys.readouterr().out
    assert re.fullmatch(rf'- - - {STAMP} "\xffGET / HTTP/1\.0" 200 88\n', out)
