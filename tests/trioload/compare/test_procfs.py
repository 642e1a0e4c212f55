"""A process tree's CPU from /proc: the stat line's parser, the tree's sum, the reading edge."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from trioload.compare.procfs import (
    ProcStat,
    group_alive,
    group_alive_in,
    parse_stat,
    pid_alive,
    process_tree_cpu_s,
    tree_ticks,
)

TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def stat_line(
    pid: int,
    comm: str,
    ppid: int,
    times: tuple[int, int, int, int],
    *,
    state: str = "S",
    pgrp: int | None = None,
) -> str:
    """A /proc/PID/stat line as Linux writes it (fields past cstime included)."""
    utime, stime, cutime, cstime = times
    return (
        f"{pid} ({comm}) {state} {ppid} {pgrp or pid} {pid} 34816 {pid} 4194560 1201 0 3 0 "
        f"{utime} {stime} {cutime} {cstime} 20 0 1 0 27411 12345678 2345 "
        "18446744073709551615 1 1 0 0 0 0 0 16781312 134217730 0 0 0 17 1 0 0 0 0 0\n"
    )


@pytest.mark.parametrize(
    "comm", ["nginx", "python3", "my server", "a) b (c", "(sd-pam)", ") S 99 (", ""]
)
def test_parse_stat_reads_the_fields_after_the_last_parenthesis(comm: str) -> None:
    line = stat_line(4321, comm, 17, (250, 40, 7, 3))
    assert parse_stat(line) == ProcStat(4321, 17, 250, 40, 7, 3)


def test_parse_stat_reads_this_process() -> None:
    stat = parse_stat(Path("/proc/self/stat").read_text())
    assert (stat.pid, stat.ppid) == (os.getpid(), os.getppid())


@pytest.mark.parametrize(
    "text", ["", "garbage", "12 (x S 1 2", "12 (x) S 1 2 3", "x (y) S 1 " + "0 " * 20]
)
def test_parse_stat_rejects_what_is_not_a_stat_line(text: str) -> None:
    with pytest.raises(ValueError, match="not a /proc/PID/stat line"):
        parse_stat(text)


#: init (1) and, under it, a server (10): a worker (11) with a child of its own (12), and a
#: second worker (13); a sibling of the server (20) with a child (21).
TABLE = [
    ProcStat(1, 0, 1000, 1000, 5000, 5000),
    ProcStat(10, 1, 100, 10, 7, 3),
    ProcStat(11, 10, 200, 20, 0, 0),
    ProcStat(12, 11, 300, 30, 0, 0),
    ProcStat(13, 10, 400, 40, 0, 0),
    ProcStat(20, 1, 9000, 900, 90, 9),
    ProcStat(21, 20, 8000, 800, 0, 0),
]


def test_tree_ticks_sums_the_root_and_every_descendant() -> None:
    own = 100 + 10 + 200 + 20 + 300 + 30 + 400 + 40
    assert tree_ticks(TABLE, 10) == own + 7 + 3  # the root's reaped children via cutime


def test_tree_ticks_counts_a_leaf_alone_and_no_sibling() -> None:
    assert tree_ticks(TABLE, 12) == 330
    assert tree_ticks(TABLE, 13) == 440


def test_tree_ticks_counts_what_a_descendant_reaped() -> None:
    # Worker 11 has reaped its child (12): the child's ticks now sit in 11's cutime/cstime,
    # so the tree's total does not go down.
    before = tree_ticks(TABLE, 10)
    reaped = [s for s in TABLE if s.pid not in {11, 12}] + [ProcStat(11, 10, 200, 20, 300, 30)]
    assert tree_ticks(reaped, 10) == before


def test_tree_ticks_is_none_without_the_root() -> None:
    assert tree_ticks(TABLE, 99) is None
    assert tree_ticks([], 1) is None


def test_tree_ticks_ends_on_a_table_with_a_loop() -> None:
    # Read over time, a table can be inconsistent (a pid reused by a process whose parent is
    # in the table as a child): the walk must still end, counting each process once.
    looped = [ProcStat(5, 6, 1, 0, 0, 0), ProcStat(6, 5, 2, 0, 0, 0)]
    assert tree_ticks(looped, 5) == 3


def fake_proc(root: Path, lines: dict[str, str]) -> Path:
    for name, text in lines.items():
        (root / name).mkdir()
        if text:
            (root / name / "stat").write_text(text)
    return root


def test_process_tree_cpu_s_reads_every_stat_and_skips_the_vanished(tmp_path: Path) -> None:
    proc = fake_proc(
        tmp_path,
        {
            "10": stat_line(10, "server", 1, (100, 20, 5, 5)),
            "11": stat_line(11, "worker", 10, (60, 10, 0, 0)),
            "12": "",  # listed, then gone before its stat was read
            "self": stat_line(11, "worker", 10, (60, 10, 0, 0)),  # not a pid: not read
            "30": stat_line(30, "other", 1, (999, 999, 0, 0)),
        },
    )
    assert process_tree_cpu_s(10, proc) == pytest.approx(200 * TICK_S)
    assert process_tree_cpu_s(11, proc) == pytest.approx(70 * TICK_S)


def test_process_tree_cpu_s_is_none_for_a_gone_pid_or_no_proc(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, {"10": stat_line(10, "server", 1, (1, 1, 0, 0))})
    assert process_tree_cpu_s(11, proc) is None
    assert process_tree_cpu_s(10, tmp_path / "absent") is None


def test_group_alive_in_counts_members_that_have_not_exited() -> None:
    leader = stat_line(10, "server", 1, (0, 0, 0, 0), state="Z")
    worker = stat_line(11, "worker (1)", 1, (0, 0, 0, 0), pgrp=10)
    orphan = stat_line(12, "worker (2)", 1, (0, 0, 0, 0), state="Z", pgrp=10)
    stranger = stat_line(13, "other", 11, (0, 0, 0, 0), pgrp=13)
    assert group_alive_in([leader, worker, orphan, stranger], 10)
    assert not group_alive_in([leader, orphan, stranger], 10)  # zombies only
    assert not group_alive_in([stranger], 10)
    assert group_alive_in([stranger], 13)


def test_group_alive_reads_proc_and_is_none_without_it(tmp_path: Path) -> None:
    proc = fake_proc(
        tmp_path,
        {
            "10": stat_line(10, "server", 1, (0, 0, 0, 0)),
            "11": stat_line(11, "worker", 10, (0, 0, 0, 0), state="Z", pgrp=10),
        },
    )
    assert group_alive(10, proc)
    assert not group_alive(11, proc)
    assert group_alive(10, tmp_path / "absent") is None
    assert group_alive(os.getpgrp())


def test_pid_alive_is_true_for_a_running_process_and_false_for_no_pid() -> None:
    assert pid_alive(os.getpid())
    assert pid_alive(1)  # init: maybe another user's, and alive all the same
    assert not pid_alive(0)  # kill() would take 0 and -1 for process groups
    assert not pid_alive(-1)


async def test_pid_alive_is_false_for_a_zombie_and_a_reaped_child() -> None:
    process = await trio.lowlevel.open_process([sys.executable, "-c", "pass"])
    # Wait for the exit without reaping: a zombie is left.
    os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
    assert not pid_alive(process.pid)
    await process.wait()
    assert not pid_alive(process.pid)


#: A "server" (``parent``) that, once told to go, starts a ``child`` and burns CPU alongside
#: it; it reports the CPU it burned since the go, and the child's whole CPU (all of it spent
#: after the go). On the next line it reaps the child; on the one after, it exits.
BURNER = """
import subprocess, sys, time

def burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass

if sys.argv[1] == "child":
    burn(0.2)
    print(time.process_time(), flush=True)
    sys.stdin.readline()
    sys.exit()
print("up", flush=True)
sys.stdin.readline()
start = time.process_time()
child = subprocess.Popen(
    [sys.executable, __file__, "child"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
)
burn(0.2)
child_cpu = float(child.stdout.readline())
print(time.process_time() - start, child_cpu, flush=True)
sys.stdin.readline()
child.stdin.close()
child.wait()
print("reaped", flush=True)
sys.stdin.readline()
"""

#: /proc counts whole ticks per process, each rounded down: a few ticks of slack.
SLACK_S = 5 * TICK_S


class Lines:
    """Reads a process's stdout a line at a time."""

    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self.stream = stream
        self.buffer = b""

    async def next(self) -> str:
        while b"\n" not in self.buffer:
            chunk = await self.stream.receive_some()
            assert chunk, "the process closed its stdout"
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode()


async def test_process_tree_cpu_s_counts_a_live_tree_then_what_it_reaped(tmp_path: Path) -> None:
    script = tmp_path / "burner.py"
    script.write_text(BURNER)
    ours_before = process_tree_cpu_s(os.getpid())
    assert ours_before is not None
    with trio.fail_after(10):
        process = await trio.lowlevel.open_process(
            [sys.executable, str(script), "parent"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        lines = Lines(process.stdout)
        try:
            assert await lines.next() == "up"
            before = process_tree_cpu_s(process.pid)
            assert before is not None
            await process.stdin.send_all(b"go\n")
            parent_cpu, child_cpu = map(float, (await lines.next()).split())
            burned = parent_cpu + child_cpu
            assert burned >= 0.4
            # The child is alive: counted as a descendant.
            live = process_tree_cpu_s(process.pid)
            assert live is not None
            assert live - before >= burned - SLACK_S
            await process.stdin.send_all(b"reap\n")
            assert await lines.next() == "reaped"
            # The child is gone: counted in its parent's cutime/cstime.
            reaped = process_tree_cpu_s(process.pid)
            assert reaped is not None
            assert reaped - before >= burned - SLACK_S
            await process.stdin.send_all(b"exit\n")
            assert await process.wait() == 0
        finally:
            process.kill()  # a no-op once it has exited
            await process.wait()
    assert process_tree_cpu_s(process.pid) is None
    # Reaped by this process: the whole tree's CPU is in this process's cutime/cstime now.
    ours_after = process_tree_cpu_s(os.getpid())
    assert ours_after is not None
    assert ours_after - ours_before >= burned - SLACK_S
