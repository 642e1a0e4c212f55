"""The -w HTML report: ab's table row for row, the -x/-y/-z attributes where ab puts them."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from tests.trioload.conftest import known_tally, result_of
from trioload.output.htmlreport import format_html
from trioload.results.result import RunResult
from trioload.results.tally import Failure, Tally

ATTRIBUTES: dict[str, Any] = {
    "table_attributes": 'border="1"',
    "row_attributes": "class=r",
    "cell_attributes": "x",
}


def test_format_html_matches_ab_row_for_row() -> None:
    html = format_html(result_of(known_tally(), html=True, **ATTRIBUTES))
    assert html.split("\n") == [
        '<table border="1">',
        "<tr class=r><th colspan=2 x>Server Software:</th><td colspan=2 x>trioserve</td></tr>",
        "<tr class=r><th colspan=2 x>Server Hostname:</th><td colspan=2 x>127.0.0.1</td></tr>",
        "<tr class=r><th colspan=2 x>Server Port:</th><td colspan=2 x>8080</td></tr>",
        "<tr class=r><th colspan=2 x>Document Path:</th><td colspan=2 x>/x</td></tr>",
        "<tr class=r><th colspan=2 x>Document Length:</th><td colspan=2 x>5 bytes</td></tr>",
        "<tr class=r><th colspan=2 x>Concurrency Level:</th><td colspan=2 x>2</td></tr>",
        "<tr class=r><th colspan=2 x>Time taken for tests:</th>"
        "<td colspan=2 x>2.000 seconds</td></tr>",
        "<tr class=r><th colspan=2 x>Complete requests:</th><td colspan=2 x>4</td></tr>",
        "<tr class=r><th colspan=2 x>Failed requests:</th><td colspan=2 x>0</td></tr>",
        "<tr class=r><th colspan=2 x>Total transferred:</th><td colspan=2 x>352 bytes</td></tr>",
        "<tr class=r><th colspan=2 x>HTML transferred:</th><td colspan=2 x>20 bytes</td></tr>",
        "<tr class=r><th colspan=2 x>Requests per second:</th><td colspan=2 x>2.00</td></tr>",
        "<tr class=r><th colspan=2 x>Transfer rate:</th>"
        "<td colspan=2 x>0.17 kb/s received</td></tr>",
        "<tr class=r><th x colspan=4>Connection Times (ms)</th></tr>",
        "<tr class=r><th x>&nbsp;</th> <th x>min</th>   <th x>avg</th>   <th x>max</th></tr>",
        "<tr class=r><th x>Connect:</th><td x>    1</td><td x>    1</td><td x>    1</td></tr>",
        "<tr class=r><th x>Processing:</th><td x>    9</td><td x>   24</td><td x>   39</td></tr>",
        "<tr class=r><th x>Total:</th><td x>   10</td><td x>   25</td><td x>   40</td></tr>",
        "</table>",
        "",
    ]


def test_format_html_puts_each_attribute_in_every_tag_of_its_kind() -> None:
    tally = known_tally(status=503, keep_alive=True)
    tally.record_failure(Failure.RECEIVE)
    html = format_html(result_of(tally, keep_alive=True, **ATTRIBUTES))
    tags = re.findall(r"<(table|tr|th|td)\b([^>]*)>", html)
    assert {name for name, _ in tags} == {"table", "tr", "th", "td"}
    for name, attributes in tags:
        expected = {"table": 'border="1"', "tr": "class=r", "th": "x", "td": "x"}[name]
        assert expected in attributes.split(), (name, attributes)


def test_format_html_without_attributes_leaves_abs_empty_slots() -> None:
    html = format_html(result_of(known_tally()))
    assert html.startswith("<table >\n<tr ><th colspan=2 >Server Software:</th>")


def test_format_html_failure_rows_only_when_something_failed() -> None:
    clean = format_html(result_of(known_tally()))
    assert "(Connect:" not in clean
    assert "Write errors" not in clean
    assert "Non-2xx" not in clean
    assert "Keep-Alive" not in clean
    tally = known_tally(status=500, keep_alive=True)
    for kind in (Failure.CONNECT, Failure.RECEIVE, Failure.RECEIVE, Failure.WRITE):
        tally.record_failure(kind)
    html = format_html(result_of(tally, keep_alive=True))
    assert (
        "<tr ><th colspan=2 >Failed requests:</th><td colspan=2 >4</td></tr>\n"
        "<tr ><td colspan=4  >   (Connect: 1, Receive: 2, Length: 0, Exceptions: 0)</td></tr>\n"
        "<tr ><th colspan=2 >Write errors:</th><td colspan=2 >1</td></tr>\n"
        "<tr ><th colspan=2 >Non-2xx responses:</th><td colspan=2 >4</td></tr>\n"
        "<tr ><th colspan=2 >Keep-Alive requests:</th><td colspan=2 >4</td></tr>\n"
        "<tr ><th colspan=2 >Total transferred:</th>"
    ) in html


def test_format_html_variable_length_says_variable() -> None:
    html = format_html(result_of(known_tally(), variable_length=True))
    assert "<th colspan=2 >Document Length:</th><td colspan=2 >Variable</td>" in html


def test_format_html_without_responses_has_no_connection_times() -> None:
    tally = Tally()
    tally.record_failure(Failure.CONNECT)
    html = format_html(result_of(tally))
    assert "Connection Times" not in html
    assert html.endswith("</td></tr>\n</table>\n")


def test_format_html_escapes_what_came_from_the_server_and_the_url() -> None:
    tally = known_tally()
    tally.server_software = "<script>x</script>"
    result = result_of(tally)
    config = dataclasses.replace(result.config, url="http://127.0.0.1:8080/a?b=1&c=2")
    html = format_html(dataclasses.replace(result, config=config))
    assert "<td colspan=2 >&lt;script&gt;x&lt;/script&gt;</td>" in html
    assert "<td colspan=2 >/a?b=1&amp;c=2</td>" in html


def https_result(url: str, **config: Any) -> RunResult:
    tally = known_tally()
    tally.tls_protocol = "TLSv1.3,TLS_AES_256_GCM_SHA384,2048,256"
    tally.tls_temp_key = "ECDH x25519 253 bits"
    result = result_of(tally)
    return dataclasses.replace(result, config=dataclasses.replace(result.config, url=url, **config))


def test_format_html_tls_rows_follow_the_server_port_over_https() -> None:
    html = format_html(https_result("https://example.test/x"))
    assert (
        "<th colspan=2 >Server Port:</th><td colspan=2 >443</td></tr>\n"
        "<tr ><th colspan=2 >SSL/TLS Protocol:</th>"
        "<td colspan=2 >TLSv1.3,TLS_AES_256_GCM_SHA384,2048,256</td></tr>\n"
        "<tr ><th colspan=2 >Server Temp Key:</th><td colspan=2 >ECDH x25519 253 bits</td></tr>\n"
        "<tr ><th colspan=2 >TLS Server Name:</th><td colspan=2 >example.test</td></tr>\n"
        "<tr ><th colspan=2 >Document Path:</th>"
    ) in html
    assert "TLS Server Name" not in format_html(https_result("https://example.test/x", sni=False))
    assert "TLS" not in format_html(https_result("http://example.test/x"))
