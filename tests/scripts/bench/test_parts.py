"""The client runs the bench's parts make (``benchlib.bench.parts``): each load generator's
command line, its name in the report and its safety-net timeout. Nothing here runs a client."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from scripts.benchlib.bench import targets as t
from scripts.benchlib.bench.parts import (
    AB_SOCKET_TIMEOUT_S,
    Options,
    ab_run,
    run_tls,
    trioload_run,
    wrk_run,
)
from scripts.benchlib.machine import VENV_BIN
from scripts.benchlib.peers import PeerSpec
from scripts.benchlib.processes import Server
from scripts.benchlib.runner import ClientRun, Runner, client_timeout

URL = "http://127.0.0.1:8080/"
HTTPS = "https://127.0.0.1:8443/"


def options(tmp_path: Path, wrk_seconds: float = 1.0) -> Options:
    return Options(
        host="127.0.0.1", requests=2000, concurrency=1000, rounds=1, parts=frozenset({t.TLS}),
        wrk_seconds=wrk_seconds, latency_requests=10, memory_sizes=(1, 2), pause=0.0,
        install_peers=False, markdown=None, trioserve=tmp_path / "trioserve",
        trioload=tmp_path / "trioload", trioserve_before=None, trioload_before=None,
    )  # fmt: skip


# --- ab --------------------------------------------------------------------------------------


def test_ab_is_keep_alive_off_with_socket_errors_tolerated() -> None:
    run = ab_run(URL, 2000, 100)
    assert run.name == t.AB
    assert run.argv == [
        "ab", "-r", "-q", "-s", str(AB_SOCKET_TIMEOUT_S), "-c", "100", "-n", "2000", URL,
    ]  # fmt: skip
    assert (run.requests, run.timeout_s) == (2000, client_timeout(2000))


def test_ab_keep_alive_adds_k_before_the_other_flags() -> None:
    run = ab_run(URL, 10, 1, keep_alive=True)
    assert run.name == t.AB_K
    assert run.argv[:2] == ["ab", "-k"]
    assert run.argv.count("-k") == 1


def test_ab_runs_over_tls13_keep_alive_off() -> None:
    run = ab_run(HTTPS, 3000, t.TLS_CONCURRENCY, tls=True)
    assert run.name == t.AB_TLS
    assert run.argv == ["ab", "-f", "TLS1.3", "-r", "-q", "-s", "30", "-c", "100", "-n", "3000",
                        HTTPS]  # fmt: skip
    assert run.requests == 3000
    assert run.timeout_s == client_timeout(30_000)


# --- wrk -------------------------------------------------------------------------------------


def test_wrk_asks_for_close_and_latency_with_whole_seconds(tmp_path: Path) -> None:
    run = wrk_run(options(tmp_path, wrk_seconds=10.4), URL)
    assert run.name == t.WRK
    assert run.argv[:4] == ["wrk", "-t2", "-c1000", "-d10s"]
    header = run.argv.index("-H")
    assert run.argv[header : header + 2] == ["-H", "Connection: close"]
    assert "--latency" in run.argv
    assert run.argv[-1] == URL
    assert run.requests is None  # duration-bound: the count comes from its report


def test_wrk_keep_alive_sends_no_close_header_at_the_parts_c(tmp_path: Path) -> None:
    run = wrk_run(options(tmp_path, wrk_seconds=5), URL, 1, keep_alive=True)
    assert run.name == t.WRK_T1_K
    assert run.argv[:4] == ["wrk", "-t1", f"-c{t.KEEPALIVE_CONCURRENCY}", "-d5s"]
    assert "-H" not in run.argv
    assert run.argv[-1] == URL


def test_wrk_runs_at_least_one_second(tmp_path: Path) -> None:
    run = wrk_run(options(tmp_path, wrk_seconds=0.2), URL, 1)
    assert run.name == t.WRK_T1
    assert "-d1s" in run.argv


@pytest.mark.parametrize("found", [None, "/usr/bin/wrk"])
def test_wrk_says_when_it_is_not_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, found: str | None
) -> None:
    monkeypatch.setattr("shutil.which", lambda name: found)
    missing = wrk_run(options(tmp_path), URL).missing
    assert missing == (None if found else "wrk not installed")


# --- trioload --------------------------------------------------------------------------------


def test_trioload_puts_extra_flags_before_the_url(tmp_path: Path) -> None:
    run = trioload_run(options(tmp_path), t.TRIOLOAD_W2, URL, 500, 20, "-k", "-W", "2")
    assert run.argv == [
        str(tmp_path / "trioload"), "-c", "20", "-n", "500", "--json", "-", "-k", "-W", "2", URL,
    ]  # fmt: skip
    assert run.name == t.TRIOLOAD_W2
    assert run.missing == f"{tmp_path / 'trioload'} is not installed"  # no such file


# --- a part's clients on each server --------------------------------------------------------


class Planned(Runner):
    """A runner that runs nothing: it keeps what a part asked of it."""

    def run_rounds(
        self,
        part: str,
        rounds: int,
        specs: Sequence[PeerSpec],
        clients: Callable[[Server], list[ClientRun]],
    ) -> None:
        self.specs, self.clients = list(specs), clients


def test_tls_part_runs_ab_everywhere_and_trioload_verifying_then_insecure_on_nginx(
    tmp_path: Path,
) -> None:
    runner = Planned("127.0.0.1", tmp_path, 0.0)
    opts = options(tmp_path)
    opts.trioserve = VENV_BIN / "trioserve"
    run_tls(runner, opts, tmp_path)
    assert [spec.name for spec in runner.specs] == [t.NGINX_TLS, t.TRIOSERVE_TLS]
    served = runner.specs[1].argv(8443)  # trioserve with the chain and its key
    tls_dir = tmp_path / "tls"
    assert served[-4:] == ["--certfile", str(tls_dir / "server-chain.pem"),
                           "--keyfile", str(tls_dir / "server.key")]  # fmt: skip
    log = tmp_path / "log"
    trioserve = Server(t.TRIOSERVE_TLS, [], log, host="127.0.0.1", port=8443)
    assert [run.name for run in runner.clients(trioserve)] == [t.AB_TLS]
    ab, verifying, insecure = runner.clients(
        Server(t.NGINX_TLS, [], log, host="127.0.0.1", port=8443)
    )
    assert ab.argv == ab_run(HTTPS, 2000, t.TLS_CONCURRENCY, tls=True).argv
    common = [str(tmp_path / "trioload"), "-c", "100", "-n", "2000", "--json", "-", "-f", "TLS1.3"]
    assert (verifying.name, insecure.name) == (t.TRIOLOAD_TLS, t.TRIOLOAD_TLS_INSECURE)
    assert verifying.argv == [*common, "--cacert", str(tmp_path / "tls" / "ca.pem"), HTTPS]
    assert insecure.argv == [*common, "--insecure", HTTPS]
    assert "-k" not in verifying.argv + insecure.argv
    assert {verifying.timeout_s, insecure.timeout_s} == {client_timeout(20_000)}
    assert {verifying.requests, insecure.requests} == {2000}
