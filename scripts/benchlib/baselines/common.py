"""What the baseline programs share: the reply, the request, exact percentiles, the report."""

from __future__ import annotations

import argparse
import json
import math
import sys

REPLY = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
    b"Connection: close\r\n\r\nhello"
)
HEAD_END = b"\r\n\r\n"


def request_bytes(host: str, port: int, agent: str) -> bytes:
    """The request ab sends: HTTP/1.0, no keep-alive."""
    return (
        f"GET / HTTP/1.0\r\nHost: {host}:{port}\r\nUser-Agent: {agent}\r\nAccept: */*\r\n\r\n"
    ).encode("ascii")


def nearest_rank(sorted_ns: list[int], percent: float) -> float:
    """The exact nearest-rank percentile of sorted nanosecond samples, in milliseconds."""
    if not sorted_ns:
        return math.nan
    rank = max(1, math.ceil(percent / 100 * len(sorted_ns)))
    return sorted_ns[rank - 1] / 1e6


def is_good_reply(reply: bytes, expected_length: int | None) -> bool:
    """A 200 of the same length as the first good one (ab's own notion of a failed request)."""
    if not reply.startswith((b"HTTP/1.1 200 ", b"HTTP/1.0 200 ")):
        return False
    return expected_length is None or len(reply) == expected_length


def print_report(succeeded: int, failed: int, elapsed_s: float, samples_ns: list[int]) -> None:
    """One JSON object on stdout, in the shape of ``trioload --json -``."""
    samples_ns.sort()
    finished = succeeded + failed
    report = {
        "requests_per_second": finished / elapsed_s if elapsed_s > 0 else 0.0,
        "finished": finished,
        "succeeded": succeeded,
        "failed": failed,
        "elapsed_s": elapsed_s,
        "latency_ms": {
            "total": {
                "p50": nearest_rank(samples_ns, 50),
                "p99": nearest_rank(samples_ns, 99),
                "max": nearest_rank(samples_ns, 100),
            }
        },
    }
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


def client_args(description: str | None) -> argparse.Namespace:
    """The baseline clients' command line: -n, -c, --host, --port."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-n", "--requests", type=int, required=True)
    parser.add_argument("-c", "--concurrency", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    return parser.parse_args()
