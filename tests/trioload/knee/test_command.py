"""``trioload knee`` end to end: its usage errors, and the knee of a server whose capacity is
known, with its report, its JSON and its plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.trioload.conftest import StartRaw, reset_after_request, run_trioload, url
from tests.trioload.knee.conftest import FifoServer
from trioload.knee.command import main


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--slo", "p99=fast"], "not a duration"),
        (["--slo", "p97=10ms"], "p97: a run reports p50, p66, p75, p80, p90, p95, p98, p99, p99.9"),
        (["--slo", "p99=20ms", "--from", "500", "--to", "100"], "--from 500 is above --to 100"),
        (["--slo", "p99=20ms", "-n", "100"], "-n: knee sets each step's rate and length"),
        (["--slo", "p99=20ms", "-R", "100"], "-R: knee sets"),
        (["--slo", "p99=20ms", "-g", "out.tsv"], "-g: knee sets"),
        (["--from", "100"], "the following arguments are required: --slo"),
        (["--slo", "p99=20ms", "--window", "inf"], "must be > 0 (and finite)"),
        (["--slo", "p99=20ms", "--warm-up", "nan"], "must be a finite number"),
    ],
)
def test_knee_exits_2_on_usage_errors(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code: int | str | None
    try:
        code = main([*argv, url(9)])
    except SystemExit as exit_:  # argparse's own refusals
        code = exit_.code
    assert code == 2
    error = capsys.readouterr().err
    assert complaint in error
    assert error.count("\n") == 1  # one line, before any request


async def test_knee_refuses_in_one_line_end_to_end() -> None:
    run = await run_trioload("knee", "--slo", "p99=fast", url(9))
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1
    assert run.stdout == ""


async def test_knee_exits_2_when_nothing_listens() -> None:
    run = await run_trioload("knee", "--slo", "p99=20ms", url(9))
    assert run.returncode == 2
    assert "127.0.0.1:9" in run.stderr


async def test_knee_exits_2_when_the_probes_requests_all_fail(start_raw: StartRaw) -> None:
    port = await start_raw(reset_after_request)
    run = await run_trioload("knee", "--slo", "p99=20ms", "--probe", "0.2", url(port))
    assert run.returncode == 2, run.stderr
    assert "Stopped: the probe's " in run.stdout
    assert "requests all failed; no knee named." in run.stdout


async def test_knee_finds_the_capacity_of_a_fifo_server(
    start_raw: StartRaw, tmp_path: Path
) -> None:
    server = FifoServer(service_s=0.004)  # 250 req/s, exactly
    port = await start_raw(server.handle)
    document_path, plot_path = tmp_path / "knee.json", tmp_path / "knee.png"
    run = await run_trioload(
        "knee", "--slo", "p99=25ms", "--from", "150", "-c", "20", "--window", "0.6",
        "--warm-up", "0.3", "--json", str(document_path), url(port),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    document = json.loads(document_path.read_text())
    knee = document["knee_rps"]
    # Past the capacity the queue grows by the excess, each second (this server's queue also
    # keeps the warm-up's); over a step's 0.9 s an excess of a few percent stays under the SLO.
    assert 0.9 * 250 <= knee <= 1.04 * 250
    assert document["client_bound"] is False
    assert document["first_failed_rps"] <= knee * 1.02
    rates = [step["rate"] for step in document["steps"]]
    assert rates[:2] == [150.0, 225.0]  # from --from, climbing
    failed = [step for step in document["steps"] if not step["passed"]]
    assert failed and all(step["rate"] > knee for step in failed)
    assert all(step["result"]["rate"] == step["rate"] for step in document["steps"])
    assert f"Knee: {knee:,.0f} req/s" in run.stdout
    assert "asked req/s" in run.stdout
    drawn = await run_trioload("plot", str(document_path), "-o", str(plot_path))
    assert drawn.returncode == 0, drawn.stderr
    assert plot_path.read_bytes().startswith(b"\x89PNG")
