"""The header-field check: RFC 9112's rules as named cases, and h11 as the oracle under hypothesis.

h11 is the reference for every verdict, accept or reject, except where we deliberately differ.
Each difference is listed below with the RFC section that allows it, and each has its own
example that h11 and we judge differently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trioserve.conftest import h11_head_length
from trioserve.head_fields import (
    CHUNKED,
    NO_BODY,
    FieldTally,
    Framing,
    check_fields,
    check_fields_fully,
    request_line,
    wants_keep_alive,
)
from trioserve.head_scanner import HeadComplete, HeadRejected, HeadScanner

AB_HEAD = (
    b"GET / HTTP/1.0\r\nHost: 127.0.0.1:60000\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n"
)
TCHARS = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: Bytes a field value may not hold: every CTL but HTAB, and DEL (RFC 9110 §5.5).
CTLS = frozenset(range(0x20)) - {0x09} | {0x7F}
FUZZ = settings(max_examples=600, deadline=None)


def get(*fields: bytes, version: bytes = b"1.1") -> bytes:
    """A GET head with these field lines, CRLF line ends."""
    return b"".join([b"GET / HTTP/" + version + b"\r\n", *(f + b"\r\n" for f in fields), b"\r\n"])


def h11_accepts(head: bytes) -> bool:
    """h11's verdict on a complete head, as a server."""
    return h11_head_length(head) is not None


# -- named cases: what is refused, with which status, and the RFC section that says so ------

REFUSED = [
    pytest.param(get(b"Host: x", b"Connection : upgrade"), 400, id="9112-5.1-space-before-colon"),
    pytest.param(get(b"Host: x", b"Foo\t: bar"), 400, id="9112-5.1-tab-before-colon"),
    pytest.param(get(b"Host: x", b"Fo@: Failure"), 400, id="9112-5-name-not-a-token"),
    pytest.param(get(b"Host: x", b": Bar"), 400, id="9112-5-empty-name"),
    pytest.param(get(b"Host: x", b"\x01Foo: bar"), 400, id="9112-5-control-byte-in-name"),
    pytest.param(get(b"Host: x", b"Foo bar"), 400, id="9112-5-line-without-colon"),
    pytest.param(get(b"Host: x", b"Foo: 1\rBar: 2"), 400, id="9112-2.2-bare-cr-in-line"),
    pytest.param(get(b"Host: x", b"Foo: 1\r"), 400, id="9112-2.2-cr-cr-lf"),
    pytest.param(get(b"Host: x", b"Foo: a\x00b"), 400, id="9110-5.5-nul-in-value"),
    pytest.param(get(b"Host: x", b"Foo: a\x01b"), 400, id="9110-5.5-ctl-in-value"),
    pytest.param(get(b"Host: x", b"Foo: a\x7f"), 400, id="9110-5.5-del-in-value"),
    pytest.param(get(b"Host: x", b"Foo: a", b"  b"), 400, id="9112-5.2-obs-fold"),
    pytest.param(get(b"\tFoo: a", b"Host: x"), 400, id="9112-5.2-obs-fold-first-line"),
    pytest.param(get(), 400, id="9112-3.2-http11-without-host"),
    pytest.param(get(b"User-Agent: curl"), 400, id="9112-3.2-http11-fields-but-no-host"),
    pytest.param(get(b"Host: x", b"Host: x"), 400, id="9112-3.2-two-hosts"),
    pytest.param(get(b"Host: x", b"host: y", version=b"1.0"), 400, id="9112-3.2-two-hosts-1.0"),
    pytest.param(get(b"Host: a b"), 400, id="9112-3.2-host-with-space"),
    pytest.param(get(b"Host: a/b"), 400, id="9112-3.2-host-with-slash"),
    pytest.param(get(b"Host: user@a"), 400, id="9112-3.2-host-with-userinfo"),
    pytest.param(get(b"Host: [::1"), 400, id="9112-3.2-host-unclosed-literal"),
    pytest.param(get(b"Host: x:80a"), 400, id="9112-3.2-host-bad-port"),
    pytest.param(get(b"Host: x%zz"), 400, id="9112-3.2-host-bad-pct-encoding"),
    pytest.param(get(version=b"1.2"), 400, id="9110-2.5-http12-is-11-needs-host"),
    pytest.param(get(b"Host: x", b"Content-Length: 4 2"), 400, id="9112-6.3-length-4-space-2"),
    pytest.param(get(b"Host: x", b"Content-Length:"), 400, id="9112-6.3-length-empty"),
    pytest.param(get(b"Host: x", b"Content-Length: -1"), 400, id="9112-6.3-length-negative"),
    pytest.param(get(b"Host: x", b"Content-Length: +5"), 400, id="9112-6.3-length-plus"),
    pytest.param(get(b"Host: x", b"Content-Length: 0x10"), 400, id="9112-6.3-length-hex"),
    pytest.param(get(b"Host: x", b"Content-Length: 1e3"), 400, id="9112-6.3-length-exponent"),
    pytest.param(get(b"Host: x", b"Content-Length: 5,"), 400, id="9112-6.3-length-list-empty"),
    pytest.param(get(b"Host: x", b"Content-Length: " + b"9" * 21), 400, id="9110-8.6-21-digits"),
    pytest.param(
        get(b"Host: x", b"Content-Length: 5", b"Content-Length: 6"),
        400,
        id="9112-6.3-lengths-differ",
    ),
    pytest.param(
        get(b"Host: x", b"Content-Length: 5", b"Content-Length: 05"), 400, id="9112-6.3-5-and-05"
    ),
    pytest.param(get(b"Host: x", b"Content-Length: 5, 6"), 400, id="9112-6.3-length-list-differs"),
    pytest.param(
        get(b"Host: x", b"Content-Length: 3", b"Transfer-Encoding: chunked"),
        400,
        id="9112-6.1-length-and-chunked",
    ),
    pytest.param(
        get(b"Host: x", b"Transfer-Encoding: chunked", version=b"1.0"),
        400,
        id="9112-6.1-chunked-in-http10",
    ),
    pytest.param(get(b"Host: x", b"Transfer-Encoding: gzip"), 400, id="9112-6.3-gzip-alone"),
    pytest.param(
        get(b"Host: x", b"Transfer-Encoding: chunked, gzip"), 400, id="9112-6.3-chunked-not-last"
    ),
    pytest.param(get(b"Host: x", b"Transfer-Encoding:"), 400, id="9112-6.3-empty-coding-list"),
    pytest.param(
        get(b"Host: x", b"Transfer-Encoding: chunked, chunked"), 400, id="9112-7.1-chunked-twice"
    ),
    pytest.param(
        get(b"Host: x", b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"),
        400,
        id="9112-7.1-chunked-twice-two-lines",
    ),
    pytest.param(
        get(b"Host: x", b"Transfer-Encoding: chunked; q=1"), 400, id="9112-6.3-chunked-with-param"
    ),
    pytest.param(
        get(b"Host: x", b"Transfer-Encoding: gzip, chunked"), 501, id="9112-6.1-gzip-then-chunked"
    ),
    pytest.param(
        get(b"Host: x", b"Transfer-Encoding: x-mine", b"Transfer-Encoding: chunked"),
        501,
        id="9112-6.1-unknown-then-chunked",
    ),
]

ACCEPTED = [
    pytest.param(AB_HEAD, NO_BODY, id="ab"),
    pytest.param(b"GET / HTTP/1.0\r\n\r\n", NO_BODY, id="http10-no-fields"),
    pytest.param(b"GET / HTTP/1.1\nHost: x\nFoo: bar\n\n", NO_BODY, id="9112-2.2-bare-lf-ends"),
    pytest.param(get(b"Host:"), NO_BODY, id="9112-3.2-empty-host"),
    pytest.param(get(b"hOsT: x"), NO_BODY, id="9110-5.1-names-case-insensitive"),
    pytest.param(get(b"Host: [::1]:8080"), NO_BODY, id="3986-ipv6-literal"),
    pytest.param(get(b"Host: 127.0.0.1:"), NO_BODY, id="3986-empty-port"),
    pytest.param(get(b"Host: caf%C3%A9.example"), NO_BODY, id="3986-pct-encoded-host"),
    pytest.param(get(b"Host: x", b"X-Host: y", b"Host-Name: z"), NO_BODY, id="other-host-names"),
    pytest.param(get(b"Host: x", b"Foo: caf\xe9"), NO_BODY, id="9110-5.5-obs-text"),
    pytest.param(get(b"Host: x", b"Foo:\ta\tb\t"), NO_BODY, id="9110-5.5-htab-in-value"),
    pytest.param(get(b"Host: x", b"Foo:"), NO_BODY, id="9110-5.5-empty-value"),
    pytest.param(get(b"Host: x", b"Content-Length:  42 "), Framing(42), id="length-with-ows"),
    pytest.param(get(b"Host: x", b"Content-Length: 0"), NO_BODY, id="length-zero"),
    pytest.param(
        get(b"Host: x", b"Content-Length: 5", b"content-length: 5"),
        Framing(5),
        id="9112-6.3-equal-lengths",
    ),
    pytest.param(get(b"Host: x", b"Content-Length: 5, 5"), Framing(5), id="9110-8.6-list-5-5"),
    pytest.param(get(b"Host: x", b"Transfer-Encoding: chunked"), CHUNKED, id="chunked"),
    pytest.param(get(b"Host: x", b"Transfer-Encoding: ChUnKeD"), CHUNKED, id="chunked-any-case"),
    pytest.param(get(b"Host: x", b"Transfer-Encoding: , chunked,"), CHUNKED, id="9110-5.6.1-empty"),
    pytest.param(
        get(b"Host: x", b"Transfer-Encoding:", b"Transfer-Encoding: chunked"),
        CHUNKED,
        id="9110-5.3-lines-combine",
    ),
    pytest.param(get(b"Host: x", version=b"1.2"), NO_BODY, id="9110-2.5-http12"),
]


@pytest.mark.parametrize(("head", "status"), REFUSED)
def test_check_fields_refuses_with_the_rfc_status(head: bytes, status: int) -> None:
    assert HeadScanner().feed(head) == HeadComplete(len(head))  # only the fields are at fault
    assert check_fields(head) == HeadRejected(status)
    assert check_fields_fully(head) == HeadRejected(status)


@pytest.mark.parametrize(("head", "framing"), ACCEPTED)
def test_check_fields_accepts_with_the_body_framing(head: bytes, framing: Framing) -> None:
    assert check_fields(head) == framing
    assert check_fields_fully(head) == framing


def test_check_fields_returns_no_body_itself_for_every_bodiless_head() -> None:
    # The server's fast path tests "is NO_BODY": an equal but distinct Framing would slow it.
    for head in (AB_HEAD, get(b"Host: x", b"Content-Length: 000"), b"GET / HTTP/1.0\r\n\r\n"):
        assert check_fields(head) is NO_BODY


@pytest.mark.parametrize(
    ("fields", "http11"),
    [
        (b"Host: a\r\nhost: a\r\n", True),
        (b"Content-Length: 5\r\nContent-Length: 05\r\n", True),
        (b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", True),
        (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", True),
        (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", True),
        (b"Host: a\r\nTransfer-Encoding: chunked\r\n", False),
    ],
    ids=[
        "two-hosts",
        "5-and-05",
        "length-then-coding",
        "coding-then-length",
        "coding-after-chunked",
        "coding-in-http10",
    ],
)
def test_field_tally_take_refuses_what_no_later_line_can_mend(fields: bytes, http11: bool) -> None:
    tally = FieldTally(http11)
    first_line_end = fields.index(b"\n") + 1
    assert tally.take(fields, 0, first_line_end)
    assert not tally.take(fields, first_line_end, len(fields))


@pytest.mark.parametrize(
    ("fields", "framing"),
    [
        (b"", HeadRejected(400)),  # HTTP/1.1 without Host
        (b"Host: a\r\nTransfer-Encoding: gzip\r\n", HeadRejected(400)),
        (b"Host: a\r\nTransfer-Encoding:\r\n", HeadRejected(400)),
        (
            b"Host: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
            HeadRejected(501),
        ),
        (b"Host: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n", Framing(5)),
    ],
    ids=["no-host", "gzip-last", "no-coding", "gzip-then-chunked", "equal-lengths"],
)
def test_field_tally_framing_judges_what_only_the_whole_head_shows(
    fields: bytes, framing: Framing | HeadRejected
) -> None:
    tally = FieldTally(http11=True)
    assert tally.take(fields, 0, len(fields))  # no line alone is at fault
    assert tally.framing() == framing
    assert check_fields(b"GET / HTTP/1.1\r\n" + fields + b"\r\n") == framing


# -- the deliberate differences from h11, each with the RFC section that allows it ----------


@dataclass(frozen=True)
class Field:
    """One generated field line, and maybe an obs-fold continuation line after it."""

    name: bytes
    value: bytes
    fold: bytes = b""


@dataclass(frozen=True)
class GeneratedHead:
    version: bytes
    fields: tuple[Field, ...]
    line_ends: tuple[bytes, ...]

    def named(self, name: bytes) -> list[Field]:
        return [field for field in self.fields if field.name.lower() == name]

    def encode(self) -> bytes:
        ends = iter(self.line_ends)
        lines = [b"GET / HTTP/" + self.version + next(ends)]
        for field in self.fields:
            lines.append(field.name + b":" + field.value + next(ends))
            if field.fold:
                lines.append(field.fold + next(ends))
        return b"".join(lines) + next(ends)


VALID_HOSTS = [b"127.0.0.1:60000", b"x", b"", b"[::1]:80", b"%41%4a", b"a.example:"]
INVALID_HOSTS = [b"a b", b"a/b", b"u@a", b"x:80a", b"%4", b"[::1", b"a\x80"]


#: Heads we refuse and h11 accepts: the reason, with its RFC section, and how to tell.
WE_REFUSE_WHAT_H11_ACCEPTS: dict[str, Callable[[GeneratedHead], bool]] = {
    # h11 lets other control bytes through for the sake of old cookies.
    "RFC 9110 §5.5: a CTL other than HTAB (or DEL) in a value is invalid": lambda head: any(
        set(field.value) & CTLS for field in head.fields
    ),
    "RFC 9112 §5.2: a server MUST reject obs-fold or unfold it; h11 unfolds, we reject": (
        lambda head: any(field.fold or field.name[:1] in (b" ", b"\t") for field in head.fields)
    ),
    "RFC 9112 §3.2: a Host that is not uri-host [':' port] MUST get 400; h11 never looks": (
        lambda head: any(f.value.strip(b" \t") in INVALID_HOSTS for f in head.named(b"host"))
    ),
    "RFC 9112 §6.1: a server MAY refuse Content-Length with Transfer-Encoding; h11 uses TE": (
        lambda head: bool(head.named(b"content-length") and head.named(b"transfer-encoding"))
    ),
    "RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 MUST be taken as faulty framing": (
        lambda head: head.version == b"1.0" and bool(head.named(b"transfer-encoding"))
    ),
    "RFC 9110 §2.5: HTTP/1.2 is handled as 1.1, which needs a Host; h11 only asks 1.1": (
        lambda head: head.version == b"1.2" and not head.named(b"host")
    ),
}


def rfc_equivalent(head: GeneratedHead) -> GeneratedHead:
    """The same head with its Transfer-Encoding lines as one list without empty elements.

    RFC 9110 §5.3 says several lines of a list field mean one combined list, and §5.6.1 that
    a recipient MUST ignore empty list elements. h11 refuses both forms; we read them as this
    rewrite, so h11's verdict on the rewrite is the one to match.
    """
    codings = [
        part.strip(b" \t")
        for field in head.named(b"transfer-encoding")
        for part in field.value.split(b",")
        if part.strip(b" \t")
    ]
    fields: list[Field] = []
    for field in head.fields:
        if field.name.lower() != b"transfer-encoding":
            fields.append(field)
        elif not any(f.name.lower() == b"transfer-encoding" for f in fields):
            fields.append(Field(field.name, b" " + b", ".join(codings), field.fold))
    removed = len(head.fields) - len(fields)
    return GeneratedHead(head.version, tuple(fields), head.line_ends[removed:])


DIFFERENCE_EXAMPLES = [
    (get(b"Host: x", b"Cookie: a\x01b"), 400),
    (get(b"Host: x", b"Foo: a", b" b"), 400),
    (get(b"Host: a b"), 400),
    (get(b"Host: x", b"Content-Length: 3", b"Transfer-Encoding: chunked"), 400),
    (get(b"Host: x", b"Transfer-Encoding: chunked", version=b"1.0"), 400),
    (get(version=b"1.2"), 400),
]
ACCEPTED_WHERE_H11_REFUSES = [
    get(b"Host: x", b"Transfer-Encoding: , chunked"),
    get(b"Host: x", b"Transfer-Encoding:", b"Transfer-Encoding: chunked"),
]


@pytest.mark.parametrize(
    ("head", "status"), DIFFERENCE_EXAMPLES, ids=list(WE_REFUSE_WHAT_H11_ACCEPTS)
)
def test_check_fields_refuses_what_h11_accepts_where_listed(head: bytes, status: int) -> None:
    assert h11_accepts(head)
    assert check_fields(head) == HeadRejected(status)


@pytest.mark.parametrize("head", ACCEPTED_WHERE_H11_REFUSES, ids=["9110-5.6.1", "9110-5.3"])
def test_check_fields_accepts_list_forms_h11_refuses(head: bytes) -> None:
    assert not h11_accepts(head)
    assert check_fields(head) == CHUNKED


# -- the generated heads ---------------------------------------------------------------------

tokens = st.text(st.sampled_from(TCHARS.decode()), min_size=1, max_size=10).map(str.encode)
plain_names = tokens.filter(
    lambda name: name.lower() not in {b"host", b"content-length", b"transfer-encoding"}
)
bad_names = st.sampled_from([b"", b"Fo@", b"Foo ", b"Foo\t", b"\x01X", b"X\xff", b" Foo", b"a(b"])
ows = st.sampled_from([b"", b" ", b"\t", b"  "])
clean_values = st.lists(
    st.sampled_from([b"a", b"text/plain", b"1", b"x y", b"\t", b";q=0.9", b'"q"', b"\x80\xff"]),
    max_size=5,
).map(b"".join)
# A control byte inside a value; never LF, which would end the line there (and could end the
# head early: ":\n" after a CRLF is an empty line), making it another head than the one drawn.
ctls = st.sampled_from(sorted(CTLS - {0x0A})).map(lambda byte: bytes([byte]))
hosts = st.one_of(st.sampled_from(VALID_HOSTS), st.sampled_from(INVALID_HOSTS))
lengths = st.sampled_from([b"0", b"5", b"05", b"5, 5", b"5,6", b"", b"-1", b"+5", b"4 2", b"1e3"])
codings = st.sampled_from(
    [
        b"chunked",
        b"chunked",
        b"Chunked",
        b"gzip",
        b"gzip, chunked",
        b"chunked, gzip",
        b"",
        b", chunked",
    ]
)
rarely = st.integers(0, 15).map(lambda n: n == 0)


@st.composite
def fields(draw: st.DrawFn) -> Field:
    kind = draw(st.sampled_from(["plain", "plain", "plain", "host", "length", "coding"]))
    if kind == "host":
        name, value = draw(st.sampled_from([b"Host", b"host", b"HOST"])), draw(hosts)
    elif kind == "length":
        name, value = b"Content-Length", draw(lengths)
    elif kind == "coding":
        name, value = (
            draw(st.sampled_from([b"Transfer-Encoding", b"transfer-encoding"])),
            draw(codings),
        )
    else:
        name = draw(bad_names) if draw(rarely) else draw(plain_names)
        value = draw(clean_values)
        if draw(rarely):
            at = draw(st.integers(0, len(value)))
            value = value[:at] + draw(ctls) + value[at:]
    value = draw(ows) + value + draw(ows)
    if value.endswith(b"\r"):  # with an LF after it, that CR is just a CRLF line end
        value += b"x"
    fold = draw(st.sampled_from([b" more", b"\tmore"])) if draw(rarely) else b""
    return Field(name, value, fold)


@st.composite
def generated_heads(draw: st.DrawFn) -> GeneratedHead:
    version = draw(st.sampled_from([b"1.1", b"1.1", b"1.0", b"1.2"]))
    drawn = draw(st.lists(fields(), max_size=6))
    if draw(st.integers(0, 4)):  # most heads carry a good Host somewhere
        drawn.insert(draw(st.integers(0, len(drawn))), Field(b"Host", b" 127.0.0.1:60000"))
    lines = 2 + len(drawn) + sum(bool(field.fold) for field in drawn)
    ends = draw(st.lists(st.sampled_from([b"\r\n", b"\n"]), min_size=lines, max_size=lines))
    return GeneratedHead(version, tuple(drawn), tuple(ends))


@FUZZ
@given(generated=generated_heads())
def test_check_fields_judges_like_h11_but_for_the_listed_differences(
    generated: GeneratedHead,
) -> None:
    head = generated.encode()
    assert HeadScanner().feed(head) == HeadComplete(len(head))
    differences = [why for why, holds in WE_REFUSE_WHAT_H11_ACCEPTS.items() if holds(generated)]
    expected = h11_accepts(rfc_equivalent(generated).encode()) and not differences

    verdict = check_fields(head)

    assert isinstance(verdict, Framing) == expected
    # The same heads serve the fast pass: it must never judge otherwise than the full rules.
    assert verdict == check_fields_fully(head)


# -- persistence and the access-log line ------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", True),
        (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", False),
        (b"GET / HTTP/1.1\r\nConnection: Upgrade, Close\r\n\r\n", False),
        (b"GET / HTTP/1.0\r\n\r\n", False),
        (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", True),
        (b"GET / HTTP/1.0\nconnection: keep-alive\n\n", True),
        (b"GET / HTTP/1.2\r\nHost: x\r\n\r\n", True),
        (b"GET / HTTP/1.0\r\nX-Connection: keep-alive\r\n\r\n", False),
    ],
)
def test_wants_keep_alive_follows_rfc9112(head: bytes, expected: bool) -> None:
    assert wants_keep_alive(head) is expected


def test_request_line_is_first_line_decoded() -> None:
    assert request_line(b"GET /\xe9 HTTP/1.1\r\nHost: x\r\n\r\n") == "GET /\xe9 HTTP/1.1"
