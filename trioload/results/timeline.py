"""Sans-IO timeline of a run: what finished in each interval of wall-clock time, with the
interval's HDR histograms.

Intervals are cut on a grid of whole multiples of ``--interval`` seconds of Unix time (the first
and the last are partial), so the timelines of runs made side by side, in ``-W`` workers or on
other machines, line up cell by cell and merge exactly (``merge_timelines``). The entries feed
the JSON's ``timeline`` and the ``--hdr-log`` file (``trioload.output.hdrlog``).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from trioload.results.tally import Tally, clear_histogram, new_histogram


@dataclass(frozen=True, slots=True)
class Interval:
    """One entry: [start, end) in Unix seconds, its counts, and its histograms (hdrh's
    compressed encoding, by phase; phases with no value are left out); under a schedule, how
    many requests it asked for in the interval (``sent``: the lag histogram's count)."""

    start_unix_s: float
    end_unix_s: float
    finished: int
    failed: int
    hdr: dict[str, str]
    asked: float | None = None

    def histogram(self, phase: str, into: HdrHistogram) -> HdrHistogram | None:
        """The phase's histogram, decoded into ``into`` (emptied first); None without one."""
        encoded = self.hdr.get(phase)
        if not encoded:
            return None
        return decode_into(into, [encoded])

    def to_json(self) -> dict[str, Any]:
        entry = {
            "start_unix_s": self.start_unix_s,
            "end_unix_s": self.end_unix_s,
            "finished": self.finished,
            "failed": self.failed,
            "hdr": self.hdr,
        }
        return entry if self.asked is None else entry | {"asked": self.asked}

    @classmethod
    def from_json(cls, entry: dict[str, Any]) -> Interval:
        return cls(
            entry["start_unix_s"],
            entry["end_unix_s"],
            entry["finished"],
            entry["failed"],
            dict(entry["hdr"]),
            entry.get("asked"),
        )


@dataclass
class Timeline:
    """Cuts a running tally into intervals; ``cut`` is called at each grid line and once at
    the end of the run."""

    interval_s: float = 1.0
    entries: list[Interval] = field(default_factory=list)
    #: under a schedule: how many requests it asked for by a Unix time (None: closed loop).
    asked_by: Callable[[float], float] | None = None
    #: the tally's counters at the previous cut, and when it was made (Unix time).
    _finished: int = 0
    _failed: int = 0
    _last_cut: float | None = None

    def next_boundary(self, now_unix: float) -> float:
        """The first grid line after ``now_unix``."""
        return (math.floor(now_unix / self.interval_s) + 1) * self.interval_s

    def cut(self, tally: Tally, run_start_unix: float, now_unix: float) -> None:
        """Close the interval from the last cut (or the run's start) to now: what the tally
        recorded since. An interval in which nothing finished leaves no entry."""
        for _ in self.cut_in_steps(tally, run_start_unix, now_unix):
            pass

    def cut_in_steps(self, tally: Tally, run_start_unix: float, now_unix: float) -> Iterator[None]:
        """``cut``, yielding between the histograms' phases (``Tally.take_interval_in_steps``):
        the interval ends when it starts, and its entry is added after the last step."""
        first = self._last_cut is None
        start_unix = run_start_unix if self._last_cut is None else self._last_cut
        end_unix = self._last_cut = now_unix
        finished, failed = tally.finished, tally.failed
        done, bad = finished - self._finished, failed - self._failed
        self._finished, self._failed = finished, failed
        hdr = yield from tally.take_interval_in_steps()
        asked = None
        if self.asked_by is not None:
            # the first from the schedule's start, which a late process began after
            asked = self.asked_by(end_unix) - (0.0 if first else self.asked_by(start_unix))
        if done or hdr or asked:  # a stall under a schedule still asked for its requests
            self.entries.append(Interval(start_unix, end_unix, done, bad, hdr, asked))


def grid_cell(entry: Interval, interval_s: float) -> int:
    """Which grid cell an entry covers; its midpoint decides, so that a cut made a little
    after (or before) its grid line still lands in the right cell."""
    return math.floor((entry.start_unix_s + entry.end_unix_s) / 2 / interval_s)


def decode_into(histogram: HdrHistogram, encodings: Iterable[str]) -> HdrHistogram:
    """``histogram`` emptied, then holding the sum of the encoded histograms."""
    clear_histogram(histogram)
    for encoded in encodings:
        histogram.decode_and_add(encoded.encode("ascii"))
        # hdrh decodes into a new histogram that refers to its encoder and back: a cycle
        # holding the whole counts array, which only the garbage collector frees, and it
        # seldom runs here. Uncollected, a run's JSON grew trioload's peak RSS with every
        # timeline interval (docs/benchmarks.md); collected, it stays flat.
        gc.collect(1)
    return histogram


def merge_timelines(timelines: Iterable[Iterable[Interval]], interval_s: float) -> list[Interval]:
    """One timeline from several runs' (on the same grid): entries of one cell are added."""
    cells: dict[int, list[Interval]] = {}
    for timeline in timelines:
        for entry in timeline:
            cells.setdefault(grid_cell(entry, interval_s), []).append(entry)
    scratch = new_histogram()
    return [_add(cells[cell], scratch) for cell in sorted(cells)]


def _add(entries: list[Interval], scratch: HdrHistogram) -> Interval:
    if len(entries) == 1:
        return entries[0]
    hdr: dict[str, str] = {}
    for phase in dict.fromkeys(phase for entry in entries for phase in entry.hdr):
        total = decode_into(scratch, [e.hdr[phase] for e in entries if phase in e.hdr])
        hdr[phase] = total.encode().decode("ascii")
    return Interval(
        min(e.start_unix_s for e in entries),
        max(e.end_unix_s for e in entries),
        sum(e.finished for e in entries),
        sum(e.failed for e in entries),
        hdr,
        None if all(e.asked is None for e in entries) else sum(e.asked or 0.0 for e in entries),
    )
