"""compare's statistics: scipy as the oracle for the tests and the binomial ranks, brute force
for U's distribution, and simulations for the intervals' coverage and the verdicts' error rates.

The simulations draw per-round values with multiplicative (lognormal) noise of sd 10%, as
rounds of a load test vary, from a fixed seed, 400 comparisons each. A rate measured over 400
draws has a binomial sd of about 1 percentage point around 95%, so a measured coverage is
held to within 3.5 of those sds (+-3.5 points) of the interval's exact confidence, computed
rather than typed in: a correct method passes with room to spare (a false failure is a
1-in-2,000 event), and an interval whose coverage is 4 or more points off fails.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats  # type: ignore[import-untyped]

from trioload.compare.stats import (
    ALPHA,
    CONFIDENCE,
    EXACT_MAX,
    Comparison,
    compare,
    estimate,
    mann_whitney_counts,
    mann_whitney_p,
    median,
    median_ci_ranks,
    ratio_ci_rank,
    ratio_interval,
    rounds_for_width,
    verdict,
)

SIMULATIONS = 400
NOISE_SD = 0.10


def distinct_samples(max_size: int) -> st.SearchStrategy[tuple[list[float], list[float]]]:
    """Two untied samples: distinct integers as floats (no two ratios a/b round to 1)."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[list[float], list[float]]:
        m = draw(st.integers(1, max_size))
        n = draw(st.integers(1, max_size))
        pool = draw(st.lists(st.integers(1, 10**6), min_size=m + n, max_size=m + n, unique=True))
        return [float(x) for x in pool[:m]], [float(x) for x in pool[m:]]

    return build()


def scipy_p(a: list[float], b: list[float], method: str) -> float:
    return float(scipy_stats.mannwhitneyu(a, b, alternative="two-sided", method=method).pvalue)


def rounds(
    rng: random.Random, n: int, ratio: float, drift: Callable[[float], float] = lambda t: 0.0
) -> tuple[list[float], list[float]]:
    """n paired rounds of A (true ratio to B) and B, their order alternating: round i runs its
    first target at time 2i and its second at 2i + 1, and drift(time) multiplies both alike."""
    a, b = [], []
    for i in range(n):
        t_a, t_b = (2 * i, 2 * i + 1) if i % 2 == 0 else (2 * i + 1, 2 * i)
        a.append(ratio * math.exp(rng.gauss(0, NOISE_SD) + drift(t_a)))
        b.append(math.exp(rng.gauss(0, NOISE_SD) + drift(t_b)))
    return a, b


def band(confidence: float, sds: float = 3.5) -> tuple[float, float]:
    """The range a rate measured over SIMULATIONS draws stays in around its true value."""
    sd = math.sqrt(confidence * (1 - confidence) / SIMULATIONS)
    return confidence - sds * sd, confidence + sds * sd


# median and estimate


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=40))
def test_median_matches_statistics_median(values: list[float]) -> None:
    assert median(values) == pytest.approx(statistics.median(values), rel=1e-12, abs=1e-9)


def test_median_of_nothing_raises() -> None:
    with pytest.raises(ValueError, match="no values"):
        median([])


@pytest.mark.parametrize("n", range(1, 101))
def test_median_ci_ranks_are_the_widest_95_percent_binomial_ranks(n: int) -> None:
    lo, hi, coverage = median_ci_ranks(n)
    assert hi == n + 1 - lo
    assert coverage == pytest.approx(1 - 2 * scipy_stats.binom.cdf(lo - 1, n, 0.5), rel=1e-12)
    narrower = 1 - 2 * scipy_stats.binom.cdf(lo, n, 0.5)  # the next ranks in
    assert narrower < CONFIDENCE
    if n >= 6:
        assert coverage >= CONFIDENCE
    else:  # no ranks reach 95%: the extremes, at less
        assert (lo, hi) == (1, n)
        assert coverage < CONFIDENCE


@given(st.lists(st.floats(0.001, 1e6), min_size=1, max_size=40))
def test_estimate_interval_is_the_order_statistics_at_those_ranks(values: list[float]) -> None:
    found = estimate(values)
    ordered = sorted(values)
    lo, hi, _ = median_ci_ranks(len(values))
    assert found.n == len(values)
    assert found.median == median(values)
    assert found.ci95 == (ordered[lo - 1], ordered[hi - 1])
    assert found.ci95[0] <= found.median <= found.ci95[1]


@pytest.mark.parametrize("n", [1, 2, 5])
def test_estimate_below_six_values_is_min_to_max(n: int) -> None:
    values = [float(x) for x in range(n, 0, -1)]
    assert estimate(values).ci95 == (min(values), max(values))


@pytest.mark.parametrize("n", [5, 10, 20])
def test_estimate_covers_the_true_median_at_its_exact_confidence(n: int) -> None:
    rng = random.Random(n)
    true_median = 3.0  # lognormal: the median is the scale
    covered = 0
    for _ in range(SIMULATIONS):
        lo, hi = estimate([true_median * rng.lognormvariate(0, NOISE_SD) for _ in range(n)]).ci95
        covered += lo <= true_median <= hi
    low, high = band(median_ci_ranks(n)[2])
    assert low <= covered / SIMULATIONS <= high


# Mann-Whitney


@pytest.mark.parametrize(("m", "n"), [(1, 1), (1, 4), (2, 3), (3, 3), (4, 2), (4, 5), (5, 5)])
def test_mann_whitney_counts_match_brute_force(m: int, n: int) -> None:
    brute = [0] * (m * n + 1)
    for a_positions in itertools.combinations(range(m + n), m):
        taken = set(a_positions)
        b_positions = [x for x in range(m + n) if x not in taken]
        brute[sum(x > y for x in a_positions for y in b_positions)] += 1
    assert list(mann_whitney_counts(m, n)) == brute


@pytest.mark.parametrize(("m", "n"), [(6, 6), (7, 13), (20, 20), (3, 30)])
def test_mann_whitney_counts_are_every_ordering_and_symmetric(m: int, n: int) -> None:
    counts = mann_whitney_counts(m, n)
    assert sum(counts) == math.comb(m + n, m)
    assert counts == counts[::-1]
    assert counts == mann_whitney_counts(n, m)
    assert min(counts) >= 0


@settings(max_examples=300, deadline=None)
@given(distinct_samples(EXACT_MAX))
def test_mann_whitney_p_matches_scipy_exact_without_ties(
    samples: tuple[list[float], list[float]],
) -> None:
    a, b = samples
    assert mann_whitney_p(a, b) == pytest.approx(scipy_p(a, b, "exact"), rel=1e-9)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=30),
    st.lists(st.integers(1, 6), min_size=1, max_size=30),
)
def test_mann_whitney_p_matches_scipy_asymptotic_with_ties(a: list[int], b: list[int]) -> None:
    fa, fb = [float(x) for x in a], [float(x) for x in b]
    if len(set(fa + fb)) == len(fa + fb) and max(len(a), len(b)) <= EXACT_MAX:
        return  # no ties: the exact case, tested above
    assert mann_whitney_p(fa, fb) == pytest.approx(scipy_p(fa, fb, "asymptotic"), rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(distinct_samples(45))
def test_mann_whitney_p_matches_scipy_asymptotic_beyond_exact_max(
    samples: tuple[list[float], list[float]],
) -> None:
    a, b = samples
    if max(len(a), len(b)) <= EXACT_MAX:
        return
    assert mann_whitney_p(a, b) == pytest.approx(scipy_p(a, b, "asymptotic"), rel=1e-9)


def test_mann_whitney_p_of_identical_values_is_one() -> None:
    assert mann_whitney_p([2.0] * 5, [2.0] * 5) == 1.0


def test_mann_whitney_p_needs_both_samples() -> None:
    with pytest.raises(ValueError, match="both samples"):
        mann_whitney_p([], [1.0])


# the ratio's interval


@pytest.mark.parametrize("n", [4, 5, 6, 8, 10, 15, 20])
def test_ratio_ci_rank_is_the_widest_trim_at_95_percent(n: int) -> None:
    k, confidence = ratio_ci_rank(n, n)
    counts = mann_whitney_counts(n, n)
    total = math.comb(2 * n, n)
    assert confidence == pytest.approx(1 - 2 * sum(counts[:k]) / total, rel=1e-12)
    assert confidence >= CONFIDENCE
    assert 1 - 2 * sum(counts[: k + 1]) / total < CONFIDENCE  # one more trimmed is too few


@pytest.mark.parametrize(("m", "n"), [(21, 21), (25, 25), (30, 30), (8, 40)])
def test_ratio_ci_rank_beyond_exact_max_is_within_one_of_exact(m: int, n: int) -> None:
    counts = mann_whitney_counts(m, n)
    total = math.comb(m + n, m)
    exact_k = 0
    while 2 * sum(counts[: exact_k + 1]) / total <= ALPHA:
        exact_k += 1
    k, confidence = ratio_ci_rank(m, n)
    assert abs(k - exact_k) <= 1
    assert confidence == pytest.approx(CONFIDENCE, abs=0.01)


def test_ratio_ci_rank_below_four_rounds_keeps_every_ratio() -> None:
    assert ratio_ci_rank(3, 3)[0] == 0
    assert ratio_interval([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == (1 / 6, 3 / 4)


@settings(max_examples=300, deadline=None)
@given(distinct_samples(EXACT_MAX))
def test_ratio_interval_excludes_one_exactly_when_mann_whitney_rejects(
    samples: tuple[list[float], list[float]],
) -> None:
    a, b = samples
    lo, hi = ratio_interval(a, b)
    assert lo <= hi
    if ratio_ci_rank(len(a), len(b))[0] == 0:  # too few values to ever reject: every ratio
        assert (lo, hi) == (min(x / y for x in a for y in b), max(x / y for x in a for y in b))
        assert mann_whitney_p(a, b) > ALPHA
        return
    assert (not lo <= 1 <= hi) == (mann_whitney_p(a, b) <= ALPHA)


@given(distinct_samples(12), st.floats(0.01, 100))
def test_ratio_interval_scales_with_a(
    samples: tuple[list[float], list[float]], factor: float
) -> None:
    a, b = samples
    lo, hi = ratio_interval(a, b)
    scaled_lo, scaled_hi = ratio_interval([x * factor for x in a], b)
    assert scaled_lo == pytest.approx(lo * factor, rel=1e-12)
    assert scaled_hi == pytest.approx(hi * factor, rel=1e-12)


# compare


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ([1.0], [1.0], "at least 2"),
        ([1.0, 2.0], [1.0, 2.0, 3.0], "paired"),
        ([1.0, 0.0], [1.0, 2.0], "positive"),
        ([1.0, 2.0], [-1.0, 2.0], "positive"),
        ([1.0, math.nan], [1.0, 2.0], "positive"),
    ],
)
def test_compare_rejects_what_it_cannot_pair(a: list[float], b: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compare(a, b)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 20).flatmap(lambda n: st.tuples(*[st.floats(0.1, 1e4)] * (2 * n))))
def test_compare_ratio_of_medians_inside_its_interval(values: tuple[float, ...]) -> None:
    n = len(values) // 2
    a, b = list(values[:n]), list(values[n:])
    c = compare(a, b)
    assert c.ratio == median(a) / median(b)
    assert c.ci95[0] <= c.ratio <= c.ci95[1]
    assert c.p_value == mann_whitney_p(a, b)
    assert c.significant == (c.p_value < ALPHA and not c.ci95[0] <= 1 <= c.ci95[1])
    assert compare(a, b) == c  # nothing random


def test_compare_widens_the_interval_to_its_ratio_of_medians() -> None:
    # clustered rounds: a's median is the top of its low cluster, b's the bottom of its high
    # one, so the ratio of medians is lower than most pairwise ratios, outside the interval
    a = [1.0 + i / 1000 for i in range(10)] + [2.2 + i / 1000 for i in range(9)]
    b = [x + i / 1000 for x, count in ((1.15, 5), (2.1, 4), (2.56, 10)) for i in range(count)]
    lo, hi = ratio_interval(a, b)
    c = compare(a, b)
    assert c.ratio < lo  # the case this is about
    assert c.ci95 == (c.ratio, hi)


def test_compare_takes_under_50_ms_at_20_rounds() -> None:
    rng = random.Random(0)
    a, b = rounds(rng, 20, 1.1)
    best = math.inf
    for _ in range(5):
        started = time.perf_counter()
        compare(a, b)
        best = min(best, time.perf_counter() - started)
    assert best < 0.050


@pytest.mark.parametrize("n", [5, 10])
def test_compare_interval_covers_the_true_ratio_at_its_exact_confidence(n: int) -> None:
    rng = random.Random(1000 + n)
    true_ratio = 1.1
    covered = 0
    for _ in range(SIMULATIONS):
        lo, hi = compare(*rounds(rng, n, true_ratio)).ci95
        covered += lo <= true_ratio <= hi
    low, high = band(ratio_ci_rank(n, n)[1])
    assert low <= covered / SIMULATIONS <= high


def a_a_significant_rate(seed: int, n: int, drift: Callable[[float], float]) -> float:
    rng = random.Random(seed)
    return sum(compare(*rounds(rng, n, 1.0, drift)).significant for _ in range(SIMULATIONS)) / (
        SIMULATIONS
    )


@pytest.mark.parametrize("n", [5, 10])
def test_compare_a_against_a_says_no_difference(n: int) -> None:
    rate = a_a_significant_rate(2000 + n, n, lambda t: 0.0)
    assert 1 - rate >= 0.93  # nominal 95% or more; 0.93 is ~2 binomial sds below it at 400 draws


@pytest.mark.parametrize("n", [5, 10])
def test_compare_shared_drift_makes_no_false_difference(n: int) -> None:
    # 3% a run slot: over 10 rounds the drift (~60%) dwarfs the noise, and it hits A and B
    # alike because each round runs them back to back, in alternating order
    drifting = a_a_significant_rate(3000 + n, n, lambda t: 0.03 * t)
    still = a_a_significant_rate(3000 + n, n, lambda t: 0.0)
    assert drifting <= still


def test_compare_finds_a_30_percent_difference_in_10_rounds() -> None:
    rng = random.Random(4000)
    found = 0
    for _ in range(SIMULATIONS):
        c = compare(*rounds(rng, 10, 1.3))
        found += c.significant and c.ci95[0] > 1
    assert found / SIMULATIONS >= 0.95


# verdict


def comparison(ratio: float, lo: float, hi: float, significant: bool = True) -> Comparison:
    return Comparison(ratio, (lo, hi), 0.001 if significant else 0.5, significant)


def test_verdict_no_significant_difference_is_a_tilde() -> None:
    assert verdict(comparison(1.5, 0.9, 2.0, significant=False)) == "~"


@pytest.mark.parametrize(
    ("ratio", "lo", "hi", "expected"),
    [
        (1.2345, 1.1499, 1.3051, "1.23\u00d7 [1.15\u20131.31]"),
        (0.99996, 0.98, 0.99999, "1.00\u00d7 [0.980\u20131.00]"),
        (0.012345, 0.0099951, 0.5, "0.0123\u00d7 [0.0100\u20130.500]"),
        (12.345, 9.87, 1234.5, "12.3\u00d7 [9.87\u20131230]"),
    ],
)
def test_verdict_shows_three_significant_digits(
    ratio: float, lo: float, hi: float, expected: str
) -> None:
    assert verdict(comparison(ratio, lo, hi)) == expected


# rounds_for_width


@given(st.lists(st.floats(1.0, 2.0), min_size=2, max_size=30), st.floats(0.001, 0.5))
def test_rounds_for_width_scales_the_half_width_by_root_n(
    values: list[float], target: float
) -> None:
    found = estimate(values)
    halfwidth = (found.ci95[1] - found.ci95[0]) / 2 / found.median
    needed = rounds_for_width(values, target)
    if halfwidth <= target:
        assert needed is None
        return
    assert needed is not None
    assert needed > len(values)
    assert halfwidth * math.sqrt(len(values) / needed) <= target * (1 + 1e-12)
    assert halfwidth * math.sqrt(len(values) / (needed - 1)) > target * (1 - 1e-12)


def test_rounds_for_width_plans_rounds_that_reach_the_width() -> None:
    rng = random.Random(5000)
    target = 0.03
    first = [rng.lognormvariate(0, NOISE_SD) for _ in range(10)]
    needed = rounds_for_width(first, target)
    assert needed is not None
    widths = []
    for _ in range(50):
        found = estimate([rng.lognormvariate(0, NOISE_SD) for _ in range(needed)])
        widths.append((found.ci95[1] - found.ci95[0]) / 2 / found.median)
    assert 0.5 * target <= statistics.median(widths) <= 1.5 * target


@pytest.mark.parametrize(
    ("values", "target", "message"),
    [
        ([1.0, 2.0], 0.0, "target"),
        ([1.0], 0.05, "at least 2"),
        ([-1.0, -2.0, -3.0], 0.05, "positive median"),
    ],
)
def test_rounds_for_width_rejects_what_has_no_relative_width(
    values: list[float], target: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        rounds_for_width(values, target)
