"""The progress display: ab's ``Completed N requests`` every 10%, or a live line on a tty."""

from __future__ import annotations

import re

from trioload.run.progress import Progress


def completed_counts(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^Completed (\d+) requests$", text, re.MULTILINE)]


def test_progress_prints_every_10_percent_of_n() -> None:
    progress = Progress(total=1000, time_limit=None, live=False)
    printed = "".join(progress.tick(done, 0, done / 100) for done in range(0, 1001, 7))
    assert completed_counts(printed) == [100 * mark for mark in range(1, 10)]
    assert printed.count("\n") == 9
    assert progress.finish(1000) == "Finished 1000 requests\n"


def test_progress_catches_up_on_marks_passed_between_ticks() -> None:
    progress = Progress(total=1000, time_limit=None, live=False)
    assert progress.tick(50, 0, 0.1) == ""
    assert completed_counts(progress.tick(350, 0, 0.2)) == [100, 200, 300]
    assert progress.tick(350, 0, 0.3) == ""
    assert completed_counts(progress.tick(1000, 0, 0.4)) == [400, 500, 600, 700, 800, 900]


def test_progress_marks_time_with_t_only() -> None:
    progress = Progress(total=None, time_limit=10.0, live=False)
    assert progress.tick(40, 0, 0.5) == ""
    assert completed_counts(progress.tick(120, 0, 2.1)) == [120, 120]
    assert completed_counts(progress.tick(700, 0, 9.9)) == [700] * 7


def test_progress_stays_silent_for_small_n_like_ab() -> None:
    # ab prints no heartbeat for -n 150 or less.
    progress = Progress(total=150, time_limit=None, live=False)
    assert "".join(progress.tick(done, 0, done / 10) for done in range(151)) == ""


def test_progress_marks_are_at_least_100_apart_and_never_repeat() -> None:
    # ab's step is max(n/10, 100): -n 250 gets marks at 100 and 200 only.
    progress = Progress(total=250, time_limit=None, live=False)
    printed = "".join(progress.tick(done, 0, done / 10) for done in range(251))
    assert completed_counts(printed) == [100, 200]


def test_progress_live_line_rewrites_itself() -> None:
    progress = Progress(total=1000, time_limit=None, live=True)
    first = progress.tick(200, 3, 1.0)
    second = progress.tick(500, 4, 2.0)
    for line in (first, second):
        assert line.startswith("\r")
        assert line.endswith("\x1b[K")
        assert "\n" not in line
    assert "200/1000 requests" in first
    assert "3 failed" in first
    assert "500/1000 requests" in second
    assert "300 req/s" in second  # the rate over the last tick, not since the start
    assert "2.0 s" in second
    assert progress.finish(1000) == "\r\x1b[K"


def test_progress_live_line_without_n_shows_the_count_alone() -> None:
    line = Progress(total=None, time_limit=5.0, live=True).tick(42, 0, 1.0)
    assert "\r42 requests" in line
    assert "/" not in line.split("requests")[0]
