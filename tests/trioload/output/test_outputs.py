"""Output files: a path that cannot be written stops the run before it starts; a file that
cannot be written at the end loses nothing of the report."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.trioload.conftest import (
    LoadRun,
    StartTrioserve,
    known_tally,
    result_of,
    run_trioload,
    url,
)
from trioload.config import LoadConfig, UsageError
from trioload.output.outputs import check_writable, emit, output_paths


def test_output_paths_leave_out_stdout_and_unset_flags() -> None:
    assert output_paths(LoadConfig(json_path="-", hgrm_path="x.hgrm")) == {"--hgrm": "x.hgrm"}


def test_output_paths_include_abs_csv_and_gnuplot_files() -> None:
    config = LoadConfig(json_path="r.json", csv_path="p.csv", gnuplot_path="g.tsv")
    assert output_paths(config) == {"--json": "r.json", "-e": "p.csv", "-g": "g.tsv"}


@pytest.mark.parametrize(("flag", "field"), [("-e", "csv_path"), ("-g", "gnuplot_path")])
def test_check_writable_names_abs_flags(flag: str, field: str, tmp_path: Path) -> None:
    path = tmp_path / "missing" / "out"
    paths: dict[str, Any] = {field: str(path)}
    config = LoadConfig(**paths)
    with pytest.raises(UsageError, match=rf"^cannot write {flag} {path}: no directory"):
        check_writable(output_paths(config))


def test_check_writable_names_the_flag_and_the_reason(tmp_path: Path) -> None:
    check_writable({"--json": str(tmp_path / "new.json")})
    with pytest.raises(UsageError, match=r"^cannot write --hdr-log .*: no directory"):
        check_writable({"--hdr-log": str(tmp_path / "missing" / "run.hlog")})
    with pytest.raises(UsageError, match=r"^cannot write --hgrm .*: it is a directory$"):
        check_writable({"--hgrm": str(tmp_path)})


@pytest.mark.parametrize("flag", ["--json", "--hdr-log", "--hgrm"])
async def test_unwritable_output_stops_before_any_request(
    flag: str, start_trioserve: StartTrioserve, tmp_path: Path
) -> None:
    server, port = await start_trioserve()
    path = tmp_path / "no" / "such" / "dir" / "out"
    run = await run_trioload("-q", "-n", "5", flag, str(path), url(port))
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1
    assert run.stderr.startswith(f"trioload: cannot write {flag} {path}: ")
    assert run.stdout == ""
    assert server.stats.responses == 0


async def test_output_that_fails_at_the_end_keeps_the_report(
    start_trioserve: StartTrioserve,
) -> None:
    _, port = await start_trioserve()
    # /dev/full takes the open and refuses the write: a disk that filled up during the run.
    run = await run_trioload("-q", "-n", "5", "--json", "/dev/full", url(port))
    assert run.returncode == 1
    assert "Complete requests:      5\n" in run.stdout
    assert run.stderr == "trioload: could not write --json /dev/full: No space left on device\n"


async def run_with_a_closed_pipe(stream: str, *args: str) -> LoadRun:
    """trioload with ``stream`` ("stdout" or "stderr") a pipe whose reader is already gone, as
    with `trioload ... | head -1` once head has quit."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return await run_trioload(*args, **{stream: write_end})
    finally:
        os.close(write_end)


async def test_stdout_closed_early_sends_the_report_to_stderr_and_writes_the_files(
    start_trioserve: StartTrioserve, tmp_path: Path
) -> None:
    _, port = await start_trioserve()
    json_path = tmp_path / "run.json"
    run = await run_with_a_closed_pipe(
        "stdout", "-q", "-n", "5", "--json", str(json_path), url(port)
    )
    assert run.returncode == 1
    reason, _, report = run.stderr.partition("\n")
    assert reason == (
        "trioload: could not write the report to stdout (Broken pipe); it follows here"
    )
    assert "Complete requests:      5\n" in report
    assert "Traceback" not in run.stderr
    assert json.loads(json_path.read_text())["finished"] == 5


async def test_stderr_closed_early_loses_neither_the_run_nor_the_report(
    start_trioserve: StartTrioserve, tmp_path: Path
) -> None:
    _, port = await start_trioserve()
    json_path = tmp_path / "run.json"
    # Progress on: the header and every progress line meet the broken pipe.
    run = await run_with_a_closed_pipe("stderr", "-n", "2000", "--json", str(json_path), url(port))
    assert run.returncode == 0
    assert "Complete requests:      2000\n" in run.stdout
    assert json.loads(json_path.read_text())["finished"] == 2000


def test_emit_with_html_prints_the_html_report_instead_of_the_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert emit(result_of(known_tally(), html=True, table_attributes="id=t"))
    out = capsys.readouterr().out
    assert out.startswith("\n<table id=t>\n")
    assert out.endswith("</table>\n")
    assert "Beyond ab" not in out
    assert "Requests per second:    " not in out  # no text report besides


def test_emit_with_html_and_json_on_stdout_puts_the_html_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert emit(result_of(known_tally(), html=True, json_path="-"))
    captured = capsys.readouterr()
    assert captured.err.startswith("\n<table >\n")
    assert json.loads(captured.out)["finished"] == 4


def test_emit_writes_the_percent_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "percent.csv"
    assert emit(result_of(known_tally(), csv_path=str(path)))
    rows = path.read_text().split("\n")
    assert rows[0] == "Percentage served,Time in ms"
    assert len(rows) == 1 + 101 + 1  # header, 0..100, the final newline
    assert rows[101] == "100,40.031"
    assert capsys.readouterr().err == ""


def test_emit_leaves_the_gnuplot_file_to_the_run(tmp_path: Path) -> None:
    path = tmp_path / "run.tsv"
    path.write_text("written during the run\n")
    assert emit(result_of(known_tally(), gnuplot_path=str(path)))
    assert path.read_text() == "written during the run\n"


def test_emit_says_the_gnuplot_error_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    result = result_of(known_tally(), gnuplot_path="/dev/full")
    assert not emit(result, gnuplot_error="No space left on device")
    captured = capsys.readouterr()
    assert "Complete requests:      4\n" in captured.out
    assert captured.err == "trioload: could not write -g /dev/full: No space left on device\n"
