"""What the command lines (``trioload`` and its subcommands) share: finite numbers above zero,
durations with their units, and a parser whose usage error is one line."""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from typing import NoReturn, TypeVar

T = TypeVar("T", int, float)
Parsed = TypeVar("Parsed")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def flag_type(parse: Callable[[str], Parsed]) -> Callable[[str], Parsed]:
    """A sans-IO parser as argparse's type: its ValueError (the message says what is wrong)
    becomes a one-line usage error."""

    def parse_arg(text: str) -> Parsed:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse_arg.__name__ = parse.__name__  # argparse names the type in its errors
    return parse_arg


def positive_int(text: str) -> int:
    """A flag's whole number above zero."""
    return _above_zero(text, int, "a whole number")


def positive_float(text: str) -> float:
    """A flag's number of seconds above zero."""
    return _above_zero(text, float, "a number")


def not_negative_float(text: str) -> float:
    """A flag's number of seconds, 0 or more."""
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _above_zero(text: str, kind: type[T], what: str) -> T:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be > 0 (and finite), got {text}")
    return value


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


#: a duration's units, in seconds; without one, a duration is in seconds.
DURATION_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(us|µs|ms|s|m|h)?")


def parse_duration(text: str, *, unit_required: bool = False) -> float:
    """Seconds from ``90``, ``90s``, ``1.5m``, ``500ms``, ``250us`` or ``1h``; ValueError,
    saying what is wrong, for anything else (or for a bare number, ``unit_required``)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or (unit_required and match[2] is None):
        raise ValueError(f"not a duration (e.g. 30s, 2m, 500ms): {text!r}")
    seconds = float(match[1]) * DURATION_UNITS[match[2] or "s"]
    if seconds <= 0:
        raise ValueError(f"a duration must be above zero: {text!r}")
    return seconds
