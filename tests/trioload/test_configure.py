"""The run's flags checked together into a LoadConfig, and the usage errors they can make."""

from __future__ import annotations

from pathlib import Path

import pytest

from trioload.config import LoadConfig, UsageError
from trioload.configure import config_from_args
from trioload.engine import shards
from trioload.engine.load import default_engine
from trioload.flags import build_parser


def config_of(*argv: str) -> LoadConfig:
    return config_from_args(build_parser().parse_args(list(argv)))


# -- flags -------------------------------------------------------------------------------


def test_config_from_args_defaults_to_one_get_request() -> None:
    config = config_of()
    assert (config.requests, config.concurrency, config.method) == (1, 1, "GET")
    assert config.time_limit is None
    assert config.progress


def test_config_from_args_t_alone_means_no_count_limit() -> None:
    assert config_of("-t", "2").requests is None
    assert config_of("-t", "2", "-n", "50").requests == 50


def test_config_from_args_p_reads_the_body_and_posts(tmp_path: Path) -> None:
    body_file = tmp_path / "body.json"
    body_file.write_bytes(b'{"x": 1}')
    config = config_of("-p", str(body_file), "-T", "application/json")
    assert (config.method, config.body, config.content_type) == (
        "POST",
        b'{"x": 1}',
        "application/json",
    )
    assert config_of("-p", str(body_file), "-m", "put").method == "PUT"


def test_config_from_args_headers_and_workers() -> None:
    config = config_of(
        "-H", "X-A:  1 ", "-H", "Host: example.test", "-c", "3", "-n", "100", "-W", "8"
    )
    assert config.headers == (("X-A", "1"), ("Host", "example.test"))
    assert config.workers == 3  # never more processes than connections


def test_config_from_args_c_above_n_runs_as_many_connections_as_requests() -> None:
    assert config_of("-c", "10", "-n", "5").concurrency == 5  # what ran, not what was asked
    assert config_of("-c", "10", "-n", "5", "-t", "2").concurrency == 5
    assert config_of("-c", "10", "-t", "2").concurrency == 10
    assert config_of("-c", "10", "-n", "5", "--segment", "0/2").concurrency == 3


def test_config_from_args_engine_auto_picks_shards_where_epoll_exists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert config_of("--engine", "tasks").engine == "tasks"
    assert default_engine() == ("shards" if shards.AVAILABLE else "tasks")
    monkeypatch.setattr(shards, "AVAILABLE", False)
    assert default_engine() == "tasks"
    with pytest.raises(UsageError, match="needs epoll"):
        config_of("--engine", "shards")


@pytest.mark.parametrize(
    "argv",
    [["-H", "no colon"], ["-H", ": empty name"], ["-m", "GE T"], ["-X", "no-port"]],
)
def test_config_from_args_rejects_bad_input(argv: list[str]) -> None:
    with pytest.raises(UsageError):
        config_of(*argv)


# -- exit statuses -----------------------------------------------------------------------
