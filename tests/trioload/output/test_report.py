"""The text report, from a known Tally: ab's layout line for line, and it agrees with the JSON."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from tests.trioload.conftest import known_tally, result_of
from trioload.config import LoadConfig
from trioload.output.report import format_text
from trioload.results.result import RunResult, format_json
from trioload.results.tally import Failure, Tally
from trioload.segments import segment_config


def ab_row(label: str, *figures: float) -> str:
    """ab's own printf for a Connection Times row."""
    return "%-12s" % label + "%5d %4d %5.1f %6d %7d" % figures  # noqa: UP031 -- ab's format


def test_format_text_matches_ab_line_for_line() -> None:
    # Percentiles are HDR's: the value holding the percentile's rounded share of the count
    # (80% of 4 rounds to the 3rd response), not ab's index into the sorted array.
    text = format_text(result_of(known_tally()))
    ab_part, _, _ = text.partition("\nBeyond ab")
    assert ab_part.split("\n") == [
        "Server Software:        trioserve",
        "Server Hostname:        127.0.0.1",
        "Server Port:            8080",
        "",
        "Document Path:          /x",
        "Document Length:        5 bytes",
        "",
        "Concurrency Level:      2",
        "Time taken for tests:   2.000 seconds",
        "Complete requests:      4",
        "Failed requests:        0",
        "Total transferred:      352 bytes",
        "HTML transferred:       20 bytes",
        "Requests per second:    2.00 [#/sec] (mean)",
        "Time per request:       1000.000 [ms] (mean)",
        "Time per request:       500.000 [ms] (mean, across all concurrent requests)",
        "Transfer rate:          0.17 [Kbytes/sec] received",
        "",
        "Connection Times (ms)",
        "              min  mean[+/-sd] median   max",
        ab_row("Connect:", 1, 1, 0.0, 1, 1),
        ab_row("Processing:", 9, 24, 11.2, 19, 39),
        ab_row("Waiting:", 5, 5, 0.0, 5, 5),
        ab_row("Total:", 10, 25, 11.2, 20, 40),
        "",
        "Percentage of the requests served within a certain time (ms)",
        "  50%     20",
        "  66%     30",
        "  75%     30",
        "  80%     30",
        "  90%     40",
        "  95%     40",
        "  98%     40",
        "  99%     40",
        " 100%     40 (longest request)",
        "",
    ]


def test_format_text_labels_fill_24_columns() -> None:
    tally = known_tally(status=503, keep_alive=True)
    tally.record_failure(Failure.RECEIVE)
    tally.record_failure(Failure.WRITE)
    text = format_text(result_of(tally, keep_alive=True))
    labelled = [line for line in text.split("\n\n")[0:3] for line in line.split("\n")]
    for line in labelled:
        if ":" in line and not line.startswith(" "):
            label, _, _ = line.partition(":")
            assert len(label) + 1 <= 24, line
            assert line[23] == " " and line[24] != " ", line


def test_format_text_failure_breakdown_only_when_something_failed() -> None:
    clean = format_text(result_of(known_tally()))
    assert "(Connect:" not in clean
    tally = known_tally()
    for kind in (
        Failure.CONNECT,
        Failure.RECEIVE,
        Failure.RECEIVE,
        Failure.LENGTH,
        Failure.EXCEPTIONS,
    ):
        tally.record_failure(kind)
    text = format_text(result_of(tally))
    assert "Complete requests:      9\nFailed requests:        5\n" in text
    assert "\n   (Connect: 1, Receive: 2, Length: 1, Exceptions: 1)\n" in text
    assert "Write errors:" not in text


def test_format_text_write_errors_line_when_some() -> None:
    tally = known_tally()
    tally.record_failure(Failure.WRITE)
    tally.record_failure(Failure.WRITE)
    text = format_text(result_of(tally))
    assert "\nWrite errors:           2\n" in text


def test_format_text_non_2xx_line_only_when_some() -> None:
    assert "Non-2xx" not in format_text(result_of(known_tally()))
    text = format_text(result_of(known_tally(status=500)))
    assert "\nFailed requests:        0\nNon-2xx responses:      4\n" in text


def test_format_text_keep_alive_line_only_with_k() -> None:
    assert "Keep-Alive" not in format_text(result_of(known_tally(keep_alive=True)))
    text = format_text(result_of(known_tally(keep_alive=True), keep_alive=True))
    assert "\nKeep-Alive requests:    4\nTotal transferred:" in text


def test_format_text_without_responses_has_no_latency_tables() -> None:
    tally = Tally()
    tally.record_failure(Failure.CONNECT)
    text = format_text(result_of(tally))
    assert "Complete requests:      1\n" in text
    assert "Document Length:        0 bytes\n" in text
    assert "Connection Times" not in text
    assert "Percentage of the requests" not in text


def test_format_text_says_when_interrupted_and_when_the_client_was_busy() -> None:
    calm = format_text(result_of(known_tally(), cpu_s=0.2))
    assert "Interrupted" not in calm
    assert "Warning: trioload kept its core busy" not in calm
    busy = format_text(result_of(known_tally(), cpu_s=1.9, interrupted=True))
    assert "Interrupted: the figures cover" in busy
    assert "Warning: trioload kept its core busy" in busy
    assert "Client CPU: 95% of a core per process" in busy


def test_format_text_no_busy_warning_for_a_run_too_short_to_tell() -> None:
    # 10 requests in 20 ms: the share is mostly the run's start-up, not the load.
    result = dataclasses.replace(result_of(known_tally(), cpu_s=0.1), elapsed_s=0.02)
    text = format_text(result)
    assert "Client CPU: 500% of a core per process" in text
    assert "Warning: trioload kept its core busy" not in text


def text_field(text: str, label: str) -> str:
    match = re.search(rf"^{re.escape(label)}\s+(\S+)", text, re.MULTILINE)
    assert match, label
    return match.group(1)


def test_json_and_text_agree() -> None:
    tally = known_tally()
    tally.record_failure(Failure.LENGTH)
    result = result_of(tally)
    text = format_text(result)
    report = json.loads(format_json(result))
    assert int(text_field(text, "Complete requests:")) == report["finished"] == 5
    assert int(text_field(text, "Failed requests:")) == report["failed"] == 1
    assert float(text_field(text, "Requests per second:")) == round(
        report["requests_per_second"], 2
    )
    assert int(text_field(text, "Total transferred:")) == report["total_bytes"]
    total = report["latency_ms"]["total"]
    for pct in (50, 66, 75, 80, 90, 95, 98, 99):
        assert int(text_field(text, f"  {pct}%")) == round(total[f"p{pct}"])
    assert int(text_field(text, " 100%")) == round(total["max"])
    assert report["failures"]["length"] == 1
    assert report["succeeded"] == 4


def test_format_text_with_a_schedule_leads_with_corrected_latency() -> None:
    tally = Tally()
    for total_ms, corrected_ms in ((1, 1), (2, 800), (3, 900)):
        tally.record_response(0, total_ms * 1000, 0, total_ms * 1000, 200, 88, 5, False,
                              corrected_ms * 1000)  # fmt: skip
        tally.record_lag(corrected_ms * 1000 - total_ms * 1000)
    text = format_text(result_of(tally, rate=500.0))
    percentages = text.split("Percentage of the requests served within a certain time (ms)")[1]
    assert percentages.startswith(", from when each was due\n")
    assert " 100%    900 (longest request)" in percentages  # corrected, not the 3 ms total
    assert "Schedule: -R 500 requests/s asked, 1.50 made; 2 of 3 requests started late" in text
    assert "Behind schedule: p50 " in text
    assert re.search(r"  max\s+900\.\d+ ms\s+3\.\d+ ms\n", text)
    assert "Latencies are open-loop (-R)" in text
    closed = format_text(result_of(known_tally()))
    assert "Schedule:" not in closed
    assert "from when each was due" not in closed


def test_format_text_of_a_segment_names_its_test_and_its_share_of_the_rate() -> None:
    whole = LoadConfig(url="http://127.0.0.1:8080/x", requests=30, concurrency=6, rate=30.0)
    segment = segment_config(dataclasses.replace(whole, time_limit=5.0), 1, 3)
    tally = Tally()
    tally.record_response(0, 1000, 0, 1000, 200, 88, 5, False, 1000)
    tally.record_lag(0)
    text = format_text(RunResult(segment, tally, 2.0, 0.5, 0.0))
    assert "Segment: 1/3 of the test -n 30 -c 6 -R 30 -t 5 (trioload merge makes the whole" in text
    assert "Schedule: 10 (this segment's share of -R 30) requests/s asked, 0.50 made" in text
    assert "Concurrency Level:      2\n" in text
    assert "Segment:" not in format_text(result_of(known_tally()))


def ab_plain_row(label: str, *figures: int) -> str:
    """ab's printf for a Connection Times row under -S (no space before max)."""
    return "%-12s" % label + "%5d %5d%5d" % figures  # noqa: UP031 -- ab's format


def test_format_text_without_confidence_has_abs_min_avg_max_columns() -> None:
    text = format_text(result_of(known_tally(), show_confidence=False))
    times = text.split("Connection Times (ms)\n")[1].split("\n\n")[0]
    assert times.split("\n") == [
        "              min   avg   max",
        ab_plain_row("Connect:", 1, 1, 1),
        ab_plain_row("Processing:", 9, 24, 39),
        ab_plain_row("Waiting:", 5, 5, 5),
        ab_plain_row("Total:", 10, 25, 40),
    ]
    assert "median" not in text
    assert "Percentage of the requests served" in text  # -S alone keeps the table


def skewed_tally() -> Tally:
    """Connect: mean and median 1 ms apart (rounded) with sd 0.3 ms: ab's ERROR. Processing:
    1 ms apart with sd 0.6 ms: ab's WARNING. Waiting and total: no remark."""
    tally = Tally()
    for connect_us, processing_us in ((300, 10_000), (300, 10_000), (900, 11_200), (900, 11_200)):
        tally.record_response(connect_us, processing_us, 0, 20_000, 200, 88, 5, False)
    return tally


def test_format_text_warns_like_ab_when_mean_and_median_are_apart() -> None:
    text = format_text(result_of(skewed_tally()))
    total_row = text.index("\nTotal: ")
    after_table = text[text.index("\n", total_row + 1) + 1 :]
    assert after_table.startswith(
        "ERROR: The median and mean for the initial connection time are more than twice the "
        "standard\n       deviation apart. These results are NOT reliable.\n"
        "WARNING: The median and mean for the processing time are not within a normal "
        "deviation\n        These results are probably not that reliable.\n"
        "\nPercentage of the requests"
    )


def test_format_text_without_confidence_has_no_warnings() -> None:
    text = format_text(result_of(skewed_tally(), show_confidence=False, cpu_s=1.9))
    assert "ERROR:" not in text
    assert "WARNING:" not in text
    assert "Warning: trioload kept its core busy" not in text
    # trioload's own figures stay: -S hides ab's estimators and warnings, not the run.
    assert "Client CPU: 95% of a core per process" in text
    assert re.search(r"\n  99\.99%\s+20\.\d+ ms\n", text)


def test_format_text_without_percentiles_has_no_percentage_table() -> None:
    text = format_text(result_of(known_tally(), show_percentiles=False))
    assert "Percentage of the requests" not in text
    assert "(longest request)" not in text
    assert "Connection Times (ms)" in text
    assert "\nBeyond ab" in text
    assert "Total:" in text.split("Beyond ab")[0].rstrip().split("\n")[-1]


def test_format_text_variable_length_says_variable() -> None:
    assert "\nDocument Length:        5 bytes\n" in format_text(result_of(known_tally()))
    text = format_text(result_of(known_tally(), variable_length=True))
    assert "\nDocument Length:        Variable\n" in text


def tls_result(url: str, tally: Tally, **config: Any) -> RunResult:
    result = result_of(tally)
    return dataclasses.replace(result, config=dataclasses.replace(result.config, url=url, **config))


def tls_tally(temp_key: str = "ECDH x25519 253 bits") -> Tally:
    tally = known_tally()
    tally.tls_protocol = "TLSv1.3,TLS_AES_256_GCM_SHA384,2048,256"
    tally.tls_temp_key = temp_key
    return tally


def test_format_text_tls_lines_follow_the_server_port_over_https() -> None:
    text = format_text(tls_result("https://example.test:8443/x", tls_tally()))
    assert text.startswith(
        "Server Software:        trioserve\n"
        "Server Hostname:        example.test\n"
        "Server Port:            8443\n"
        "SSL/TLS Protocol:       TLSv1.3,TLS_AES_256_GCM_SHA384,2048,256\n"
        "Server Temp Key:        ECDH x25519 253 bits\n"
        "TLS Server Name:        example.test\n"
        "\n"
        "Document Path:          /x\n"
    )


def test_format_text_tls_lines_only_those_known() -> None:
    text = format_text(tls_result("https://example.test/x", tls_tally(temp_key="")))
    assert "SSL/TLS Protocol:" in text
    assert "Server Temp Key:" not in text
    no_handshake = format_text(tls_result("https://example.test/x", known_tally()))
    assert "SSL/TLS Protocol:" not in no_handshake
    assert "TLS Server Name:        example.test\n" in no_handshake


def test_format_text_tls_server_name_only_when_sni_was_sent() -> None:
    for url in ("https://127.0.0.1/x", "https://[::1]:8443/x"):
        text = format_text(tls_result(url, tls_tally()))
        assert "SSL/TLS Protocol:" in text
        assert "TLS Server Name:" not in text, url  # SNI carries no IP address
    text = format_text(tls_result("https://example.test/x", tls_tally(), sni=False))
    assert "TLS Server Name:" not in text


def test_format_text_no_tls_lines_over_http() -> None:
    text = format_text(tls_result("http://example.test/x", tls_tally()))
    assert "SSL/TLS" not in text
    assert "Server Temp Key" not in text
    assert "TLS Server Name" not in text
    assert "Server Port:            80\n\nDocument Path:" in text


def test_format_text_says_which_clock_and_how_late_trioload_read() -> None:
    read = format_text(result_of(known_tally()))
    assert "Clock: trioload's own, when it read each response" in read
    tally = known_tally()
    for lag_us in (100, 200, 300, 4000):
        tally.record_response(0, 0, 0, 0, 200, 0, 0, False, -1, lag_us)
    kernel = format_text(dataclasses.replace(result_of(tally), clock="kernel"))
    # 4000 µs reads 4.001 ms: the highest value of its 3-figure HDR bucket
    assert (
        "Clock: the kernel's, on arrival; read lag p50 0.200 ms, p99 4.001 ms, max 4.001 ms"
        " (arrival to read)"
    ) in kernel
    merged = format_text(dataclasses.replace(result_of(tally), clock="kernel,read"))
    assert "Clock: kernel and read, in the runs merged here" in merged


def test_format_text_warns_when_reads_lag_a_tenth_of_the_latency() -> None:
    # known_tally's latencies average 25 ms: a read lag averaging 2.5 ms is a tenth of it.
    calm, busy = known_tally(), known_tally()
    for lag_us in (1000, 2000, 2000, 3000):
        calm.record_response(0, 0, 0, 0, 200, 0, 0, False, -1, lag_us)
    for lag_us in (2000, 3000, 3000, 4000):
        busy.record_response(0, 0, 0, 0, 200, 0, 0, False, -1, lag_us)
    warning = "Warning: trioload read responses late (read lag mean"
    assert warning not in format_text(dataclasses.replace(result_of(calm), clock="kernel"))
    text = format_text(dataclasses.replace(result_of(busy), clock="kernel"))
    assert warning in text
    hidden = dataclasses.replace(result_of(busy, show_confidence=False), clock="kernel")
    assert warning not in format_text(hidden)  # -S: no warnings
    # -R reads in ticks on purpose, and sends each request when due whatever it read
    paced_tally = known_tally()
    for lag_us in (2000, 3000, 3000, 4000):
        paced_tally.record_response(0, 0, 0, 0, 200, 88, 5, False, 1000, lag_us)
    paced = dataclasses.replace(result_of(paced_tally, rate=100.0), clock="kernel")
    assert warning not in format_text(paced)
    assert warning in format_text(dataclasses.replace(result_of(paced_tally), clock="kernel"))
