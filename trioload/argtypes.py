"""What both command lines (``trioload`` and ``trioload merge``) share: numbers above zero,
and a parser whose usage error is one line."""

from __future__ import annotations

import argparse
from typing import NoReturn, TypeVar

T = TypeVar("T", int, float)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def positive_int(text: str) -> int:
    """A flag's whole number above zero."""
    return _above_zero(text, int, "a whole number")


def positive_float(text: str) -> float:
    """A flag's number of seconds above zero."""
    return _above_zero(text, float, "a number")


def _above_zero(text: str, kind: type[T], what: str) -> T:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value
