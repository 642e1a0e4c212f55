"""``--segment I/N``: one process's part of a test that N processes run together, sans-IO.

A test (its ``-n``, ``-c``, ``-R`` and the rest of its flags) is cut into N *segments*, run by N
processes, usually on N machines, and then merged (``trioload merge``) into the exact report of
the whole test. Segment I takes:

- its share of ``-n`` and of ``-c``, as ``split`` makes them: shares that differ by at most one
  and sum exactly to the whole;
- with ``-R``, every N-th request of the whole schedule, from the I-th: request k of the test is
  segment ``k mod N``'s. Started with one ``--start-at``, the segments' requests interleave into
  the whole test's schedule, each due when the whole schedule says.

A segment's ``-W`` workers cut its share again, the same way (``worker_protocol``), so a worker's
place in the whole schedule composes: see ``LoadConfig.schedule_part``.

A segment's JSON records the segment and the test it belongs to (``record``); ``merge_problems``
says whether a set of such reports is one whole test, nothing missing, nothing twice.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from trioload.config import LoadConfig, UsageError, split


@dataclass(frozen=True, slots=True)
class Segment:
    """Which part of which whole this process runs: segment ``index`` (from 0) of ``count``,
    of a test of ``requests`` requests (None: bounded by ``-t``) on ``concurrency``
    connections."""

    index: int
    count: int
    requests: int | None
    concurrency: int

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"


def parse_segment(text: str) -> tuple[int, int]:
    """``--segment I/N`` as (I, N): 0 <= I < N (argparse's type, so a bad one is a usage
    error before any request)."""
    match = re.fullmatch(r"([0-9]+)/([0-9]+)", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"expected I/N (segment I of N, from 0), got {text!r}")
    index, count = int(match[1]), int(match[2])
    if count < 1:
        raise argparse.ArgumentTypeError(f"{text}: the count N must be at least 1")
    if index >= count:
        raise argparse.ArgumentTypeError(
            f"{text}: the index I is counted from 0, so it must be below N (0 to {count - 1})"
        )
    return index, count


def segment_config(whole: LoadConfig, index: int, count: int) -> LoadConfig:
    """This segment's config from the whole test's: its shares of ``-n`` and ``-c`` and its
    place in the schedule; UsageError when the test is too small to give every segment one
    request and one connection."""
    if whole.requests is not None and whole.requests < count:
        raise UsageError(
            f"-n {whole.requests} cannot be cut into {count} segments: "
            f"each needs one request at least"
        )
    if whole.concurrency < count:
        raise UsageError(
            f"-c {whole.concurrency} cannot be cut into {count} segments: "
            f"each needs one connection at least"
        )
    requests = split(whole.requests, count)[index] if whole.requests is not None else None
    concurrency = split(whole.concurrency, count)[index]
    return dataclasses.replace(
        whole,
        requests=requests,
        concurrency=concurrency,
        schedule_part=(index, count),
        segment=Segment(index, count, whole.requests, whole.concurrency),
    )


def start_warning(config: LoadConfig) -> str | None:
    """Segments of a scheduled test interleave only from one agreed start."""
    if config.segment is None or config.rate is None or config.start_at is not None:
        return None
    return (
        "warning: --segment with -R but no --start-at: this segment's schedule begins when "
        "this process does; give every segment the same --start-at so that their requests "
        "interleave into the one schedule"
    )


def record(config: LoadConfig) -> dict[str, Any] | None:
    """The segment as its JSON records it: its place, and the test it is a part of (whatever
    two segments of one test must share)."""
    segment = config.segment
    if segment is None:
        return None
    return {
        "index": segment.index,
        "count": segment.count,
        "test": {
            "url": config.url,
            "requests": segment.requests,
            "concurrency": segment.concurrency,
            "rate": config.rate,
            "stages": config.stages,
            "time_limit_s": config.time_limit,
            "start_at": config.start_at,
            "keep_alive": config.keep_alive,
            "interval_s": config.interval,
            # -m, -H, -p and the rest, as the bytes they make.
            "request_sha256": hashlib.sha256(config.encode_request()).hexdigest(),
        },
    }


def merge_problems(reports: list[dict[str, Any]], names: list[str]) -> list[str]:
    """Why these reports (read from the files ``names``) are not the segments of one whole
    test; empty when they are, or when none of them is a segment."""
    maybe = [report.get("segment") for report in reports]
    plain = [name for name, record in zip(names, maybe, strict=True) if record is None]
    if len(plain) == len(reports):
        return []
    if plain:
        return [f"{', '.join(plain)}: not a segment, while the other runs are"]
    records = [record for record in maybe if record is not None]  # all of them, now
    tests = [record["test"] for record in records]
    counts = sorted({record["count"] for record in records})
    if len(counts) > 1:
        return [f"segments of different cuts: of {' and of '.join(map(str, counts))}"]
    problems = [p for key in tests[0] if (p := _difference(key, tests, names))]
    if problems:
        return [f"segments of different tests: {'; '.join(problems)}"]
    count = counts[0]
    seen = Counter(record["index"] for record in records)
    repeated = sorted(i for i, n in seen.items() if n > 1)
    missing = sorted(set(range(count)) - seen.keys())
    if repeated:
        problems.append(f"segment {_listed(repeated, count)} given more than once")
    if missing:
        problems.append(f"segment {_listed(missing, count)} missing")
    return problems


def whole_test(reports: list[dict[str, Any]]) -> tuple[int | None, int, float | None] | None:
    """The whole test's (``-n``, ``-c``, ``-R``) when ``reports`` are its segments."""
    first = reports[0].get("segment") if reports else None
    if first is None:
        return None
    test = first["test"]
    return test["requests"], test["concurrency"], test["rate"]


#: how a test's record names each of its fields to the user: the flag that set it.
_FLAGS = {
    "url": "URL",
    "requests": "-n",
    "concurrency": "-c",
    "rate": "-R",
    "stages": "--stages",
    "time_limit_s": "-t",
    "start_at": "--start-at",
    "keep_alive": "-k",
    "interval_s": "--interval",
    "request_sha256": "the request (-m, -H, -p, ...)",
}


def _difference(key: str, tests: list[dict[str, Any]], names: list[str]) -> str | None:
    """``-n 1800 in a.json, b.json vs 3000 in c.json`` when the tests differ in ``key``."""
    holders: dict[str, list[str]] = {}
    for test, name in zip(tests, names, strict=True):
        holders.setdefault(str(test.get(key)), []).append(name)
    if len(holders) < 2:
        return None
    if key == "request_sha256":
        return f"{_FLAGS[key]} differs: " + " vs ".join(", ".join(n) for n in holders.values())
    listed = " vs ".join(f"{value} in {', '.join(held)}" for value, held in holders.items())
    return f"{_FLAGS.get(key, key)} {listed}"


def _listed(indices: list[int], count: int) -> str:
    return ", ".join(f"{i}/{count}" for i in indices)
