"""Where a run's results go: the report (ab's text, or its HTML with ``-w``), and the files
``--json``, ``--hdr-log``, ``--hgrm`` and ``-e`` ask for. (``-g`` grows during the run, written
by the engine through ``trioload.output.abfiles.GnuplotWriter``; its path is checked here with the
others, and its error, if any, said here.)

The paths are checked before the run (``check_writable``), so a typo costs no run. If a file
still cannot be written at the end (the disk filled up), the text report has already reached
the terminal, and the reason is one line: a run's results are never lost without a word.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from trioload.config import LoadConfig, UsageError
from trioload.output.abfiles import format_percent_csv
from trioload.output.hdrlog import format_hgrm, format_interval_log
from trioload.output.htmlreport import format_html
from trioload.output.report import format_text
from trioload.results.result import RunResult, format_json

#: the ``LoadConfig`` fields that name a file a run writes, and their flags: one list, for the
#: checks before a run, for the workers (who write none of them) and for compare (which
#: refuses those of one run).
OUTPUT_FLAGS = {
    "json_path": "--json",
    "hdr_log_path": "--hdr-log",
    "hgrm_path": "--hgrm",
    "csv_path": "-e",
    "gnuplot_path": "-g",
}


def output_paths(config: LoadConfig) -> dict[str, str]:
    """Flag → file, for the files a run writes ('-' is stdout, not a file)."""
    paths = {flag: getattr(config, field) for field, flag in OUTPUT_FLAGS.items()}
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


def emit(result: RunResult, gnuplot_error: str | None = None) -> bool:
    """The report on stdout (stderr when JSON takes stdout), then the files; False when any
    of them could not be written (its reason said on stderr), ``-g``'s included: the
    ``GnuplotWriter.error`` of the run, if it had one, is ``gnuplot_error``.

    A report that stdout refuses (a reader that quit early, ``| head``; a full disk under a
    redirect) goes to stderr instead, after one line saying why.
    """
    config = result.config
    written = True
    text = "\n" + (format_html(result) if config.html else format_text(result))
    if config.json_path == "-":
        write_stderr(text)
        written = _to_stdout(format_json(result), "JSON report")
    else:
        written = _to_stdout(text, "report")
    contents = {
        "--json": lambda: format_json(result),
        "--hdr-log": lambda: format_interval_log(
            result.timeline, result.window_s[0] if result.window_s else 0.0
        ),
        "--hgrm": lambda: format_hgrm(result.tally.histograms[result.lead_phase]),
        "-e": lambda: format_percent_csv(result.tally.histograms[result.lead_phase]),
    }
    for flag, path in output_paths(config).items():
        if flag not in contents:
            continue  # -g: written during the run
        try:
            Path(path).write_text(contents[flag]())
        except OSError as exc:
            write_stderr(f"trioload: could not write {flag} {path}: {exc.strerror}\n")
            written = False
    if gnuplot_error is not None:
        write_stderr(f"trioload: could not write -g {config.gnuplot_path}: {gnuplot_error}\n")
        written = False
    return written


def write_document(path: str | None, content: str, prog: str) -> bool:
    """A subcommand's ``--json`` document where it was asked for (``-``: stdout); False, the
    reason said on stderr, if it could not be written."""
    if path is None:
        return True
    if path == "-":
        write_stdout(content)
        return True
    try:
        with open(path, "w") as file:
            file.write(content)
    except OSError as exc:
        write_stderr(f"{prog}: could not write --json {path}: {exc.strerror}\n")
        return False
    return True


def write_report(text: str, json_path: str | None, document: str, prog: str) -> bool:
    """A subcommand's text report (on stderr when its ``--json`` takes stdout), then that
    document; False, the reason said on stderr, if the document could not be written."""
    (write_stderr if json_path == "-" else write_stdout)(text)
    return write_document(json_path, document, prog)


def write_stderr(text: str) -> None:
    """Progress and messages: a stderr that is gone (its reader quit) must not end the run."""
    _write(sys.stderr, text)


def write_stdout(text: str) -> None:
    """ab's -v messages, as the run goes: a stdout that is gone must not end the run."""
    _write(sys.stdout, text)


def _to_stdout(text: str, what: str) -> bool:
    """``text`` on stdout; if stdout is gone, on stderr after the reason. False then."""
    error = _write(sys.stdout, text)
    if error is None:
        return True
    write_stderr(f"trioload: could not write the {what} to stdout ({error}); it follows here\n")
    write_stderr(text)
    return False


def _write(stream: TextIO, text: str) -> str | None:
    """Write and flush; the reason if the stream failed (it is then silenced for good)."""
    if not text:
        return None
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError) as exc:  # ValueError: the stream was closed
        _silence(stream)
        return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return None


def _silence(stream: TextIO) -> None:
    """Point the stream's descriptor at /dev/null: its unflushed rest, flushed again at exit,
    then goes nowhere instead of raising a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass  # no descriptor to repoint: nothing will flush it at exit either
