"""Sans-IO progress display: a live line for terminals, ab's ``Completed N requests`` otherwise.

The run loop calls ``tick`` a few times a second with the counters; the reporter answers the
text to write (or nothing). It never sleeps, never touches a stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Progress:
    """What to print as the run advances."""

    total: int | None
    time_limit: float | None
    live: bool
    #: last 10% mark printed (ab style), and the previous tick for the current rate.
    _marks_done: int = 0
    _last: tuple[float, int] = field(default=(0.0, 0))

    def tick(self, finished: int, failed: int, elapsed: float) -> str:
        """The text to write to stderr now ('' for nothing)."""
        if self.live:
            return self._live_line(finished, failed, elapsed)
        return self._ab_lines(finished, elapsed)

    def _live_line(self, finished: int, failed: int, elapsed: float) -> str:
        last_time, last_done = self._last
        self._last = (elapsed, finished)
        window = elapsed - last_time
        rate = (finished - last_done) / window if window > 0 else 0.0
        of_total = f"/{self.total}" if self.total is not None else ""
        return (
            f"\r{finished}{of_total} requests  {rate:,.0f} req/s  "
            f"{failed} failed  {elapsed:.1f} s\x1b[K"
        )

    def _ab_lines(self, finished: int, elapsed: float) -> str:
        """ab's heartbeat: with -n over 150, a line every max(n/10, 100) requests."""
        lines = []
        while self._marks_done < 9:
            mark = self._marks_done + 1
            if self.total is not None:
                if self.total <= 150:
                    break
                count = max(self.total // 10, 100) * mark
                if count >= self.total or finished < count:
                    break
            elif self.time_limit is not None:
                if elapsed < self.time_limit * mark / 10:
                    break
                count = finished
            else:
                break
            self._marks_done = mark
            lines.append(f"Completed {count} requests\n")
        return "".join(lines)

    def finish(self, finished: int) -> str:
        """The closing text: clear the live line, or ab's ``Finished N requests``."""
        if self.live:
            return "\r\x1b[K"
        return f"Finished {finished} requests\n"
