"""The command line: exit statuses, signals, limits and memory."""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

import pytest
import trio

from tests.trioload.conftest import (
    TRIOLOAD,
    StartTrioserve,
    interrupted,
    run_trioload,
    url,
)
from trioload.engine import kernel_clock


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--no-such-flag"], "unrecognized arguments"),
        (["-c", "0"], "must be > 0"),
        (["http://127.0.0.1:notaport/"], "invalid URL"),
        (["--engine", "tasks", "https://127.0.0.1/"], "https needs the shard engine"),
        (["ftp://x/"], "must start with http://"),
        (["-p", "/nonexistent/body-file"], "cannot read -p"),
        (["-H", "no colon"], "bad header"),
        (["--segment", "3/3"], "must be below N (0 to 2)"),
        (["--segment", "1/0"], "the count N must be at least 1"),
        (["--segment", "x/2"], "expected I/N"),
        (["-n", "2", "-c", "3", "--segment", "0/3"], "-n 2 cannot be cut into 3 segments"),
        (["-n", "9", "-c", "2", "--segment", "1/3"], "-c 2 cannot be cut into 3 segments"),
        (["--clock", "kernel", "--engine", "tasks"], "--clock kernel needs"),
        (["--clock", "kernel", "https://127.0.0.1/"], "--clock kernel needs"),
        (["--clock", "now"], "invalid choice"),
        (["-R", "5:"], "not a rate"),
        (["--stages", "1s@5", "-t", "3"], "leave out -R and -t"),
    ],
)
async def test_cli_exits_2_on_usage_errors(argv: list[str], complaint: str) -> None:
    run = await run_trioload(*argv)
    assert run.returncode == 2
    assert complaint in run.stderr
    assert run.stderr.count("\n") == 1  # one clear line, no usage dump
    assert run.stdout == ""


async def test_cli_exits_2_when_the_fd_limit_is_too_low_for_c() -> None:
    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    run = await run_trioload("-c", "1000", "-n", "1000", url(9), preexec_fn=low_limit)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "ulimit -n" in lines[0]
    assert run.stdout == ""


async def test_cli_t_ends_the_run_in_about_t_seconds(start_trioserve: StartTrioserve) -> None:
    _, port = await start_trioserve()
    start = trio.current_time()
    run = await run_trioload("-q", "-t", "0.5", "-c", "2", "--json", "-", url(port))
    wall = trio.current_time() - start
    assert run.returncode == 0
    report = run.report
    assert report["finished"] > 0
    assert report["requests"] is None
    # Without -n only -t ends the run; the bound leaves room for a loaded machine.
    assert 0.5 <= report["time_taken_s"] < 2.5
    assert wall < 10


async def test_cli_json_file_leaves_the_text_report_on_stdout(
    start_trioserve: StartTrioserve, tmp_path: Path
) -> None:
    _, port = await start_trioserve()
    path = tmp_path / "out.json"
    run = await run_trioload("-n", "5", "--json", str(path), url(port))
    assert run.returncode == 0
    assert "Complete requests:      5\n" in run.stdout
    assert json.loads(path.read_text())["finished"] == 5
    assert "Benchmarking 127.0.0.1 (be patient)" in run.stderr
    assert "Finished 5 requests" in run.stderr


async def test_cli_reports_the_concurrency_that_ran_and_the_clock(
    start_trioserve: StartTrioserve, tmp_path: Path
) -> None:
    _, port = await start_trioserve()
    path, hlog = tmp_path / "out.json", tmp_path / "out.hlog"
    run = await run_trioload(
        "-q", "-n", "5", "-c", "10", "--json", str(path), "--hdr-log", str(hlog), url(port)
    )
    assert run.returncode == 0, run.stderr
    assert "Concurrency Level:      5\n" in run.stdout  # -c 10, but 5 requests: 5 ran
    report = json.loads(path.read_text())
    assert report["concurrency"] == 5
    if kernel_clock.AVAILABLE:
        assert report["clock"] == "kernel"
        assert report["latency_ms"]["read_lag"]["max"] >= 0
        assert "Clock: the kernel's, on arrival; read lag p50 " in run.stdout
        # the interval log and the timeline carry it as one more phase, in the same format
        assert "\nTag=read_lag," in hlog.read_text()
        assert any("read_lag" in entry["hdr"] for entry in report["timeline"])
    for flags in (["--engine", "tasks"], ["--clock", "read"]):
        read = await run_trioload("-q", "-n", "5", *flags, "--json", "-", url(port))
        assert read.report["clock"] == "read"
        assert "read_lag" not in read.report["latency_ms"]


async def test_cli_exits_130_on_sigint_with_a_report(start_trioserve: StartTrioserve) -> None:
    server, port = await start_trioserve()

    async def ready(stderr: bytes) -> bool:
        if b"Benchmarking" not in stderr:
            return False
        while server.stats.responses <= 100:
            await trio.sleep(0.01)  # the server counts; no event to wait on
        return True

    argv = [str(TRIOLOAD), "-n", "10000000", "-c", "10", url(port)]
    status, text = await interrupted(argv, ready, timeout=20)
    assert status == 130
    complete = int(text.split("Complete requests:")[1].split()[0])
    assert 0 < complete < 10_000_000
    assert "Interrupted" in text


# -- memory ------------------------------------------------------------------------------


#: prints its own peak RSS (KiB) on stderr's last line after a trioload run
RSS_WRAPPER = (
    "import resource, sys\n"
    "from trioload.cli import main\n"
    "main(sys.argv[1:])\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)


def measured(argv: list[str]) -> list[str]:
    """``argv`` under /usr/bin/time if present, else under a wrapper reporting its peak RSS."""
    if Path("/usr/bin/time").exists():
        return ["/usr/bin/time", "-f", "%M", str(TRIOLOAD), *argv]
    return [sys.executable, "-c", RSS_WRAPPER, *argv]


async def test_cli_memory_stays_flat_as_n_grows(start_trioserve: StartTrioserve) -> None:
    _, port = await start_trioserve(backlog=256)
    peaks = {}
    for n in (2000, 20000):
        done = await trio.run_process(
            measured(["-q", "-c", "50", "-n", str(n), url(port)]),
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        peaks[n] = int(done.stderr.decode().strip().splitlines()[-1])
    assert peaks[20000] / peaks[2000] <= 1.1, peaks
