"""A server's CPU from Linux ``/proc``: the time its whole process tree has used.

A server may be one process, a master with worker processes, or a launcher (a shell, a
supervisor) with the real server below it; so its CPU is the sum over the process and every
descendant. Parsing and summing are plain functions over ``/proc/PID/stat`` lines; the
reading edge (``process_tree_cpu_s``) lists ``/proc`` once and reads each process's line.

Reaped children count through their parent's ``cutime``/``cstime``: when a process waits
for a child, the kernel adds the child's CPU (and that of the children it had waited for) to
the parent's. Counting those fields for every process of the tree keeps the total from going
down when a worker exits and its parent reaps it. A descendant whose parent exits before it
is re-parented (to init, or to a sub-reaper) and leaves the tree: what it uses after that is
not counted.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

#: states of a process that has exited: a zombie (not yet reaped), or dead.
_EXITED_STATES = frozenset("ZX")

#: ``/proc/PID/stat`` fields after the ``comm`` field's ')' (field 3, the state, is index 0).
_STATE, _PPID, _PGRP, _UTIME, _STIME, _CUTIME, _CSTIME = 0, 1, 2, 11, 12, 13, 14


class ProcStat(NamedTuple):
    """What one ``/proc/PID/stat`` line says of a process's family and CPU (clock ticks)."""

    pid: int
    ppid: int
    utime_ticks: int
    stime_ticks: int
    cutime_ticks: int
    cstime_ticks: int


def _split_stat(text: str) -> tuple[int, list[str]]:
    """The pid and the fields after ``comm``. ``comm`` is in parentheses and may hold spaces
    and parentheses of its own, so it ends at the line's last ')'."""
    opening = text.find("(")
    closing = text.rfind(")")
    if opening < 0 or closing < opening:
        raise ValueError(f"not a /proc/PID/stat line: {text[:80]!r}")
    try:
        pid = int(text[:opening])
    except ValueError:
        raise ValueError(f"not a /proc/PID/stat line: {text[:80]!r}") from None
    return pid, text[closing + 1 :].split()


def parse_stat(text: str) -> ProcStat:
    """The process ``/proc/PID/stat``'s line ``text`` describes; ValueError if it is not one."""
    pid, fields = _split_stat(text)
    try:
        return ProcStat(
            pid=pid,
            ppid=int(fields[_PPID]),
            utime_ticks=int(fields[_UTIME]),
            stime_ticks=int(fields[_STIME]),
            cutime_ticks=int(fields[_CUTIME]),
            cstime_ticks=int(fields[_CSTIME]),
        )
    except (IndexError, ValueError):
        raise ValueError(f"not a /proc/PID/stat line: {text[:80]!r}") from None


def tree(stats: Iterable[ProcStat], root: int) -> list[ProcStat] | None:
    """``root`` and all its descendants, as found in ``stats`` (``root`` first); None when
    ``root`` is not in ``stats``."""
    by_pid: dict[int, ProcStat] = {}
    children: defaultdict[int, list[int]] = defaultdict(list)
    for stat in stats:
        by_pid[stat.pid] = stat
        children[stat.ppid].append(stat.pid)
    if root not in by_pid:
        return None
    found: list[ProcStat] = []
    seen: set[int] = set()
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in seen:  # a table taken over time may be inconsistent: never loop
            continue
        seen.add(pid)
        found.append(by_pid[pid])
        todo.extend(children.get(pid, ()))
    return found


def tree_ticks(stats: Iterable[ProcStat], root: int) -> int | None:
    """The CPU (clock ticks) of ``root`` and all its descendants, as found in ``stats``: each
    one's own user and system time, and that of the children each has reaped; None when
    ``root`` is not in ``stats``."""
    found = tree(stats, root)
    if found is None:
        return None
    return sum(s.utime_ticks + s.stime_ticks + s.cutime_ticks + s.cstime_ticks for s in found)


def group_alive_in(texts: Iterable[str], pgid: int) -> bool:
    """Whether the ``/proc/PID/stat`` lines ``texts`` show a process of group ``pgid`` that has
    not exited (zombies aside: an orphan's zombie waits for init, which may be slow to reap)."""
    for text in texts:
        _, fields = _split_stat(text)
        if int(fields[_PGRP]) == pgid and fields[_STATE] not in _EXITED_STATES:
            return True
    return False


def read_stat_texts(proc: Path = Path("/proc")) -> list[str] | None:
    """Every process's ``stat`` line under ``proc``; None where there is no ``proc`` (not
    Linux). A process that ends between the listing and the reading is left out."""
    try:
        entries = [entry for entry in proc.iterdir() if entry.name.isdigit()]
    except OSError:
        return None
    texts = []
    for entry in entries:
        try:
            texts.append((entry / "stat").read_text())
        except OSError:  # gone (ENOENT, ESRCH), or hidden from us: nothing we can count
            continue
    return texts


def read_stats(proc: Path = Path("/proc")) -> list[ProcStat] | None:
    """Every process's ``stat`` line under ``proc``, parsed (see ``read_stat_texts``)."""
    texts = read_stat_texts(proc)
    return None if texts is None else [parse_stat(text) for text in texts]


def process_tree_cpu_s(pid: int, proc: Path = Path("/proc")) -> float | None:
    """Seconds of CPU that process ``pid`` and all its descendants have used (see
    ``tree_ticks``); None when ``pid`` is gone or there is no ``proc`` (not Linux)."""
    stats = read_stats(proc)
    if stats is None:
        return None
    ticks = tree_ticks(stats, pid)
    if ticks is None:
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def pid_alive(pid: int, proc: Path = Path("/proc")) -> bool:
    """Whether process ``pid`` exists and has not exited (a zombie, exited but not yet reaped,
    is not alive)."""
    if pid <= 0:  # kill() would take these for process groups
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        pass
    try:
        text = (proc / str(pid) / "stat").read_text()
    except FileNotFoundError:
        # Without /proc (not Linux), kill() has answered; with it, the process just went.
        return not proc.exists()
    except OSError:
        return False
    _, fields = _split_stat(text)
    return bool(fields) and fields[0] not in _EXITED_STATES


def group_alive(pgid: int, proc: Path = Path("/proc")) -> bool | None:
    """Whether any process of process group ``pgid`` is alive (see ``group_alive_in``); None
    where there is no ``proc`` (not Linux)."""
    texts = read_stat_texts(proc)
    return None if texts is None else group_alive_in(texts, pgid)
