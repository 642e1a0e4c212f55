"""``trioload`` command line: ab's flags → LoadConfig → the run → ab's report (and JSON)."""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial
from pathlib import Path

import trio

from trioload import __version__, merge, plot, shards
from trioload.argtypes import OneLineParser, positive_float, positive_int
from trioload.config import DEFAULT_URL, LoadConfig, UsageError, parse_url
from trioload.engine import ENGINES
from trioload.fdlimit import check_fd_limit
from trioload.outputs import check_writable, emit, output_paths, write_stderr
from trioload.preflight import TargetError
from trioload.process import run_in_process
from trioload.result import RunResult
from trioload.schedule import tight_concurrency_warning
from trioload.worker_protocol import AS_WORKER_FLAG, SCHEDULE_PART_FLAG, schedule_part
from trioload.workers import run_workers

DESCRIPTION = f"""\
An HTTP load generator with ApacheBench's flags and report, on trio.
It never aborts on a failed request (ab's -r is always on), accounts for every request it
starts (Connect, Receive, Length, Exceptions and Write failures; Non-2xx apart), keeps HDR
histograms (constant memory, p99.99 included) and prints ab's report on stdout.
URL defaults to {DEFAULT_URL} (trioserve's default), so `trioload -c 1000 -n 1000000` runs
against a local trioserve as is.

Latencies are closed-loop like ab's: each of the -c connections sends its next request when the
previous one ends, so time spent queued behind a stalled server is not measured
(coordinated omission). Compare percentiles between runs at equal -c. With -R N the run is
open-loop instead: request k is due at k/N seconds, and its latency counts from then.

`trioload merge A.json B.json ...` combines runs made side by side (see trioload merge -h).
"""

EPILOG = """\
exit status: 0 the run completed and no request failed; 1 the run completed but some requests
failed, or an output could not be written at the end (the report still went to stdout, or to
stderr if stdout was closed); 2 the run could not start (bad flag or URL, too few file
descriptors for -c, an output path that cannot be written, a host that does not resolve, nothing
listening at the URL's port); 130 interrupted by Ctrl-C or SIGTERM (the report still covers what
finished).
"""


def worker_count(text: str) -> int:
    """``-w``: a count of processes, or ``auto``/0 for one per core."""
    return (os.cpu_count() or 1) if text in {"auto", "0"} else positive_int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="trioload",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("url", nargs="?", default=DEFAULT_URL, metavar="URL", help=f"default {DEFAULT_URL}")
    add(
        "-c",
        dest="concurrency",
        type=positive_int,
        default=1,
        metavar="N",
        help="concurrent connections (default 1)",
    )
    add(
        "-n",
        dest="requests",
        type=positive_int,
        metavar="N",
        help="requests to perform (default 1; unlimited with -t)",
    )
    add(
        "-t",
        dest="time_limit",
        type=positive_float,
        metavar="S",
        help="stop after S seconds (with -n: whichever comes first)",
    )
    add(
        "-s",
        dest="timeout",
        type=positive_float,
        default=30.0,
        metavar="S",
        help="per-request timeout, connect to last byte (default 30)",
    )
    add(
        "-k",
        dest="keep_alive",
        action="store_true",
        help="keep-alive: send several requests per connection (framed by Content-Length "
        "or chunked encoding)",
    )
    add(
        "-H",
        dest="headers",
        action="append",
        default=[],
        metavar="'Name: value'",
        help="extra request header, repeatable (replaces a default of the same name)",
    )
    add("-m", dest="method", metavar="METHOD", help="request method (default GET; POST with -p)")
    add("-p", dest="body_file", metavar="FILE", help="file holding the request body")
    add(
        "-T",
        dest="content_type",
        default="text/plain",
        metavar="TYPE",
        help="Content-Type of the -p body (default text/plain)",
    )
    add("-q", dest="quiet", action="store_true", help="no progress display")
    add(
        "-r",
        dest="ignored_r",
        action="store_true",
        help="accepted for ab compatibility: trioload never exits on a socket error",
    )
    add(
        "-w",
        "--workers",
        dest="workers",
        type=worker_count,
        default=1,
        metavar="N|auto",
        help="processes sharing -c and -n, results merged (default 1; auto: one per core)",
    )
    add(
        "-R",
        "--rate",
        dest="rate",
        type=positive_float,
        metavar="N",
        help="open-loop schedule: N requests per second for the whole run (all -w workers), "
        "at most -c in flight; latency counts from when each request was due (corrected for "
        "coordinated omission) and from when it was sent",
    )
    add(
        "--start-at",
        dest="start_at",
        type=float,
        metavar="UNIX_TIME",
        help="begin at this Unix time (to start several machines together, then merge)",
    )
    add(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="how requests are multiplexed: shards (epoll sets, the default on Linux) or tasks "
        "(one trio task per connection, the fallback elsewhere); auto picks",
    )
    add(
        "--json",
        dest="json_path",
        metavar="FILE",
        help="write the JSON report to FILE ('-': stdout, the text report then goes to stderr)",
    )
    add(
        "--hdr-log",
        dest="hdr_log_path",
        metavar="FILE",
        help="write an HdrHistogram interval log (format 1.3, a line per interval and phase)",
    )
    add(
        "--hgrm",
        dest="hgrm_path",
        metavar="FILE",
        help="write the latency's percentile distribution (.hgrm, milliseconds)",
    )
    add(
        "--interval",
        dest="interval",
        type=positive_float,
        default=1.0,
        metavar="S",
        help="seconds per --hdr-log interval and per JSON timeline entry (default 1)",
    )
    # A -w worker process (trioload.worker_protocol): progress records on stderr, JSON alone.
    add(AS_WORKER_FLAG, dest="as_worker", action="store_true", help=argparse.SUPPRESS)
    add(SCHEDULE_PART_FLAG, dest="schedule_part", type=schedule_part, help=argparse.SUPPRESS)
    add("-V", "--version", action="version", version=f"trioload {__version__}")
    return parser


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or any(c in text for c in "\r\n"):
        raise UsageError(f"bad header {text!r}: expected 'Name: value'")
    return name.strip(), value.strip()


def config_from_args(args: argparse.Namespace) -> LoadConfig:
    """Validate the flags together; UsageError on anything the run could not do."""
    parse_url(args.url)
    body = None
    if args.body_file is not None:
        try:
            body = Path(args.body_file).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read -p {args.body_file}: {exc.strerror}") from None
    method = args.method or ("POST" if body is not None else "GET")
    if not method.isalpha():
        raise UsageError(f"bad method {method!r}")
    if args.engine == "shards" and not shards.AVAILABLE:
        raise UsageError("--engine shards needs epoll (Linux); use --engine tasks or auto")
    requests = args.requests
    if requests is None and args.time_limit is None:
        requests = 1
    # A -w worker writes its JSON on stdout; its parent writes the files.
    files = (None, None) if args.as_worker else (args.hdr_log_path, args.hgrm_path)
    return LoadConfig(
        url=args.url,
        concurrency=args.concurrency,
        requests=requests,
        time_limit=args.time_limit,
        timeout=args.timeout,
        keep_alive=args.keep_alive,
        method=method.upper(),
        headers=tuple(_header(h) for h in args.headers),
        body=body,
        content_type=args.content_type,
        progress=not args.quiet,
        as_worker=args.as_worker,
        json_path=args.json_path,
        engine=args.engine,
        workers=min(args.workers, args.concurrency, requests or args.concurrency),
        rate=args.rate,
        schedule_part=args.schedule_part or (0, 1),
        start_at=args.start_at,
        interval=args.interval,
        hdr_log_path=files[0],
        hgrm_path=files[1],
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["merge"]:
        return merge.main(argv[1:])
    if argv[:1] == ["plot"]:
        return plot.main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
        check_fd_limit(config.concurrency // config.workers + 1)
        check_writable(output_paths(config.json_path, config.hdr_log_path, config.hgrm_path))
    except UsageError as exc:
        print(f"trioload: {exc}", file=sys.stderr)
        return 2
    if config.rate is not None and not config.as_worker:
        warning = tight_concurrency_warning(config.rate, config.concurrency)
        if warning:
            write_stderr(f"trioload: {warning}\n")
    if config.progress:
        write_stderr(
            f"This is trioload {__version__}, an ab-compatible load generator on trio\n\n"
            f"Benchmarking {config.target.host} (be patient)\n"
        )
    try:
        result = _run(config, argv)
    except (TargetError, OSError) as exc:
        print(f"trioload: {exc}", file=sys.stderr)
        return 2
    written = emit(result)
    if result.interrupted:
        return 130
    return 1 if result.tally.failed or not written else 0


def _run(config: LoadConfig, argv: list[str]) -> RunResult:
    if config.workers > 1:
        return trio.run(run_workers, config, argv)
    return trio.run(partial(run_in_process, config, live_progress=sys.stderr.isatty()))


if __name__ == "__main__":
    sys.exit(main())
