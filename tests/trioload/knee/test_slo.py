"""SLOs: their text, and a step's verdict (passed, and whether trioload was the limit)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.trioload.knee.conftest import step_result
from trioload.knee.slo import Slo, SloError, Verdict, judge, parse_slo

P99_20MS = (Slo("p99", 20.0),)


@pytest.mark.parametrize(
    ("text", "slo"),
    [
        ("p99=20ms", Slo("p99", 20.0)),
        ("p99.9=1s", Slo("p99.9", 1000.0)),
        ("p99.90=1s", Slo("p99.9", 1000.0)),  # as the summary names it
        ("p99.99=250µs", Slo("p99.99", 0.25)),
        ("p50=500us", Slo("p50", 0.5)),
        ("mean=5ms", Slo("mean", 5.0)),
        ("max=2s", Slo("max", 2000.0)),
        ("failed=0.1%", Slo("failed", 0.1)),
    ],
)
def test_parse_slo_forms(text: str, slo: Slo) -> None:
    assert parse_slo(text) == slo


@pytest.mark.parametrize(
    "text",
    ["p99=fast", "p99=20", "p100=1ms", "p0=1ms", "p97=1ms", "failed=1", "q99=1ms", "p99<20ms", ""],
)
def test_parse_slo_refuses(text: str) -> None:
    with pytest.raises(SloError):
        parse_slo(text)


def test_judge_passes_a_step_within_every_slo() -> None:
    verdict = judge(step_result(due_ms=5.0), (*P99_20MS, Slo("failed", 1.0)), 500.0)
    assert (verdict.passed, verdict.client_bound, verdict.reasons) == (True, False, ())


def test_judge_fails_on_latency_from_due_time_not_from_sent() -> None:
    # a queue in trioload: from sent the server looks fast, from due it is not
    verdict = judge(step_result(due_ms=50.0, sent_ms=5.0), P99_20MS, 500.0)
    assert not verdict.passed
    assert verdict.reasons == ("p99 50 ms > 20 ms",)


def test_judge_fails_on_failures_and_on_a_rate_not_made() -> None:
    failing = judge(step_result(failed=20), (Slo("failed", 1.0),), 500.0)
    assert failing.reasons == ("failed 2% > 1%",)
    short = judge(step_result(made=0.9), P99_20MS, 500.0)
    assert short.reasons == ("made 450 of 500 req/s asked",)


def test_judge_calls_a_busy_client_the_limit() -> None:
    verdict = judge(step_result(due_ms=50.0, cpu_share=0.97), P99_20MS, 500.0)
    assert (verdict.passed, verdict.client_bound) == (False, True)
    assert verdict.reasons[-1] == "trioload's CPU 97% of a core"
    # a pass is a pass, however busy
    assert judge(step_result(cpu_share=0.97), P99_20MS, 500.0).passed


def test_judge_tells_the_clients_lateness_from_a_wait_for_a_connection() -> None:
    def verdict(**figures: Any) -> Verdict:
        return judge(step_result(due_ms=50.0, **figures), P99_20MS, 500.0)

    # late although held ready, and answered in time once sent: trioload's own loop was behind
    own = verdict(sent_ms=5.0, late=100, client_late=60)
    assert own.client_bound
    assert own.reasons[-1] == "trioload itself sent 60 requests late"
    # a few late, as a busy moment makes them: not the client's limit
    assert not verdict(sent_ms=5.0, late=40, client_late=40).client_bound
    # late because every connection was still busy with the server: the server's limit
    slots = verdict(sent_ms=5.0, late=100, client_late=0)
    assert (slots.passed, slots.client_bound) == (False, False)
    # some late at the start, the many others waiting for a connection: still the server's
    assert not verdict(sent_ms=5.0, late=300, client_late=60).client_bound
    # late although held, but the server was slow once they were sent: the server's limit
    assert not verdict(late=100, client_late=60).client_bound
