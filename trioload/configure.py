"""The run's flags checked together into a ``LoadConfig``: what ``trioload`` and ``trioload
compare`` share (ab's -p/-u/-i/-m, the -C/-A/-P headers, -X, the engine, https, a
``--segment``'s share)."""

from __future__ import annotations

import argparse
import base64
import dataclasses
from pathlib import Path

from trioload.config import LoadConfig, UsageError, parse_url
from trioload.engine import kernel_clock, shards
from trioload.engine.load import default_engine
from trioload.engine.shape import Shape, Stage
from trioload.engine.tls import client_context
from trioload.results.tally import KERNEL_CLOCK
from trioload.segments import segment_config


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or any(c in text for c in "\r\n"):
        raise UsageError(f"bad header {text!r}: expected 'Name: value'")
    return name.strip(), value.strip()


def _rate_and_shape(args: argparse.Namespace) -> tuple[float | None, Shape | None, float | None]:
    """``-R`` (N or a ramp A:B over ``-t``) or ``--stages``: the run's mean rate, its shape
    where it is not constant, and its time limit (the stages' length)."""
    if args.stages is not None:
        if args.rate is not None or args.time_limit is not None:
            raise UsageError("--stages sets the rate and the run's length: leave out -R and -t")
        shape: Shape = args.stages
        return shape.mean_rate, shape, shape.seconds
    if args.rate is None:
        return None, None, args.time_limit
    start, end = args.rate
    if start == end:
        return start, None, args.time_limit
    if args.time_limit is None:
        raise UsageError(f"-R {start:g}:{end:g} ramps over the run's length: give it with -t")
    shape = Shape((Stage(args.time_limit, start, end),))
    return shape.mean_rate, shape, args.time_limit


def config_from_args(args: argparse.Namespace) -> LoadConfig:
    """Validate the flags together; UsageError on anything the run could not do."""
    if args.html and args.url.isdigit():
        raise UsageError(f"-w is ab's HTML report; for {args.url} worker processes use -W")
    target = parse_url(args.url)
    method, body = _method_and_body(args)
    if args.engine == "shards" and not shards.AVAILABLE:
        raise UsageError("--engine shards needs epoll (Linux); use --engine tasks or auto")
    rate, shape, time_limit = _rate_and_shape(args)
    requests = args.requests
    if requests is None and time_limit is None:
        requests = 1
    proxy = _proxy(args.proxy) if args.proxy else None
    if proxy and target.tls:
        raise UsageError("-X with an https:// URL needs a CONNECT tunnel, which trioload lacks")
    # ab refuses -c above -n; trioload runs it, with as many connections as there are
    # requests, and its report and JSON say so.
    concurrency = min(args.concurrency, requests) if requests is not None else args.concurrency
    config = LoadConfig(
        url=args.url,
        concurrency=concurrency,
        requests=requests,
        time_limit=time_limit,
        timeout=args.timeout,
        keep_alive=args.keep_alive,
        method=method,
        headers=_request_headers(args),
        body=body,
        content_type=args.content_type,
        progress=not args.quiet,
        json_path=args.json_path,
        engine=args.engine,
        clock=args.clock,
        workers=args.workers,
        rate=rate,
        shape=shape,
        start_at=args.start_at,
        interval=args.interval,
        hdr_log_path=args.hdr_log_path,
        hgrm_path=args.hgrm_path,
        csv_path=args.csv_path,
        gnuplot_path=args.gnuplot_path,
        variable_length=args.variable_length,
        proxy=proxy,
        local_address=args.local_address,
        socket_buffer=args.socket_buffer,
        verbosity=args.verbosity,
        show_percentiles=not args.hide_percentiles,
        show_confidence=not args.hide_confidence,
        html=args.html,
        table_attributes=args.table_attributes,
        row_attributes=args.row_attributes,
        cell_attributes=args.cell_attributes,
        tls_protocol=args.tls_protocol,
        ciphers=args.ciphers,
        client_cert=args.client_cert,
        sni=not args.no_sni,
        insecure=args.insecure,
        cacert=args.cacert,
    )
    if args.segment is not None:
        config = segment_config(config, *args.segment)
    # -W: no more processes than this process's connections to share (never more than its
    # requests: -c was held to -n above, and a segment's shares keep that)
    config = dataclasses.replace(config, workers=min(config.workers, config.concurrency))
    if config.gnuplot_path and config.workers > 1:
        raise UsageError("-g writes one line per request from one process: leave out -W")
    engine = default_engine() if args.engine == "auto" else args.engine
    if args.clock == KERNEL_CLOCK and (
        not kernel_clock.AVAILABLE or engine != "shards" or target.tls
    ):
        raise UsageError(
            "--clock kernel needs the kernel's receive timestamps: Linux, http, and the "
            "shard engine"
        )
    if target.tls:
        if engine != "shards":
            raise UsageError("https needs the shard engine (epoll, Linux)")
        client_context(config)  # a bad -f, -Z, -E or --cacert is a usage error, before the run
    return config


def _method_and_body(args: argparse.Namespace) -> tuple[str, bytes | None]:
    """ab's -p (POST), -u (PUT), -i (HEAD) and -m (any method), checked together."""
    if args.body_file and args.put_file:
        raise UsageError("-p and -u both give a body: choose one")
    if args.head and (args.body_file or args.put_file):
        raise UsageError("-i (HEAD) sends no body: leave out -p/-u")
    flag, path = ("-u", args.put_file) if args.put_file else ("-p", args.body_file)
    body = None
    if path is not None:
        try:
            body = Path(path).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {flag} {path}: {exc.strerror}") from None
    implied = (
        "PUT" if args.put_file else "POST" if body is not None else "HEAD" if args.head else "GET"
    )
    method = args.method or implied
    if not method.isalpha():
        raise UsageError(f"bad method {method!r}")
    return method.upper(), body


def _request_headers(args: argparse.Namespace) -> tuple[tuple[str, str], ...]:
    """-C, -A and -P as the headers ab makes of them, then the -H headers."""
    made = []
    if args.cookies:
        # ab 2.3 keeps only its last -C, despite "repeatable"; all of them go, as one header.
        made.append(("Cookie", "; ".join(args.cookies)))
    if args.auth is not None:
        made.append(("Authorization", "Basic " + _basic(args.auth)))
    if args.proxy_auth is not None:
        made.append(("Proxy-Authorization", "Basic " + _basic(args.proxy_auth)))
    return (*made, *(_header(h) for h in args.headers))


def _basic(credentials: str) -> str:
    return base64.b64encode(credentials.encode()).decode("ascii")


def _proxy(text: str) -> tuple[str, int]:
    """-X host:port (ab's form; [v6]:port for an IPv6 address)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"bad -X {text!r}: expected proxy:port")
    return host.strip("[]"), int(port)
