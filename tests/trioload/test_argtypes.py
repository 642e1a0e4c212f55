"""The flag types the command lines share: finite numbers, and durations with their units."""

from __future__ import annotations

import argparse

import pytest

from trioload.argtypes import not_negative_float, parse_duration, positive_float, positive_int


def test_parse_duration_units() -> None:
    texts = ("90", "90s", "1.5m", "500ms", "250us", "250µs", "1h")
    assert [parse_duration(t) for t in texts] == [90.0, 90.0, 90.0, 0.5, 0.00025, 0.00025, 3600.0]


@pytest.mark.parametrize("text", ["", "fast", "10x", "0s", "-1s", "1 s", "inf"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_parse_duration_may_require_a_unit() -> None:
    assert parse_duration("20ms", unit_required=True) == 0.02
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("20", unit_required=True)


@pytest.mark.parametrize("text", ["inf", "nan", "-inf", "0", "-1"])
def test_positive_numbers_are_finite_and_above_zero(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        positive_float(text)


def test_not_negative_float_takes_zero_but_nothing_infinite() -> None:
    assert not_negative_float("0") == 0.0
    for text in ("-0.5", "inf", "nan", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            not_negative_float(text)
    assert positive_int("3") == 3
