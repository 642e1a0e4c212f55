"""What load generators print, parsed: ab's and wrk's text, trioload's JSON (plain code, no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from trioload.results.merge import last_json_document


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one run of a load generator came to: what it reported (the parsers' part) and what
    the bench's runner measured around it (CPU a request, peak RSS); None where unknown."""

    requests_per_second: float | None = None
    finished: int | None = None
    failed: int | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    error: str | None = None
    #: the whole JSON report, where there is one (the rate part reads its schedule figures).
    report: dict[str, Any] | None = field(default=None, compare=False)
    server_cpu_us: float | None = None
    client_cpu_us: float | None = None
    #: the user-mode part of ``client_cpu_us`` (the load generator's own code).
    client_user_us: float | None = None
    client_rss_kb: int | None = None


def _search_number(pattern: str, text: str) -> float | None:
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else None


def _as_int(value: float | None) -> int | None:
    return None if value is None else int(value)


def parse_ab(text: str) -> LoadResult:
    """Figures from ab's report; an error when it printed none (e.g. apr_pollset_poll timeout)."""
    rps = _search_number(r"^Requests per second:\s+([\d.]+)", text)
    if rps is None:
        lines = text.strip().splitlines() or ["no output"]
        # ab's own complaint (apr_pollset_poll: ... timeout, apr_socket_connect: ...) if any.
        reason = next((line for line in lines if line.startswith(("apr_", "ab:"))), lines[-1])
        # Mid-line: ab prints it right after "Benchmarking ... (be patient)...".
        done = re.search(r"Total of (\d+) requests completed", text)
        progress = f" after {done.group(1)} requests" if done else ""
        return LoadResult(error=f"ab printed no statistics{progress}: {reason[:120]}")
    failed = _search_number(r"^Failed requests:\s+(\d+)", text) or 0.0
    non_2xx = _search_number(r"^Non-2xx responses:\s+(\d+)", text) or 0.0
    return LoadResult(
        requests_per_second=rps,
        finished=_as_int(_search_number(r"^Complete requests:\s+(\d+)", text)),
        failed=int(failed + non_2xx),
        p50_ms=_search_number(r"^\s+50%\s+(\d+)", text),
        p99_ms=_search_number(r"^\s+99%\s+(\d+)", text),
    )


_WRK_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk_latency_ms(percent: str, text: str) -> float | None:
    match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\b", text, re.MULTILINE)
    return float(match.group(1)) * _WRK_UNITS_MS[match.group(2)] if match else None


def parse_wrk(text: str) -> LoadResult:
    """wrk's totals; failures are its socket errors plus non-2xx/3xx replies."""
    rps = _search_number(r"^Requests/sec:\s+([\d.]+)", text)
    if rps is None:
        return LoadResult(error="wrk printed no Requests/sec line")
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    failed = sum(int(count) for count in errors.groups()) if errors else 0
    failed += _as_int(_search_number(r"Non-2xx or 3xx responses:\s+(\d+)", text)) or 0
    return LoadResult(
        requests_per_second=rps,
        finished=_as_int(_search_number(r"^\s+(\d+) requests in", text)),
        failed=failed,
        p50_ms=_wrk_latency_ms("50", text),
        p99_ms=_wrk_latency_ms("99", text),
    )


def dig(report: dict[str, Any], *keys: str) -> float | None:
    """``report[k1][k2]...`` as a float, or None when any key is missing or not a number."""
    value: Any = report
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def parse_json_report(text: str) -> LoadResult:
    """trioload's ``--json -`` report (the baseline clients print the same shape): keys read,
    requests_per_second, finished, failed, latency_ms.total.p50/p99; one missing is unknown."""
    report = last_json_document(text)
    if report is None:
        return LoadResult(error="no JSON report on stdout")
    return LoadResult(
        requests_per_second=dig(report, "requests_per_second"),
        finished=_as_int(dig(report, "finished")),
        failed=_as_int(dig(report, "failed")),
        p50_ms=dig(report, "latency_ms", "total", "p50"),
        p99_ms=dig(report, "latency_ms", "total", "p99"),
        report=report,
    )
