"""``benchlib.soak.hostile``: its misbehaving clients against an in-process trioserve, its counts
when nothing answers, and its command line."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from scripts.benchlib.soak import hostile
from scripts.benchlib.soak.hostile import Mix, run_mix, status_of
from trioserve.config import ServerConfig
from trioserve.server import Server

ROOT = Path(__file__).resolve().parents[3]
#: every kind on, a few of each; the server's 0.5 s head timeout closes held ones within a run.
SMALL = Mix(slowloris=5, idle=5, oversized_per_s=5, garbage_per_s=5, resets_per_s=5, drip_s=0.2)


async def serve(nursery: trio.Nursery) -> int:
    """A trioserve in ``nursery`` on an ephemeral port with a 0.5 s head timeout; its port.

    TCP_DEFER_ACCEPT off: with it, the kernel hands an idle connection over only after 1-3 s.
    """
    config = ServerConfig(host="127.0.0.1", port=0, head_timeout=0.5, defer_accept=False)
    port: int = await nursery.start(Server(config).serve)
    return port


@pytest.fixture
def unanswered() -> Iterator[socket.socket]:
    """A bound socket that never listens: connecting to its port is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock


def answered(counts: dict[str, Any]) -> int:
    """How many probes of a kind got an answer or another ending."""
    return int(sum(counts["endings"].values()))


async def test_hostile_mix_is_refused_answered_and_replaced(nursery: trio.Nursery) -> None:
    port = await serve(nursery)
    counts = await run_mix("127.0.0.1", port, SMALL, seconds=2.0)

    for kind in ("slowloris", "idle"):
        held = counts[kind]
        assert held["closed_by_server"] >= 5, kind  # the head timeout closed them ...
        assert held["sent"] > 5, kind  # ... and each was replaced
        assert held["connect_failed"] == held["skipped"] == 0, kind
        assert held["endings"] == {}, kind
    for kind, status in (("oversized", "431"), ("garbage", "400")):
        probes = counts[kind]
        assert set(probes["endings"]) == {status}, probes  # no reset, eof or timeout
        assert probes["closed_by_server"] == 0, probes
        # probes still waiting when the time ran out were cancelled unanswered; 10 launches in 2 s
        assert 0 < answered(probes) <= probes["sent"] <= 10
        assert probes["connect_failed"] == probes["skipped"] == 0, probes
    assert 5 <= counts["resets"]["sent"] <= 10
    assert counts["resets"]["connect_failed"] == 0


async def test_hostile_counts_refused_connections_without_raising(
    unanswered: socket.socket,
) -> None:
    port = unanswered.getsockname()[1]
    mix = Mix(slowloris=2, idle=0, oversized_per_s=10, garbage_per_s=0, resets_per_s=10)
    counts = await run_mix("127.0.0.1", port, mix, seconds=0.3)

    assert counts["slowloris"]["connect_failed"] >= 2
    assert counts["slowloris"]["sent"] == 0
    assert counts["idle"] == {
        "sent": 0,
        "connect_failed": 0,
        "closed_by_server": 0,
        "skipped": 0,
        "endings": {},
    }
    assert counts["oversized"]["connect_failed"] >= 2
    assert counts["oversized"]["sent"] == 0
    assert counts["garbage"]["sent"] == counts["garbage"]["connect_failed"] == 0
    assert counts["resets"]["connect_failed"] >= 2
    assert counts["resets"]["sent"] == 0


async def test_hostile_skips_launches_beyond_the_in_flight_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hostile, "MAX_IN_FLIGHT", 1)
    # A listener that never accepts: connects complete in its backlog, answers never come.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        mix = Mix(slowloris=0, idle=0, oversized_per_s=0, garbage_per_s=20, resets_per_s=0)
        counts = await run_mix("127.0.0.1", silent.getsockname()[1], mix, seconds=0.5)

    garbage = counts["garbage"]
    assert garbage["sent"] == 1
    assert answered(garbage) == 0  # still waiting when the time ran out
    assert 3 <= garbage["skipped"] <= 10  # 10 launches, the first still in flight


async def test_hostile_resets_reach_the_server_as_rsts(nursery: trio.Nursery) -> None:
    listener = trio.socket.socket()
    await listener.bind(("127.0.0.1", 0))
    listener.listen()
    endings_in, endings = trio.open_memory_channel[str](math.inf)

    async def accept_all() -> None:
        """Each connection's ending as the server sees it: a RST, or a FIN (EOF)."""
        with listener:
            while True:
                conn, _ = await listener.accept()
                with conn:
                    try:
                        ending = "eof" if not await conn.recv(1) else "data"
                    except ConnectionResetError:
                        ending = "rst"
                endings_in.send_nowait(ending)

    nursery.start_soon(accept_all)
    mix = Mix(slowloris=0, idle=0, oversized_per_s=0, garbage_per_s=0, resets_per_s=20)
    counts = await run_mix("127.0.0.1", listener.getsockname()[1], mix, seconds=0.3)

    sent = counts["resets"]["sent"]
    assert sent >= 3
    with trio.fail_after(5):
        seen = [await endings.receive() for _ in range(sent)]
    assert seen == ["rst"] * sent


@pytest.mark.parametrize(
    ("received", "status"),
    [
        (b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n", "431"),
        (b"HTTP/1.0 400", "400"),
        (b"SSH-2.0-OpenSSH\r\n", "?"),
        (b"", None),
    ],
)
def test_hostile_status_of_reads_the_status_line(received: bytes, status: str | None) -> None:
    assert status_of(received) == status


def test_hostile_cli_refuses_a_host_outside_127_8() -> None:
    command = [sys.executable, "-m", "scripts.benchlib.soak.hostile", "--host", "10.0.0.1"]
    done = subprocess.run(
        [*command, "--port", "80", "--seconds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "refusing '10.0.0.1'" in done.stderr


async def test_hostile_cli_prints_its_counts_as_json(nursery: trio.Nursery) -> None:
    port = await serve(nursery)
    knobs = ["--slowloris", "2", "--idle", "2", "--oversized-per-s", "4", "--drip-s", "0.2"]
    knobs += ["--garbage-per-s", "4", "--resets-per-s", "4"]
    # Run as a file, not with -m.
    script = str(ROOT / "scripts" / "benchlib" / "soak" / "hostile.py")
    done = await trio.run_process(
        [sys.executable, script, "--port", str(port), "--seconds", "1", *knobs],
        cwd=ROOT,
        capture_stdout=True,
    )
    counts = json.loads(done.stdout)

    assert set(counts) == {"seconds", "slowloris", "idle", "oversized", "garbage", "resets"}
    assert 1.0 <= counts["seconds"] < 3.0
    assert counts["slowloris"]["sent"] >= 2
    assert counts["idle"]["sent"] >= 2
    assert counts["oversized"]["endings"].get("431", 0) >= 1
    assert counts["garbage"]["endings"].get("400", 0) >= 1
    assert counts["resets"]["sent"] >= 1


@pytest.mark.parametrize(
    "bad",
    [["--port", "0"], ["--seconds", "0"], ["--drip-s", "0"], ["--idle", "-1"]],
)
def test_hostile_cli_refuses_a_port_time_or_count_out_of_range(bad: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        hostile.main(["--port", "80", "--seconds", "1", *bad])
    assert exited.value.code == 2
