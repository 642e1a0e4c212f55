"""Where a run's results go: the text report, and the files ``--json``, ``--hdr-log`` and
``--hgrm`` ask for.

The paths are checked before the run (``check_writable``), so a typo costs no run. If a file
still cannot be written at the end (the disk filled up), the text report has already reached
the terminal, and the reason is one line: a run's results are never lost without a word.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from trioload.config import UsageError
from trioload.hdrlog import format_hgrm, format_interval_log
from trioload.report import format_text
from trioload.result import RunResult, format_json


def output_paths(json_path: str | None, hdr_log: str | None, hgrm: str | None) -> dict[str, str]:
    """Flag → file, for the files a run writes ('-' is stdout, not a file)."""
    paths = {"--json": json_path, "--hdr-log": hdr_log, "--hgrm": hgrm}
    return {flag: path for flag, path in paths.items() if path is not None and path != "-"}


def check_writable(paths: dict[str, str]) -> None:
    """UsageError, before the run, for a path that cannot be written."""
    for flag, path in paths.items():
        target = Path(path)
        if target.is_dir():
            raise UsageError(f"cannot write {flag} {path}: it is a directory")
        folder = target.parent
        if not folder.is_dir():
            raise UsageError(f"cannot write {flag} {path}: no directory {str(folder)!r}")
        exists = target.exists()
        if not os.access(target if exists else folder, os.W_OK):
            raise UsageError(f"cannot write {flag} {path}: permission denied")


def emit(result: RunResult) -> bool:
    """Text on stdout (stderr when JSON takes stdout), then the files; False when a file
    could not be written (its reason said on stderr).

    A ``-w`` worker writes JSON on stdout alone: its parent prints the one report, merged,
    and writes the files.
    """
    config = result.config
    if not config.as_worker:
        text_stream = sys.stderr if config.json_path == "-" else sys.stdout
        text_stream.write("\n" + format_text(result))
        text_stream.flush()
    if config.json_path == "-":
        sys.stdout.write(format_json(result))
        sys.stdout.flush()
    if config.as_worker:
        return True
    contents = {
        "--json": lambda: format_json(result),
        "--hdr-log": lambda: format_interval_log(
            result.timeline, result.window_s[0] if result.window_s else 0.0
        ),
        "--hgrm": lambda: format_hgrm(result.tally.histograms[result.lead_phase]),
    }
    written = True
    for flag, path in output_paths(config.json_path, config.hdr_log_path, config.hgrm_path).items():
        try:
            Path(path).write_text(contents[flag]())
        except OSError as exc:
            print(f"trioload: could not write {flag} {path}: {exc.strerror}", file=sys.stderr)
            written = False
    return written
