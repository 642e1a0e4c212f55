"""The soak's fault scenarios (5-7): servers that die, restart or go silent mid-run; a
graceful stop under load; and bad input, where nothing of a run may be lost.

Each returns an ``Outcome``: passed or not, and the figures that say why.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from ..machine import free_port
from .run import (
    HOST,
    LoadRun,
    Outcome,
    Sizes,
    failures,
    outcome,
    run_trioload,
    stopped_counts,
    trioserve,
)

#: seconds a run may take beyond -t + -s: the interpreter's start and the report.
END_SLACK_S = 2.0
#: scenarios 5-6 start trioload's run this long after its process (``--start-at``), and
#: strike at a time counted from then: on a busy machine an interpreter can take a second to
#: start, and a server stopped before trioload's first connection would refuse its probe.
START_LEAD_S = 1.0
#: scenario 6: failures other than Connect allowed. The kernel resets a client whose handshake
#: it completed in the microseconds between trioserve's last accept and its listener's close.
CLOSE_RACE_RESETS = 3
#: scenario 6: how long after --grace trioserve may take to exit.
GRACE_SLACK_S = 0.5
DYING_CONCURRENCY = 50
#: scenario 7's runs: enough for a report and files, few enough to take no time.
BAD_INPUT_REQUESTS = 500
#: scenario 5: how long the killed server stays down before it is restarted.
RESTART_AFTER_S = 0.5


def dying(sizes: Sizes, out: Path, case: str) -> Outcome:
    """5: the server is killed (``killed``), killed and restarted (``restarted``), or stops
    answering (``silent``, SIGSTOP) a third of the way into a ``-t`` run. trioload keeps
    going, counts each failure in its column, ends within -t + -s, and exits 1."""
    t, s = sizes.dying_seconds, sizes.dying_timeout_s
    name = f"server {case} mid-run (-t {t:g} -s {s:g}, c={DYING_CONCURRENCY})"
    started = time.monotonic()
    with trioserve(out, f"dying-{case}") as server:
        load = ["-q", "-c", str(DYING_CONCURRENCY), "-t", f"{t:g}", "-s", f"{s:g}", *sizes.pace]
        begins = time.time() + START_LEAD_S
        strike_at = begins + t / 3
        struck = done = False

        def act() -> None:
            nonlocal struck, done
            now = time.time()
            if done or now < strike_at:
                return
            if not struck:
                struck = True
                if case == "silent":
                    server.signal(signal.SIGSTOP)
                else:
                    server.kill()
                done = case != "restarted"
            elif now >= strike_at + RESTART_AFTER_S:
                server.start()
                done = True

        load += ["--start-at", f"{begins:.3f}", server.url]
        run = run_trioload(load, out, timeout=START_LEAD_S + t + s + 60, during=act)
        server.signal(signal.SIGCONT)
        # What the restarted process answered, from its own shutdown line.
        after_restart = (stopped_counts(server) or (0, 0, 0))[1] if server.stop() == 0 else 0
    columns = failures(run)
    silent = case == "silent"
    in_flight = columns.get("receive", 0) + columns.get("write", 0)
    figures = (
        f"exit {run.returncode} after {run.wall_s:.1f} s; {run.get('succeeded')} succeeded, "
        f"failed {run.get('failed')}: {_columns(columns)}"
    )
    if case == "restarted":
        figures += f"; the restarted trioserve answered {after_restart}"
    return outcome(
        name, started, figures,
        (run.returncode != 1, f"exit {run.returncode}, not 1"),
        (run.wall_s > START_LEAD_S + t + s + END_SLACK_S,
         f"took {run.wall_s:.1f} s, beyond -t + -s"),
        (bool(columns.get("exceptions") or columns.get("length")),
         "failures counted as Exceptions or Length"),
        (silent and columns.get("receive", 0) < DYING_CONCURRENCY,
         "the silent server's requests did not time out as Receive"),
        (not silent and not columns.get("connect"),
         "no Connect failures while the server was down"),
        (not silent and in_flight > DYING_CONCURRENCY,
         "more Receive/Write failures than requests in flight at the kill"),
        (case == "restarted" and not after_restart, "the restarted server answered nothing"),
    )  # fmt: skip


def _columns(columns: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in columns.items() if v) or "none"


def graceful(sizes: Sizes, out: Path) -> Outcome:
    """6: SIGTERM to trioserve during a run: what it accepted completes, the rest are refused
    (Connect), and it exits 0 within --grace."""
    g = sizes.grace_s
    name = f"SIGTERM under load (--grace {g:g}, c=200)"
    started = time.monotonic()
    stop: dict[str, float | int | None] = {}
    with trioserve(out, "graceful", ["--grace", f"{g:g}"]) as server:
        begins = time.time() + START_LEAD_S

        def terminate() -> None:
            if stop or time.time() < begins + sizes.grace_run_s / 3:
                return
            sent = time.monotonic()
            stop["status"] = server.stop(g + 10)  # SIGTERM, then (if it outlives that) SIGKILL
            stop["seconds"] = time.monotonic() - sent

        load = ["-q", "-c", "200", "-t", f"{sizes.grace_run_s:g}", "-s", "5", *sizes.pace]
        load += ["--start-at", f"{begins:.3f}", server.url]
        timeout = START_LEAD_S + sizes.grace_run_s + g + 60
        run = run_trioload(load, out, timeout=timeout, during=terminate)
        counts = stopped_counts(server)
    columns = failures(run)
    others = sum(v for k, v in columns.items() if k != "connect")
    accepted, responses, socket_errors = counts or (0, 0, 0)
    figures = (
        f"trioserve exit {stop.get('status')} "
        f"{stop.get('seconds', 0.0) or 0.0:.2f} s after SIGTERM; "
        f"accepted/responses/socket errors {counts}; trioload {run.get('succeeded')} succeeded, "
        f"failed: {_columns(columns)} (at most {CLOSE_RACE_RESETS} not Connect)"
    )
    return outcome(
        name, started, figures,
        (stop.get("status") != 0, f"trioserve exited {stop.get('status')}"),
        ((stop.get("seconds") or 1e9) > g + GRACE_SLACK_S, "trioserve outlived its grace"),
        (counts is None, "no shutdown line"),
        (counts is not None and (accepted != responses or socket_errors > 0),
         "an accepted connection went unanswered"),
        (counts is not None and run.get("succeeded") != responses,
         "trioload's successes differ from trioserve's responses"),
        (not columns.get("connect"), "no request was refused: the stop came too late"),
        (others > CLOSE_RACE_RESETS, f"{others} failures other than Connect"),
    )  # fmt: skip


def bad_input(sizes: Sizes, out: Path) -> Outcome:
    """7: unwritable output paths, a full disk, stdout closed early, an unresolvable host and
    a port nobody listens on: one clear line each, before the run where it can be known
    then, and the report never lost."""
    del sizes  # every case is small
    started = time.monotonic()
    cases: list[tuple[str, Callable[[Path], str | None]]] = [
        ("unwritable --json/--hdr-log/--hgrm", _unwritable),
        ("full disk", _full_disk),
        ("stdout closed early", _stdout_closed),
        ("unresolvable host", _unresolvable),
        ("port nobody listens on", _nobody_listens),
    ]
    results = [(label, check(out)) for label, check in cases]
    figures = ", ".join(f"{label} {'FAIL' if problem else 'ok'}" for label, problem in results)
    checks = ((problem is not None, f"{label}: {problem}") for label, problem in results)
    return outcome("bad input, nothing lost", started, figures, *checks)


def _one_line(run: LoadRun, status: int, start: str) -> str | None:
    """None if the run ended with ``status`` and stderr is one line beginning ``start``."""
    if run.returncode != status:
        return f"exit {run.returncode}, not {status}"
    if run.stderr.count("\n") != 1 or not run.stderr.startswith(start) or "Traceback" in run.stderr:
        return f"stderr {run.stderr[:200]!r}"
    return None


def _small_run(out: Path, *args: str, stdout: int | None = None) -> LoadRun:
    """``trioload -q -n BAD_INPUT_REQUESTS ARGS``: a run too small to take any time."""
    argv = ["-q", "-n", str(BAD_INPUT_REQUESTS), *args]
    return run_trioload(argv, out, timeout=60, stdout=stdout)


def _unwritable(out: Path) -> str | None:
    with trioserve(out, "bad-input") as server:
        for flag in ("--json", "--hdr-log", "--hgrm"):
            run = _small_run(out, flag, "/nonexistent/dir/x", server.url)
            problem = _one_line(run, 2, f"trioload: cannot write {flag} /nonexistent/dir/x: ")
            if problem:
                return f"{flag}: {problem}"
        server.stop()
        counts = stopped_counts(server)
        if counts is None or counts[0] != 0:
            return "the run started before the error"
    return None


def _full_disk(out: Path) -> str | None:
    """``--json /dev/full``, a disk with no room left (ENOSPC on write, as a full filesystem
    gives): the file fails at the end, the report does not."""
    with trioserve(out, "full-disk") as server:
        run = _small_run(out, "--json", "/dev/full", server.url)
    if run.returncode != 1 or f"Complete requests:      {BAD_INPUT_REQUESTS}\n" not in run.stdout:
        return f"exit {run.returncode}, report on stdout: {'Complete requests' in run.stdout}"
    if "No space left on device" not in run.stderr:
        return f"stderr {run.stderr[:200]!r}"
    return None


def _stdout_closed(out: Path) -> str | None:
    """The reader quits before the report (``| head -1``): the report moves to stderr."""
    with trioserve(out, "stdout-closed") as server:
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            run = _small_run(out, server.url, stdout=write_end)
        finally:
            os.close(write_end)
    first = run.stderr.partition("\n")[0]
    if run.returncode != 1 or "could not write the report to stdout" not in first:
        return f"exit {run.returncode}, stderr {first!r}"
    if f"Complete requests:      {BAD_INPUT_REQUESTS}\n" not in run.stderr or run.report is None:
        return "the report or the JSON file was lost"
    return None


def _unresolvable(out: Path) -> str | None:
    run = _small_run(out, "http://no-such-host.invalid/")
    return _one_line(run, 2, "trioload: cannot resolve host 'no-such-host.invalid': ")


def _nobody_listens(out: Path) -> str | None:
    port = free_port(HOST)
    run = _small_run(out, f"http://{HOST}:{port}/")
    return _one_line(run, 2, f"trioload: cannot connect to {HOST}:{port}: Connection refused")
