"""`build_report`: a run's figures as JSON-able data and as SVG charts, drawn from the same data.

`Report.figures` is a dict of plain lists, numbers, strings and None (NaN and infinities become
None), so `json.dumps` takes it as it is; `Report.as_json()` does so. The series in it are the
downsampled ones the charts draw (first and last marks plus each pixel column's extremes), with
`source_points` saying how long the original was.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trading.research.report import charts, metrics
from trading.research.report.html import render_page
from trading.research.report.record import NS_PER_SECOND, RunRecord, iso_times

TRADE_ROWS = 20
HISTOGRAM_BINS = 40
PERCENTILES = (50.0, 90.0, 99.0, 99.9)


def jsonable(value: Any) -> Any:
    """Plain JSON types from numpy scalars and arrays, with NaN and infinities as None."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _money(value: float) -> str:
    sign = "-" if value < 0 else ""
    value = abs(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{sign}${value / size:.4g}{suffix}"
    return f"{sign}${value:.2f}"


def _percent(value: float) -> str:
    return f"{value * 100:.3g}%"


def _ratio(value: float) -> str:
    return f"{value:.2f}"


def _with_unit(unit: str) -> Callable[[float], str]:
    return lambda value: f"{value:.4g} {unit}"


@dataclass(frozen=True)
class Report:
    """A run's report: `figures` (JSON-able), `svgs` (chart key -> inline SVG), the summary
    with its infinities kept (`raw_summary`) and the page."""

    name: str
    kind: str
    figures: dict[str, Any]
    svgs: dict[str, str] = field(default_factory=dict)
    raw_summary: dict[str, Any] = field(default_factory=dict)

    def as_json(self, indent: int | None = None) -> str:
        """The figures as JSON text (strict: no NaN or Infinity literals)."""
        return json.dumps(self.figures, indent=indent, allow_nan=False)

    def html(self) -> str:
        """One self-contained HTML page: inline CSS and SVG, no script, no external resource."""
        return render_page(self)


def _series_figure(title: str, description: str, ts: np.ndarray, columns: dict[str, np.ndarray],
                   keep: np.ndarray) -> dict[str, Any]:  # fmt: skip
    figure: dict[str, Any] = {"title": title, "description": description}
    figure["t"] = iso_times(ts[keep])
    for key, values in columns.items():
        figure[key] = jsonable(values[keep])
    figure["source_points"] = len(ts)
    figure["shown_points"] = len(keep)
    return figure


def _histogram(samples: np.ndarray, scale: float, integer: bool) -> dict[str, Any]:
    """Bins up to the 99.9th percentile (the rest counted as overflow) and the percentiles."""
    values = samples / scale
    low = float(values.min())
    high = float(np.percentile(values, 99.9))
    integer_bins = bool(
        integer and np.all(values == np.round(values)) and high - low <= HISTOGRAM_BINS
    )
    edges: np.ndarray
    if integer_bins:
        edges = np.arange(math.floor(low), math.floor(high) + 2, dtype=np.float64) - 0.5
    else:
        if high == low:
            high = low + 1.0
        edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
    inside = values[values <= edges[-1]]
    counts, _ = np.histogram(inside, bins=edges)
    return {
        "count": len(values),
        "integer_bins": integer_bins,
        "edges": edges,
        "counts": counts,
        "overflow": int(np.sum(values > edges[-1])),
        "min": low,
        "max": float(values.max()),
        "mean": float(values.mean()),
        "percentiles": {f"p{p:g}": float(np.percentile(values, p)) for p in PERCENTILES},
    }


def _trade_rows(trades: np.ndarray) -> list[dict[str, Any]]:
    entries = iso_times(trades["entry_ts"])
    exits = iso_times(trades["exit_ts"])
    hold = (trades["exit_ts"] - trades["entry_ts"]) / NS_PER_SECOND
    return [
        {
            "entry": entries[i],
            "exit": exits[i],
            "side": "long" if trades["side"][i] > 0 else "short",
            "qty": float(trades["qty"][i]),
            "entry_price": float(trades["entry_price"][i]),
            "exit_price": float(trades["exit_price"][i]),
            "pnl": float(trades["pnl"][i]),
            "fees": float(trades["fees"][i]),
            "holding_seconds": float(hold[i]),
        }
        for i in range(len(trades))
    ]


def build_report(run: RunRecord, *, rolling_window: int | None = None,
                 trade_rows: int = TRADE_ROWS) -> Report:  # fmt: skip
    """Every figure and chart of the run.

    The rolling Sharpe window defaults to a quarter of a year of periods, or a quarter of the
    run when that is shorter. The trades table keeps the first and the last `trade_rows` trades.
    """
    if not isinstance(run, RunRecord):
        raise ValueError(f"build_report takes a RunRecord, got {type(run).__name__}")
    if trade_rows < 0:
        raise ValueError(f"trade_rows must not be negative, got {trade_rows}")
    ts, equity, ppy = run.timestamps, run.equity, run.periods_per_year
    summary = metrics.summary(run)
    returns = metrics.simple_returns(equity)
    figures: dict[str, Any] = {
        "name": run.name,
        "kind": run.kind,
        "summary": jsonable(summary),
        "params": jsonable(run.params),
    }
    svgs: dict[str, str] = {}
    name = run.name

    # Equity (with the benchmark rebased to the run's first mark).
    keep = charts.extreme_indices(equity, charts.MAX_POINTS)
    columns = {"equity": equity}
    lines = [charts.Line(equity[keep], charts.LINE, name)]
    bench_text = ""
    if run.benchmark_equity is not None:
        bench = run.benchmark_equity / run.benchmark_equity[0] * equity[0]
        keep = np.union1d(keep, charts.extreme_indices(bench, charts.MAX_POINTS))
        columns["benchmark"] = bench
        lines = [
            charts.Line(equity[keep], charts.LINE, name),
            charts.Line(bench[keep], charts.SECOND_LINE, run.benchmark_name, dashed=True),
        ]
        bench_text = (
            f" The dashed line is {run.benchmark_name} rebased to the same start, total return"
            f" {_percent(summary['benchmark_total_return'])}."
        )
    title = f"Equity curve of {name}"
    description = (
        f"Equity from {_money(equity[0])} on {summary['start']} to {_money(equity[-1])} on "
        f"{summary['end']}: total return {_percent(summary['total_return'])}, maximum "
        f"drawdown {_percent(summary['max_drawdown'])}.{bench_text}"
    )
    figures["equity"] = _series_figure(title, description, ts, columns, keep)
    svgs["equity"] = charts.line_chart(
        chart_id="equity", title=title, description=description, times_ns=ts[keep],
        lines=lines, y_format=_money,
    )  # fmt: skip

    # Drawdown (underwater curve).
    dd = metrics.drawdown(equity)
    keep = charts.extreme_indices(dd, charts.MAX_POINTS)
    title = f"Drawdown of {name}"
    description = (
        f"Fall below the running peak, from 0% to at worst {_percent(-summary['max_drawdown'])}"
        f" ({summary['max_drawdown_peak']} to {summary['max_drawdown_trough']}, "
        + (
            f"recovered {summary['max_drawdown_recovery']}"
            if summary["max_drawdown_recovered"]
            else "not recovered by the end"
        )
        + f"); {summary['max_drawdown_duration_periods']} periods, "
        f"{summary['max_drawdown_duration_days']:.1f} days peak to recovery."
    )
    figures["drawdown"] = _series_figure(title, description, ts, {"drawdown": dd}, keep)
    svgs["drawdown"] = charts.line_chart(
        chart_id="drawdown", title=title, description=description, times_ns=ts[keep],
        lines=[charts.Line(dd[keep], charts.LOSS)], y_format=_percent, baseline=0.0,
        fill_to_baseline=True,
    )  # fmt: skip

    # Monthly returns.
    monthly = metrics.monthly_returns(ts, equity)
    finite = monthly.values[np.isfinite(monthly.values)]
    title = f"Monthly returns of {name}"
    if len(finite):
        best = float(finite.max())
        worst = float(finite.min())
        description = (
            f"Compounded return of each calendar month (UTC) from {monthly.years[0]} to "
            f"{monthly.years[-1]}, red for losses and blue for gains; {len(finite)} months, "
            f"{int(np.sum(finite > 0))} positive, best {_percent(best)}, worst {_percent(worst)}."
        )
    else:
        description = "No calendar month in the run."
    figures["monthly_returns"] = {
        "title": title,
        "description": description,
        "years": monthly.years,
        "months": list(range(1, 13)),
        "values": jsonable(monthly.values),
        "yearly": jsonable(monthly.yearly),
    }
    svgs["monthly_returns"] = charts.heatmap(
        chart_id="monthly-returns", title=title, description=description, years=monthly.years,
        values=monthly.values, yearly=monthly.yearly,
    )  # fmt: skip

    # Rolling Sharpe.
    window = rolling_window or metrics.default_rolling_window(len(returns), ppy)
    rolling = metrics.rolling_sharpe(returns, window, ppy)
    rolling_ts = ts[1:]
    keep = charts.extreme_indices(rolling, charts.MAX_POINTS)
    title = f"Rolling Sharpe ratio of {name}"
    shown = rolling[np.isfinite(rolling)]
    if len(shown):
        description = (
            f"Annualised Sharpe ratio over trailing windows of {window} periods: from "
            f"{shown.min():.2f} to {shown.max():.2f}, last {shown[-1]:.2f}."
        )
    else:
        description = f"Too few returns for a {window}-period rolling Sharpe ratio."
    figures["rolling_sharpe"] = _series_figure(
        title, description, rolling_ts, {"sharpe": rolling}, keep
    )
    figures["rolling_sharpe"]["window"] = window
    svgs["rolling_sharpe"] = charts.line_chart(
        chart_id="rolling-sharpe", title=title, description=description,
        times_ns=rolling_ts[keep], lines=[charts.Line(rolling[keep], charts.LINE)],
        y_format=_ratio, baseline=0.0,
    )  # fmt: skip

    # Distributions recorded by tick runs.
    for key, samples, scale, unit, what, integer in (
        ("latency", run.latency_ns, 1_000.0, "us", "Order latency", False),
        ("queue_position", run.queue_position, 1.0, "shares", "Queue position", True),
    ):
        if samples is None or len(samples) == 0:
            figures[key] = None
            continue
        hist = _histogram(samples, scale, integer)
        title = f"{what} distribution of {name}"
        pct = hist["percentiles"]
        # fmt: off
        description = (
            f"{hist['count']:,} samples in {unit}: median {pct['p50']:.4g}, 90th percentile "
            f"{pct['p90']:.4g}, 99th {pct['p99']:.4g}, maximum {hist['max']:.4g}"
            + (f"; {hist['overflow']:,} above {hist['edges'][-1]:.4g} not drawn" if
               hist["overflow"] else "")  # fmt: skip
            + "."
        )
        figures[key] = {"title": title, "description": description, "unit": unit,
                        **jsonable(hist)}  # fmt: skip
        svgs[key] = charts.histogram_chart(
            chart_id=key.replace("_", "-"), title=title, description=description,
            edges=hist["edges"], counts=hist["counts"],
            x_format=_with_unit(unit), integer_bins=hist["integer_bins"],
        )  # fmt: skip
        # fmt: on

    rows = _trade_rows(run.trades)
    n = len(rows)
    first = rows[: min(n, trade_rows)]
    last = rows[max(len(first), n - trade_rows) :] if trade_rows else []
    figures["trades"] = {"count": n, "first": jsonable(first), "last": jsonable(last)}
    return Report(name=run.name, kind=run.kind, figures=figures, svgs=svgs, raw_summary=summary)
