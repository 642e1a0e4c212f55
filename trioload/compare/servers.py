"""``--serve NAME=COMMAND``: the servers trioload compare starts, waits for, and stops.

Each command runs in a session of its own, so a terminal's Ctrl-C reaches trioload alone,
which stops them itself. A server is ready once its URL's host and port accept a TCP
connection; it is stopped with SIGTERM to its process group, then SIGKILL after a grace.
Its stderr is drained all along (a full pipe would stall it) and only its last few KiB are
kept, to be quoted when it fails.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from functools import partial

import trio

from trioload.compare.procfs import group_alive
from trioload.run.preflight import RESET_ON_CLOSE

#: stderr kept of each server, to quote its last lines.
STDERR_KEPT_BYTES = 8192
#: how many of its last stderr lines a message quotes, and how much of each.
QUOTED_LINES = 5
QUOTED_LINE_CHARS = 200
#: readiness polls: the first pause, the longest; each pause doubles the one before.
FIRST_POLL_S = 0.01
LONGEST_POLL_S = 0.2
#: one readiness connection; a slower one is a server not ready yet.
CONNECT_TIMEOUT_S = 1.0
#: how long a server that exited has to finish writing stderr before it is quoted (a child
#: it left behind may hold the pipe open for ever).
STDERR_SETTLE_S = 0.5
#: after SIGKILL, how long to wait for the process to be reaped.
KILL_WAIT_S = 5.0


class ServerError(Exception):
    """A ``--serve`` server failed to start or to listen: one line for the user."""


@dataclass(frozen=True)
class ServeSpec:
    """A server to start: ``argv``, and the address its URL names, where it will listen."""

    name: str
    argv: tuple[str, ...]
    host: str
    port: int


def parse_serve(text: str) -> tuple[str, tuple[str, ...]]:
    """``NAME=COMMAND`` as (name, argv): COMMAND split as a shell would split it (no shell
    runs it); ValueError, with the reason, where it is not one."""
    name, equals, command = text.partition("=")
    if not equals:
        raise ValueError(f"--serve wants NAME=COMMAND, got {text!r}")
    if not name.strip():
        raise ValueError(f"--serve {text!r}: the name before '=' is empty")
    try:
        argv = tuple(shlex.split(command))
    except ValueError as exc:
        raise ValueError(f"--serve {name}: cannot split {command!r}: {exc}") from None
    if not argv:
        raise ValueError(f"--serve {name}: the command after '=' is empty")
    return name, argv


@dataclass
class StderrTail:
    """The last bytes a server wrote to stderr; ``done`` once the pipe closed."""

    kept: bytearray = field(default_factory=bytearray)
    done: trio.Event = field(default_factory=trio.Event)

    async def drain(self, stream: trio.abc.ReceiveStream) -> None:
        try:
            async with stream:
                while chunk := await stream.receive_some(65536):
                    self.kept += chunk
                    del self.kept[:-STDERR_KEPT_BYTES]
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            self.done.set()

    def quoted(self) -> str:
        """Its last lines as one line of text."""
        lines = [line.strip() for line in self.kept.decode(errors="replace").splitlines()]
        lines = [_printable(line)[:QUOTED_LINE_CHARS] for line in lines if line.strip()]
        if not lines:
            return "(none)"
        return " | ".join(lines[-QUOTED_LINES:])


def _printable(line: str) -> str:
    return "".join(char if char.isprintable() else " " for char in line)


@dataclass
class _Server:
    spec: ServeSpec
    process: trio.Process
    stderr: StderrTail

    @property
    def command(self) -> str:
        return shlex.join(self.spec.argv)

    @property
    def where(self) -> str:
        return _where(self.spec.host, self.spec.port)


def _where(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@asynccontextmanager
async def serving(
    specs: Sequence[ServeSpec], *, ready_timeout: float = 10.0, grace: float = 5.0
) -> AsyncIterator[dict[str, int]]:
    """Start every server of ``specs``, wait until each one listens, and give {name: pid};
    on the way out (normal, error, cancellation or Ctrl-C) stop every server started, each
    process group with SIGTERM, then SIGKILL after ``grace`` seconds, and reap them.
    ServerError, after the ones started are stopped, where one cannot start, exits before it
    listens, or does not listen within ``ready_timeout`` seconds."""
    _refuse_shared_addresses(specs)
    servers: list[_Server] = []
    unwrapped: BaseException | None = None
    try:
        async with trio.open_nursery() as drains:
            try:
                for spec in specs:
                    if await _accepts(spec.host, spec.port):
                        raise ServerError(
                            f"--serve {spec.name}: {_where(spec.host, spec.port)} already "
                            "accepts connections before its command started: another server "
                            "holds the port"
                        )
                for spec in specs:
                    servers.append(await _start(spec, drains))
                await _all_ready(servers, ready_timeout)
                yield {server.spec.name: server.process.pid for server in servers}
            finally:
                # Signalled before the first checkpoint: a second Ctrl-C during the waits
                # below still leaves every server told to stop.
                for server in servers:
                    _signal_group(server, signal.SIGTERM)
                with trio.CancelScope(shield=True):
                    async with trio.open_nursery() as stops:
                        for server in servers:
                            stops.start_soon(_stop, server, grace)
                drains.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # The drains never fail: what the nursery wrapped is the body's own exception (or
        # cancellations), to be raised as it was. Raised out of this handler, it keeps its
        # own cause and context.
        unwrapped = _unwrapped(group)
    if unwrapped is not None:
        raise unwrapped


def _unwrapped(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """What the drains' nursery wrapped: the body's exception alone (cancellations of the
    drains aside), itself a group if the body raised one; the group where there is more."""
    raised = [exc for exc in group.exceptions if not isinstance(exc, trio.Cancelled)]
    if len(raised) == 1:
        return raised[0]
    if not raised and len(group.exceptions) == 1:
        return group.exceptions[0]
    return group


def _refuse_shared_addresses(specs: Sequence[ServeSpec]) -> None:
    """Two servers on one address: one readiness would answer for both."""
    owners: dict[tuple[str, int], str] = {}
    for spec in specs:
        owner = owners.setdefault((spec.host, spec.port), spec.name)
        if owner != spec.name:
            raise ServerError(
                f"--serve {spec.name}: {_where(spec.host, spec.port)} is --serve {owner}'s "
                "address too"
            )


async def _start(spec: ServeSpec, drains: trio.Nursery) -> _Server:
    try:
        process = await trio.lowlevel.open_process(
            list(spec.argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise ServerError(
            f"--serve {spec.name}: cannot run {spec.argv[0]!r}: {exc.strerror or exc}"
        ) from None
    tail = StderrTail()
    assert process.stderr is not None  # asked for: stderr=PIPE
    drains.start_soon(tail.drain, process.stderr)
    return _Server(spec, process, tail)


async def _all_ready(servers: list[_Server], ready_timeout: float) -> None:
    """Wait for all at once; the first failure stops the other waits and is raised alone."""
    failures: list[ServerError] = []

    async def ready(server: _Server, nursery: trio.Nursery) -> None:
        try:
            await _ready(server, ready_timeout)
        except ServerError as exc:
            failures.append(exc)
            nursery.cancel_scope.cancel()

    async with trio.open_nursery() as nursery:
        for server in servers:
            nursery.start_soon(ready, server, nursery)
    if failures:
        raise failures[0]


async def _ready(server: _Server, ready_timeout: float) -> None:
    """Return once the server accepts connections; ServerError if it exits first or is not
    listening after ``ready_timeout``."""
    name = server.spec.name
    exited: list[int] = []

    async def watch(cancel_scope: trio.CancelScope) -> None:
        exited.append(await server.process.wait())
        cancel_scope.cancel()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(watch, nursery.cancel_scope)
        listening = False
        with trio.move_on_after(ready_timeout) as timer:
            await _poll_until(partial(_accepts, server.spec.host, server.spec.port))
            listening = True
        nursery.cancel_scope.cancel()
    if listening:
        return
    if exited:
        with trio.move_on_after(STDERR_SETTLE_S):
            await server.stderr.done.wait()
        status = _describe_status(exited[0])
        hint = " (a server that goes to the background must be told to stay in the foreground)"
        raise ServerError(
            f"--serve {name}: {server.command!r} {status} before listening on "
            f"{server.where}{hint if exited[0] == 0 else ''}; its last stderr lines: "
            f"{server.stderr.quoted()}"
        )
    assert timer.cancelled_caught
    raise ServerError(
        f"--serve {name}: nothing listens on {server.where} after {ready_timeout:g} s; "
        f"last stderr: {server.stderr.quoted()}"
    )


def _describe_status(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


async def _poll_until(done: Callable[[], Awaitable[bool]]) -> None:
    """Ask ``done`` until it says yes, the pauses between doubling up to ``LONGEST_POLL_S``."""
    pause = FIRST_POLL_S
    while not await done():
        await trio.sleep(pause)
        pause = min(pause * 2, LONGEST_POLL_S)


async def _accepts(host: str, port: int) -> bool:
    """Whether ``host``:``port`` accepts a TCP connection now. The connection is reset as it
    closes: no TIME_WAIT, and a server that defers accepting until data arrives never sees
    it."""
    stream: trio.SocketStream | None = None
    with trio.move_on_after(CONNECT_TIMEOUT_S):
        try:
            stream = await trio.open_tcp_stream(host, port)
        except OSError:
            return False
    if stream is None:
        return False
    stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_ON_CLOSE)
    await stream.aclose()
    return True


def _signal_group(server: _Server, signum: int) -> None:
    """``signum`` to the server's process group (its pid: it leads a session of its own)."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(server.process.pid, signum)


async def _stop(server: _Server, grace: float) -> None:
    """The group has had SIGTERM: wait up to ``grace`` for the server and everything left
    in its group to exit, then SIGKILL whatever is left, and reap the server."""
    with trio.move_on_after(grace):
        await server.process.wait()
        await _poll_until(partial(_group_gone, server.process.pid))
    # Once the group is empty and the server reaped, this finds no one (ESRCH). The group's
    # number stays taken while any member, zombie or not, is left: only an empty group's
    # number could have gone to a new process since, a race against pid wrap-around.
    _signal_group(server, signal.SIGKILL)
    with trio.move_on_after(KILL_WAIT_S):
        await server.process.wait()


async def _group_gone(pgid: int) -> bool:
    """Whether no process of group ``pgid`` is alive (a poll of ``_poll_until``)."""
    return not _group_alive(pgid)


def _group_alive(pgid: int) -> bool:
    alive = group_alive(pgid)
    if alive is not None:
        return alive
    try:  # no /proc: kill() tells, but counts zombies in
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member that changed its user: still there
        pass
    return True
