"""``trioload`` command line: ab's flags → LoadConfig → the run → ab's report (and JSON)."""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial
from pathlib import Path
from typing import NoReturn, TypeVar

import trio

from trioload import __version__, shards
from trioload.config import DEFAULT_URL, LoadConfig, UsageError, parse_url
from trioload.engine import ENGINES
from trioload.fdlimit import check_fd_limit
from trioload.process import run_in_process
from trioload.report import format_text
from trioload.result import RunResult, format_json
from trioload.worker_protocol import AS_WORKER_FLAG
from trioload.workers import run_workers

T = TypeVar("T", int, float)

DESCRIPTION = f"""\
An HTTP load generator with ApacheBench's flags and report, on trio.
It never aborts on a failed request (ab's -r is always on), accounts for every request it
starts (Connect, Receive, Length, Exceptions and Write failures; Non-2xx apart), keeps HDR
histograms (constant memory, p99.99 included) and prints ab's report on stdout.
URL defaults to {DEFAULT_URL} (trioserve's default), so `trioload -c 1000 -n 1000000` runs
against a local trioserve as is.

Latencies are closed-loop like ab's: each of the -c connections sends its next request when the
previous one ends, so time spent queued behind a stalled server is not measured
(coordinated omission). Compare percentiles between runs at equal -c.
"""

EPILOG = """\
exit status: 0 the run completed and no request failed; 1 the run completed but some requests
failed; 2 usage error (bad flag or URL, too few file descriptors for -c); 130 interrupted by
Ctrl-C or SIGTERM (the report still covers what finished).
"""


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


def worker_count(text: str) -> int:
    """``-w``: a count of processes, or ``auto``/0 for one per core."""
    return (os.cpu_count() or 1) if text in {"auto", "0"} else positive_int(text)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"trioload: {message} (see trioload --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    # A -w worker process (trioload.worker_protocol): progress records on stderr, JSON alone.
    add(AS_WORKER_FLAG, dest="as_worker", action="store_true", help=argparse.SUPPRESS)
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
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
        check_fd_limit(config.concurrency // config.workers + 1)
    except UsageError as exc:
        print(f"trioload: {exc}", file=sys.stderr)
        return 2
    if config.progress:
        print(
            f"This is trioload {__version__}, an ab-compatible load generator on trio\n\n"
            f"Benchmarking {config.target.host} (be patient)",
            file=sys.stderr,
            flush=True,
        )
    try:
        result = _run(config, argv)
    except OSError as exc:
        print(f"trioload: {exc}", file=sys.stderr)
        return 2
    emit(result)
    if result.interrupted:
        return 130
    return 1 if result.tally.failed else 0


def _run(config: LoadConfig, argv: list[str]) -> RunResult:
    if config.workers > 1:
        return trio.run(run_workers, config, argv)
    return trio.run(partial(run_in_process, config, live_progress=sys.stderr.isatty()))


def emit(result: RunResult) -> None:
    """Text on stdout (stderr when JSON takes stdout); JSON where --json says.

    A ``-w`` worker writes JSON alone: its parent prints the one report, merged.
    """
    path = result.config.json_path
    if not result.config.as_worker:
        text_stream = sys.stderr if path == "-" else sys.stdout
        text_stream.write("\n" + format_text(result))
        text_stream.flush()
    if path == "-":
        sys.stdout.write(format_json(result))
        sys.stdout.flush()
    elif path is not None:
        Path(path).write_text(format_json(result))


if __name__ == "__main__":
    sys.exit(main())
