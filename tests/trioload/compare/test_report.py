"""The comparison's text report: the ranked table with intervals, the verdicts, the warnings."""

from __future__ import annotations

from tests.trioload.compare.conftest import REQUESTS, outcome_of, plan_for, record
from trioload.compare.report import figure, format_report
from trioload.compare.summary import summarize

ROUNDS = 6
WOBBLE = [1.0, 1.04, 0.97, 1.02, 0.99, 1.03]


def test_figure_keeps_about_three_significant_digits() -> None:
    assert [figure(v) for v in (12345.6, 123.4, 12.34, 1.234, 0.01234)] == [
        "12,346",
        "123",
        "12.3",
        "1.23",
        "0.01",
    ]


def test_format_report_ranks_and_gives_verdicts() -> None:
    plan = plan_for("base", "double", "same", rounds=ROUNDS)
    runs = []
    for name, rps in (("base", 1000), ("double", 2000), ("same", 1000)):
        for index, wobble in enumerate(WOBBLE):
            cpu = 50e-6 * REQUESTS * 1000 / rps
            runs.append(record(name, index, rps * wobble, 5.0, cpu))
    text = format_report(summarize(plan, outcome_of(runs, ROUNDS)))
    lines = text.splitlines()
    assert lines[1] == (
        "trioload compare: 3 targets, 6 of 6 rounds of -c 10 -n 200 (keep-alive off), "
        "order alternating"
    )
    table = lines[lines.index(next(line for line in lines if line.strip().startswith("#"))) :]
    assert table[1].split()[:2] == ["1", "double"]
    assert "Against base (ratio of medians [95% interval] over the rounds both ran" in text
    double_row = next(row for row in lines if row.strip().startswith("double") and "(p=" in row)
    assert "2.00\u00d7 [" in double_row
    same_row = next(line for line in lines if line.strip().startswith("same ") and "(p=" in line)
    assert same_row.split()[1] == "~"


def test_format_report_lists_the_warnings_last() -> None:
    plan = plan_for("a", "b", rounds=ROUNDS)
    runs = [record("a", i, 1000) for i in range(3)] + [record("b", i, 900) for i in range(3)]
    text = format_report(summarize(plan, outcome_of(runs, 3, interrupted=True)))
    assert text.rstrip().splitlines()[-1].startswith("Warning: ")
    assert "Warning: Interrupted: the figures cover the 3 rounds completed of 6." in text


def test_format_report_says_what_confidence_fewer_than_six_rounds_give() -> None:
    plan = plan_for("a", "b", rounds=5)
    runs = [record(name, i, 1000 + i) for name in "ab" for i in range(5)]
    text = format_report(summarize(plan, outcome_of(runs, 5)))
    assert "with 5 rounds a median's interval is its whole range: 93.8% confidence" in text
    six = plan_for("a", "b", rounds=6)
    runs = [record(name, i, 1000 + i) for name in "ab" for i in range(6)]
    assert "whole range" not in format_report(summarize(six, outcome_of(runs, 6)))
