"""``trioload`` command line: ab's flags → LoadConfig → the run → ab's report (and JSON)."""

from __future__ import annotations

import sys
from functools import partial

import trio

from trioload import __version__
from trioload.compare import command as compare
from trioload.config import LoadConfig, UsageError
from trioload.configure import config_from_args
from trioload.engine.schedule import tight_concurrency_warning
from trioload.flags import build_parser
from trioload.knee import command as knee
from trioload.output import plot
from trioload.output.abfiles import GnuplotWriter
from trioload.output.outputs import check_writable, emit, output_paths, write_stderr, write_stdout
from trioload.output.verbose import request_info
from trioload.results import merge
from trioload.results.result import RunResult
from trioload.run.fdlimit import check_run_fds
from trioload.run.preflight import TargetError
from trioload.run.process import run_in_process
from trioload.run.progress import Progress
from trioload.run.workers import run_workers
from trioload.segments import start_warning

#: ``trioload NAME ...``: the subcommands, each with its own flags.
SUBCOMMANDS = {"compare": compare.main, "knee": knee.main, "merge": merge.main, "plot": plot.main}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SUBCOMMANDS:
        return SUBCOMMANDS[argv[0]](argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
        check_run_fds(config)
        check_writable(output_paths(config))
    except UsageError as exc:
        print(f"trioload: {exc}", file=sys.stderr)
        return 2
    warnings = [start_warning(config)]
    if config.rate is not None:
        # the flags as given: a segment's shares of -c and -R keep the whole test's ratio
        whole_c = config.segment.concurrency if config.segment else config.concurrency
        # at the shape's peak, where the slots are shortest
        peak = config.shape.peak_rate if config.shape is not None else config.rate
        warnings.append(tight_concurrency_warning(peak, whole_c))
    for warning in warnings:
        if warning:
            write_stderr(f"trioload: {warning}\n")
    if config.progress:
        write_stderr(
            f"This is trioload {__version__}, an ab-compatible load generator on trio\n\n"
            f"Benchmarking {config.target.host} (be patient)\n"
        )
    write_stdout(request_info(config.method, config.encode_request(), config.verbosity))
    gnuplot = GnuplotWriter(config.gnuplot_path) if config.gnuplot_path else None
    try:
        result = _run(config, gnuplot)
    except (TargetError, OSError) as exc:
        print(f"trioload: {exc}", file=sys.stderr)
        return 2
    finally:
        if gnuplot is not None:
            gnuplot.close()
    written = emit(result, gnuplot.error if gnuplot is not None else None)
    if result.interrupted:
        return 130
    return 1 if result.tally.failed or not written else 0


def _run(config: LoadConfig, gnuplot: GnuplotWriter | None) -> RunResult:
    if config.workers > 1:
        return trio.run(run_workers, config)
    progress = (
        Progress(config.requests, config.time_limit, live=sys.stderr.isatty())
        if config.progress
        else None
    )
    return trio.run(partial(run_in_process, config, progress=progress, gnuplot=gnuplot))


if __name__ == "__main__":
    sys.exit(main())
