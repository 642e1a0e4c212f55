"""What the baseline programs share: the reply, the request, the tally and its JSON report."""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time

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


class Tally:
    """Requests handed out and their outcomes, under one lock (the blocking client's threads
    share it); every good request's time is kept, so percentiles are exact, not buckets."""

    def __init__(self, requests: int) -> None:
        self.lock = threading.Lock()
        self.remaining = requests
        self.completed = self.failed = 0
        self.expected_length: int | None = None
        self.samples_ns: list[int] = []
        self.started = time.perf_counter()

    def take(self) -> bool:
        with self.lock:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True

    def record(self, reply: bytes, started_ns: int) -> None:
        """A 200 of the same length as the first good one is good (ab's notion of failure)."""
        elapsed_ns = time.perf_counter_ns() - started_ns
        good = reply.startswith((b"HTTP/1.1 200 ", b"HTTP/1.0 200 ")) and (
            self.expected_length in (None, len(reply))
        )
        with self.lock:
            self.completed += 1
            if not good:
                self.failed += 1
                return
            self.expected_length = len(reply)
            self.samples_ns.append(elapsed_ns)

    def print_report(self) -> None:
        """One JSON object on stdout, in the shape of ``trioload --json -``."""
        elapsed_s = time.perf_counter() - self.started
        samples = sorted(self.samples_ns)
        latency = {"p50": 50, "p99": 99, "max": 100}
        report = {
            "requests_per_second": self.completed / elapsed_s if elapsed_s > 0 else 0.0,
            "finished": self.completed,
            "succeeded": self.completed - self.failed,
            "failed": self.failed,
            "elapsed_s": elapsed_s,
            "latency_ms": {"total": {k: nearest_rank(samples, p) for k, p in latency.items()}},
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
