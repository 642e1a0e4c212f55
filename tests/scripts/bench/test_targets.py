"""The speed targets judged on median rows (``benchlib.bench.targets``): PASS, FAIL or n/a at
and around each threshold."""

from __future__ import annotations

import pytest

from scripts.benchlib.bench import targets as t
from scripts.benchlib.report import Row, RowTable, Verdict

SMALL, LARGE = 100_000, 10_000_000


def table(*rows: Row) -> RowTable:
    return RowTable(rows)


def rps_row(part: str, server: str, client: str, rps: float, failed: int | None = 0) -> Row:
    return Row(part, server, client, runs=1, requests_per_second=rps, failed=failed)


def judged(rows: RowTable, part: str, starting: str) -> Verdict:
    """The one verdict of ``part``'s targets whose text starts with ``starting``."""
    verdicts = t.judge(rows, {part}, (SMALL, LARGE))
    (verdict,) = [verdict for verdict in verdicts if verdict.target.startswith(starting)]
    return verdict


def user_cpu(rows: RowTable) -> Verdict:
    return judged(rows, t.CLIENTS, "trioload user CPU")


# --- servers and workers: plain ratios -------------------------------------------------------


@pytest.mark.parametrize(
    ("trioserve_rps", "passed"), [(950.0, True), (949.0, False), (2000.0, True)]
)
def test_judge_servers_rps_threshold_is_095_of_nginx(trioserve_rps: float, passed: bool) -> None:
    rows = table(
        rps_row(t.SERVERS, t.NGINX_ONE, t.AB, 1000.0),
        rps_row(t.SERVERS, t.TRIOSERVE, t.AB, trioserve_rps),
    )
    verdict = judged(rows, t.SERVERS, "trioserve req/s")
    assert verdict.passed is passed


@pytest.mark.parametrize(("ours", "passed"), [(20.0, True), (20.1, False), (10.0, True)])
def test_judge_servers_cpu_must_not_exceed_uvicorns(ours: float, passed: bool) -> None:
    rows = table(
        Row(t.SERVERS, t.TRIOSERVE, t.AB, runs=1, server_cpu_us=ours),
        Row(t.SERVERS, t.UVICORN, t.AB, runs=1, server_cpu_us=20.0),
    )
    verdict = judged(rows, t.SERVERS, "trioserve server CPU/req <= uv")
    assert verdict.passed is passed


@pytest.mark.parametrize(("ours", "passed"), [(28.0, True), (28.1, False), (10.0, True)])
def test_judge_servers_cpu_at_most_14_times_nginxs(ours: float, passed: bool) -> None:
    rows = table(
        Row(t.SERVERS, t.TRIOSERVE, t.AB, runs=1, server_cpu_us=ours),
        Row(t.SERVERS, t.NGINX_ONE, t.AB, runs=1, server_cpu_us=20.0),
    )
    verdict = judged(rows, t.SERVERS, "trioserve server CPU/req <= 1.4x")
    assert verdict.passed is passed


def test_judge_servers_without_uvicorn_is_not_judged() -> None:
    rows = table(
        Row(t.SERVERS, t.TRIOSERVE, t.AB, runs=1, server_cpu_us=10.0),
        Row(t.SERVERS, t.UVICORN, t.AB, note="not available: no uvicorn"),
    )
    verdict = judged(rows, t.SERVERS, "trioserve server CPU/req <= uv")
    assert verdict.passed is None
    assert verdict.measured == f"n/a ({t.AB} vs {t.UVICORN}: not available: no uvicorn)"


@pytest.mark.parametrize(("ours", "passed"), [(900.0, True), (899.0, False)])
def test_judge_workers_threshold_is_09_of_nginx(ours: float, passed: bool) -> None:
    rows = table(
        rps_row(t.WORKERS, t.NGINX_AUTO, t.WRK, 1000.0),
        rps_row(t.WORKERS, t.TRIOSERVE_AUTO, t.WRK, ours),
    )
    (verdict,) = t.judge(rows, {t.WORKERS}, (SMALL, LARGE))
    assert verdict.passed is passed


# --- a ratio and zero failures -----------------------------------------------------


def clients(trioload_rps: float, failed: int | None = 0, ab_rps: float = 1000.0) -> RowTable:
    return table(
        rps_row(t.CLIENTS, t.NGINX_ONE, t.AB, ab_rps),
        rps_row(t.CLIENTS, t.NGINX_ONE, t.TRIOLOAD, trioload_rps, failed),
    )


def outruns_ab(rows: RowTable) -> Verdict:
    return judged(rows, t.CLIENTS, f"{t.TRIOLOAD} >= 1.15x")


def test_outruns_passes_at_the_factor_with_no_failures() -> None:
    verdict = outruns_ab(clients(1150.0))
    assert verdict.passed is True
    assert verdict.measured == "1.150x (1,150.0 / 1,000.0); failed 0"
    assert verdict.target == f"{t.TRIOLOAD} >= 1.15x {t.AB} (vs {t.NGINX_ONE}), 0 failed"


def test_outruns_fails_just_below_the_factor() -> None:
    assert outruns_ab(clients(1149.0)).passed is False


def test_outruns_fails_on_one_failure_however_fast() -> None:
    verdict = outruns_ab(clients(5000.0, failed=1))
    assert verdict.passed is False
    assert verdict.measured.endswith("; failed 1")


def test_outruns_unknown_failures_are_not_judged() -> None:
    verdict = outruns_ab(clients(5000.0, failed=None))
    assert verdict.passed is None
    assert verdict.measured.endswith("; failures not reported")


def test_outruns_slow_and_failing_still_fails() -> None:
    assert outruns_ab(clients(500.0, failed=3)).passed is False


def test_outruns_missing_other_client_is_not_judged() -> None:
    rows = table(rps_row(t.CLIENTS, t.NGINX_ONE, t.TRIOLOAD, 5000.0))
    verdict = outruns_ab(rows)
    assert verdict.passed is None
    assert verdict.measured == f"n/a ({t.AB} vs {t.NGINX_ONE} was not run)"


def test_judge_clients_uses_each_factor() -> None:
    rows = table(
        rps_row(t.CLIENTS, t.NGINX_ONE, t.AB, 1000.0),
        rps_row(t.CLIENTS, t.NGINX_ONE, t.WRK_T1, 1200.0),
        rps_row(t.CLIENTS, t.NGINX_ONE, t.TRIOLOAD, 1200.0),
        rps_row(t.CLIENTS, t.NGINX_ONE, t.TRIOLOAD_W2, 1299.0),
    )
    verdicts = t.judge(rows, {t.CLIENTS}, (SMALL, LARGE))
    assert [verdict.passed for verdict in verdicts] == [True, True, None, False, None]
    assert verdicts[1].target.startswith(f"{t.TRIOLOAD} >= 1x {t.WRK_T1}")
    assert verdicts[3].target.startswith(f"{t.TRIOLOAD_W2} >= 1.3x {t.AB}")


@pytest.mark.parametrize(("ours", "passed"), [(850.0, True), (849.0, False)])
def test_judge_keepalive_threshold_is_085_of_ab_k(ours: float, passed: bool) -> None:
    rows = table(
        rps_row(t.KEEPALIVE, t.NGINX_KEEPALIVE, t.AB_K, 1000.0),
        rps_row(t.KEEPALIVE, t.NGINX_KEEPALIVE, t.TRIOLOAD_K, ours),
    )
    verdict = judged(rows, t.KEEPALIVE, t.TRIOLOAD_K)
    assert verdict.passed is passed


@pytest.mark.parametrize(
    ("part", "server", "ours", "theirs", "limit"),
    [
        (t.CLIENTS, t.NGINX_ONE, t.TRIOLOAD, t.TRIOLOAD_READ_CLOCK, 1.0),
        (t.KEEPALIVE, t.NGINX_KEEPALIVE, t.TRIOLOAD_K, t.TRIOLOAD_K_READ_CLOCK, 0.3),
    ],
)
def test_judge_the_kernel_clocks_cost_is_a_gap_in_client_cpu(
    part: str, server: str, ours: str, theirs: str, limit: float
) -> None:
    def verdict(extra_us: float) -> bool | None:
        rows = table(
            Row(part, server, theirs, runs=1, client_cpu_us=10.0),
            Row(part, server, ours, runs=1, client_cpu_us=10.0 + extra_us),
        )
        return judged(rows, part, "the kernel clock costs").passed

    assert verdict(limit - 0.05) is True
    assert verdict(limit + 0.05) is False


@pytest.mark.parametrize(
    ("ours", "failed", "passed"),
    [(800.0, 0, True), (799.0, 0, False), (900.0, 3, False), (900.0, None, None)],
)
def test_judge_keepalive_trioserve_needs_08_of_nginx_and_no_failures(
    ours: float, failed: int | None, passed: bool | None
) -> None:
    rows = table(
        rps_row(t.KEEPALIVE, t.NGINX_KEEPALIVE, t.WRK_T1_K, 1000.0),
        rps_row(t.KEEPALIVE, t.TRIOSERVE_KEEPALIVE, t.WRK_T1_K, ours, failed),
    )
    verdict = judged(rows, t.KEEPALIVE, "trioserve --keep-alive")
    assert verdict.passed is passed


# --- clients: trioload's user CPU a request -------------------------------------------------


@pytest.mark.parametrize(("user_us", "passed"), [(12.0, True), (12.1, False), (3.0, True)])
def test_user_cpu_limit_is_12_us(user_us: float, passed: bool) -> None:
    rows = table(Row(t.CLIENTS, t.NGINX_ONE, t.TRIOLOAD, runs=1, client_user_us=user_us))
    verdict = user_cpu(rows)
    assert verdict.passed is passed
    assert verdict.measured == f"{user_us:.1f} µs; client CPU µs/req: trioload -, ab -"


def test_user_cpu_shows_ab_figures_beside_ours() -> None:
    rows = table(
        Row(t.CLIENTS, t.NGINX_ONE, t.TRIOLOAD, runs=1, client_user_us=8.0, client_cpu_us=20.0),
        Row(t.CLIENTS, t.NGINX_ONE, t.AB, runs=1, client_user_us=5.0, client_cpu_us=15.0),
    )
    verdict = user_cpu(rows)
    assert verdict.passed is True
    assert verdict.measured == (
        "8.0 µs; client CPU µs/req: trioload 20.0 (8.0 user), ab 15.0 (5.0 user)"
    )


@pytest.mark.parametrize(
    ("rows", "why"),
    [
        (table(), "was not run"),
        (
            table(Row(t.CLIENTS, t.NGINX_ONE, t.TRIOLOAD, note="1 of 1 runs failed: exit 1")),
            ": 1 of 1 runs failed: exit 1",
        ),
    ],
    ids=["no-row", "no-figure"],
)
def test_user_cpu_without_a_trioload_figure_is_not_judged(rows: RowTable, why: str) -> None:
    verdict = user_cpu(rows)
    assert verdict.passed is None
    separator = "" if why.startswith(":") else " "
    assert verdict.measured == f"n/a ({t.TRIOLOAD} vs {t.NGINX_ONE}{separator}{why})"


# --- memory: peak RSS flat in -n -------------------------------------------------------------


def memory(small_kb: int | None, large_kb: int | None) -> Verdict:
    rows = [
        Row(t.MEMORY, t.NGINX_ONE, t.memory_client(n), runs=1, client_rss_kb=kb)
        for n, kb in ((SMALL, small_kb), (LARGE, large_kb))
        if kb is not None
    ]
    return judged(table(*rows), t.MEMORY, "trioload peak RSS")


def test_memory_passes_at_11x_growth() -> None:
    verdict = memory(50_000, 55_000)
    assert verdict.passed is True
    assert verdict.measured == "1.100x (53.7 / 48.8)"  # MB


def test_memory_fails_just_over_11x_growth() -> None:
    assert memory(50_000, 55_001).passed is False


def test_memory_fails_at_100_mb_peak_even_when_flat() -> None:
    verdict = memory(100_000, 102_400)
    assert verdict.passed is False
    assert verdict.measured == "1.024x (100.0 / 97.7)"


def test_memory_passes_just_under_100_mb() -> None:
    assert memory(100_000, 102_399).passed is True


def test_memory_without_the_large_run_is_not_judged() -> None:
    verdict = memory(50_000, None)
    assert verdict.passed is None
    assert verdict.measured == f"n/a ({t.memory_client(LARGE)} vs {t.NGINX_ONE} was not run)"


# --- latency: p50 against the blocking reference ----------------------------------------------


def latency(
    ours: float | None,
    reference: float | None,
    runs: int = 1,
    p50_ms_range: tuple[float, float] | None = None,
) -> Verdict:
    rows = []
    if ours is not None:
        rows.append(Row(t.LATENCY, t.DELAY, t.TRIOLOAD, runs=1, p50_ms=ours))
    if reference is not None:
        rows.append(
            Row(
                t.LATENCY,
                t.DELAY,
                t.BLOCKING,
                runs=runs,
                p50_ms=reference,
                p50_ms_range=p50_ms_range,
            )
        )
    return judged(table(*rows), t.LATENCY, "trioload p50")


@pytest.mark.parametrize(
    ("ours", "passed"),
    [(20.5, True), (19.5, True), (20.0, True), (20.503, False), (19.497, False)],
)
def test_latency_tolerance_is_half_a_millisecond_either_way(ours: float, passed: bool) -> None:
    assert latency(ours, 20.0).passed is passed


def test_latency_measured_shows_the_gap() -> None:
    assert latency(20.25, 20.0).measured == "+0.250 ms (20.250 vs 20.000)"


def test_latency_shows_the_references_spread_over_rounds() -> None:
    verdict = latency(20.25, 20.0, runs=3, p50_ms_range=(19.8, 20.3))
    assert verdict.measured.endswith("; theirs ranged 19.800-20.300 over the rounds")


def test_latency_single_round_shows_no_spread() -> None:
    assert "ranged" not in latency(20.25, 20.0, runs=1, p50_ms_range=(20.0, 20.0)).measured


def test_latency_without_the_reference_is_not_judged() -> None:
    verdict = latency(20.25, None)
    assert verdict.passed is None
    assert verdict.measured == f"n/a ({t.BLOCKING} vs {t.DELAY} was not run)"


# --- judge and the information ratios --------------------------------------------------------


def test_judge_only_judges_the_parts_that_ran_in_the_issues_order() -> None:
    verdicts = t.judge(table(), {t.LATENCY, t.SERVERS}, (SMALL, LARGE))
    assert [verdict.target.split(" ")[:2] for verdict in verdicts] == [
        ["trioserve", "req/s"],
        ["trioserve", "server"],
        ["trioserve", "server"],
        ["trioload", "p50"],
    ]
    assert all(verdict.passed is None for verdict in verdicts)


def test_judge_every_part_gives_fifteen_targets() -> None:
    assert len(t.judge(table(), set(t.PARTS), (SMALL, LARGE))) == 15


def test_baseline_ratios_compare_servers_by_row_and_clients_by_column() -> None:
    rows = table(
        rps_row(t.SERVERS, t.TRIOSERVE, t.AB, 3000.0),
        rps_row(t.SERVERS, t.TRIO_SERVE_TCP, t.AB, 1000.0),
        rps_row(t.CLIENTS, t.NGINX_ONE, t.TRIOLOAD, 2000.0),
        rps_row(t.CLIENTS, t.NGINX_ONE, t.TRIO_CLIENT, 500.0),
    )
    ratios = dict(t.baseline_ratios(rows, {t.SERVERS, t.CLIENTS}))
    assert len(ratios) == 5
    assert ratios["trioserve vs the trio serve_tcp baseline (req/s under ab)"] == (
        "3.000x (3,000.0 / 1,000.0)"
    )
    assert ratios["trioload vs the trio open_tcp_stream baseline (req/s vs nginx)"] == (
        "4.000x (2,000.0 / 500.0)"
    )
    assert ratios["the bare epoll loop vs ab (req/s vs nginx)"] == (
        f"n/a ({t.EPOLL_CLIENT} vs {t.NGINX_ONE} was not run)"
    )


def test_baseline_ratios_skip_parts_that_did_not_run() -> None:
    ratios = t.baseline_ratios(table(), {t.SERVERS})
    assert [what for what, _ in ratios] == [
        "trioserve vs the trio serve_tcp baseline (req/s under ab)"
    ]


# --- a change to trioserve's fast path: its cost against --trioserve-before -----------------


@pytest.mark.parametrize(("now", "passed"), [(82.0, True), (82.1, False), (70.0, True)])
def test_judge_server_cpu_growth_is_at_most_2us_against_before(now: float, passed: bool) -> None:
    rows = table(
        Row(t.SERVERS, t.TRIOSERVE, t.AB, runs=1, server_cpu_us=now),
        Row(t.SERVERS, t.TRIOSERVE_BEFORE, t.AB, runs=1, server_cpu_us=80.0),
    )
    verdict = judged(rows, t.SERVERS, "trioserve server CPU/req grows")
    assert verdict.passed is passed


def test_judge_server_cpu_growth_only_with_a_before_row() -> None:
    rows = table(Row(t.SERVERS, t.TRIOSERVE, t.AB, runs=1, server_cpu_us=80.0))
    verdicts = t.judge(rows, {t.SERVERS}, (SMALL, LARGE))
    assert not [v for v in verdicts if "grows" in v.target]


@pytest.mark.parametrize(("ab_now", "passed"), [(3.0, True), (3.01, False)])
def test_inline_growth_judges_the_worst_head(ab_now: float, passed: bool) -> None:
    now, before = {"ab": ab_now, "wrk": 1.0}, {"ab": 1.0, "wrk": 1.5}
    growth = {head: now[head] - before[head] for head in now}
    verdict = t.inline_growth({"now": now, "before": before, "growth": growth})
    assert verdict is not None
    assert verdict.passed is passed
    assert "on ab's head" in verdict.measured


def test_inline_growth_without_before_is_absent_or_says_why() -> None:
    assert t.inline_growth({"now": {"ab": 1.0}}) is None
    verdict = t.inline_growth({"now": {"ab": 1.0}}, "'x' is not a git revision")
    assert verdict is not None
    assert verdict.passed is None
    assert verdict.measured == "n/a ('x' is not a git revision)"


# --- judge_target: one line of the table -----------------------------------------------------

RATIO = t.Target("t", t.SERVERS, ("x", t.AB), ("y", t.AB), low=0.95)


def ratio_of(top: float | None, bottom: float | None, note: str = "") -> Verdict:
    """RATIO on x's req/s over y's (1000 unless given); a missing figure carries ``note``."""
    rows = [Row(t.SERVERS, server, t.AB, runs=1, requests_per_second=rps, note=note)
            for server, rps in (("x", top), ("y", bottom))]  # fmt: skip
    return t.judge_target(table(*rows), RATIO)


def test_ratio_passes_at_the_threshold() -> None:
    verdict = ratio_of(950.0, 1000.0)
    assert verdict.passed is True
    assert verdict.label == "PASS"
    assert verdict.measured == "0.950x (950.0 / 1,000.0)"


def test_ratio_fails_just_below_the_threshold() -> None:
    verdict = ratio_of(949.9, 1000.0)
    assert verdict.passed is False
    assert verdict.label == "FAIL"


def test_ratio_passes_above_the_threshold() -> None:
    assert ratio_of(1500.0, 1000.0).passed is True


def test_ratio_missing_side_is_not_judged_and_says_why() -> None:
    verdict = t.judge_target(table(rps_row(t.SERVERS, "y", t.AB, 1.0)), RATIO)
    assert verdict.passed is None
    assert verdict.label == "n/a"
    assert verdict.measured == f"n/a ({t.AB} vs x was not run)"
    other = ratio_of(1.0, None, note="exit 1")
    assert other.measured == f"n/a ({t.AB} vs y: exit 1)"


def test_ratio_zero_denominator_is_not_judged() -> None:
    verdict = ratio_of(5.0, 0.0)
    assert verdict.passed is None
    assert verdict.measured == "n/a (denominator is zero)"


def test_information_lines_are_shown_not_judged() -> None:
    verdict = t.judge_target(table(), t.Target("i", t.SERVERS, ("x", t.AB), ("y", t.AB)))
    assert verdict.passed is None
    assert all(target.low is None and target.high is None for target in t.INFORMATION)
