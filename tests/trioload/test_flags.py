"""ab's flags: each one's effect on the bytes sent, the connection, or the report, as ab
documents it; a flag that cannot be honoured is one line and exit 2."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import trio

from tests.trioload.conftest import (
    RequestReader,
    StartRaw,
    StartTrioserve,
    response,
    run_trioload,
    url,
    varying_length,
)
from trioload.config import LoadConfig, UsageError
from trioload.configure import config_from_args
from trioload.flags import build_parser

#: ab 2.3's flags in the order of its usage text (``ab -h``).
AB_ORDER = [
    "n",
    "c",
    "t",
    "s",
    "b",
    "B",
    "p",
    "u",
    "T",
    "v",
    "w",
    "i",
    "x",
    "y",
    "z",
    "C",
    "H",
    "A",
    "P",
    "X",
    "V",
    "k",
    "d",
    "S",
    "q",
    "l",
    "g",
    "e",
    "r",
    "m",
    "h",
    "I",
    "Z",
    "f",
    "E",
]


def config_of(*argv: str) -> LoadConfig:
    return config_from_args(build_parser().parse_args(list(argv)))


def head_of(*argv: str) -> list[str]:
    """The request head the flags make, line by line."""
    head, _, _ = config_of(*argv).encode_request().partition(b"\r\n\r\n")
    return head.decode("latin-1").split("\r\n")


# -- the bytes sent ----------------------------------------------------------------------


def test_flags_c_sends_every_cookie_in_one_header() -> None:
    assert "Cookie: a=1; b=2" in head_of("-C", "a=1", "-C", "b=2")


def test_flags_a_and_p_send_basic_credentials() -> None:
    lines = head_of("-A", "user:secret", "-P", "proxy:word")
    assert f"Authorization: Basic {base64.b64encode(b'user:secret').decode()}" in lines
    assert f"Proxy-Authorization: Basic {base64.b64encode(b'proxy:word').decode()}" in lines


def test_flags_i_sends_head() -> None:
    assert head_of("-i", "http://example.test/x")[0] == "HEAD /x HTTP/1.0"


def test_flags_u_puts_the_file_with_its_type(tmp_path: Path) -> None:
    body = tmp_path / "body"
    body.write_bytes(b"abc")
    config = config_of("-u", str(body), "-T", "application/x-test")
    request = config.encode_request()
    assert request.startswith(b"PUT / HTTP/1.0\r\n")
    assert b"Content-Type: application/x-test\r\n" in request
    assert b"Content-Length: 3\r\n" in request
    assert request.endswith(b"\r\n\r\nabc")


def test_flags_x_names_the_absolute_url_and_connects_to_the_proxy() -> None:
    config = config_of("-X", "127.0.0.1:3128", "http://example.test:81/x?y")
    assert config.encode_request().startswith(b"GET http://example.test:81/x?y HTTP/1.0\r\n")
    peer = config.peer
    assert (peer.host, peer.port) == ("127.0.0.1", 3128)
    assert config_of("http://example.test/").peer == config_of("http://example.test/").target


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["-X", "no-port"], "expected proxy:port"),
        (["-X", "h:99999"], "expected proxy:port"),
        (["-X", "127.0.0.1:3128", "https://example.test/"], "CONNECT"),
        (["-p", "/etc/hostname", "-u", "/etc/hostname"], "choose one"),
        (["-i", "-p", "/etc/hostname"], "HEAD"),
        (["-u", "/nonexistent/file"], "cannot read -u"),
        (["-w", "2"], "worker processes use -W"),
        (["-g", "out.tsv", "-W", "2", "-c", "2", "-n", "4"], "leave out -W"),
        (["-f", "SSL3", "https://127.0.0.1/"], "SSL 2 and 3"),
        (["-Z", "NO-SUCH-CIPHER", "https://127.0.0.1/"], "no cipher matches"),
        (["-E", "/nonexistent/cert.pem", "https://127.0.0.1/"], "cannot load -E"),
        (["--cacert", "/nonexistent/ca.pem", "https://127.0.0.1/"], "cannot load --cacert"),
    ],
)
def test_flags_that_cannot_be_honoured_are_usage_errors(argv: list[str], complaint: str) -> None:
    with pytest.raises(UsageError, match=complaint):
        config_of(*argv)


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["-R", "5:"], "not a rate"),
        (["-R", "fast"], "not a rate"),
        (["--stages", "10s@"], "a stage is DURATION@RATE"),
        (["--stages", "1s@0"], "asks for no request"),
        (["--stages", "1s@5,1s@0"], "the last stage asks for nothing"),
    ],
)
def test_flags_refuse_a_malformed_rate_shape(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        config_of(*argv)
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert complaint in error
    assert error.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["-R", "200:1000", "-n", "100"], "give it with -t"),
        (["--stages", "1s@5", "-t", "3"], "leave out -R and -t"),
        (["--stages", "1s@5", "-R", "5"], "leave out -R and -t"),
    ],
)
def test_flags_rate_shapes_that_cannot_be_run(argv: list[str], complaint: str) -> None:
    with pytest.raises(UsageError, match=complaint):
        config_of(*argv)


def test_flags_shapes_give_the_mean_rate_and_the_length() -> None:
    ramp = config_of("-R", "200:1000", "-t", "3")
    assert (ramp.rate, ramp.time_limit, ramp.requests) == (600.0, 3.0, None)
    assert ramp.rate_flags == "--stages 3s@200:1000"
    stages = config_of("--stages", "2s@200,2s@600")
    assert (stages.rate, stages.time_limit) == (400.0, 4.0)
    assert config_of("-R", "250").shape is None


async def test_flags_refusal_is_one_line_and_exit_2() -> None:
    run = await run_trioload("-f", "SSL2", "https://127.0.0.1:9/")
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1, run.stderr
    assert "SSL 2 and 3" in run.stderr


def test_flags_help_lists_abs_flags_in_abs_order() -> None:
    text = build_parser().format_help()
    section = text[text.index("ab's flags") : text.index("trioload's own")]
    listed = re.findall(r"^  -(\w)\b", section, flags=re.MULTILINE)
    assert listed == AB_ORDER


async def test_flags_v_prints_the_version() -> None:
    run = await run_trioload("-V")
    assert run.returncode == 0
    assert run.stdout.startswith("trioload ")


# -- on the wire -------------------------------------------------------------------------


async def test_flags_x_sends_through_the_proxy(start_raw: StartRaw) -> None:
    seen: list[bytes] = []

    async def proxy(stream: trio.SocketStream) -> None:
        async with stream:
            head = await RequestReader(stream).next_request()
            seen.append(head or b"")
            await stream.send_all(response(b"hello"))

    port = await start_raw(proxy)
    # The URL's host is never looked up: only the proxy is connected to.
    run = await run_trioload(
        "-q", "-n", "2", "-X", f"127.0.0.1:{port}", "--json", "-", "http://no-such.invalid/p"
    )
    assert run.returncode == 0, run.stderr
    assert run.report["succeeded"] == 2
    assert [head.split(b"\r\n")[0] for head in seen] == [
        b"GET http://no-such.invalid/p HTTP/1.0"
    ] * 2


async def test_flags_b_connects_from_the_local_address(start_raw: StartRaw) -> None:
    peers: list[str] = []

    async def handler(stream: trio.SocketStream) -> None:
        async with stream:
            peers.append(stream.socket.getpeername()[0])
            await RequestReader(stream).next_request()
            await stream.send_all(response(b"hello"))

    port = await start_raw(handler)
    run = await run_trioload("-q", "-n", "3", "-B", "127.0.0.2", "-b", "16384", url(port))
    assert run.returncode == 0, run.stderr
    assert peers == ["127.0.0.2"] * 3


async def test_flags_b_with_an_address_not_here_is_one_line_and_exit_2(
    start_trioserve: StartTrioserve,
) -> None:
    _, port = await start_trioserve()
    run = await run_trioload("-q", "-B", "192.0.2.1", url(port))
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1, run.stderr
    assert "cannot connect from -B 192.0.2.1" in run.stderr


# -- the report and its files ------------------------------------------------------------


async def test_flags_l_accepts_variable_length(start_raw: StartRaw) -> None:
    port = await start_raw(varying_length())
    strict = await run_trioload("-q", "-n", "6", "--json", "-", url(port))
    assert strict.report["failures"]["length"] == 3
    lenient = await run_trioload("-q", "-l", "-n", "6", url(port))
    assert lenient.returncode == 0
    assert "Document Length:        Variable" in lenient.stdout
    assert "Failed requests:        0" in lenient.stdout


@pytest.mark.parametrize("engine", ["shards", "tasks"])
async def test_flags_v_prints_the_request_and_each_response_head(
    start_trioserve: StartTrioserve, engine: str
) -> None:
    _, port = await start_trioserve()
    run = await run_trioload("-q", "-n", "2", "-v", "3", "--engine", engine, url(port))
    assert run.returncode == 0
    out = run.stdout
    assert out.startswith("INFO: GET header == \n---\nGET / HTTP/1.0\r\n")
    assert out.count("LOG: header received:\nHTTP/1.1 200 OK\r\n") == 2
    assert out.count("LOG: Response code = 200\n") == 2
    quiet = await run_trioload("-q", "-n", "2", "-v", "1", url(port))
    assert "LOG:" not in quiet.stdout
    assert "INFO:" not in quiet.stdout


async def test_flags_w_prints_html_tables_with_xyz(start_trioserve: StartTrioserve) -> None:
    _, port = await start_trioserve()
    run = await run_trioload(
        "-q", "-n", "3", "-w", "-x", "border=1", "-y", "class=r", "-z", "bgcolor=white", url(port)
    )
    assert run.returncode == 0
    assert "<table border=1>" in run.stdout
    assert "<tr class=r>" in run.stdout
    assert "<td bgcolor=white" in run.stdout
    assert "Server Software:        " not in run.stdout  # the text report is replaced


async def test_flags_d_and_s_trim_the_report(start_trioserve: StartTrioserve) -> None:
    _, port = await start_trioserve()
    full = await run_trioload("-q", "-n", "3", url(port))
    trimmed = await run_trioload("-q", "-n", "3", "-d", "-S", url(port))
    assert "Percentage of the requests served" in full.stdout
    assert "Percentage of the requests served" not in trimmed.stdout
    assert "mean[+/-sd] median" in full.stdout
    assert "mean[+/-sd] median" not in trimmed.stdout
    assert "min   avg   max" in trimmed.stdout


@pytest.mark.parametrize("engine", ["shards", "tasks"])
async def test_flags_e_and_g_write_abs_files(
    start_trioserve: StartTrioserve, tmp_path: Path, engine: str
) -> None:
    _, port = await start_trioserve()
    csv, tsv = tmp_path / "out.csv", tmp_path / "out.tsv"
    files = ("-e", str(csv), "-g", str(tsv), "--engine", engine)
    run = await run_trioload("-q", "-n", "25", "-c", "5", *files, url(port))
    assert run.returncode == 0, run.stderr
    rows = csv.read_text().splitlines()
    assert rows[0] == "Percentage served,Time in ms"
    assert [row.split(",")[0] for row in rows[1:]] == [str(p) for p in range(101)]
    lines = tsv.read_text().splitlines()
    assert lines[0] == "starttime\tseconds\tctime\tdtime\tttime\twait"
    assert len(lines) == 1 + 25
    assert all(len(line.split("\t")) == 6 for line in lines[1:])
