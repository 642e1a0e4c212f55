"""``trioload compare`` end to end: bad input refused before any round, servers ranked with
their verdicts, the servers it started always stopped, Ctrl-C's report."""

from __future__ import annotations

import json
import random
import socket
import sys
from pathlib import Path

import pytest
import trio

from tests.trioload.conftest import (
    TRIOLOAD,
    StartTrioserve,
    interrupted,
    refused_port,
    run_trioload,
    url,
)

#: small, quick rounds: the comparisons below differ by far more than their noise.
QUICK = ("-c", "10", "-n", "300", "--rounds", "5", "--pause", "0", "--warmup", "0.2")


def free_port() -> int:
    """A free port above the kernel's ephemeral range (or below it), picked at random. Not in
    it: a server's port that closes during a test (a dying server) could then be taken as the
    source port of one of the run's own connections, which would connect to itself."""
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    candidates: list[int] = [*range(high + 1, 65536), *range(low - 1, 1024, -1)]
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port outside the ephemeral range")


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def serve(name: str, port: int, *flags: str) -> list[str]:
    command = f"{sys.executable} -m trioserve --host 127.0.0.1 --port {port} {' '.join(flags)}"
    return ["--serve", f"{name}={command}"]


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["http://127.0.0.1:9/", "b=http://127.0.0.1:9/"], "bad target"),
        (["a=http://127.0.0.1:9/", "a=http://127.0.0.1:8/"], "two targets are named 'a'"),
        (["a=http://127.0.0.1:9/"], "at least two targets"),
        (["a=x://h/", "b=http://127.0.0.1:9/"], "x://"),
        (["a=http://127.0.0.1:9/", "b=http://127.0.0.1:8/", "--serve", "c=true"], "no target"),
        (["a=http://127.0.0.1:9/", "b=http://127.0.0.1:8/", "--pid", "a=0x"], "no such process"),
        (["a=http://127.0.0.1:9/", "b=http://127.0.0.1:8/", "--baseline", "z"], "--baseline"),
        (["a=http://127.0.0.1:9/", "b=http://127.0.0.1:8/", "--rounds", "2"], "at least 3"),
        (["a=http://127.0.0.1:9/", "b=http://127.0.0.1:8/", "-g", "x.tsv"], "-g writes one run"),
        (["a=http://127.0.0.1:9/", "b=http://127.0.0.1:8/", "--serve", "a='unclosed"], "--serve"),
        (["http://127.0.0.1:9/?a=b", "b=http://127.0.0.1:8/"], "expected NAME=URL"),
        (["a=http://127.0.0.1:9/", "b=http://127.0.0.1:8/", "--rank-by", "cpu"], "--rank-by cpu"),
        (["a=http://127.0.0.1:9/", "b=http://127.0.0.1:8/", "--segment", "0/2"], "--segment"),
    ],
)
async def test_compare_refuses_bad_input_in_one_line(argv: list[str], complaint: str) -> None:
    done = await run_trioload("compare", *argv)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and complaint in lines[0], done.stderr


async def test_compare_refuses_a_url_where_nothing_listens(start_trioserve: StartTrioserve) -> None:
    server, port = await start_trioserve()
    done = await run_trioload("compare", *QUICK, f"up={url(port)}", f"down={url(refused_port())}")
    assert done.returncode == 2
    assert "cannot connect" in done.stderr and "round" not in done.stderr
    assert server.stats.responses == 0  # before any round


async def test_compare_stops_a_started_server_when_another_fails_to_start() -> None:
    port, other = free_port(), free_port()
    done = await run_trioload(
        "compare", *QUICK, f"good={url(port)}", f"bad={url(other)}",
        *serve("good", port),
        "--serve", f"bad={sys.executable} -c \"import sys; sys.exit('no config file')\"",
    )  # fmt: skip
    assert done.returncode == 2
    assert "--serve bad" in done.stderr and "no config file" in done.stderr
    assert not listening(port)


@pytest.mark.slow
async def test_compare_ranks_the_faster_server_first_with_a_significant_ratio() -> None:
    fast, slow = free_port(), free_port()
    done = await run_trioload(
        "compare", *QUICK, "--json", "-", f"slow={url(slow)}", f"fast={url(fast)}",
        *serve("slow", slow, "--delay", "3"), *serve("fast", fast),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    ranked = sorted(document["targets"], key=lambda target: target["rank"])
    assert [target["name"] for target in ranked] == ["fast", "slow"]
    for target in ranked:
        assert len([run for run in target["runs"] if run["counted"]]) == 5
        cpu = target["server_cpu_us_per_request"]
        assert cpu is not None and cpu["median"] > 0
    rps = next(c for c in document["comparisons"] if c["metric"] == "rps")
    assert rps["name"] == "fast" and rps["baseline"] == "slow"
    assert rps["significant"] is True and rps["ci95"][0] > 1
    assert "fast" in done.stderr.split("Against slow")[0]  # the text report went to stderr
    assert not listening(fast) and not listening(slow)


@pytest.mark.slow
async def test_compare_on_ctrl_c_reports_the_rounds_completed_and_stops_its_servers() -> None:
    a, b = free_port(), free_port()
    argv = [
        str(TRIOLOAD), "compare", "-c", "10", "-n", "2000", "--rounds", "50", "--pause", "0",
        "--warmup", "0", f"a={url(a)}", f"b={url(b)}", *serve("a", a), *serve("b", b),
    ]  # fmt: skip

    async def ready(stderr: bytes) -> bool:
        return b"round 3/50" in stderr

    status, text = await interrupted(argv, ready)
    assert status == 130
    completed = int(text.split("targets, ")[1].split()[0])
    assert 2 <= completed < 50
    assert f"Interrupted: the figures cover the {completed} rounds completed of 50" in text
    assert not listening(a) and not listening(b)


async def test_compare_on_ctrl_c_while_a_server_starts_stops_it_at_once(tmp_path: Path) -> None:
    port, started = free_port(), tmp_path / "started"
    # It never listens: compare would wait 10 s for it, but a Ctrl-C ends the wait.
    code = f"import pathlib, time; pathlib.Path({str(started)!r}).touch(); time.sleep(60)"
    never = f'{sys.executable} -c "{code}"'
    argv = [
        str(TRIOLOAD), "compare", "-c", "2", "-n", "4", f"a={url(port)}", f"b={url(port)}",
        "--serve", f"a={never}",
    ]  # fmt: skip

    async def ready(stderr: bytes) -> bool:
        while not started.exists():
            await trio.sleep(0.01)  # the file is the event; nothing to wait on for it
        return True

    # Well inside the 10 s a server has to listen.
    status, _ = await interrupted(argv, ready, timeout=8)
    assert status == 130
