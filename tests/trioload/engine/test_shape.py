"""Rate shapes: the count asked for by each moment, the due time of each request (its
inverse), and the text of ``-R A:B`` and ``--stages``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trioload.engine.schedule import Schedule
from trioload.engine.shape import (
    Shape,
    ShapeError,
    Stage,
    parse_rate,
    parse_stages,
)

stages = st.builds(
    Stage,
    st.floats(min_value=0.1, max_value=20),
    st.floats(min_value=0, max_value=2000),
    st.floats(min_value=0, max_value=2000),
)


def test_shape_constant_stage_is_a_constant_rate() -> None:
    shape = Shape((Stage(10.0, 100.0, 100.0),))
    assert [shape.due_s(k) for k in (0, 1, 250)] == [0.0, 0.01, 2.5]
    assert shape.requests == 1000
    assert shape.mean_rate == shape.peak_rate == 100.0


def test_shape_ramp_asks_for_the_area_under_it() -> None:
    shape = Shape((Stage(6.0, 200.0, 1000.0),))
    assert shape.requests == 3600  # (200 + 1000) / 2 req/s for 6 s
    assert shape.asked_by(3.0) == pytest.approx(200 * 3 + 800 / 6 * 9 / 2)
    # the rate rises: each second asks for more than the one before
    per_second = [shape.asked_by(t + 1) - shape.asked_by(t) for t in range(6)]
    assert per_second == sorted(per_second)
    assert per_second[0] == pytest.approx(200 + 800 / 12)
    assert shape.mean_rate == 600.0


@given(st.lists(stages, min_size=1, max_size=4))
def test_shape_due_time_is_when_the_count_reaches_the_request(parts: list[Stage]) -> None:
    try:
        shape = Shape(tuple(parts))
    except ShapeError:
        return  # asks for nothing
    whole = int(shape.requests)
    dues = [shape.due_s(k) for k in range(0, whole, max(whole // 50, 1))]
    assert dues == sorted(dues)
    for k, due in zip(range(0, whole, max(whole // 50, 1)), dues, strict=True):
        assert shape.asked_by(due) == pytest.approx(k, abs=1e-6 * whole + 1e-6)
    assert shape.due_s(whole + 1) > shape.seconds  # asked for by no stage: after the run


def test_shape_pause_asks_for_nothing_and_the_next_stage_goes_on() -> None:
    shape = parse_stages("1s@100,2s@0,1s@100")
    assert shape.requests == 200
    assert shape.due_s(99) == pytest.approx(0.99)
    assert shape.due_s(100) == pytest.approx(3.0)  # after the pause
    assert shape.asked_by(2.0) == 100


def test_schedule_parts_together_send_the_shape_exactly() -> None:
    shape = parse_stages("1s@10:50,1s@50")
    whole = Schedule(30.0, shape=shape)
    parts = [Schedule(30.0, part, 3, shape) for part in range(3)]
    merged = sorted(part.due_ns(k) for part in parts for k in range(20))
    assert merged == [whole.due_ns(k) for k in range(60)]
    assert sum(part.asked_by(1.5) for part in parts) == pytest.approx(whole.asked_by(1.5))


def test_parse_rate_constant_or_ramp() -> None:
    assert parse_rate("250") == (250.0, 250.0)
    assert parse_rate("200:1000") == (200.0, 1000.0)
    assert parse_rate("0:1000") == (0.0, 1000.0)  # a ramp may start from nothing


@pytest.mark.parametrize("text", ["5:", ":5", "fast", "0", "-3", "0:0", "1:2:3", "inf"])
def test_parse_rate_refuses(text: str) -> None:
    with pytest.raises(ShapeError):
        parse_rate(text)


@pytest.mark.parametrize(
    "text", ["10s@", "@100", "10x@100", "0s@100", "10s100", "10s@a:b", "", "1s@5,2s@0", "1s@0"]
)
def test_parse_stages_refuses(text: str) -> None:
    with pytest.raises(ShapeError):
        parse_stages(text)


def test_parse_stages_and_its_label_round_trip() -> None:
    shape = parse_stages("10s@100, 30s@100:1000,20s@1000")
    assert shape.stages == (
        Stage(10.0, 100.0, 100.0),
        Stage(30.0, 100.0, 1000.0),
        Stage(20.0, 1000.0, 1000.0),
    )
    assert shape.label() == "10s@100,30s@100:1000,20s@1000"
    assert parse_stages(shape.label()) == shape
    assert shape.seconds == 60.0
    assert shape.peak_rate == 1000.0
