"""What a run writes about each request as it goes, besides counting it: ab's ``-v`` heads and
``-g`` lines. Off by default: the engines then skip it with one test per response."""

from __future__ import annotations

from collections.abc import Callable

from trioload.engine.response import Response
from trioload.output.abfiles import GnuplotWriter
from trioload.output.outputs import write_stdout
from trioload.output.verbose import HEADS, response_log


class RequestLog:
    """Called by the engine once per response that arrived whole."""

    def __init__(
        self, verbosity: int, gnuplot: GnuplotWriter | None, unix_time: Callable[[int], float]
    ) -> None:
        self.verbosity = verbosity
        #: the engine keeps each response's first bytes for this (its head, for ``-v``).
        self.wants_heads = verbosity >= HEADS
        self.gnuplot = gnuplot
        self.unix_time = unix_time

    def response(
        self, response: Response, times: tuple[int, int, int, int, int], first_data: bytes
    ) -> None:
        """``times``: started, connected, sent, first byte, done, as
        ``trioload.engine.wire.record_response`` takes them; ``first_data``: the first bytes
        received (empty unless ``wants_heads``)."""
        start, connected, sent, first_byte, done = times
        if self.gnuplot is not None:
            self.gnuplot.write(
                self.unix_time(start),
                (connected - start) // 1000,
                (done - connected) // 1000,
                (done - start) // 1000,
                (first_byte - sent) // 1000,
            )
        if self.wants_heads:
            head = first_data[: response.head_bytes] if response.head_bytes else first_data
            write_stdout(response_log(head, response.status, self.verbosity))
