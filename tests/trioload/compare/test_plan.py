"""The comparison's plan: each round's order, the warm-up run, the run described in flags."""

from __future__ import annotations

from trioload.compare.plan import ComparePlan, Target
from trioload.config import LoadConfig


def plan_of(names: str = "abcd", **options: object) -> ComparePlan:
    config = LoadConfig(concurrency=10, requests=10_000)
    targets = tuple(Target(name, config) for name in names)
    return ComparePlan(targets=targets, baseline=names[0], **options)  # type: ignore[arg-type]


def names(plan: ComparePlan, round_index: int) -> str:
    return "".join(target.name for target in plan.order(round_index))


def test_plan_order_alternates_between_rounds() -> None:
    plan = plan_of()
    assert [names(plan, i) for i in range(4)] == ["abcd", "dcba", "abcd", "dcba"]


def test_plan_order_with_a_seed_shuffles_each_round_and_repeats() -> None:
    plan = plan_of("abcdefgh", seed=7)
    orders = [names(plan, i) for i in range(6)]
    assert all(sorted(order) == list("abcdefgh") for order in orders)
    assert len(set(orders)) > 1  # not the same shuffle every round
    assert orders == [names(plan_of("abcdefgh", seed=7), i) for i in range(6)]
    assert orders != [names(plan_of("abcdefgh", seed=8), i) for i in range(6)]


def test_plan_warmup_config_is_a_share_of_the_run() -> None:
    plan = plan_of(warmup=0.1)
    target = plan.targets[0]
    warmup = plan.warmup_config(target)
    assert warmup is not None
    assert (warmup.requests, warmup.concurrency, warmup.url) == (1000, 10, target.url)
    timed = Target("t", LoadConfig(concurrency=10, requests=None, time_limit=20.0))
    timed_warmup = plan.warmup_config(timed)
    assert timed_warmup is not None and timed_warmup.time_limit == 2.0


def test_plan_warmup_config_keeps_at_least_one_request_a_connection() -> None:
    plan = plan_of(warmup=0.1)
    small = Target("s", LoadConfig(concurrency=50, requests=100))
    warmup = plan.warmup_config(small)
    assert warmup is not None and warmup.requests == 50


def test_plan_warmup_zero_means_none() -> None:
    plan = plan_of(warmup=0.0)
    assert plan.warmup_config(plan.targets[0]) is None


def test_plan_run_description_says_the_runs_shape() -> None:
    config = LoadConfig(concurrency=100, requests=5000, keep_alive=True, rate=800.0, workers=2)
    plan = ComparePlan(targets=(Target("a", config), Target("b", config)), baseline="a")
    assert plan.run_description == "-c 100 -n 5000 -R 800 -W 2 -k"
    assert plan_of().run_description == "-c 10 -n 10000 (keep-alive off)"


def test_plan_warmup_config_is_never_longer_than_the_run() -> None:
    plan = plan_of(warmup=0.1)
    short = Target("s", LoadConfig(concurrency=50, requests=20))
    warmup = plan.warmup_config(short)
    assert warmup is not None and warmup.requests == 20
