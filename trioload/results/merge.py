"""``trioload merge A.json B.json ...``: one exact report from runs made at the same time in
other processes or on other machines.

Each run's ``--json`` carries its HDR histograms whole, its counters, its timeline and the
Unix times it began and ended, so the merge is exact: histograms are added, counts summed, and
the rate is every request over the union of the runs' windows (machines share no monotonic
clock; their wall clocks are assumed in sync, as ``--start-at`` already assumes).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from trioload import segments
from trioload.argtypes import OneLineParser
from trioload.config import LoadConfig, UsageError
from trioload.engine.shape import parse_stages
from trioload.output.outputs import check_writable, emit, output_paths
from trioload.results.result import merge_reports, run_windows

DESCRIPTION = """\
Combine the --json reports of runs made side by side (other processes or other machines) into
one report in ab's layout: histograms are added exactly, counts summed, and the rate is all
requests over the union of the runs' time windows. The runs must share URL, method and
--interval, and overlap in time; runs made with --segment I/N must be the N segments of one
test, each once (--force merges anyway). A file may be a JSON report, or a log that ends with
one (a Kubernetes pod's, run with --json -).

Recipe: start one trioload per machine with the same --start-at, --segment I/N and --json,
then merge the files.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="trioload merge",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("reports", nargs="+", metavar="RUN.json", help="JSON reports written by trioload --json")
    add(
        "--json",
        dest="json_path",
        metavar="FILE",
        help="write the merged JSON to FILE ('-': stdout)",
    )
    add("--hdr-log", dest="hdr_log_path", metavar="FILE", help="write the merged interval log")
    add("--hgrm", dest="hgrm_path", metavar="FILE", help="write the merged .hgrm")
    add(
        "--force",
        action="store_true",
        help="merge runs of different URLs, methods or intervals, or that do not overlap",
    )
    return parser


def load_report(path: str) -> dict[str, Any]:
    """A trioload JSON report, alone in its file or at the end of a log (a pod's, where
    ``--json -`` wrote it last); UsageError for anything else."""
    report = read_document(path)
    needed = {"url", "hdr", "failures", "window_unix_s", "timeline", "interval_s"}
    if not needed <= report.keys():
        raise UsageError(f"{path} is not a trioload --json report (0.2 or later)")
    return report


def read_document(path: str) -> dict[str, Any]:
    """The JSON object of a file, alone in it or ending a log; UsageError for anything else."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    document = last_json_document(text)
    if document is None:
        raise UsageError(f"{path} is not JSON, nor a log that ends with a JSON report")
    return document


def last_json_document(text: str) -> dict[str, Any] | None:
    """The last JSON object in ``text`` that opens a line: all of it, or a log's report (the
    lines before it are the text report and messages; a stray line may follow it); None if
    there is none. Decoded in place, each candidate once."""
    decoder = json.JSONDecoder()
    end = len(text)
    while end > 0:
        opening = text.rfind("\n{", 0, end) + 1  # 0: no line opens one but perhaps the first
        if opening == 0 and not text.startswith("{"):
            return None
        try:
            document, _ = decoder.raw_decode(text, opening)
        except ValueError:
            document = None
        if isinstance(document, dict):
            return document
        end = opening - 1
    return None


def incompatibilities(reports: list[dict[str, Any]], names: list[str]) -> list[str]:
    """Why these runs should not be merged (empty when they may)."""
    problems = segments.merge_problems(reports, names)
    if problems:
        return problems  # what they name covers the URL, method and --interval too
    for key, what in (("url", "URLs"), ("method", "methods"), ("interval_s", "--interval")):
        values = sorted({str(report.get(key)) for report in reports})
        if len(values) > 1:
            problems.append(f"different {what}: {', '.join(values)}")
    windows = sorted(run_windows(reports))
    reach = windows[0][1] if windows else 0.0
    for start, end in windows[1:]:
        if start >= reach:
            problems.append("the runs do not overlap in time (a gap between their windows)")
            break
        reach = max(reach, end)
    return problems


def check_mergeable(reports: list[dict[str, Any]], names: list[str]) -> None:
    """UsageError when the runs should not be merged."""
    problems = incompatibilities(reports, names)
    if problems:
        raise UsageError(f"will not merge: {'; '.join(problems)} (--force merges anyway)")


def merged_config(reports: list[dict[str, Any]], args: argparse.Namespace) -> LoadConfig:
    """The config the merged report describes: the first run's target, everyone's totals (the
    whole test's flags, for its segments)."""
    first = reports[0]
    rates = [report.get("rate") for report in reports]
    requests = [report.get("requests") for report in reports]
    whole = segments.whole_test(reports) if not args.force else None
    if whole is None:
        whole = (
            sum(requests) if None not in requests else None,  # type: ignore[arg-type]
            sum(report["concurrency"] for report in reports),
            sum(rates) if None not in rates else None,  # type: ignore[arg-type]
        )
    labels = {report.get("stages") for report in reports}
    # one shape, shared: the runs are parts of it (segments, or -W workers)
    label = labels.pop() if len(labels) == 1 else None
    shape = parse_stages(label) if isinstance(label, str) else None
    return LoadConfig(
        url=first["url"],
        method=first.get("method", "GET"),
        keep_alive=first.get("keep_alive", False),
        requests=whole[0],
        concurrency=whole[1],
        rate=whole[2],
        shape=shape,
        workers=sum(report["workers"] for report in reports),
        interval=first["interval_s"],
        progress=False,
        json_path=args.json_path,
        hdr_log_path=args.hdr_log_path,
        hgrm_path=args.hgrm_path,
    )


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        reports = [load_report(path) for path in args.reports]
        if not args.force:
            check_mergeable(reports, args.reports)
        config = merged_config(reports, args)
        check_writable(output_paths(config))
    except UsageError as exc:
        print(f"trioload merge: {exc}", file=sys.stderr)
        return 2
    result = merge_reports(config, reports, wall_s=0.0)
    written = emit(result)
    return 1 if result.tally.failed or not written else 0
