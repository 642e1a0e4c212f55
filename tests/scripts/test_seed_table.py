"""``scripts/seed_table.py``'s command line and client runs. Nothing here opens a socket."""

from __future__ import annotations

from scripts import seed_table
from scripts.benchlib.machine import OUT_DIR
from scripts.benchlib.tools import parse_ab, parse_json_report

# --- the command line ------------------------------------------------------------------------


def test_parse_args_defaults_to_trioload_three_rounds_and_a_chart_in_bench_out() -> None:
    args = seed_table.parse_args([])
    assert seed_table.CLIENT_CHOICES[args.client] == ["trioload"]
    assert args.rounds == 3
    assert args.png.parent == OUT_DIR
    assert args.json is None


def test_parse_args_both_clients_runs_trioload_first() -> None:
    args = seed_table.parse_args(["--client", "both", "-n", "200000"])
    assert seed_table.CLIENT_CHOICES[args.client] == ["trioload", "ab"]
    assert args.requests == 200_000


def test_client_run_builds_each_clients_keep_alive_off_command() -> None:
    ab = seed_table.client_run("ab", "http://127.0.0.1:1/", 2000, 1000)
    assert (ab.argv[0], ab.parse, ab.requests) == ("ab", parse_ab, 2000)
    assert "-k" not in ab.argv
    trioload = seed_table.client_run("trioload", "http://127.0.0.1:1/", 2000, 1000)
    assert trioload.argv[0] == str(seed_table.TRIOLOAD)
    assert trioload.argv[-3:] == ["--json", "-", "http://127.0.0.1:1/"]
    assert trioload.parse is parse_json_report
    assert "-k" not in trioload.argv
