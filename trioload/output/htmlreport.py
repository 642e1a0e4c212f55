"""Sans-IO HTML report (``-w``): ab's one table, row for row, with ``-x`` in the ``<table>``
tag, ``-y`` in every ``<tr>`` and ``-z`` in every ``<th>`` and ``<td>``, where ab puts them.

The attributes go in as given (they are HTML by design); the figures and the names that came
from elsewhere (the server's name, the path) are escaped. Where ab's HTML leaves out what its
text report says (the Receive failures, Write errors, the TLS session), the rows are added
in the same form, so the HTML says what the text says.
"""

from __future__ import annotations

from html import escape

from trioload.output.report import document_length, failure_columns, tls_fields
from trioload.results.result import RunResult
from trioload.results.tally import Failure


def format_html(result: RunResult) -> str:
    """ab's ``-w`` table for ``result``."""
    config = result.config
    row = _Rows(config.row_attributes, config.cell_attributes)
    lines = [f"<table {config.table_attributes}>"]
    lines += _summary(result, row)
    if result.tally.succeeded:
        lines += _connection_times(result, row)
    lines.append("</table>")
    return "\n".join(lines) + "\n"


class _Rows:
    """The two shapes of ab's rows, with the ``-y`` and ``-z`` attributes in place."""

    def __init__(self, tr: str, td: str) -> None:
        self.tr, self.td = tr, td

    def pair(self, label: str, value: object) -> str:
        """A label over two columns, its value over the other two."""
        return (
            f"<tr {self.tr}><th colspan=2 {self.td}>{label}</th>"
            f"<td colspan=2 {self.td}>{escape(str(value), quote=False)}</td></tr>"
        )

    def wide(self, text: str) -> str:
        """One cell across all four columns."""
        return f"<tr {self.tr}><td colspan=4 {self.td} >{escape(text, quote=False)}</td></tr>"


def _summary(result: RunResult, row: _Rows) -> list[str]:
    """Every row above the connection times."""
    config, tally = result.config, result.tally
    target = config.target
    lines = [
        row.pair("Server Software:", tally.server_software),
        row.pair("Server Hostname:", target.host),
        row.pair("Server Port:", target.port),
        *(row.pair(label, value) for label, value in tls_fields(result)),
        row.pair("Document Path:", target.path),
        row.pair("Document Length:", document_length(result)),
        row.pair("Concurrency Level:", config.concurrency),
        row.pair("Time taken for tests:", f"{result.elapsed_s:.3f} seconds"),
        row.pair("Complete requests:", tally.finished),
        row.pair("Failed requests:", tally.failed),
        *_failure_rows(result, row),
        row.pair("Total transferred:", f"{tally.total_bytes} bytes"),
        row.pair("HTML transferred:", f"{tally.html_bytes} bytes"),
    ]
    if result.elapsed_s > 0:
        lines += [
            row.pair("Requests per second:", f"{result.requests_per_second:.2f}"),
            row.pair("Transfer rate:", f"{result.kbytes_per_second:.2f} kb/s received"),
        ]
    return lines


def _failure_rows(result: RunResult, row: _Rows) -> list[str]:
    """The failure breakdown, Write errors, Non-2xx and Keep-Alive, where the text has them."""
    tally, f = result.tally, result.tally.failures
    rows = []
    if tally.failed:
        rows.append(row.wide(failure_columns(f)))
    if f[Failure.WRITE]:
        rows.append(row.pair("Write errors:", f[Failure.WRITE]))
    if tally.non_2xx:
        rows.append(row.pair("Non-2xx responses:", tally.non_2xx))
    if result.config.keep_alive:
        rows.append(row.pair("Keep-Alive requests:", tally.keep_alive_requests))
    return rows


def _connection_times(result: RunResult, row: _Rows) -> list[str]:
    """ab's HTML connection times: min, avg and max of connect, processing and total."""
    tr, td = row.tr, row.td
    latency = result.latency_ms
    lines = [
        f"<tr {tr}><th {td} colspan=4>Connection Times (ms)</th></tr>",
        f"<tr {tr}><th {td}>&nbsp;</th> <th {td}>min</th>   <th {td}>avg</th>"
        f"   <th {td}>max</th></tr>",
    ]
    for phase, label in (
        ("connect", "Connect:"),
        ("processing", "Processing:"),
        ("total", "Total:"),
    ):
        ms = latency[phase]
        cells = "".join(f"<td {td}>{round(ms[key]):5d}</td>" for key in ("min", "mean", "max"))
        lines.append(f"<tr {tr}><th {td}>{label}</th>{cells}</tr>")
    return lines
