"""``trioload``'s flags: every flag of ab 2.3 in ab's order and with ab's meaning, then
trioload's own. Parsing only: ``trioload.cli`` checks them together and builds the config.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from trioload import __version__
from trioload.argtypes import OneLineParser, flag_type, positive_float, positive_int
from trioload.config import DEFAULT_URL
from trioload.engine.load import CLOCKS, ENGINES
from trioload.engine.shape import parse_rate, parse_stages
from trioload.engine.tls import PROTOCOLS
from trioload.segments import parse_segment

DESCRIPTION = f"""\
An HTTP load generator with ApacheBench's flags and report, on trio.
It never aborts on a failed request (ab's -r is always on), accounts for every request it
starts (Connect, Receive, Length, Exceptions and Write failures; Non-2xx apart), keeps HDR
histograms (constant memory, p99.99 included) and prints ab's report on stdout.
URL (http:// or https://) defaults to {DEFAULT_URL} (trioserve's default), so
`trioload -c 1000 -n 1000000` runs against a local trioserve as is.

Latencies are closed-loop like ab's: each of the -c connections sends its next request when the
previous one ends, so time spent queued behind a stalled server is not measured
(coordinated omission). Compare percentiles between runs at equal -c. With -R N the run is
open-loop instead: request k is due at k/N seconds, and its latency counts from then; -R A:B
ramps the rate over -t, and --stages runs a sequence of rates and ramps.

`trioload compare A=URL B=URL ...` ranks servers over rounds of runs (see trioload compare -h).
`trioload merge A.json B.json ...` combines runs made side by side (see trioload merge -h).
`trioload plot A.json B.json ... -o out.png` draws their latency spectra (trioload plot -h).
"""

EPILOG = """\
exit status: 0 the run completed and no request failed; 1 the run completed but some requests
failed, or an output could not be written at the end (the report still went to stdout, or to
stderr if stdout was closed); 2 the run could not start (bad flag or URL, too few file
descriptors for -c, an output path that cannot be written, a host that does not resolve, nothing
listening at the URL's port, a certificate that does not verify); 130 interrupted by Ctrl-C or
SIGTERM (the report still covers what finished).
"""


#: ``add_argument`` of a parser or group (argparse types it loosely).
_Adder = Callable[..., object]


def worker_count(text: str) -> int:
    """``-W``: a count of processes, or ``auto``/0 for one per core."""
    return (os.cpu_count() or 1) if text in {"auto", "0"} else positive_int(text)


def verbosity(text: str) -> int:
    """``-v``: ab's verbosity level, 0 or more."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="trioload",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,  # -h comes in ab's place in the list
    )
    add = parser.add_argument
    add("url", nargs="?", default=DEFAULT_URL, metavar="URL", help=f"default {DEFAULT_URL}")
    add_run_flags(parser)
    return parser


def runs_parser(prog: str, description: str, epilog: str) -> argparse.ArgumentParser:
    """The parser of a subcommand that makes runs (``compare``, ``knee``): every run flag,
    ``-h`` among them in ab's place; the subcommand adds its operands, and its own flags in a
    group of their own, its ``--json`` replacing the run's."""
    parser = OneLineParser(
        prog=prog,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
        conflict_handler="resolve",
    )
    add_run_flags(parser)
    return parser


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    """ab's flags in ab's order, then trioload's own: everything that shapes a run
    (``trioload compare`` takes them too, for every target alike)."""
    ab = parser.add_argument_group("ab's flags, in ab's order")
    _add_ab_flags(ab.add_argument)
    own = parser.add_argument_group("trioload's own")
    _add_own_flags(own.add_argument)


def _add_ab_flags(add: _Adder) -> None:
    add(
        "-n",
        dest="requests",
        type=positive_int,
        metavar="N",
        help="requests to perform (default 1; unlimited with -t, where ab caps it at 50000)",
    )
    add(
        "-c",
        dest="concurrency",
        type=positive_int,
        default=1,
        metavar="N",
        help="concurrent connections (default 1)",
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
        "-b",
        dest="socket_buffer",
        type=positive_int,
        metavar="BYTES",
        help="TCP send and receive buffer size",
    )
    add("-B", dest="local_address", metavar="ADDRESS", help="local address to connect from")
    add("-p", dest="body_file", metavar="FILE", help="POST the body in FILE (set -T too)")
    add("-u", dest="put_file", metavar="FILE", help="PUT the body in FILE (set -T too)")
    add(
        "-T",
        dest="content_type",
        default="text/plain",
        metavar="TYPE",
        help="Content-Type of the -p/-u body (default text/plain)",
    )
    add(
        "-v",
        dest="verbosity",
        type=verbosity,
        default=0,
        metavar="N",
        help="ab's verbosity: 2 prints the request and each response head, 3 each status",
    )
    add(
        "-w",
        dest="html",
        action="store_true",
        help="print the report as HTML tables (worker processes are -W)",
    )
    add("-i", dest="head", action="store_true", help="HEAD instead of GET")
    add(
        "-x", dest="table_attributes", default="", metavar="ATTRS", help="-w: attributes of <table>"
    )
    add("-y", dest="row_attributes", default="", metavar="ATTRS", help="-w: attributes of <tr>")
    add(
        "-z",
        dest="cell_attributes",
        default="",
        metavar="ATTRS",
        help="-w: attributes of <td> and <th>",
    )
    add(
        "-C",
        dest="cookies",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="cookie, repeatable (all sent, in one Cookie header)",
    )
    add(
        "-H",
        dest="headers",
        action="append",
        default=[],
        metavar="'Name: value'",
        help="extra request header, repeatable (replaces a default of the same name)",
    )
    add("-A", dest="auth", metavar="USER:PASSWORD", help="basic WWW authentication")
    add("-P", dest="proxy_auth", metavar="USER:PASSWORD", help="basic proxy authentication")
    add("-X", dest="proxy", metavar="PROXY:PORT", help="send the requests through this HTTP proxy")
    add("-V", "--version", action="version", version=f"trioload {__version__}")
    add(
        "-k",
        dest="keep_alive",
        action="store_true",
        help="keep-alive: several requests per connection (framed by Content-Length or "
        "chunked encoding)",
    )
    add(
        "-d",
        dest="hide_percentiles",
        action="store_true",
        help="no 'Percentage of the requests served' table",
    )
    add(
        "-S",
        dest="hide_confidence",
        action="store_true",
        help="no sd and median columns, no warnings",
    )
    add("-q", dest="quiet", action="store_true", help="no progress display")
    add(
        "-l",
        dest="variable_length",
        action="store_true",
        help="accept variable document length (no Length failures)",
    )
    add(
        "-g",
        dest="gnuplot_path",
        metavar="FILE",
        help="write ab's gnuplot TSV, a line per request, as the run goes",
    )
    add(
        "-e",
        dest="csv_path",
        metavar="FILE",
        help="write ab's CSV: the time within which each percentage was served",
    )
    add(
        "-r",
        dest="ignored_r",
        action="store_true",
        help="accepted for ab compatibility: trioload never exits on a socket error",
    )
    add("-m", dest="method", metavar="METHOD", help="request method (default GET; POST with -p)")
    add("-h", "--help", action="help", help="show this help and exit")
    add("-I", dest="no_sni", action="store_true", help="https: no Server Name Indication")
    add(
        "-Z",
        dest="ciphers",
        metavar="CIPHERS",
        help="https: OpenSSL cipher list (TLS 1.2 and below)",
    )
    add(
        "-f",
        dest="tls_protocol",
        choices=PROTOCOLS,
        default="ALL",
        metavar="PROTOCOL",
        help=f"https: protocol, one of {', '.join(PROTOCOLS)} (default ALL)",
    )
    add(
        "-E",
        dest="client_cert",
        metavar="FILE",
        help="https: client certificate chain and private key (PEM)",
    )


def _add_own_flags(add: _Adder) -> None:
    add(
        "-W",
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
        type=flag_type(parse_rate),
        metavar="N|A:B",
        help="open-loop schedule: N requests per second for the whole run (all -W workers), "
        "at most -c in flight; latency counts from when each request was due (corrected for "
        "coordinated omission) and from when it was sent. A:B ramps from A to B req/s over -t",
    )
    add(
        "--stages",
        dest="stages",
        type=flag_type(parse_stages),
        metavar="SPEC",
        help="open-loop stages run in order, each DURATION@RATE or DURATION@FROM:TO (a ramp), "
        "comma-separated, e.g. 10s@100,30s@100:1000,20s@1000; they set the run's length",
    )
    add(
        "--start-at",
        dest="start_at",
        type=float,
        metavar="UNIX_TIME",
        help="begin at this Unix time (to start several machines together, then merge)",
    )
    add(
        "--segment",
        dest="segment",
        type=parse_segment,
        metavar="I/N",
        help="run segment I (from 0) of N of the test the other flags describe: its share of "
        "-n and -c and every N-th request of the -R schedule; merge the N runs' JSON with "
        "trioload merge. In a Kubernetes Indexed Job, I is $JOB_COMPLETION_INDEX",
    )
    add(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="how requests are multiplexed: shards (epoll sets, the default on Linux) or tasks "
        "(one trio task per connection, the fallback elsewhere); auto picks",
    )
    add(
        "--clock",
        choices=CLOCKS,
        default="auto",
        help="what times each response: kernel (its receive timestamps: exact whatever "
        "trioload was busy with; Linux, http, the shard engine), read (trioload's clock when "
        "it reads, as ab and wrk do; cheaper), or auto: kernel where it can",
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
    add(
        "--insecure",
        action="store_true",
        help="https: do not verify the server's certificate (ab never verifies it)",
    )
    add(
        "--cacert",
        metavar="FILE",
        help="https: trust the certificates in FILE (PEM) instead of the system's",
    )
