"""Command-line value converters for trioserve's parser."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TypeVar

Number = TypeVar("Number", int, float)


def _positive(convert: Callable[[str], Number], kind: str) -> Callable[[str], Number]:
    def parse(text: str) -> Number:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {kind}: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse


positive_int = _positive(int, "a whole number")
positive_float = _positive(float, "a number")


def worker_count(text: str) -> int:
    """``auto`` or 0 means one per core."""
    if text in {"auto", "0"}:
        return os.cpu_count() or 1
    return positive_int(text)
