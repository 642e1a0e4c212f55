"""End to end: the real ``trioserve`` console script on 127.0.0.1 ephemeral ports.

Time bounds here only guard against a hang (a process starting on a loaded machine can take
seconds); where a test claims something about timing, the server's own setting it is held
against is far larger than the bound.
"""

from __future__ import annotations

import re
import resource
import select
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trio
import trustme

from tests.conftest import TlsFiles
from tests.trioserve.conftest import AB_REQUEST, EXACT_RESPONSE, exchange, tls_exchange
from trioserve.cli import build_parser, config_from_args, main

# The console script installed beside this interpreter (the venv that runs the tests).
TRIOSERVE = str(Path(sys.executable).parent / "trioserve")
#: how long a step may take before the test counts it as hung.
HANG_S = 30


@dataclass
class RunningServer:
    process: trio.Process
    port: int
    stderr: bytearray = field(default_factory=bytearray)

    async def read_stderr_until(self, pattern: bytes) -> None:
        """Wait for ``pattern`` on stderr (an event, not a sleep)."""
        assert self.process.stderr is not None
        with trio.fail_after(HANG_S):
            while pattern not in self.stderr:
                chunk = await self.process.stderr.receive_some(4096)
                if not chunk:
                    break
                self.stderr += chunk
        assert pattern in self.stderr, self.stderr.decode()

    async def finish(self) -> int:
        """Wait for exit, collecting the rest of stderr; the exit status."""
        assert self.process.stderr is not None
        with trio.fail_after(HANG_S):
            while chunk := await self.process.stderr.receive_some(4096):
                self.stderr += chunk
            return await self.process.wait()


@asynccontextmanager
async def trioserve(
    *args: str,
    preexec: Callable[[], object] | None = None,
    command: Sequence[str] = (TRIOSERVE,),
    stdout: int | None = None,
) -> AsyncIterator[RunningServer]:
    """Start the console script on a free port and wait for its start line."""
    process = await trio.lowlevel.open_process(
        [*command, "--host", "127.0.0.1", "--port", "0", *args],
        stderr=subprocess.PIPE,
        stdout=stdout,
        preexec_fn=preexec,
    )
    server = RunningServer(process, 0)
    try:
        await server.read_stderr_until(b"/ (")
        match = re.search(rb"listening on https?://127\.0\.0\.1:(\d+)/", server.stderr)
        assert match, server.stderr.decode()
        server.port = int(match.group(1))
        yield server
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_cli_serves_and_stops_gracefully_on_sigterm() -> None:
    async with trioserve() as server:
        assert await exchange(server.port, AB_REQUEST) == EXACT_RESPONSE
        server.process.send_signal(signal.SIGTERM)
        assert await server.finish() == 0
    assert b"stopped: accepted 1, responses 1" in server.stderr


async def test_cli_python_dash_m_runs_the_same_server() -> None:
    async with trioserve(command=(sys.executable, "-m", "trioserve")) as server:
        assert await exchange(server.port, AB_REQUEST) == EXACT_RESPONSE
        server.process.send_signal(signal.SIGINT)
        assert await server.finish() == 0


async def test_cli_sigterm_with_half_sent_request_exits_within_grace() -> None:
    grace = 1.0
    # Only the grace can end that connection: its head timeout is far beyond any bound here.
    async with trioserve("--grace", str(grace), "--head-timeout", "600") as server:
        stream = await trio.open_tcp_stream("127.0.0.1", server.port)
        await stream.send_all(AB_REQUEST[:20])
        start = trio.current_time()
        server.process.send_signal(signal.SIGTERM)
        assert await server.finish() == 0
        elapsed = trio.current_time() - start
        await stream.aclose()
    assert grace * 0.9 <= elapsed < HANG_S


async def test_cli_second_signal_exits_at_once() -> None:
    async with trioserve("--grace", "600") as server:
        stream = await trio.open_tcp_stream("127.0.0.1", server.port)
        await stream.send_all(AB_REQUEST[:20])
        server.process.send_signal(signal.SIGTERM)
        await server.read_stderr_until(b"signal again to stop now")
        server.process.send_signal(signal.SIGTERM)
        assert await server.finish() == 128 + signal.SIGTERM  # within HANG_S, not the grace
        await stream.aclose()


async def test_cli_workers_share_one_port_and_stop_together() -> None:
    async with trioserve("--workers", "2") as server:
        assert b"2 worker processes" in server.stderr
        for _ in range(50):
            assert await exchange(server.port, AB_REQUEST) == EXACT_RESPONSE
        server.process.send_signal(signal.SIGINT)
        assert await server.finish() == 0
    assert server.stderr.count(b"stopped: ") == 2  # each worker reports, then all are gone
    with pytest.raises(OSError):
        await trio.open_tcp_stream("127.0.0.1", server.port)


def _low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))


async def test_cli_accept_under_low_fd_limit_survives_and_recovers() -> None:
    async with trioserve("--head-timeout", "30", preexec=_low_fd_limit) as server:
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(80)]
        await server.read_stderr_until(b"backing off")
        for sock in idle:
            sock.close()
        with trio.fail_after(HANG_S):
            while True:  # the closed clients drain out of the backlog, then we are served
                try:
                    response = await exchange(server.port, AB_REQUEST)
                except trio.BrokenResourceError:
                    continue
                if response == EXACT_RESPONSE:
                    break
        await server.read_stderr_until(b"accept recovered")
        server.process.send_signal(signal.SIGTERM)
        assert await server.finish() == 0
    assert server.stderr.count(b"backing off") == 1  # one line per episode, no traceback
    assert b"Traceback" not in server.stderr


async def test_cli_access_log_prints_one_line_per_response() -> None:
    async with trioserve("--access-log", stdout=subprocess.PIPE) as server:
        for _ in range(3):
            assert await exchange(server.port, AB_REQUEST) == EXACT_RESPONSE
        server.process.send_signal(signal.SIGTERM)
        assert await server.finish() == 0
        assert server.process.stdout is not None
        log = await server.process.stdout.receive_some(65536)
    lines = log.decode().splitlines()
    assert len(lines) == 3
    assert all(re.fullmatch(r'127\.0\.0\.1 - - \[.+\] "GET / HTTP/1\.0" 200 88', x) for x in lines)


def test_cli_config_from_flags() -> None:
    args = build_parser().parse_args(
        [
            "--port",
            "0",
            "--workers",
            "auto",
            "--keep-alive",
            "--body",
            "hi",
            "--max-head",
            "1024",
            "--no-defer-accept",
        ]
    )
    config = config_from_args(args)
    assert config.port == 0
    assert config.workers >= 1
    assert config.reuse_port is (config.workers > 1)
    assert config.keep_alive
    assert config.body == b"hi"
    assert config.max_head == 1024
    assert config.max_request_line == 1024
    assert not config.defer_accept


@pytest.mark.parametrize(
    "bad", [["--port", "abc"], ["--port", "70000"], ["--workers", "-1"], ["--nope"]]
)
def test_cli_bad_flags_exit_2_with_one_line(bad: list[str]) -> None:
    done = subprocess.run([TRIOSERVE, *bad], capture_output=True, timeout=30, check=False)
    assert done.returncode == 2
    assert b"error:" in done.stderr


def test_cli_port_in_use_exits_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [TRIOSERVE, "--host", "127.0.0.1", "--port", str(port)],
            capture_output=True,
            timeout=30,
            check=False,
        )
    assert done.returncode == 1
    assert b"cannot listen" in done.stderr


def test_cli_defers_accept_unless_told_not_to() -> None:
    assert config_from_args(build_parser().parse_args([])).defer_accept
    assert not config_from_args(build_parser().parse_args(["--no-defer-accept"])).defer_accept


def test_cli_without_epoll_says_it_needs_linux(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delattr(select, "epoll")
    assert main(["--port", "0"]) == 1
    assert (
        capsys.readouterr().err == "trioserve: needs Linux (select.epoll is not available here)\n"
    )


def test_cli_config_pacing_flags() -> None:
    config = config_from_args(build_parser().parse_args([]))
    assert (config.response_delay, config.stall_every, config.stall_for) == (0.0, 0.0, 0.0)
    args = ["--delay", "250", "--stall-every", "5", "--stall-for", "1.5"]
    config = config_from_args(build_parser().parse_args(args))
    assert config.response_delay == pytest.approx(0.25)  # milliseconds on the command line
    assert (config.stall_every, config.stall_for) == (5.0, 1.5)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (["--stall-every", "5"], "--stall-every and --stall-for go together"),
        (["--stall-for", "1"], "--stall-every and --stall-for go together"),
        (["--stall-every", "5", "--stall-for", "5"], "--stall-for must be less than"),
        (["--stall-every", "5", "--stall-for", "6"], "--stall-for must be less than"),
        (["--stall-every", "inf", "--stall-for", "1"], "--stall-every must be a finite number"),
        (["--stall-every", "0", "--stall-for", "1"], "argument --stall-every: must be > 0"),
        (["--delay", "-1"], "argument --delay: must be a finite number >= 0"),
        (["--delay", "nan"], "argument --delay: must be a finite number >= 0"),
        (["--delay", "soon"], "argument --delay: not a number"),
    ],
)
def test_cli_bad_pacing_flags_exit_2_with_one_line(
    bad: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--port", "0", *bad])
    assert exited.value.code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1
    assert errors[0].startswith(f"trioserve: error: {message}")


async def test_cli_delay_holds_the_response() -> None:
    delay = 0.3
    async with trioserve("--delay", str(delay * 1000)) as server:
        start = trio.current_time()
        assert await exchange(server.port, AB_REQUEST) == EXACT_RESPONSE
        elapsed = trio.current_time() - start
        server.process.send_signal(signal.SIGTERM)
        assert await server.finish() == 0
    assert delay <= elapsed < HANG_S  # the lower bound is the claim; the upper one, a hang


def tls_flags(tls_files: TlsFiles) -> list[str]:
    return ["--certfile", str(tls_files.cert), "--keyfile", str(tls_files.key)]


async def test_cli_tls_serves_https_and_stops_gracefully(
    tls_files: TlsFiles, client_context: ssl.SSLContext
) -> None:
    async with trioserve(*tls_flags(tls_files)) as server:
        assert b"listening on https://127.0.0.1:" in server.stderr
        for _ in range(3):
            assert await tls_exchange(server.port, client_context, AB_REQUEST) == EXACT_RESPONSE
        server.process.send_signal(signal.SIGTERM)
        assert await server.finish() == 0
    assert b"stopped: accepted 3, responses 3" in server.stderr


async def test_cli_tls_certfile_holding_the_key_needs_no_keyfile(
    tls_files: TlsFiles, client_context: ssl.SSLContext, tmp_path: Path
) -> None:
    both = tmp_path / "both.pem"
    both.write_bytes(tls_files.key.read_bytes() + tls_files.cert.read_bytes())
    async with trioserve("--certfile", str(both)) as server:
        assert await tls_exchange(server.port, client_context, AB_REQUEST) == EXACT_RESPONSE


async def test_cli_tls_workers_answer(tls_files: TlsFiles, client_context: ssl.SSLContext) -> None:
    async with trioserve("--workers", "2", *tls_flags(tls_files)) as server:
        assert b"https://" in server.stderr
        assert b"2 worker processes" in server.stderr
        for _ in range(10):
            assert await tls_exchange(server.port, client_context, AB_REQUEST) == EXACT_RESPONSE
        server.process.send_signal(signal.SIGTERM)
        assert await server.finish() == 0
    assert server.stderr.count(b"stopped: ") == 2


def test_cli_config_tls_flags(tls_files: TlsFiles) -> None:
    assert config_from_args(build_parser().parse_args([])).certfile is None
    config = config_from_args(build_parser().parse_args(tls_flags(tls_files)))
    assert (config.certfile, config.keyfile) == (str(tls_files.cert), str(tls_files.key))


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--keyfile", "{key}"], "--keyfile needs --certfile"),
        (["--certfile", "{tmp}/none.pem"], "cannot read --certfile {tmp}/none.pem: No such file"),
        (["--certfile", "{cert}", "--keyfile", "{tmp}"], "cannot read --keyfile {tmp}: Is a dir"),
        (["--certfile", "{cert}"], "no PEM private key in --certfile {cert}"),
        (["--certfile", "{tmp}/junk.pem", "--keyfile", "{key}"], "no PEM certificate in"),
        (["--certfile", "{cert}", "--keyfile", "{tmp}/other.pem"], "the private key in --keyfile"),
    ],
    ids=["keyfile-alone", "missing-cert", "unreadable-key", "no-key", "bad-pem", "wrong-key"],
)
def test_cli_bad_tls_flags_exit_2_with_one_line(
    flags: list[str],
    message: str,
    tls_files: TlsFiles,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    # A key of another certificate: a valid PEM key that does not match --certfile.
    other = trustme.CA().issue_cert("127.0.0.1").private_key_pem
    other.write_to_path(str(tmp_path / "other.pem"))
    names = {"key": tls_files.key, "cert": tls_files.cert, "tmp": tmp_path}
    with pytest.raises(SystemExit) as exited:
        main(["--port", "0", *(flag.format(**names) for flag in flags)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1
    assert errors[0].startswith(f"trioserve: error: {message.format(**names)}")


def test_cli_tls_missing_cert_exits_2_without_a_traceback(tmp_path: Path) -> None:
    missing = str(tmp_path / "none.pem")
    done = subprocess.run(
        [TRIOSERVE, "--port", "0", "--certfile", missing],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.decode().splitlines()[-1] == (
        f"trioserve: error: cannot read --certfile {missing}: No such file or directory"
    )
    assert b"Traceback" not in done.stderr
