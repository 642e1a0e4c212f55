"""``trioload merge``: runs made side by side combine into one exact report, or are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trioload.conftest import run_trioload
from trioload.config import LoadConfig
from trioload.results.merge import incompatibilities, last_json_document
from trioload.results.result import RunResult, merge_reports, to_json_dict
from trioload.results.tally import Tally, new_histogram
from trioload.results.timeline import Timeline
from trioload.segments import segment_config

URL = "http://127.0.0.1:8080/x"


def run_report(values_us: list[int], window: tuple[float, float], **config: Any) -> dict[str, Any]:
    """The JSON of a run that measured ``values_us`` (total latencies) over ``window``."""
    tally, timeline = Tally(), Timeline()
    for value in values_us:
        tally.record_response(1, value, value, value, 200, 88, 5, False)
    timeline.cut(tally, window[0], window[1])
    load = LoadConfig(**{"url": URL, "concurrency": 2, "requests": len(values_us), **config})
    elapsed = window[1] - window[0]
    result = RunResult(
        load, tally, elapsed, 0.1, 0.1, window_s=window, timeline=tuple(timeline.entries)
    )
    report: dict[str, Any] = json.loads(json.dumps(to_json_dict(result)))
    return report


values = st.lists(st.integers(min_value=1, max_value=10**8), min_size=1, max_size=200)


@settings(max_examples=15, deadline=None)  # each example builds and decodes histograms
@given(first=values, second=values)
def test_merge_equals_one_histogram_fed_with_both_runs(first: list[int], second: list[int]) -> None:
    reports = [run_report(first, (100.0, 102.0)), run_report(second, (100.5, 103.0))]
    merged = merge_reports(LoadConfig(url=URL), reports, wall_s=0.0)
    expected = new_histogram()
    for value in first + second:
        expected.record_value(value)
    total = merged.tally.histograms["total"]
    assert total.get_total_count() == expected.get_total_count()
    assert list(total.counts) == list(expected.counts)
    assert merged.tally.finished == len(first) + len(second)
    # The rate is every request over the union of the windows: 100.0 to 103.0.
    assert merged.elapsed_s == 3.0
    assert sum(entry.finished for entry in merged.timeline) == len(first) + len(second)


def test_merge_rate_counts_a_gap_between_runs_once() -> None:
    reports = [run_report([10], (100.0, 101.0)), run_report([10], (105.0, 107.0))]
    assert merge_reports(LoadConfig(url=URL), reports, wall_s=0.0).elapsed_s == 3.0


def test_incompatibilities_name_url_method_and_time() -> None:
    base = run_report([10], (100.0, 102.0))
    assert incompatibilities([base, run_report([10], (101.0, 103.0))], ["a.json", "b.json"]) == []
    other_url = run_report([10], (100.0, 102.0), url="http://127.0.0.1:8081/x")
    other_method = run_report([10], (100.0, 102.0), method="HEAD")
    apart = run_report([10], (102.5, 104.0))
    assert incompatibilities([base, other_url], ["a.json", "b.json"]) == [
        f"different URLs: {URL}, http://127.0.0.1:8081/x"
    ]
    assert incompatibilities([base, other_method], ["a.json", "b.json"]) == [
        "different methods: GET, HEAD"
    ]
    assert incompatibilities([base, apart], ["a.json", "b.json"]) == [
        "the runs do not overlap in time (a gap between their windows)"
    ]


def write(tmp_path: Path, name: str, report: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(report))
    return str(path)


async def test_merge_cli_prints_one_report_and_writes_json(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", run_report([1000, 2000], (100.0, 102.0)))
    b = write(tmp_path, "b.json", run_report([3000], (101.0, 102.0)))
    out = tmp_path / "merged.json"
    run = await run_trioload("merge", a, b, "--json", str(out))
    assert run.returncode == 0, run.stderr
    assert "Complete requests:      3\n" in run.stdout
    assert "Concurrency Level:      4\n" in run.stdout
    merged = json.loads(out.read_text())
    assert (merged["finished"], merged["time_taken_s"]) == (3, 2.0)


async def test_merge_cli_refuses_runs_of_other_urls_unless_forced(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", run_report([1000], (100.0, 102.0)))
    b = write(tmp_path, "b.json", run_report([1000], (100.0, 102.0), url="http://127.0.0.1:9/"))
    refused = await run_trioload("merge", a, b)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert "different URLs" in refused.stderr
    forced = await run_trioload("merge", "--force", a, b)
    assert forced.returncode == 0, forced.stderr
    assert "Complete requests:      2\n" in forced.stdout


async def test_merge_cli_refuses_a_file_that_is_not_a_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    run = await run_trioload("merge", str(bad))
    assert run.returncode == 2
    assert run.stderr == f"trioload merge: {bad} is not a trioload --json report (0.2 or later)\n"


async def test_merge_cli_usage_error_is_one_line() -> None:
    run = await run_trioload("merge")
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1
    assert run.stderr.startswith("trioload merge: the following arguments are required")


def test_last_json_document_finds_the_report_that_ends_a_log() -> None:
    report = json.dumps({"a": {"b": [1, 2]}}, indent=2)
    assert last_json_document(report) == {"a": {"b": [1, 2]}}
    log = "This is trioload\n{not json\nServer Port: 1\n" + report + "\n"
    assert last_json_document(log) == {"a": {"b": [1, 2]}}
    assert last_json_document("no report\n{ here") is None
    assert last_json_document("") is None


def segment_run(index: int, values_us: list[int], tmp_path: Path) -> str:
    """A pod's log: segment ``index`` of 3 of ``-n 3000 -c 30``, its text report on stderr,
    then its JSON (``--json -``)."""
    whole = LoadConfig(url=URL, requests=3000, concurrency=30, start_at=99.0)
    part = segment_config(whole, index, 3)
    report = run_report(
        values_us,
        (100.0, 102.0),
        requests=part.requests,
        concurrency=part.concurrency,
        start_at=99.0,
        schedule_part=part.schedule_part,
        segment=part.segment,
    )
    path = tmp_path / f"pod-{index}.log"
    path.write_text("Server Software: trioserve\nSegment: ...\n" + json.dumps(report, indent=2))
    return str(path)


async def test_merge_cli_makes_the_whole_test_of_its_segments(tmp_path: Path) -> None:
    logs = [segment_run(i, [1000] * (i + 1), tmp_path) for i in range(3)]
    out = tmp_path / "merged.json"
    run = await run_trioload("merge", *logs, "--json", str(out))
    assert run.returncode == 0, run.stderr
    merged = json.loads(out.read_text())
    assert (merged["finished"], merged["concurrency"], merged["requests"]) == (6, 30, 3000)
    assert merged["segment"] is None  # the whole test, no longer a part of one


async def test_merge_cli_refuses_a_missing_segment_unless_forced(tmp_path: Path) -> None:
    logs = [segment_run(i, [1000], tmp_path) for i in (0, 2)]
    refused = await run_trioload("merge", *logs)
    assert refused.returncode == 2
    assert refused.stderr == (
        "trioload merge: will not merge: segment 1/3 missing (--force merges anyway)\n"
    )
    forced = await run_trioload("merge", "--force", *logs)
    assert forced.returncode == 0, forced.stderr
    assert "Complete requests:      2\n" in forced.stdout
