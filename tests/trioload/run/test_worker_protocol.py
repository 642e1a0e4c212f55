"""The ``-W`` protocol: each worker's configuration (shares of -c and -n, its place in a schedule),
how it travels, and the progress records."""

from __future__ import annotations

import pytest

from trioload.config import LoadConfig
from trioload.run.worker_protocol import (
    PROGRESS_PREFIX,
    decode_config,
    encode_config,
    parse_progress_line,
    progress_line,
    worker_configs,
)


def test_worker_configs_give_each_its_share_and_nothing_to_show_or_write() -> None:
    config = LoadConfig(
        concurrency=5,
        requests=11,
        workers=2,
        keep_alive=True,
        verbosity=2,
        json_path="run.json",
        hdr_log_path="run.hlog",
        hgrm_path="run.hgrm",
        csv_path="run.csv",
    )
    configs = worker_configs(config)
    assert [(w.concurrency, w.requests, w.workers) for w in configs] == [(3, 6, 1), (2, 5, 1)]
    for worker in configs:
        assert worker.keep_alive and worker.url == config.url
        assert (worker.progress, worker.verbosity, worker.json_path) == (False, 0, None)
        assert (worker.hdr_log_path, worker.hgrm_path, worker.csv_path) == (None, None, None)
        assert worker.schedule_part == (0, 1)


def test_worker_configs_without_n_leave_the_time_limit_to_each() -> None:
    config = LoadConfig(concurrency=4, requests=None, time_limit=2.0, workers=2)
    for worker in worker_configs(config):
        assert (worker.requests, worker.time_limit, worker.concurrency) == (None, 2.0, 2)


def test_worker_configs_with_a_rate_give_each_its_place_and_one_start() -> None:
    config = LoadConfig(concurrency=4, requests=10, workers=2, rate=100.0)
    configs = worker_configs(config, start_at=1234.5)
    assert [w.schedule_part for w in configs] == [(0, 2), (1, 2)]
    assert {w.start_at for w in configs} == {1234.5}
    assert {w.rate for w in configs} == {100.0}  # the whole run's rate: each takes its part


def test_worker_configs_keep_the_parents_start_at_without_a_new_one() -> None:
    config = LoadConfig(concurrency=2, requests=2, workers=2, start_at=99.0)
    assert {w.start_at for w in worker_configs(config)} == {99.0}


def test_encode_config_round_trips_every_field() -> None:
    config = LoadConfig(
        concurrency=3,
        requests=9,
        method="POST",
        body=bytes(range(256)) * 3,
        headers=(("X-A", "1"), ("X-B", "2")),
        rate=12.5,
        schedule_part=(1, 3),
    )
    assert decode_config(encode_config(config)) == config


@pytest.mark.parametrize("data", [b"", b"not a pickle", encode_config(object())])  # type: ignore[arg-type]
def test_decode_config_refuses_anything_else(data: bytes) -> None:
    with pytest.raises(ValueError, match="not a worker configuration"):
        decode_config(data)


def test_progress_line_round_trips() -> None:
    line = progress_line(1234, 5)
    assert line.endswith("\n")
    assert parse_progress_line(line) == (1234, 5)


def test_parse_progress_line_ignores_other_output() -> None:
    assert parse_progress_line("Traceback (most recent call last):\n") is None
    assert parse_progress_line(PROGRESS_PREFIX + "12\n") is None
    assert parse_progress_line(PROGRESS_PREFIX + "12 x\n") is None
