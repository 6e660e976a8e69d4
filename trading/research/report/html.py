"""The report as one self-contained HTML page: inline CSS and SVG, no script, no external URL.

Everything that comes from the run (its name, parameters, benchmark name) is HTML-escaped; the
SVG charts escape their own text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trading.research.report.build import Report

CSS = """
:root { --text: #1f2328; --muted: #57606a; --link: #0550ae; --card: #f6f8fa;
  --border: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--text); background: #ffffff; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.5rem; border-bottom: 1px solid var(--border); }
.muted { color: var(--muted); }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid var(--border); text-align: right; }
th:first-child, td:first-child { text-align: left; }
caption { text-align: left; font-weight: 600; padding: 0.5rem 0; }
.summary { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
.wide { overflow-x: auto; }
figure { margin: 1rem 0 2rem; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 0.9rem; }
pre { background: var(--card); padding: 0.75rem; overflow-x: auto; }
"""

Formatter = Callable[[Any], str]


def _fmt_percent(value: Any) -> str:
    return f"{value * 100:.2f}%"


def _fmt_ratio(value: Any) -> str:
    return f"{value:.2f}"


def _fmt_money(value: Any) -> str:
    return f"{value:,.2f}"


def _fmt_int(value: Any) -> str:
    return f"{value:,}"


def _fmt_days(value: Any) -> str:
    return f"{value:.1f}"


def _fmt_seconds(value: Any) -> str:
    if value >= 86_400:
        return f"{value / 86_400:.1f} d"
    if value >= 1:
        return f"{value:.1f} s"
    return f"{value * 1e3:.3g} ms"


def _fmt_text(value: Any) -> str:
    return str(value)


def _fmt_yes_no(value: Any) -> str:
    return "yes" if value else "no"


SUMMARY_GROUPS: tuple[tuple[str, tuple[tuple[str, str, Formatter], ...]], ...] = (
    ("Returns", (
        ("start", "Start", _fmt_text),
        ("end", "End", _fmt_text),
        ("start_equity", "Start equity ($)", _fmt_money),
        ("end_equity", "End equity ($)", _fmt_money),
        ("total_return", "Total return", _fmt_percent),
        ("cagr", "CAGR", _fmt_percent),
        ("annual_volatility", "Annual volatility", _fmt_percent),
        ("sharpe", "Sharpe ratio", _fmt_ratio),
        ("sortino", "Sortino ratio", _fmt_ratio),
        ("calmar", "Calmar ratio", _fmt_ratio),
        ("benchmark_total_return", "Benchmark total return", _fmt_percent),
        ("benchmark_sharpe", "Benchmark Sharpe ratio", _fmt_ratio),
        ("benchmark_correlation", "Correlation with benchmark", _fmt_ratio),
    )),
    ("Drawdown", (
        ("max_drawdown", "Max drawdown", _fmt_percent),
        ("max_drawdown_peak", "Peak", _fmt_text),
        ("max_drawdown_trough", "Trough", _fmt_text),
        ("max_drawdown_recovered", "Recovered", _fmt_yes_no),
        ("max_drawdown_duration_periods", "Duration (periods)", _fmt_int),
        ("max_drawdown_duration_days", "Duration (days)", _fmt_days),
        ("longest_drawdown_periods", "Longest drawdown (periods)", _fmt_int),
        ("longest_drawdown_days", "Longest drawdown (days)", _fmt_days),
        ("benchmark_max_drawdown", "Benchmark max drawdown", _fmt_percent),
    )),
    ("Trading", (
        ("traded_notional", "Traded notional ($)", _fmt_money),
        ("turnover", "Turnover (x mean equity)", _fmt_ratio),
        ("annual_turnover", "Annual turnover", _fmt_ratio),
        ("fees_total", "Fees ($)", _fmt_money),
        ("fees_to_start_equity", "Fees / start equity", _fmt_percent),
        ("average_gross_exposure", "Average gross exposure", _fmt_percent),
        ("max_gross_exposure", "Max gross exposure", _fmt_percent),
    )),
    ("Trades", (
        ("trades_count", "Trades", _fmt_int),
        ("trades_long_count", "Long", _fmt_int),
        ("trades_short_count", "Short", _fmt_int),
        ("trades_hit_rate", "Hit rate", _fmt_percent),
        ("trades_profit_factor", "Profit factor", _fmt_ratio),
        ("trades_average_win", "Average win ($)", _fmt_money),
        ("trades_average_loss", "Average loss ($)", _fmt_money),
        ("trades_expectancy", "Expectancy ($/trade)", _fmt_money),
        ("trades_median_pnl", "Median P&L ($)", _fmt_money),
        ("trades_best", "Best ($)", _fmt_money),
        ("trades_worst", "Worst ($)", _fmt_money),
        ("trades_average_holding_seconds", "Average holding time", _fmt_seconds),
    )),
)  # fmt: skip

CHART_ORDER = ("equity", "drawdown", "monthly_returns", "rolling_sharpe", "latency",
               "queue_position")  # fmt: skip


def format_value(value: Any, formatter: Formatter) -> str:
    """A figure for display: "n/a" when undefined (JSON null), infinity as a sign and symbol."""
    if value is None:
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "+\u221e" if value > 0 else "-\u221e"
    return formatter(value)


def _summary_tables(summary: dict[str, Any], raw: dict[str, Any]) -> list[str]:
    parts = ['<div class="summary">']
    for heading, rows in SUMMARY_GROUPS:
        cells = []
        for key, label, formatter in rows:
            if key not in summary:
                continue
            # The raw value keeps infinities (a profit factor without losses) that JSON drops.
            value = raw.get(key, summary[key])
            cells.append(
                f'<tr><th scope="row">{escape(label)}</th>'
                f"<td>{escape(format_value(value, formatter))}</td></tr>"
            )
        parts.append(f"<table><caption>{escape(heading)}</caption>{''.join(cells)}</table>")
    parts.append("</div>")
    return parts


TRADE_COLUMNS = (
    ("entry", "Entry", _fmt_text),
    ("exit", "Exit", _fmt_text),
    ("side", "Side", _fmt_text),
    ("qty", "Qty", lambda v: f"{v:,.6g}"),
    ("entry_price", "Entry price", lambda v: f"{v:,.4f}"),
    ("exit_price", "Exit price", lambda v: f"{v:,.4f}"),
    ("pnl", "P&L ($)", _fmt_money),
    ("fees", "Fees ($)", _fmt_money),
    ("holding_seconds", "Held", _fmt_seconds),
)


def _trade_table(trades: dict[str, Any]) -> list[str]:
    count = trades["count"]
    if count == 0:
        return ["<p>No trades.</p>"]
    head = "".join(f'<th scope="col">{escape(label)}</th>' for _, label, _ in TRADE_COLUMNS)
    body: list[str] = []
    numbered = [(i + 1, row) for i, row in enumerate(trades["first"])]
    tail = [(count - len(trades["last"]) + i + 1, row) for i, row in enumerate(trades["last"])]
    for number, row in numbered:
        body.append(_trade_row(number, row))
    if tail:
        if tail[0][0] > len(numbered) + 1:
            skipped = tail[0][0] - len(numbered) - 1
            body.append(
                f'<tr><td colspan="{len(TRADE_COLUMNS) + 1}" class="muted">'
                f"\u2026 {skipped:,} trades not shown \u2026</td></tr>"
            )
        body.extend(_trade_row(number, row) for number, row in tail)
    shown = len(numbered) + len(tail)
    caption = f"Trades ({count:,}" + (f", first and last {len(numbered)} shown)" if
                                     shown < count else ")")  # fmt: skip
    return [
        '<div class="wide"><table>',
        f"<caption>{escape(caption)}</caption>",
        f'<thead><tr><th scope="col">#</th>{head}</tr></thead>',
        f"<tbody>{''.join(body)}</tbody></table></div>",
    ]


def _trade_row(number: int, row: dict[str, Any]) -> str:
    cells = "".join(
        f"<td>{escape(format_value(row[key], formatter))}</td>"
        for key, _, formatter in TRADE_COLUMNS
    )
    return f"<tr><td>{number:,}</td>{cells}</tr>"


def _params_table(params: dict[str, Any]) -> list[str]:
    if not params:
        return ["<p>No parameters recorded.</p>"]
    rows = []
    for key, value in params.items():
        shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        rows.append(f'<tr><th scope="row">{escape(str(key))}</th><td>{escape(shown)}</td></tr>')
    return [f"<table><caption>Parameters</caption>{''.join(rows)}</table>"]


def render_page(report: Report) -> str:
    """The report's HTML page."""
    figures = report.figures
    summary = figures["summary"]
    name = escape(report.name)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Backtest report: {name}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>Backtest report: {name}</h1>",
        f'<p class="muted">{escape(report.kind)} run from {escape(str(summary["start"]))} to '
        f"{escape(str(summary['end']))}, {summary['marks']:,} equity marks, "
        f"{summary['periods_per_year']:g} periods a year.</p>",
        "<h2>Summary</h2>",
        *_summary_tables(summary, report.raw_summary),
        '<p class="muted">Returns are simple period returns of the equity marks; risk-free rate'
        " and Sortino target 0; standard deviations with ddof=1; annualised with the periods a"
        " year above; Sortino's downside deviation is the root mean square of the negative"
        " returns over all periods; drawdown duration runs from the peak to recovery; trade"
        " P&amp;L is net of fees.</p>",
        "<h2>Charts</h2>",
    ]
    for key in CHART_ORDER:
        svg = report.svgs.get(key)
        figure = figures.get(key)
        if svg is None or figure is None:
            continue
        caption = escape(figure["title"])
        if figure.get("shown_points") is not None and (
            figure["shown_points"] < figure["source_points"]
        ):
            caption += (
                f" ({figure['shown_points']:,} of {figure['source_points']:,} points drawn:"
                " each pixel column's lowest and highest)"
            )
        parts.append(f'<figure id="figure-{escape(key)}">{svg}<figcaption>{caption}'
                     f"</figcaption></figure>")  # fmt: skip
    parts.append("<h2>Trades</h2>")
    parts.extend(_trade_table(figures["trades"]))
    parts.append("<h2>Parameters</h2>")
    parts.extend(_params_table(figures["params"]))
    parts += ["</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"
