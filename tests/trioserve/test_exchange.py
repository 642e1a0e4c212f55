"""One connection's conversation without sockets: bytes in, responses and phases out."""

from __future__ import annotations

import dataclasses
import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trioserve.conftest import AB_REQUEST, CURL_REQUEST, EXACT_RESPONSE
from tests.trioserve.test_field_lines import left_to_its_lf, settled
from tests.trioserve.test_head_fields import (
    WE_REFUSE_WHAT_H11_ACCEPTS,
    GeneratedHead,
    generated_heads,
    h11_accepts,
    rfc_equivalent,
)
from tests.trioserve.test_head_scanner import cuts_for, limits, split_at, streams
from trioserve.config import ServerConfig
from trioserve.exchange import BODY, CLOSED, HEAD, IDLE, KNOWN_REQUESTS, LINGER, Exchange, Rules
from trioserve.head_fields import NO_BODY, check_fields
from trioserve.head_scanner import HeadComplete, HeadScanner
from trioserve.responses import Responses
from trioserve.stats import ServerStats

RESPONSES = Responses.build(b"hello", "text/plain")
KEPT = RESPONSES.keep_alive
CLOSING = RESPONSES.close
POST = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"
CHUNKED_POST = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
FUZZ = settings(max_examples=400, deadline=None)


def new_exchange(**overrides: object) -> tuple[Exchange, ServerStats]:
    stats = ServerStats()
    config = dataclasses.replace(ServerConfig(), **overrides)  # type: ignore[arg-type]
    return Exchange(Rules.build(config), stats), stats


# -- keep-alive off: one request, one response, then close ------------------------------------


@pytest.mark.parametrize("request_bytes", [AB_REQUEST, CURL_REQUEST], ids=["http10", "http11"])
def test_exchange_whole_request_in_one_read_is_answered_and_closed(request_bytes: bytes) -> None:
    exchange, stats = new_exchange()
    assert exchange.received(request_bytes) == EXACT_RESPONSE
    assert exchange.phase is CLOSED
    assert stats.responses == 1


def test_exchange_head_split_anywhere_waits_then_answers() -> None:
    for cut in range(1, len(CURL_REQUEST)):
        exchange, stats = new_exchange()
        assert exchange.received(CURL_REQUEST[:cut]) == b""
        assert exchange.phase is HEAD
        assert exchange.received(CURL_REQUEST[cut:]) == EXACT_RESPONSE
        assert exchange.phase is CLOSED
        assert stats.responses == 1


@pytest.mark.parametrize(
    "request_bytes",
    [CURL_REQUEST + CURL_REQUEST, POST + b"b" * 10, CHUNKED_POST + b"0\r\n\r\n"],
    ids=["pipelined", "body", "chunked-body"],
)
def test_exchange_unread_bytes_after_the_answer_linger(request_bytes: bytes) -> None:
    exchange, stats = new_exchange()
    assert exchange.received(request_bytes) == EXACT_RESPONSE
    assert exchange.phase is LINGER
    assert stats.responses == 1


def test_exchange_linger_discards_until_its_byte_budget_is_spent() -> None:
    exchange, _ = new_exchange(linger_bytes=100)
    exchange.received(POST)
    assert exchange.phase is LINGER
    assert exchange.received(b"x" * 99) == b""
    assert exchange.phase is LINGER
    assert exchange.received(b"x") == b""
    assert exchange.phase is CLOSED


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\nFoo : bar\r\n\r\n", 400),
        (b"\x16\x03\x01\x00", 400),
        (CHUNKED_POST.replace(b"chunked", b"gzip, chunked"), 501),
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n", 414),
    ],
    ids=["field-rules", "tls-handshake", "coding", "long-line"],
)
def test_exchange_refused_head_gets_its_status_then_lingers(
    request_bytes: bytes, status: int
) -> None:
    exchange, stats = new_exchange()
    assert exchange.received(request_bytes) == RESPONSES.errors[status]
    assert exchange.phase is LINGER
    assert stats.rejected[status] == 1
    assert stats.responses == 0


def test_exchange_head_request_gets_the_bodiless_response() -> None:
    exchange, _ = new_exchange()
    assert exchange.received(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n") == RESPONSES.close_for_head


# -- keep-alive: successive and pipelined requests, bodies skipped -----------------------------


def test_exchange_keep_alive_answers_in_order_and_idles() -> None:
    exchange, stats = new_exchange(keep_alive=True)
    head = b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
    assert exchange.received(CURL_REQUEST + head + CURL_REQUEST) == (
        KEPT + RESPONSES.keep_alive_for_head + KEPT
    )
    assert exchange.phase is IDLE
    assert exchange.received(CURL_REQUEST) == KEPT
    assert stats.responses == 4


def test_exchange_keep_alive_connection_close_ends_it() -> None:
    exchange, _ = new_exchange(keep_alive=True)
    last = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    assert exchange.received(CURL_REQUEST + last) == KEPT + CLOSING
    assert exchange.phase is CLOSED


def test_exchange_keep_alive_http10_without_asking_closes() -> None:
    exchange, _ = new_exchange(keep_alive=True)
    assert exchange.received(AB_REQUEST) == CLOSING
    assert exchange.phase is CLOSED


def test_exchange_keep_alive_skips_a_content_length_body_across_reads() -> None:
    exchange, _ = new_exchange(keep_alive=True)
    assert exchange.received(POST + b"b" * 4) == KEPT
    assert exchange.phase is BODY
    # The body's last bytes and the next request in one read: the body never reads as a head.
    assert exchange.received(b"GET / HTTP/1.1\r\n"[:6] + CURL_REQUEST) == KEPT
    assert exchange.phase is IDLE


def test_exchange_keep_alive_skips_a_chunked_body() -> None:
    exchange, _ = new_exchange(keep_alive=True)
    assert exchange.received(CHUNKED_POST + b"5\r\nhello\r\n") == KEPT
    assert exchange.phase is BODY
    assert exchange.received(b"0\r\n\r\n" + CURL_REQUEST) == KEPT
    assert exchange.phase is IDLE


def test_exchange_keep_alive_malformed_chunked_body_closes() -> None:
    exchange, stats = new_exchange(keep_alive=True)
    smuggled = b"5\r\nhello\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n"
    assert exchange.received(CHUNKED_POST + smuggled) == KEPT  # only the POST is answered
    assert exchange.phase is CLOSED
    assert stats.malformed_bodies == 1


# -- deadlines and EOF -------------------------------------------------------------------------


def test_exchange_timeout_in_a_head_is_408_and_counted() -> None:
    exchange, stats = new_exchange()
    exchange.received(CURL_REQUEST[:10])
    assert exchange.timed_out() == RESPONSES.errors[408]
    assert exchange.phase is CLOSED
    assert stats.timeouts == 1


def test_exchange_timeout_before_any_byte_is_408_too() -> None:
    exchange, stats = new_exchange()
    assert exchange.timed_out() == RESPONSES.errors[408]
    assert stats.timeouts == 1


def test_exchange_timeout_in_a_body_closes_counted_and_silent() -> None:
    exchange, stats = new_exchange(keep_alive=True)
    exchange.received(POST)
    assert exchange.timed_out() == b""
    assert stats.timeouts == 1


@pytest.mark.parametrize("phase_after", [IDLE, LINGER])
def test_exchange_timeout_while_idle_or_lingering_just_closes(phase_after: object) -> None:
    exchange, stats = new_exchange(keep_alive=True)
    exchange.received(CURL_REQUEST if phase_after is IDLE else AB_REQUEST + b"x")
    assert exchange.phase is phase_after
    assert exchange.timed_out() == b""
    assert exchange.phase is CLOSED
    assert stats.timeouts == 0


def test_exchange_eof_mid_head_counts_closed_early() -> None:
    exchange, stats = new_exchange()
    exchange.received(CURL_REQUEST[:5])
    assert exchange.client_closed() == b""
    assert exchange.phase is CLOSED
    assert stats.closed_early == 1


def test_exchange_eof_in_a_bad_head_sends_400_then_closes() -> None:
    exchange, stats = new_exchange()
    # llhttp's "dummy characters" after a field line: no LF will ever make them one.
    assert exchange.received(b"GET / HTTP/1.1\r\nHost: a\r\nX-Dummy: a\r\n\x01\x02") == b""
    assert exchange.client_closed() == RESPONSES.errors[400]
    assert exchange.phase is CLOSED
    assert (stats.rejected[400], stats.closed_early) == (1, 0)


@pytest.mark.parametrize(
    "unfinished",
    [
        b"GET / HTTP/1.1\r\nHost: a\r\nHost:",
        b"GET / HTTP/1.0\r\nTransfer-Encoding:",
        b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length:",
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x",
    ],
    ids=["second-host", "coding-in-http10", "length-after-coding", "length-not-digits"],
)
def test_exchange_eof_in_a_framing_field_no_value_could_mend_sends_400(unfinished: bytes) -> None:
    exchange, stats = new_exchange()
    assert exchange.received(unfinished) == b""
    assert exchange.client_closed() == RESPONSES.errors[400]
    assert (stats.rejected[400], stats.closed_early) == (1, 0)


def test_exchange_eof_between_keep_alive_requests_is_not_early() -> None:
    exchange, stats = new_exchange(keep_alive=True)
    exchange.received(CURL_REQUEST)
    exchange.client_closed()
    assert exchange.phase is CLOSED
    assert stats.closed_early == 0


def test_exchange_rules_deadline_per_phase() -> None:
    config = ServerConfig(head_timeout=7, keep_alive_timeout=3, linger_time=2)
    rules = Rules.build(config)
    assert [rules.deadline_after(phase) for phase in (HEAD, BODY, IDLE, LINGER)] == [7, 7, 3, 2]


def test_exchange_logs_every_answer_with_its_status_and_size() -> None:
    logged: list[tuple[bytes, int, int]] = []
    rules = Rules.build(ServerConfig(keep_alive=True))
    exchange = Exchange(rules, ServerStats(), lambda *answer: logged.append(answer))
    bad = b"GET / HTTP/1.1\r\nHost: x\r\nFoo : bar\r\n\r\n"
    exchange.received(CURL_REQUEST + bad)
    assert logged == [(CURL_REQUEST, 200, len(KEPT)), (bad, 400, len(RESPONSES.errors[400]))]


# -- a head in pieces: refused at its first bad line -------------------------------------------


@pytest.mark.parametrize(
    ("first", "bad"),
    [
        (b"GET /", b"\x01 HTTP/1.1\r\n"),
        (b"GET /", b"\x01abc"),
        (b"GET / HTTP/1.1\r", b"X"),
        (b"GET / HTTP/1.1\r\nHost: a\r\n", b"\rZ"),
        (b"GET / HTTP/1.1\r\n", b"Ho st: a\r\n"),
        (b"GET / HTTP/1.1\r\nHost: a\r\n", b"Host: b\r\n"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX-Dummy: a\r\n", b"aaa\r\n"),
    ],
    ids=[
        "ctl-in-the-target",
        "ctl-in-the-target-before-its-lf",
        "bare-cr-in-the-request-line",
        "bare-cr",
        "space-in-a-name",
        "second-host",
        "no-colon",
    ],
)
@pytest.mark.parametrize("keep_alive", [False, True], ids=["first-request", "later-request"])
def test_exchange_head_in_pieces_is_refused_at_its_first_bad_line(
    first: bytes, bad: bytes, keep_alive: bool
) -> None:
    exchange, stats = new_exchange(keep_alive=keep_alive)
    if keep_alive:
        assert exchange.received(CURL_REQUEST) == KEPT
    assert exchange.received(first) == b""
    assert exchange.received(bad) == RESPONSES.errors[400]
    assert exchange.phase is LINGER
    assert stats.rejected[400] == 1


WITHIN_MAX_HEAD = b"GET / HTTP/1.1\r\nHo st: a\r\nX: " + b"a" * 100  # its LF: byte 25
PAST_MAX_HEAD = b"GET / HTTP/1.1\r\nX: aaaaaaaaaa\r\nHo st: aaaaa\r\nX: " + b"a" * 50  # byte 44


@pytest.mark.parametrize(
    ("stream", "status"), [(WITHIN_MAX_HEAD, 400), (PAST_MAX_HEAD, 431)], ids=["within", "past"]
)
@pytest.mark.parametrize("cut", [None, 10, 20, 30, 40, 42, 60])
def test_exchange_bad_line_is_400_only_if_its_lf_is_within_max_head_whatever_the_split(
    stream: bytes, status: int, cut: int | None
) -> None:
    exchange, stats = new_exchange(max_head=40)
    pieces = [stream] if cut is None else [stream[:cut], stream[cut:]]
    assert b"".join(exchange.received(piece) for piece in pieces) == RESPONSES.errors[status]
    assert stats.rejected == {status: 1}


LONG = b"a" * 60


@pytest.mark.parametrize(
    ("stream", "status"),
    [
        (b"GET /\x01" + LONG, 400),
        (b"GET /a\r" + LONG, 400),
        (b"GET / HTTP/1.1\rX" + LONG, 400),
        (b"GET /" + LONG, 414),
        (b"GET /" + b"a" * 35 + b"\r" + LONG, 400),  # a CR may be the byte after the limit
        (b"GET /" + b"a" * 36 + b"\x01" + LONG, 414),  # not a byte further
    ],
    ids=["ctl", "cr", "bare-cr", "long", "cr-at-the-limit", "ctl-past-the-limit"],
)
@pytest.mark.parametrize("cut", [None, 1, 6, 17, 40, 41, 42])
def test_exchange_bad_request_line_is_400_only_if_it_shows_within_the_limit_whatever_the_split(
    stream: bytes, status: int, cut: int | None
) -> None:
    exchange, stats = new_exchange(max_request_line=40)
    pieces = [stream] if cut is None else [stream[:cut], stream[cut:]]
    assert b"".join(exchange.received(piece) for piece in pieces) == RESPONSES.errors[status]
    assert stats.rejected == {status: 1}


def statuses(out: bytes) -> list[int]:
    """The status of each response in ``out``, in order."""
    return [int(status) for status in re.findall(rb"HTTP/1\.1 ([0-9]{3}) ", out)]


def fed(exchange: Exchange, stream: bytes, cuts: list[int]) -> bytes:
    """What ``exchange`` answers to ``stream`` cut at ``cuts`` (those within it)."""
    pieces = split_at(stream, [cut for cut in cuts if cut <= len(stream)])
    return b"".join(exchange.received(piece) for piece in pieces if piece)


EARLIER_REQUESTS = [CURL_REQUEST, POST + b"0123456789", CHUNKED_POST + b"3\r\nabc\r\n0\r\n\r\n"]


@FUZZ
@given(
    generated=generated_heads(),
    earlier=st.lists(st.sampled_from(EARLIER_REQUESTS), max_size=2),
    data=st.data(),
)
def test_exchange_refuses_a_head_its_lines_settle_before_its_end_whatever_the_split(
    generated: GeneratedHead, earlier: list[bytes], data: st.DataObject
) -> None:
    head = generated.encode()
    before = b"".join(earlier)  # keep-alive: the head is the connection's request n + 1
    stream = before + head
    cuts = data.draw(cuts_for(stream))
    whole, _ = new_exchange(keep_alive=True)
    expected = statuses(whole.received(stream))
    differences = [why for why, holds in WE_REFUSE_WHAT_H11_ACCEPTS.items() if holds(generated)]
    assert expected == [200] * len(earlier) + [expected[-1]]
    assert (expected[-1] == 200) == (
        h11_accepts(rfc_equivalent(generated).encode()) and not differences
    )

    split, _ = new_exchange(keep_alive=True)
    assert statuses(fed(split, stream, cuts)) == expected

    # Without its empty line: the 400 of a head its lines settle is out already.
    fields = head[: head.rindex(b"\n", 0, len(head) - 1) + 1]
    cut_short, stats = new_exchange(keep_alive=True)
    answered = statuses(fed(cut_short, before + fields, cuts))
    if settled(fields):
        assert answered == expected
    else:
        assert answered == expected[:-1]
        assert cut_short.client_closed() == b""  # valid so far: a quiet close at EOF
        assert stats.closed_early == 1


@FUZZ
@given(
    generated=generated_heads(),
    earlier=st.lists(st.sampled_from(EARLIER_REQUESTS), max_size=2),
    data=st.data(),
)
def test_exchange_eof_in_a_head_refuses_what_its_bytes_settle_whatever_the_split(
    generated: GeneratedHead, earlier: list[bytes], data: st.DataObject
) -> None:
    head = generated.encode()
    sent = head[: data.draw(st.integers(0, len(head) - 1))]  # never the whole head
    before = b"".join(earlier)
    exchange, _ = new_exchange(keep_alive=True)
    answered = fed(exchange, before + sent, data.draw(cuts_for(before + sent)))
    answered += exchange.client_closed()
    got = statuses(answered)[len(earlier) :]
    assert got in ([], [400])
    if got:
        assert settled(sent)
    elif not left_to_its_lf(sent):
        assert not settled(sent)


@FUZZ
@given(stream=streams, limit=limits, data=st.data())
def test_exchange_answers_arbitrary_bytes_and_their_eof_alike_whatever_the_split(
    stream: bytes, limit: tuple[int, int], data: st.DataObject
) -> None:
    max_head, max_request_line = limit
    answers = []
    for cuts in ([], data.draw(cuts_for(stream))):
        exchange, _ = new_exchange(
            keep_alive=True, max_head=max_head, max_request_line=max_request_line
        )
        answers.append(statuses(fed(exchange, stream, cuts) + exchange.client_closed()))
    whole, split = answers
    assert split == whole


# -- the fast path agrees with the full rules; splits never change the answers ----------------

request_lines = st.one_of(
    st.sampled_from([b"GET / HTTP/1.1", b"HEAD /x?y=1 HTTP/1.0", b"GET / HTTP/1.1\r"]),
    st.binary(max_size=30),
    st.integers(1, 5000).map(lambda n: b"GET /" + b"a" * n + b" HTTP/1.1"),
)


@FUZZ
@given(generated=generated_heads(), line=st.one_of(st.none(), request_lines))
def test_exchange_fast_path_takes_only_whole_plain_requests(
    generated: GeneratedHead, line: bytes | None
) -> None:
    head = generated.encode()
    if line is not None:  # swap the request line for another, valid or not
        head = line + head[head.index(b"\n") :]
    config = ServerConfig(max_request_line=1000)
    if Rules.build(config).plain_request.fullmatch(head) is not None:
        scanner = HeadScanner(config.max_head, config.max_request_line)
        assert scanner.feed(head) == HeadComplete(len(head))
        assert check_fields(head) is NO_BODY


def test_exchange_fast_path_takes_what_benchmarks_send() -> None:
    rules = Rules.build(ServerConfig())
    for head in (AB_REQUEST, CURL_REQUEST, b"GET / HTTP/1.1\nHost: 127.0.0.1:60000\n\n"):
        assert rules.plain_request.fullmatch(head) is not None


@FUZZ
@given(
    requests=st.lists(
        st.sampled_from(
            [
                CURL_REQUEST,
                POST + b"0123456789",
                CHUNKED_POST + b"3\r\nabc\r\n0\r\n\r\n",
                b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: x\nX: 1\n\n",
            ]
        ),
        min_size=1,
        max_size=6,
    ),
    cuts=st.lists(st.integers(0, 2000), max_size=12),
)
def test_exchange_keep_alive_answers_do_not_depend_on_the_split(
    requests: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(requests)
    whole, whole_stats = new_exchange(keep_alive=True)
    expected = whole.received(stream)
    split, split_stats = new_exchange(keep_alive=True)
    bounds = sorted({0, len(stream), *(cut for cut in cuts if cut < len(stream))})
    answers = b"".join(split.received(stream[a:b]) for a, b in itertools.pairwise(bounds))
    assert answers == expected
    assert split.phase is whole.phase is IDLE
    assert split_stats.responses == whole_stats.responses == len(requests)


# -- whole requests judged once ----------------------------------------------------------------


def test_exchange_rules_remember_a_judged_request_and_answer_it_alike() -> None:
    rules, stats = Rules.build(ServerConfig(keep_alive=True)), ServerStats()
    first = Exchange(rules, stats)
    assert first.received(CURL_REQUEST) == KEPT
    assert rules.known == {CURL_REQUEST: (KEPT, IDLE)}
    again = Exchange(rules, stats)
    assert again.received(CURL_REQUEST) == KEPT
    assert again.phase is IDLE
    assert stats.responses == 2


@pytest.mark.parametrize(
    "request_bytes",
    [CURL_REQUEST[:-2], b"GET / HTTP/1.1\r\n\r\n", POST, CURL_REQUEST + CURL_REQUEST],
    ids=["incomplete", "refused", "with-body", "two-requests"],
)
def test_exchange_rules_remember_only_whole_plain_requests(request_bytes: bytes) -> None:
    rules = Rules.build(ServerConfig(keep_alive=True))
    Exchange(rules, ServerStats()).received(request_bytes)
    assert rules.known == {}


def test_exchange_rules_memory_is_bounded() -> None:
    rules = Rules.build(ServerConfig())
    for number in range(KNOWN_REQUESTS * 3):
        Exchange(rules, ServerStats()).received(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % number)
        assert len(rules.known) <= KNOWN_REQUESTS
