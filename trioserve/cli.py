"""``trioserve`` command line: flags → ServerConfig → one process or a supervisor of workers."""

from __future__ import annotations

import argparse
import math
import select
import sys
from functools import partial

import trio

from trioserve import __version__
from trioserve.argtypes import positive_float, positive_int, worker_count
from trioserve.config import DEFAULT_PORT, ServerConfig
from trioserve.fdlimit import raise_nofile_limit
from trioserve.lifecycle import serve_until_signalled
from trioserve.tls_context import TlsFilesError, server_context
from trioserve.workers import supervise

DESCRIPTION = """\
A hardened keep-alive-off HTTP/1.x server on trio. Every request gets the same response
(by default the 88 bytes 'HTTP/1.1 200 OK ... Connection: close ... hello') and the server
closes first. Slow, idle, oversized or malformed clients are cut off by deadlines and limits.
"""

EPILOG = """\
exit status: 0 after a graceful stop (SIGINT/SIGTERM: stop accepting, let open connections
finish within --grace seconds); 128+N when a second signal N forced an immediate stop;
1 when it cannot start (port in use, bad host) or a worker process failed; 2 on usage errors.
"""


def milliseconds(text: str) -> float:
    """A duration in milliseconds: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trioserve",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    add("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any)")
    add(
        "--backlog",
        type=positive_int,
        default=4096,
        help="listen queue length (default 4096; short queues overflow into 1 s SYN retries)",
    )
    add(
        "--workers",
        type=worker_count,
        default=1,
        metavar="N|auto",
        help="processes, each with its own SO_REUSEPORT listener (default 1; 0/auto: per core)",
    )
    add(
        "--max-connections",
        type=positive_int,
        default=10_000,
        metavar="N",
        help="open connections beyond which accepting pauses (default 10000)",
    )
    add(
        "--head-timeout",
        type=positive_float,
        default=10.0,
        metavar="S",
        help="seconds for a whole request head to arrive, else 408 and close (default 10)",
    )
    add(
        "--keep-alive",
        action="store_true",
        help="serve successive requests on one connection (HTTP/1.1, or 1.0 asking for it)",
    )
    add(
        "--keep-alive-timeout",
        type=positive_float,
        default=5.0,
        metavar="S",
        help="with --keep-alive, seconds an idle connection may wait (default 5)",
    )
    add(
        "--grace",
        type=float,
        default=3.0,
        metavar="S",
        help="seconds open connections get to finish on SIGINT/SIGTERM (default 3)",
    )
    add(
        "--max-head",
        type=positive_int,
        default=8192,
        metavar="BYTES",
        help="largest request head accepted, else 431 (default 8192)",
    )
    add("--body", default="hello", help="response body (default 'hello')")
    add("--content-type", default="text/plain", help="response Content-Type (default text/plain)")
    add(
        "--defer-accept",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Linux TCP_DEFER_ACCEPT: the kernel hands over a connection once its request has "
        "arrived, so it is answered the moment it is accepted (on by default; a connection "
        "that sends nothing reaches trioserve after about 1-3 s, and then has --head-timeout)",
    )
    add("--access-log", action="store_true", help="print one line per response on stdout")
    add(
        "--delay",
        type=milliseconds,
        default=0.0,
        metavar="MS",
        help="write each response MS milliseconds after its request head arrived "
        "(default 0; with --keep-alive, a connection's next request waits for it)",
    )
    add(
        "--stall-every",
        type=positive_float,
        metavar="S",
        help="pause the whole server (no accept, read or write) for the last --stall-for "
        "seconds of every S seconds from its start (default: never)",
    )
    add(
        "--stall-for",
        type=positive_float,
        metavar="S",
        help="seconds each --stall-every pause lasts (both or neither; less than --stall-every)",
    )
    add(
        "--certfile",
        metavar="FILE",
        help="serve HTTPS: every connection is TLS (1.2+) with this PEM certificate chain "
        "(the handshake counts against --head-timeout)",
    )
    add(
        "--keyfile",
        metavar="FILE",
        help="PEM private key for --certfile (default: read from the certfile itself)",
    )
    add("--version", action="version", version=f"trioserve {__version__}")
    add("--worker-process", action="store_true", help=argparse.SUPPRESS)
    return parser


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    return ServerConfig(
        host=args.host,
        port=args.port,
        backlog=args.backlog,
        workers=args.workers,
        reuse_port=args.workers > 1 or args.worker_process,
        defer_accept=args.defer_accept,
        max_connections=args.max_connections,
        head_timeout=args.head_timeout,
        keep_alive=args.keep_alive,
        keep_alive_timeout=args.keep_alive_timeout,
        grace=args.grace,
        max_head=args.max_head,
        max_request_line=min(4096, args.max_head),
        body=args.body.encode("utf-8"),
        content_type=args.content_type,
        access_log=args.access_log,
        response_delay=args.delay / 1000,
        stall_every=args.stall_every or 0.0,
        stall_for=args.stall_for or 0.0,
        certfile=args.certfile,
        keyfile=args.keyfile,
    )


def stall_flags_error(args: argparse.Namespace) -> str | None:
    """What is wrong with --stall-every/--stall-for together, if anything."""
    every, length = args.stall_every, args.stall_for
    if (every is None) != (length is None):
        return "--stall-every and --stall-for go together"
    if every is None:
        return None
    if not math.isfinite(every):
        return f"--stall-every must be a finite number, got {every:g}"
    if not length < every:  # (a nan --stall-for fails this too)
        return f"--stall-for must be less than --stall-every, got {length:g} and {every:g}"
    return None


def tls_flags_error(args: argparse.Namespace) -> str | None:
    """What is wrong with --certfile/--keyfile, if anything: loads them once to find out
    (each server process loads them again for itself)."""
    if args.certfile is None:
        return "--keyfile needs --certfile" if args.keyfile is not None else None
    try:
        server_context(args.certfile, args.keyfile)
    except TlsFilesError as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be 0..65535, got {args.port}")
    if (problem := stall_flags_error(args) or tls_flags_error(args)) is not None:
        parser.error(problem)
    if not hasattr(select, "epoll"):
        # The engine serves its connections from one epoll set (see trioserve.server).
        print("trioserve: needs Linux (select.epoll is not available here)", file=sys.stderr)
        return 1
    config = config_from_args(args)
    raise_nofile_limit()
    try:
        if config.workers > 1 and not args.worker_process:
            return trio.run(supervise, config, argv)
        return trio.run(partial(serve_until_signalled, config, worker=args.worker_process))
    except OSError as exc:
        print(
            f"trioserve: cannot listen on {config.host}:{config.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
