"""The ``-w`` protocol: shares of -c and -n, the workers' command lines, progress records."""

from __future__ import annotations

import sys

import pytest

from trioload.config import LoadConfig
from trioload.run.worker_protocol import (
    AS_WORKER_FLAG,
    PROGRESS_PREFIX,
    SCHEDULE_PART_FLAG,
    parse_progress_line,
    progress_line,
    schedule_part,
    worker_commands,
)


def test_worker_commands_carry_each_share_after_the_parents_flags() -> None:
    config = LoadConfig(concurrency=5, requests=11, workers=2)
    commands = worker_commands(config, ["-k", "http://127.0.0.1:9/"])
    assert len(commands) == 2
    for command, (c, n) in zip(commands, [(3, 6), (2, 5)], strict=True):
        assert command[:5] == [sys.executable, "-m", "trioload", "-k", "http://127.0.0.1:9/"]
        extra = command[5:]
        # argparse keeps the last -c/-n/-w, so the shares win over the parent's own flags.
        assert extra[extra.index("-c") + 1] == str(c)
        assert extra[extra.index("-n") + 1] == str(n)
        assert extra[extra.index("-W") + 1] == "1"
        assert AS_WORKER_FLAG in extra
        assert extra[extra.index("--json") + 1] == "-"


def test_worker_commands_without_n_leave_the_time_limit_to_each() -> None:
    config = LoadConfig(concurrency=4, requests=None, time_limit=2.0, workers=2)
    for command in worker_commands(config, ["-t", "2"]):
        assert "-n" not in command[5:]
        assert command[command.index("-c") + 1] == "2"


def test_progress_line_round_trips() -> None:
    line = progress_line(1234, 5)
    assert line.endswith("\n")
    assert parse_progress_line(line) == (1234, 5)


def test_parse_progress_line_ignores_other_output() -> None:
    assert parse_progress_line("Traceback (most recent call last):\n") is None
    assert parse_progress_line(PROGRESS_PREFIX + "12\n") is None
    assert parse_progress_line(PROGRESS_PREFIX + "12 x\n") is None


def test_worker_commands_with_a_rate_give_each_its_place_and_one_start() -> None:
    config = LoadConfig(concurrency=4, requests=10, workers=2, rate=100.0)
    commands = worker_commands(config, ["-R", "100"], start_at=1234.5)
    for index, command in enumerate(commands):
        assert command[command.index(SCHEDULE_PART_FLAG) + 1] == f"{index}/2"
        assert command[command.index("--start-at") + 1] == "1234.5"
    assert [schedule_part(f"{i}/2") for i in range(2)] == [(0, 2), (1, 2)]


def test_schedule_part_refuses_a_place_outside_the_workers() -> None:
    for text in ("2/2", "a/2", "1"):
        with pytest.raises(ValueError, match="bad schedule part"):
            schedule_part(text)
