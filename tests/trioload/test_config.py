"""URL parsing, request encoding and shares of a count, without sockets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trioload import __version__
from trioload.config import LoadConfig, Target, UsageError, parse_url, split


def head_lines(request: bytes) -> list[str]:
    head, sep, _ = request.partition(b"\r\n\r\n")
    assert sep, "the request head must end with a blank line"
    return head.decode("latin-1").split("\r\n")


def header(request: bytes, name: str) -> list[str]:
    """Every value of header ``name`` (case-insensitive) in the request head."""
    values = []
    for line in head_lines(request)[1:]:
        field, _, value = line.partition(":")
        if field.lower() == name.lower():
            values.append(value.strip())
    return values


def test_parse_url_splits_host_port_and_path() -> None:
    assert parse_url("http://127.0.0.1:8080/a/b?x=1&y") == Target("127.0.0.1", 8080, "/a/b?x=1&y")


def test_parse_url_defaults_port_80_and_path_slash() -> None:
    assert parse_url("http://localhost") == Target("localhost", 80, "/")


def test_parse_url_https_defaults_port_443() -> None:
    target = parse_url("https://example.test/x")
    assert target == Target("example.test", 443, "/x", "https")
    assert target.tls
    assert target.host_header == "example.test"
    assert parse_url("https://example.test:80/").host_header == "example.test:80"


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("ftp://127.0.0.1/", "must start with http:// or https://"),
        ("127.0.0.1:8080/", "must start with http://"),
        ("http:///path", "no host"),
        ("http://:8080/", "no host"),
        ("http://127.0.0.1:notaport/", "invalid URL"),
        ("http://127.0.0.1:99999/", "invalid URL"),
    ],
)
def test_parse_url_rejects_what_it_cannot_load(bad: str, why: str) -> None:
    with pytest.raises(UsageError, match=why):
        parse_url(bad)


def test_target_host_header_omits_port_80_only() -> None:
    assert parse_url("http://example.test/").host_header == "example.test"
    assert parse_url("http://example.test:8080/").host_header == "example.test:8080"
    assert parse_url("http://[::1]:8080/").host_header == "[::1]:8080"


def test_encode_request_is_http_1_0_like_ab() -> None:
    request = LoadConfig(url="http://127.0.0.1:60000/x?y=1").encode_request()
    lines = head_lines(request)
    assert lines[0] == "GET /x?y=1 HTTP/1.0"
    assert header(request, "Host") == ["127.0.0.1:60000"]
    assert header(request, "User-Agent") == [f"trioload/{__version__}"]
    assert header(request, "Accept") == ["*/*"]
    assert header(request, "Connection") == []
    assert request.endswith(b"\r\n\r\n")


def test_encode_request_header_flag_replaces_the_default() -> None:
    request = LoadConfig(
        headers=(("host", "example.test"), ("User-Agent", "ab"), ("X-Extra", "1"))
    ).encode_request()
    assert header(request, "Host") == ["example.test"]
    assert header(request, "User-Agent") == ["ab"]
    assert header(request, "X-Extra") == ["1"]
    assert header(request, "Accept") == ["*/*"]


def test_encode_request_keep_alive_adds_the_connection_header() -> None:
    assert header(LoadConfig(keep_alive=True).encode_request(), "Connection") == ["Keep-Alive"]
    given = LoadConfig(keep_alive=True, headers=(("Connection", "close"),)).encode_request()
    assert header(given, "Connection") == ["close"]


def test_encode_request_sends_the_body_with_its_length_and_type() -> None:
    body = b'{"a": 1}\r\n'
    request = LoadConfig(method="POST", body=body, content_type="application/json").encode_request()
    assert head_lines(request)[0] == "POST / HTTP/1.0"
    assert header(request, "Content-Length") == [str(len(body))]
    assert header(request, "Content-Type") == ["application/json"]
    assert request.endswith(b"\r\n\r\n" + body)


def test_encode_request_without_body_has_no_content_headers() -> None:
    request = LoadConfig().encode_request()
    assert header(request, "Content-Length") == []
    assert header(request, "Content-Type") == []


@given(st.integers(0, 10_000), st.integers(1, 64))
def test_split_shares_differ_by_at_most_one_and_add_up(total: int, parts: int) -> None:
    shares = split(total, parts)
    assert len(shares) == parts
    assert sum(shares) == total
    assert max(shares) - min(shares) <= 1
