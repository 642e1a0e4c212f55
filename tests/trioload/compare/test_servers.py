"""``--serve``: servers started, waited for, and stopped (with their whole process group),
run end to end as real processes on loopback ports."""

from __future__ import annotations

import errno
import os
import signal
import socket
import sys
from pathlib import Path

import pytest
import trio
import trio.testing

from tests.trioload.conftest import refused_port
from trioload.compare.procfs import pid_alive
from trioload.compare.servers import (
    STDERR_KEPT_BYTES,
    ServerError,
    ServeSpec,
    StderrTail,
    parse_serve,
    serving,
)

PY = sys.executable

#: listens on 127.0.0.1:PORT after writing its pid to PIDFILE; with ``ignore-term`` it
#: ignores SIGTERM. ``python -c LISTENER PORT PIDFILE [ignore-term]``.
LISTENER = """
import os, signal, socket, sys, time
if sys.argv[3:] == ["ignore-term"]:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(sys.argv[2], "w") as f:
    f.write(str(os.getpid()))
sock = socket.socket()
sock.bind(("127.0.0.1", int(sys.argv[1])))
sock.listen()
while True:
    time.sleep(60)
"""

#: starts LISTENER as its child (the same arguments) and waits for it; it does not pass
#: signals on.
LAUNCHER = """
import subprocess, sys
subprocess.run([sys.executable, "-c", sys.argv[1], *sys.argv[2:]])
"""


#: waits until 127.0.0.1:PORT accepts a connection, then exits with status 2.
WAIT_THEN_FAIL = """
import socket, sys, time
while True:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()
    except ConnectionRefusedError:
        time.sleep(0.01)
    else:
        sys.exit(2)
"""


def spec(name: str, port: int, *argv: str) -> ServeSpec:
    return ServeSpec(name=name, argv=argv, host="127.0.0.1", port=port)


def listener(name: str, port: int, pidfile: Path, *extra: str) -> ServeSpec:
    return spec(name, port, PY, "-c", LISTENER, str(port), str(pidfile), *extra)


async def accepts(port: int) -> bool:
    with trio.socket.socket() as sock:
        try:
            await sock.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return False
        return True


def reaped(pid: int) -> bool:
    """Not (or no longer) a child of this process: it was waited for."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def assert_stopped(pid: int, port: int) -> None:
    assert not pid_alive(pid)
    with pytest.raises(OSError) as refused:  # nothing listens any more
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert refused.value.errno == errno.ECONNREFUSED


# -- parse_serve -----------------------------------------------------------------------


def test_parse_serve_splits_the_command_as_a_shell_would() -> None:
    assert parse_serve("web=nginx -c 'my conf.conf' -g \"daemon off;\"") == (
        "web",
        ("nginx", "-c", "my conf.conf", "-g", "daemon off;"),
    )
    assert parse_serve("a=b=c d") == ("a", ("b=c", "d"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nginx -c x", "wants NAME=COMMAND"),
        ("=nginx", "the name before '=' is empty"),
        ("web=", "the command after '=' is empty"),
        ("web=   ", "the command after '=' is empty"),
        ("web=nginx -g 'daemon off;", "--serve web: cannot split .*closing quotation"),
    ],
)
def test_parse_serve_rejects_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_serve(text)


# -- serving ----------------------------------------------------------------------------


async def test_serving_starts_trioserve_and_stops_and_reaps_it() -> None:
    port = refused_port()
    argv = (PY, "-m", "trioserve", "--host", "127.0.0.1", "--port", str(port))
    async with serving([spec("trioserve", port, *argv)]) as pids:
        assert list(pids) == ["trioserve"]
        pid = pids["trioserve"]
        assert await accepts(port)
        assert pid_alive(pid)
    assert_stopped(pid, port)
    assert reaped(pid)


async def test_serving_tells_of_a_server_that_died_meanwhile(tmp_path: Path) -> None:
    port = refused_port()
    async with serving([listener("web", port, tmp_path / "pid")]) as pids:
        os.kill(pids["web"], signal.SIGKILL)
        os.waitid(os.P_PID, pids["web"], os.WEXITED | os.WNOWAIT)  # its end, not reaped
        assert not pid_alive(pids["web"])
    assert reaped(pids["web"])


async def test_serving_quotes_the_stderr_of_a_command_that_exits_at_once() -> None:
    port = refused_port()
    code = "import sys; print('reading x.conf', file=sys.stderr); sys.exit('x.conf: no such file')"
    with pytest.raises(ServerError) as failed:
        async with serving([spec("web", port, PY, "-c", code)]):
            pytest.fail("a server that exited was taken for ready")
    message = str(failed.value)
    assert message.startswith(f"--serve web: '{PY} -c ")
    assert f"exited with status 1 before listening on 127.0.0.1:{port}; " in message
    assert message.endswith("its last stderr lines: reading x.conf | x.conf: no such file")


async def test_serving_keeps_one_line_of_the_last_stderr_of_a_chatty_command() -> None:
    port = refused_port()
    code = "import sys\nfor i in range(20000): print('line', i, file=sys.stderr)\nsys.exit(3)"
    with pytest.raises(ServerError) as failed:
        async with serving([spec("web", port, PY, "-c", code)]):
            pass
    message = str(failed.value)
    assert "\n" not in message
    assert "exited with status 3" in message
    assert message.endswith("line 19995 | line 19996 | line 19997 | line 19998 | line 19999")


async def test_serving_says_a_command_that_exits_without_error_must_stay_in_front() -> None:
    port = refused_port()
    with pytest.raises(ServerError, match=r"status 0 before .*stay in the foreground"):
        async with serving([spec("web", port, PY, "-c", "pass")]):
            pass


async def test_serving_gives_up_on_a_command_that_never_listens(tmp_path: Path) -> None:
    port = refused_port()
    pidfile = tmp_path / "pid"
    code = (
        "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); "
        "print('warming up', file=sys.stderr, flush=True); time.sleep(60)"
    )
    with pytest.raises(ServerError) as failed:
        async with serving([spec("web", port, PY, "-c", code, str(pidfile))], ready_timeout=1):
            pass
    assert str(failed.value) == (
        f"--serve web: nothing listens on 127.0.0.1:{port} after 1 s; last stderr: warming up"
    )
    pid = int(pidfile.read_text())
    assert not pid_alive(pid)
    assert reaped(pid)


async def test_serving_cannot_run_a_missing_executable() -> None:
    with pytest.raises(ServerError) as failed:
        async with serving([spec("web", refused_port(), "no-such-server-here", "-x")]):
            pass
    assert str(failed.value) == (
        "--serve web: cannot run 'no-such-server-here': No such file or directory"
    )


async def test_serving_refuses_a_port_another_server_holds(tmp_path: Path) -> None:
    with trio.socket.socket() as holder:
        await holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        pidfile = tmp_path / "pid"
        with pytest.raises(ServerError) as failed:
            async with serving([listener("web", port, pidfile)]):
                pass
    assert str(failed.value) == (
        f"--serve web: 127.0.0.1:{port} already accepts connections before its command "
        "started: another server holds the port"
    )
    assert not pidfile.exists()  # never started


async def test_serving_refuses_two_servers_on_one_address(tmp_path: Path) -> None:
    port = refused_port()
    with pytest.raises(ServerError, match=f"--serve b: 127.0.0.1:{port} is --serve a's"):
        async with serving(
            [listener("a", port, tmp_path / "a"), listener("b", port, tmp_path / "b")]
        ):
            pass
    assert not (tmp_path / "a").exists()


async def test_serving_kills_a_server_that_ignores_sigterm_after_the_grace(
    tmp_path: Path,
) -> None:
    port = refused_port()
    pidfile = tmp_path / "pid"
    async with serving([listener("web", port, pidfile, "ignore-term")], grace=0.3) as pids:
        stopping_at = trio.current_time()
    waited = trio.current_time() - stopping_at
    assert 0.3 <= waited < 2
    assert_stopped(pids["web"], port)
    assert reaped(pids["web"])


async def test_serving_stops_the_first_when_the_second_fails(tmp_path: Path) -> None:
    first, second = refused_port(), refused_port()
    pidfile = tmp_path / "pid"
    with pytest.raises(ServerError, match=r"--serve second: .* exited with status 2"):
        async with serving(
            [
                listener("first", first, pidfile),
                spec("second", second, PY, "-c", WAIT_THEN_FAIL, str(first)),
            ]
        ):
            pass
    pid = int(pidfile.read_text())  # it was started, and listened
    assert_stopped(pid, first)
    assert reaped(pid)


async def test_serving_stops_its_servers_when_cancelled(tmp_path: Path) -> None:
    port = refused_port()
    with trio.CancelScope() as scope:
        async with serving([listener("web", port, tmp_path / "pid")]) as pids:
            scope.cancel()
            await trio.sleep_forever()
    assert scope.cancelled_caught
    assert_stopped(pids["web"], port)
    assert reaped(pids["web"])


async def test_serving_stops_its_servers_on_an_error_in_its_body(tmp_path: Path) -> None:
    port = refused_port()
    with pytest.raises(KeyError, match="raised in the body"):
        async with serving([listener("web", port, tmp_path / "pid")]) as pids:
            raise KeyError("raised in the body")
    assert_stopped(pids["web"], port)


async def test_serving_stops_its_servers_on_ctrl_c(tmp_path: Path) -> None:
    port = refused_port()
    with pytest.raises(KeyboardInterrupt):
        async with serving([listener("web", port, tmp_path / "pid")]) as pids:
            raise KeyboardInterrupt
    assert_stopped(pids["web"], port)
    assert reaped(pids["web"])


async def test_serving_lets_the_exceptions_of_its_body_out_as_they_were() -> None:
    raised = ExceptionGroup("from the body", [ValueError("one"), KeyError("two")])
    with pytest.raises(ExceptionGroup) as caught:
        async with serving([]) as pids:
            assert pids == {}
            raise raised
    # Trio's cancel scope re-derives a group that passes through it: the same group, if not
    # the same object.
    assert caught.value.message == "from the body"
    assert caught.value.exceptions == raised.exceptions
    with pytest.raises(ValueError, match="alone") as alone:
        async with serving([]):
            raise ValueError("alone")
    assert alone.value.__context__ is None


async def test_stderr_tail_keeps_only_the_last_bytes() -> None:
    send, receive = trio.testing.memory_stream_pair()
    tail = StderrTail()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(tail.drain, receive)
        for i in range(5000):
            await send.send_all(f"line {i}\n".encode())
        await send.aclose()
    assert tail.done.is_set()
    assert len(tail.kept) == STDERR_KEPT_BYTES
    assert tail.quoted() == "line 4995 | line 4996 | line 4997 | line 4998 | line 4999"


async def test_serving_stops_the_whole_process_group(tmp_path: Path) -> None:
    port = refused_port()
    pidfile = tmp_path / "pid"
    launcher = spec("web", port, PY, "-c", LAUNCHER, LISTENER, str(port), str(pidfile))
    async with serving([launcher]) as pids:
        listening = int(pidfile.read_text())
        assert listening != pids["web"]  # the grandchild listens, not the command
        assert pid_alive(listening)
    assert_stopped(listening, port)
    assert not pid_alive(pids["web"])
