"""Sans-IO text report of a comparison: the ranked table, every figure with its interval, then
each target against the baseline, then the warnings."""

from __future__ import annotations

from trioload.compare import stats
from trioload.compare.summary import MetricComparison, Summary, TargetSummary

#: the table's columns: (metric, heading).
COLUMNS = (
    ("rps", "req/s"),
    ("p50", "p50 ms"),
    ("p99", "p99 ms"),
    ("server_cpu", "server µs/req"),
)
#: the comparison columns, in ``summary.COMPARED``'s order.
COMPARED_HEADINGS = {"rps": "req/s", "p99": "p99", "server_cpu": "server CPU/req"}
RANK_WORDS = {
    "rps": "req/s (more is better)",
    "cpu": "server CPU a request (less is better)",
    "p99": "p99 latency (less is better)",
}


def format_report(summary: Summary) -> str:
    plan = summary.plan
    order = f"shuffled from seed {plan.seed}" if plan.seed is not None else "alternating"
    lines = [
        "",
        f"trioload compare: {len(plan.targets)} targets, {summary.rounds_completed} of "
        f"{plan.rounds} rounds of {plan.run_description}, order {order}",
        "Medians over the rounds [95% confidence intervals], ranked by "
        f"{RANK_WORDS[plan.rank_by]}:",
        "",
        *_table(_ranked_rows(summary.ranked)),
    ]
    fewest = min((t.runs for t in summary.ranked if t.runs), default=0)
    if 0 < fewest < stats.FULL_CONFIDENCE_ROUNDS:
        confidence = stats.median_ci_ranks(fewest)[2]
        lines.append(
            f"  (with {fewest} rounds a median's interval is its whole range: {confidence:.1%} "
            f"confidence; {stats.FULL_CONFIDENCE_ROUNDS} rounds or more give 95%)"
        )
    comparisons = [c for c in summary.comparisons if c.metric in COMPARED_HEADINGS]
    if comparisons:
        lines += [
            "",
            f"Against {plan.baseline} (ratio of medians [95% interval] over the rounds both "
            "ran; ~: no significant difference at 95%):",
            "",
            *_table(_comparison_rows(summary, comparisons)),
        ]
    if summary.warnings:
        lines.append("")
        lines += [f"Warning: {warning}" for warning in summary.warnings]
    return "\n".join(lines) + "\n"


def figure(value: float) -> str:
    """A figure to about three significant digits, thousands separated."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def estimate_cell(estimate: stats.Estimate | None) -> str:
    if estimate is None:
        return "-"
    lo, hi = estimate.ci95
    return f"{figure(estimate.median)} [{figure(lo)}\u2013{figure(hi)}]"


def comparison_cell(comparison: MetricComparison) -> str:
    if comparison.comparison is None:
        return f"- ({comparison.missing})"
    found = comparison.comparison
    return f"{stats.verdict(found)} (p={found.p_value:.3f})"


def _ranked_rows(ranked: tuple[TargetSummary, ...]) -> list[list[str]]:
    rows = [["#", "target", *(heading for _, heading in COLUMNS), "client CPU", "failed"]]
    for place, target in enumerate(ranked, 1):
        client = target.estimates.get("client_cpu")
        rows.append([
            str(place) if target.runs else "-",
            target.name,
            *(estimate_cell(target.estimates.get(metric)) for metric, _ in COLUMNS),
            f"{client.median:.0%}" if client is not None else "-",
            f"{target.failed:,}",
        ])  # fmt: skip
    return rows


def _comparison_rows(summary: Summary, comparisons: list[MetricComparison]) -> list[list[str]]:
    rows = [["target", *COMPARED_HEADINGS.values()]]
    for target in summary.ranked:
        cells = {c.metric: c for c in comparisons if c.name == target.name}
        if cells:
            rows.append([target.name, *(comparison_cell(cells[m]) for m in COMPARED_HEADINGS)])
    return rows


def _table(rows: list[list[str]]) -> list[str]:
    """Columns left-aligned, two spaces apart, indented by two."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append(("  " + "  ".join(cells)).rstrip())
    return lines
