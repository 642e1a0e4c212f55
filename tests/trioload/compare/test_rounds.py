"""The rounds: every target once a round in alternating order after the warm-up, the server CPU
read around each run, and a server that died left out of the rounds after."""

from __future__ import annotations

import sys

from tests.trioload.conftest import StartTrioserve, url
from trioload.compare.plan import ComparePlan, Target
from trioload.compare.rounds import WARMUP_ROUND, run_compare
from trioload.config import LoadConfig

#: a server that answers ``count`` connections with the seed's reply, then exits.
DYING_SERVER = """
import socket, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
reply = (b"HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: 5\\r\\n"
         b"Connection: close\\r\\n\\r\\nhello")
with socket.socket() as listener:
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)
    for _ in range(count):
        conn, _ = listener.accept()
        with conn:
            try:  # a readiness probe connects and resets
                conn.recv(4096)
                conn.sendall(reply)
            except OSError:
                pass
"""


def target(name: str, port: int, requests: int = 20, **options: object) -> Target:
    config = LoadConfig(url=url(port), concurrency=2, requests=requests, progress=False)
    return Target(name, config, **options)  # type: ignore[arg-type]


async def test_run_compare_runs_each_target_once_a_round_in_alternating_order(
    start_trioserve: StartTrioserve,
) -> None:
    (a_server, a), (b_server, b) = await start_trioserve(), await start_trioserve()
    plan = ComparePlan(
        targets=(target("a", a), target("b", b)), baseline="a", rounds=3, warmup=0.5, pause_s=0
    )
    outcome = await run_compare(plan)
    assert [(run.round, run.target) for run in outcome.runs] == [
        (WARMUP_ROUND, "a"), (WARMUP_ROUND, "b"),
        (0, "a"), (0, "b"), (1, "b"), (1, "a"), (2, "a"), (2, "b"),
    ]  # fmt: skip
    assert outcome.rounds_completed == 3 and not outcome.interrupted
    assert [run.result.tally.finished for run in outcome.runs[:2]] == [10, 10]
    assert all(run.result.tally.finished == 20 for run in outcome.counted())
    # Every request of every run (the knock before the rounds connects and resets).
    assert a_server.stats.responses == b_server.stats.responses == 10 + 3 * 20
    assert all(run.server_cpu_s is None for run in outcome.runs)  # no --serve, no --pid


async def test_run_compare_reads_a_served_servers_cpu_and_leaves_a_dead_one_out() -> None:
    from tests.trioload.compare.test_command import free_port  # noqa: PLC0415

    steady, dying = free_port(), free_port()
    trioserve = (sys.executable, "-m", "trioserve", "--host", "127.0.0.1", "--port", str(steady))
    # The readiness probe, the knock, 2 runs of 20, then 8 of the third run (round index 2).
    script = (sys.executable, "-c", DYING_SERVER, str(dying), "50")
    plan = ComparePlan(
        targets=(target("steady", steady, serve=trioserve), target("dying", dying, serve=script)),
        baseline="steady",
        rounds=4,
        warmup=0,
        pause_s=0,
    )
    outcome = await run_compare(plan)
    # Its death is seen right after that run, or (its exit a moment late) before its next.
    died = outcome.died["dying"]
    assert died in {2, 3}
    dying_runs = [run for run in outcome.runs if run.target == "dying"]
    assert [run.round for run in dying_runs] == [0, 1, 2]
    assert [run.server_alive for run in dying_runs] == [True, True, died == 3]
    assert dying_runs[-1].result.tally.failed > 0
    steady_runs = [run for run in outcome.runs if run.target == "steady"]
    assert [run.round for run in steady_runs] == [0, 1, 2, 3]
    assert all(run.server_cpu_s is not None and run.server_cpu_s >= 0 for run in steady_runs)
    assert outcome.rounds_completed == 4
