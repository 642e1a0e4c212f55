"""The statistics of ``trioload compare``: medians, their intervals, and A-against-B verdicts.

Sans-IO and pure Python (no numpy, no scipy): lists of per-round values in, numbers out.

The setting decides the methods. A target gets 5 to 20 rounds, the noise is multiplicative
(10-20% run to run) and not normal (a noisy neighbour makes one round slow, never fast), and
round i of A ran back to back with round i of B. So:

- a target's centre is its median, with a distribution-free interval from order statistics
  (``estimate``): its confidence is exact for any continuous distribution, so it is honest at
  n = 6 rather than only asymptotically;
- A against B is benchstat's: the ratio of medians, the two-sided Mann-Whitney U test, and the
  interval that inverts that same test (``ratio_interval``): the order statistics of the n*n
  pairwise ratios a_i / b_j. Inverting the test makes the interval and the p-value agree (it
  excludes 1 exactly when p <= ALPHA), and its confidence is exact, not a bootstrap's
  approximation, which under-covers at these n (see ``compare``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

CONFIDENCE = 0.95
ALPHA = 0.05
#: the fewest values whose median has a 95% interval from order statistics (5 reach 93.75%).
FULL_CONFIDENCE_ROUNDS = 6

EXACT_MAX = 20
"""The largest sample for which ``mann_whitney_p`` and ``ratio_interval`` use U's exact null
distribution: it covers ``--rounds`` as used (5-20). Beyond it the normal approximation's p is
within 0.002 of the exact one, and the exact counts would grow as m*m*n big-integer sums."""

_Z = 1.959963984540054  # the standard normal's 97.5th percentile: (1 - CONFIDENCE) / 2 each side


@dataclass(frozen=True, slots=True)
class Estimate:
    """A target's median over its rounds, with a confidence interval (95% when ``n`` >= 6)."""

    median: float
    ci95: tuple[float, float]  # (lo, hi)
    n: int

    @property
    def relative_halfwidth(self) -> float:
        """Half the interval's width over the median (0.05: the median +-5%); the median must
        be positive."""
        lo, hi = self.ci95
        return (hi - lo) / 2 / self.median


@dataclass(frozen=True, slots=True)
class Comparison:
    """A against a baseline B: the ratio of their medians, its interval, and the test's verdict."""

    ratio: float  # median(a) / median(b)
    ci95: tuple[float, float]
    p_value: float
    significant: bool  # p < ALPHA and the interval excludes 1


def median(values: Sequence[float]) -> float:
    """The median: the middle value, or the mean of the middle two; ValueError if empty."""
    if not values:
        raise ValueError("the median of no values")
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def median_ci_ranks(n: int) -> tuple[int, int, float]:
    """The 1-based ranks (lo, hi) of the order statistics that bound the median's interval from
    n values, and the interval's exact confidence.

    [x_(k), x_(n+1-k)] misses the population median only when k or fewer values fall on one
    side of it, so its confidence is 1 - 2 P(Binomial(n, 1/2) <= k - 1) for every continuous
    distribution: k is the largest rank that keeps that at CONFIDENCE or more. Below n = 6 no
    rank does (n = 5 reaches 93.75% with the extremes), so the ranks are (1, n), the widest
    interval there is, at whatever confidence that has.
    """
    if n < 1:
        raise ValueError("no values")
    total = 2**n
    below = 0  # ways for at most k - 1 of n values to fall below the median
    k = 0
    while 2 * (below + math.comb(n, k)) <= ALPHA * total:
        below += math.comb(n, k)
        k += 1
    k = max(k, 1)
    coverage = 1 - 2 * sum(math.comb(n, i) for i in range(k)) / total
    return k, n + 1 - k, coverage


def estimate(values: Sequence[float]) -> Estimate:
    """The median of the values and its 95% interval from order statistics (``median_ci_ranks``).

    Chosen over a bootstrap because its confidence is exact whatever the distribution, with no
    resampling: a bootstrapped median from 5-10 values can only take some of those values, so
    its percentiles, and their coverage, are approximate at best. Below 6 values no interval
    reaches 95%, and this returns (min, max), whose confidence is 1 - 2^(1-n) (93.75% at n = 5).
    """
    ordered = sorted(values)
    lo, hi, _ = median_ci_ranks(len(ordered))
    return Estimate(median(ordered), (ordered[lo - 1], ordered[hi - 1]), len(ordered))


@lru_cache(maxsize=256)
def mann_whitney_counts(m: int, n: int) -> tuple[int, ...]:
    """How many of the C(m+n, m) orderings of two untied samples of sizes m and n give each
    value of U (index u = 0 .. m*n): U's exact null distribution, in whole numbers.

    The counts are the coefficients of the Gaussian binomial [m+n choose m]_q =
    prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i): a dynamic programme that multiplies by one factor
    and divides by the other, m times, each an O(m*n) pass over the counts. Truncating the
    series at q^(m*n) is exact, because the result is a polynomial of that degree.
    """
    if m < 0 or n < 0:
        raise ValueError("sample sizes must not be negative")
    size = m * n + 1
    counts = [1] + [0] * (size - 1)
    for i in range(1, m + 1):
        for u in range(size - 1, n + i - 1, -1):  # times (1 - q^(n+i)), from the top down
            counts[u] -= counts[u - n - i]
        for u in range(i, size):  # divided by (1 - q^i): a running sum, from the bottom up
            counts[u] += counts[u - i]
    return tuple(counts)


@lru_cache(maxsize=256)
def _exact_tails(m: int, n: int) -> tuple[float, ...]:
    """Two-sided tail 2 P(U <= u) for u = 0 .. m*n, capped at 1 (U is symmetric)."""
    counts = mann_whitney_counts(m, n)
    total = math.comb(m + n, m)
    tails = []
    below = 0
    for count in counts:
        below += count
        tails.append(min(1.0, 2 * below / total))
    return tuple(tails)


def _ranks(values: Sequence[float]) -> list[float]:
    """Each value's rank in the sample (1-based), ties sharing the mean of their ranks."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def _tie_sizes(values: Sequence[float]) -> list[int]:
    """How many times each distinct value occurs (1 for an untied value)."""
    return [len(list(group)) for _, group in itertools.groupby(sorted(values))]


def _normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z, accurate in the far tail (erfc, not 1 - cdf)."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """The two-sided p-value of the Mann-Whitney U test that a and b come from one distribution.

    Exact when there are no ties and neither sample exceeds EXACT_MAX values: p = 2 P(U <=
    min(U_a, U_b)) from ``mann_whitney_counts``, capped at 1. That is the case that matters
    here (5-20 rounds of float-valued measurements), where the normal approximation is off by
    up to a third of p for p in 0.01-0.2 (0.007 at n = 5, 0.004 at n = 10). Otherwise the
    normal approximation with the tie correction of the variance and a continuity correction
    of 1/2 (as scipy's ``method="asymptotic"``): with ties U's exact distribution is no longer
    the tabulated one, and for large samples it is normal.
    """
    m, n = len(a), len(b)
    if not m or not n:
        raise ValueError("the Mann-Whitney test needs values in both samples")
    pooled = [*a, *b]
    ranks = _ranks(pooled)
    u_a = sum(ranks[:m]) - m * (m + 1) / 2
    u_high = max(u_a, m * n - u_a)
    ties = _tie_sizes(pooled)
    if len(ties) == m + n and max(m, n) <= EXACT_MAX:
        return _exact_tails(min(m, n), max(m, n))[m * n - round(u_high)]
    total = m + n
    tie_term = sum(t**3 - t for t in ties) / (total * (total - 1))
    sd = math.sqrt(m * n / 12 * ((total + 1) - tie_term))
    if sd == 0:  # every value equal: no evidence of any difference
        return 1.0
    return min(1.0, 2 * _normal_sf((u_high - m * n / 2 - 0.5) / sd))


def ratio_ci_rank(m: int, n: int) -> tuple[int, float]:
    """How many of the m*n pairwise ratios ``ratio_interval`` trims from each end (k), and the
    interval's confidence: 1 - 2 P(U <= k - 1).

    k is the largest trim whose confidence is at least CONFIDENCE, from U's exact distribution
    up to EXACT_MAX values a side, beyond it from the same normal approximation (with its
    continuity correction) that ``mann_whitney_p`` uses. k = 0 (m = n = 3 and smaller: no
    ordering is rare enough for 95%) keeps every ratio, the widest interval there is.
    """
    if m < 1 or n < 1:
        raise ValueError("the interval needs values in both samples")
    if max(m, n) <= EXACT_MAX:
        tails = _exact_tails(min(m, n), max(m, n))
        k = 0
        while tails[k] <= ALPHA:
            k += 1
        return k, 1 - (tails[k - 1] if k else 0.0)
    sd = math.sqrt(m * n * (m + n + 1) / 12)
    k = max(0, math.floor(m * n / 2 + 0.5 - _Z * sd))
    return k, 1 - (2 * _normal_sf((m * n / 2 - (k - 1) - 0.5) / sd) if k else 0.0)


def ratio_interval(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """The 95% interval for the factor by which a's values exceed b's, from inverting the
    Mann-Whitney test (the Hodges-Lehmann/Bauer interval, on ratios instead of differences).

    The m*n pairwise ratios a_i / b_j are sorted and k (``ratio_ci_rank``) are trimmed from each
    end. A factor r lies outside the interval exactly when the test rejects "a / r and b come
    from one distribution" at ALPHA, so the interval excludes 1 exactly when
    ``mann_whitney_p(a, b) <= ALPHA`` (for untied samples of at most EXACT_MAX, once k >= 1),
    and its confidence is exact whenever a's distribution is b's scaled by some factor, whatever
    its shape. Values must be positive.
    """
    if any(not value > 0 for value in (*a, *b)):
        raise ValueError("ratios need positive values")
    ratios = sorted(x / y for x in a for y in b)
    k, _ = ratio_ci_rank(len(a), len(b))
    k = max(k, 1)
    return ratios[k - 1], ratios[len(ratios) - k]


def compare(a: Sequence[float], b: Sequence[float]) -> Comparison:
    """A (one value per round) against baseline B (the same rounds, paired by index): the ratio
    of medians, its 95% interval (``ratio_interval``), Mann-Whitney's two-sided p-value, and
    whether the difference is significant (p < ALPHA and the interval excludes 1).

    Why not the paired percentile bootstrap (resample rounds, ratio of the resample's medians):
    over 2,000 simulated comparisons per n (lognormal noise, sd 10%, 2,000 resamples each) it
    covered the true ratio 94.1%, 93.3%, 95.0%, 93.8% and 96.0% of the time at n = 5, 6, 8, 10
    and 20: short at most n, and a resampled median can only take the sample's own values, so
    its distribution is lumpy. Order-statistic intervals of the paired log-ratios (sign test,
    Wilcoxon's signed-rank) use the pairing but cannot reach 95% with 5 pairs at all (2^5 sign
    patterns: the best is 93.75%), and no paired rank test can reject with ``--rounds 5``.
    Inverting Mann-Whitney covered 96.9%, 96.4%, 95.2%, 95.9% and 95.1% over 4,000 comparisons
    per n (its exact confidences: 96.8%, 95.9%, 95.0%, 95.7%, 95.1%), agrees with the p-value
    by construction, and needs no random numbers.

    The pairing is then used for nothing but checking: a drift shared by both targets (paired
    rounds) widens the unpaired interval instead of shifting it, so it costs power but never
    makes a false difference.

    The interval is widened, if need be, to contain the ratio of medians, which it brackets
    except for odd samples: a reported ratio outside its own interval would read as a bug.
    ValueError on fewer than 2 values each, unequal lengths, or non-positive values.
    """
    if len(a) != len(b):
        raise ValueError(f"paired rounds: {len(a)} values against {len(b)}")
    if len(a) < 2:
        raise ValueError("a comparison needs at least 2 rounds")
    lo, hi = ratio_interval(a, b)  # raises on non-positive values
    ratio = median(a) / median(b)
    lo, hi = min(lo, ratio), max(hi, ratio)
    p_value = mann_whitney_p(a, b)
    significant = p_value < ALPHA and not lo <= 1 <= hi
    return Comparison(ratio, (lo, hi), p_value, significant)


def _significant_digits(value: float, digits: int = 3) -> str:
    """value to that many significant digits in plain notation: 1.23, 0.0123, 1230."""
    rounded = f"{value:.{digits - 1}e}"  # rounded first: 0.9996 -> 1.00e+00, 1234.5 -> 1.23e+03
    exponent = int(rounded.split("e")[1])
    return f"{float(rounded):.{max(0, digits - 1 - exponent)}f}"


def verdict(c: Comparison) -> str:
    """benchstat's cell: "1.23\u00d7 [1.15\u20131.31]" when significant, else "~"."""
    if not c.significant:
        return "~"
    lo, hi = c.ci95
    ratio, lo_text, hi_text = (_significant_digits(x) for x in (c.ratio, lo, hi))
    return f"{ratio}\u00d7 [{lo_text}\u2013{hi_text}]"


def rounds_for_width(values: Sequence[float], target_halfwidth: float) -> int | None:
    """Roughly how many rounds would bring the median's interval to +-target_halfwidth of it
    (0.05: +-5%), scaling today's half-width by 1/sqrt(n); None if it is already there.

    The half-width is half the interval's width over the median. The scaling holds for a
    median's interval once n is past a handful; from the few rounds this is asked about it is
    an estimate to plan by, not a promise. ValueError for fewer than 2 values, a non-positive
    median or target.
    """
    if target_halfwidth <= 0:
        raise ValueError("the target half-width must be positive")
    if len(values) < 2:
        raise ValueError("a width needs at least 2 values")
    found = estimate(values)
    if not found.median > 0:
        raise ValueError("a relative width needs a positive median")
    halfwidth = found.relative_halfwidth
    if halfwidth <= target_halfwidth:
        return None
    return math.ceil(found.n * (halfwidth / target_halfwidth) ** 2)
