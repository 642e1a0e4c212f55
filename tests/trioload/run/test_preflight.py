"""Before the run: the host is looked up once, and one probe connection finds a port where
nothing listens, so a wrong URL is one line and exit 2 rather than a run of failures."""

from __future__ import annotations

import socket

import pytest

from tests.trioload.conftest import (
    StartTrioserve,
    refused_port,
    run_trioload,
    url,
)
from trioload.config import parse_url
from trioload.run.preflight import TargetError, find_target


async def test_find_target_resolves_the_host_once() -> None:
    family, address = await find_target(parse_url("http://localhost:8/"), probe=False)
    assert family in (socket.AF_INET, socket.AF_INET6)
    assert address[0] in ("127.0.0.1", "::1") and address[1] == 8


async def test_find_target_names_a_host_that_does_not_resolve() -> None:
    with pytest.raises(TargetError, match=r"^cannot resolve host 'no-such-host\.invalid': "):
        await find_target(parse_url("http://no-such-host.invalid/"), probe=False)


async def test_find_target_probe_finds_that_nothing_listens() -> None:
    port = refused_port()
    refused = rf"^cannot connect to 127\.0\.0\.1:{port}: Connection refused; "
    with pytest.raises(TargetError, match=refused + r"is the server running\?$"):
        await find_target(parse_url(url(port)), probe=True)


async def test_find_target_probe_is_unseen_by_a_server_that_defers_accept(
    start_trioserve: StartTrioserve,
) -> None:
    server, port = await start_trioserve()
    await find_target(parse_url(url(port)), probe=True)
    run = await run_trioload("-q", "-n", "3", url(port))
    assert run.returncode == 0
    # Three requests and trioload's own probe: the probe's reset never reached the server.
    assert (server.stats.accepted, server.stats.closed_early, server.stats.socket_errors) == (
        3,
        0,
        0,
    )


@pytest.mark.parametrize("workers", ["1", "2"])
async def test_cli_nothing_listening_is_one_line_and_exit_2(workers: str) -> None:
    port = refused_port()
    run = await run_trioload("-q", "-W", workers, "-c", "2", "-n", "10", url(port))
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr == (
        f"trioload: cannot connect to 127.0.0.1:{port}: Connection refused; "
        "is the server running?\n"
    )


async def test_cli_unresolvable_host_is_one_line_and_exit_2() -> None:
    run = await run_trioload("-q", "-n", "10", "http://no-such-host.invalid/")
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.startswith("trioload: cannot resolve host 'no-such-host.invalid': ")
    assert run.stderr.count("\n") == 1
