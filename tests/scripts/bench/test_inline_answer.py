"""The bench's in-process timing of trioserve's inline answer (``benchlib.bench.inline_answer``)."""

from __future__ import annotations

from pathlib import Path

import pytest

import trioserve.server as engine
from scripts.benchlib.bench import inline_answer


def test_time_inline_answers_answers_every_typical_head_inline() -> None:
    timings = inline_answer.time_inline_answers(calls=3, repeats=2)
    assert set(timings) == set(inline_answer.HEADS)
    assert all(us > 0 for us in timings.values())


@pytest.mark.parametrize(
    "head",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n",  # incomplete: the slow path would wait for more
        b"GET / HTTP/1.1\r\n\r\n",  # no Host: refused, and a refusal is not timed as an answer
    ],
)
def test_time_inline_answers_refuses_to_time_a_head_not_answered_inline(head: bytes) -> None:
    with pytest.raises(SystemExit, match="not answered inline"):
        inline_answer.time_inline_answers({"odd": head}, calls=2, repeats=1)


def test_medians_are_each_heads_over_the_rounds() -> None:
    runs = [{"ab": 3.0, "wrk": 1.0}, {"ab": 1.0, "wrk": 2.0}, {"ab": 2.0, "wrk": 9.0}]
    assert inline_answer.medians(runs) == {"ab": 2.0, "wrk": 2.0}


def test_time_inline_answers_puts_the_system_calls_back() -> None:
    names = ("os", "set_nonblocking", "half_close")
    before = [getattr(engine, name) for name in names]
    inline_answer.time_inline_answers(calls=2, repeats=1)
    assert [getattr(engine, name) for name in names] == before


def test_measure_refuses_a_timing_of_another_trioserve(tmp_path: Path) -> None:
    # tmp_path holds no trioserve: the interpreter finds the repository's, and must say so.
    with pytest.raises(RuntimeError, match="timed the trioserve in"):
        inline_answer.measure(tmp_path)
