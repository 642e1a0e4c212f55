"""``scripts/multihost.py``: its plan (names, loopback-only addresses, the ip commands), its
checks on hand-made reports, and one real run of three namespaced hosts (skipped where
network namespaces cannot be made)."""

from __future__ import annotations

import ipaddress
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hdrh.histogram import HdrHistogram

from scripts import multihost
from scripts.multihost import Options, judge, plan

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "multihost.py"
START = 1_700_000_000.0


# --- the plan ---------------------------------------------------------------------------------


def test_plan_names_carry_the_suffix_and_fit_linux_interface_names() -> None:
    net = plan("a1b2c3", 77)
    assert [host.namespace for host in net.hosts] == ["tl-a1b2c3-1", "tl-a1b2c3-2", "tl-a1b2c3-3"]
    assert [host.root_if for host in net.hosts] == ["tla1b2c3r1", "tla1b2c3r2", "tla1b2c3r3"]
    assert all(len(host.ns_if) <= 15 for host in net.hosts)


def test_plan_addresses_are_loopback_only_and_one_target_for_all() -> None:
    net = plan("a1b2c3", 77)
    assert net.target == "127.77.0.1"
    assert [host.addresses for host in net.hosts] == [
        ("127.77.1.1", "127.77.1.2"),
        ("127.77.2.1", "127.77.2.2"),
        ("127.77.3.1", "127.77.3.2"),
    ]
    for host in net.hosts:
        assert all(ipaddress.IPv4Address(a).is_loopback for a in host.addresses)


@pytest.mark.parametrize("block", [0, 255])
def test_plan_refuses_blocks_outside_1_to_254(block: int) -> None:
    with pytest.raises(ValueError, match="block"):
        plan("a1b2c3", block)


def test_plan_refuses_a_suffix_that_overflows_interface_names() -> None:
    with pytest.raises(ValueError, match="15 characters"):
        plan("0123456789ab", 77)


def test_used_blocks_reads_second_octets_of_loopback_addresses_only() -> None:
    ip_output = (
        "1: lo    inet 127.0.0.1/8 scope host lo\n"
        "2: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\n"
        "9: tlabcr1    inet 127.66.1.1/24 scope global tlabcr1\n"
        "local 127.201.0.1 dev lo table local\n"
    )
    assert multihost.used_blocks(ip_output) == {0, 66, 201}


def test_pick_block_avoids_used_blocks_and_gives_up_when_none_is_free() -> None:
    used = set(range(255)) - {42}
    assert multihost.pick_block(used, random.Random(1)) == 42
    with pytest.raises(multihost.SetupError):
        multihost.pick_block(set(range(255)), random.Random(1))


def test_root_routes_back_to_each_host_beat_los_slash_8_in_the_local_table() -> None:
    host = plan("a1b2c3", 77).hosts[1]
    assert " ".join(multihost.claim_command(host)) == (
        "ip route add 127.77.2.2/32 dev tla1b2c3r2 table local"
    )
    link = multihost.root_link_commands(host)
    assert ["sysctl", "-qw", "net.ipv4.conf.tla1b2c3r2.route_localnet=1"] in link
    assert link[-1] == ["ip", "link", "set", "tla1b2c3r2", "up"]


def test_namespace_commands_run_inside_it_and_route_the_target_via_the_veth() -> None:
    net = plan("a1b2c3", 77)
    host = net.hosts[0]
    commands = multihost.namespace_commands(host, net.target)
    assert all(argv[:4] == ["ip", "netns", "exec", "tl-a1b2c3-1"] for argv in commands)
    inner = [" ".join(argv[4:]) for argv in commands]
    assert inner[0] == "ip link set lo up"
    assert "sysctl -qw net.ipv4.conf.tla1b2c3n1.route_localnet=1" in inner
    assert "sysctl -qew net.ipv6.conf.tla1b2c3n1.disable_ipv6=1" in inner
    assert inner[-1] == (
        "ip route add 127.77.0.1/32 via 127.77.1.1 dev tla1b2c3n1 src 127.77.1.2 table local"
    )


def test_every_host_gets_the_same_url_and_start_time_and_its_own_json() -> None:
    options = Options(requests=300, concurrency=10, rate=300.0, out=None)
    url = "http://127.77.0.1:8080/"
    argvs = [
        multihost.trioload_argv(Path("/v/trioload"), url, options, START, Path(f"h{i}.json"))
        for i in (1, 2)
    ]
    assert argvs[0][:-3] == argvs[1][:-3]
    assert argvs[0][-1] == argvs[1][-1] == url
    assert " ".join(argvs[0][1:10]) == "-q -c 10 -n 300 -R 300 --start-at 1700000000.000000"
    assert argvs[0][-3:-1] == ["--json", "h1.json"]


def test_listen_port_reads_trioserves_start_line() -> None:
    line = "trioserve listening on http://127.77.0.1:41234/ (1 process, keep-alive off)"
    assert multihost.listen_port(line) == 41234
    assert multihost.listen_port("trioserve: cannot listen on 127.77.0.1:0") is None


def test_parse_probe_splits_source_and_status_line() -> None:
    assert multihost.parse_probe("127.77.1.2 HTTP/1.1 200 OK\n") == (
        "127.77.1.2",
        "HTTP/1.1 200 OK",
    )
    assert multihost.parse_probe("") is None


# --- the checks -------------------------------------------------------------------------------


def encoded(count: int) -> str:
    histogram = HdrHistogram(1, 3_600_000_000, 3)
    for value in range(count):
        histogram.record_value(100 + value)
    return str(histogram.encode().decode("ascii"))


def report(finished: int, window: tuple[float, float] | None, failed: int = 0) -> dict[str, Any]:
    """The parts of a ``trioload --json`` report the checks read."""
    return {
        "finished": finished,
        "failed": failed,
        "hdr": {"total": encoded(finished - failed), "lag": encoded(finished)},
        "window_unix_s": list(window) if window else None,
    }


def runs_of_three(n: int = 50) -> list[dict[str, Any] | None]:
    return [report(n, (START, START + 1.0)) for _ in range(3)]


def test_judge_passes_an_exact_merge_of_overlapping_runs() -> None:
    checks = judge(50, runs_of_three(), report(150, (START, START + 1.0)), [160, 170, 180])
    assert [check.ok for check in checks] == [True] * 5, [check.line() for check in checks]
    assert checks[1].line() == "PASS merged finished = sum of the hosts': 150 vs 50 + 50 + 50 = 150"


def test_judge_fails_a_merge_that_lost_requests() -> None:
    merged = report(150, (START, START + 1.0))
    merged["finished"] = 149
    merged["hdr"]["lag"] = encoded(149)
    checks = {check.name: check for check in judge(50, runs_of_three(), merged, [200] * 3)}
    assert not checks["merged finished = sum of the hosts'"].ok
    histogram = checks["merged histogram count = sum of the hosts'"]
    assert not histogram.ok
    assert "differs in lag" in histogram.detail


def test_judge_fails_runs_that_did_not_overlap() -> None:
    runs: list[dict[str, Any] | None] = [
        report(50, (START + 2.0 * i, START + 2.0 * i + 1.0)) for i in range(3)
    ]
    merged = report(150, (START, START + 5.0))
    checks = {check.name: check for check in judge(50, runs, merged, [200] * 3)}
    assert not checks["the hosts' windows overlap"].ok


def test_judge_fails_failed_requests_and_traffic_that_skipped_the_veths() -> None:
    runs = runs_of_three()
    runs[2] = report(50, (START, START + 1.0), failed=3)
    checks = {check.name: check for check in judge(50, runs, report(150, None), [200, 200, 0])}
    assert not checks["every host finished its requests"].ok
    assert not checks["the traffic crossed the veths"].ok


def test_judge_without_a_report_says_whose_is_missing() -> None:
    runs = runs_of_three()
    runs[1] = None
    (check,) = judge(50, runs, None, [200] * 3)
    assert check.line() == "FAIL reports: no --json report from host 2, the merge"


# --- one real run -----------------------------------------------------------------------------


@pytest.mark.slow
def test_three_namespaced_hosts_merge_into_one_exact_report(tmp_path: Path) -> None:
    argv = [sys.executable, str(SCRIPT), "--requests", "300", "--rate", "600"]
    process = subprocess.Popen(
        [*argv, "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)  # its clean-up removes the namespaces
        output, _ = process.communicate(timeout=15)
        pytest.fail(f"multihost.py did not finish in 60 s:\n{output}")
    if process.returncode == 2:
        pytest.skip(f"network namespaces unavailable: {output.strip().splitlines()[-1]}")
    assert process.returncode == 0, output
    for check in (
        "every host finished its requests",
        "merged finished = sum of the hosts': 900 vs 300 + 300 + 300 = 900",
        "merged histogram count = sum of the hosts': total: 900 vs 300 + 300 + 300 = 900",
        "the hosts' windows overlap",
        "the traffic crossed the veths",
    ):
        assert f"\nPASS {check}" in output, output
    assert "FAIL" not in output
    assert "Complete requests:      900" in output  # the merged ab report
    assert "cleaned up:" in output
    assert (tmp_path / "merged.json").exists()
