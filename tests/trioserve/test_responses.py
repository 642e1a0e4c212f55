"""Pre-encoded responses: the seed's exact bytes by default, consistent framing otherwise."""

from __future__ import annotations

import h11
import pytest

from tests.trioserve.conftest import EXACT_RESPONSE
from trioserve.responses import Responses


def test_responses_default_is_the_seed_bytes() -> None:
    assert Responses.build(b"hello", "text/plain").close == EXACT_RESPONSE


@pytest.mark.parametrize("body", [b"", b"hello", b"\x00" * 1000])
def test_responses_all_parse_with_h11(body: bytes) -> None:
    responses = Responses.build(body, "application/octet-stream")
    for raw in [responses.close, responses.keep_alive, *responses.errors.values()]:
        client = h11.Connection(h11.CLIENT)
        client.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
        client.send(h11.EndOfMessage())
        client.receive_data(raw)
        head = client.next_event()
        assert isinstance(head, h11.Response)
        data = client.next_event()
        received = data.data if isinstance(data, h11.Data) else b""
        if head.status_code == 200:
            assert received == body
        assert isinstance(client.next_event() if received else data, h11.EndOfMessage)


def test_responses_ok_is_bodiless_for_head_only() -> None:
    responses = Responses.build(b"hello", "text/plain")
    assert responses.ok(b"GET / HTTP/1.1\r\n\r\n", keep_alive=False) == EXACT_RESPONSE
    assert responses.ok(b"HEAD / HTTP/1.1\r\n\r\n", keep_alive=False) == EXACT_RESPONSE[:-5]
    assert responses.ok(b"HEAD / HTTP/1.1\r\n\r\n", keep_alive=True).endswith(b"keep-alive\r\n\r\n")
