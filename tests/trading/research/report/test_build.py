"""build_report: the figures as strict JSON, drawn from the same data as the charts."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from trading.research.report import RunRecord, Trade, build_report, charts
from trading.research.report.build import jsonable
from trading.research.report.record import NS_PER_DAY

FIGURE_KEYS = {"name", "kind", "summary", "params", "equity", "drawdown", "monthly_returns",
               "rolling_sharpe", "latency", "queue_position", "trades"}  # fmt: skip


def _bars_run(n=900, trades=55, **kwargs):
    rng = np.random.default_rng(4)
    dates = pd.bdate_range("2018-01-01", periods=n)
    equity = 1e5 * np.cumprod(1 + rng.normal(0.0003, 0.01, n))
    ns = dates.values.astype("datetime64[ns]").view(np.int64)
    rows = [
        Trade(int(ns[i]), int(ns[i + 3]), 1, 100, 10.0, 10.5, float(rng.normal(5, 20)), 1.0)
        for i in range(0, trades * 10, 10)
    ]
    return RunRecord("bars run", dates, equity, rows, exposure=np.full(n, 0.9), **kwargs)


def _tick_run(n=200_000):
    rng = np.random.default_rng(8)
    midnight = np.datetime64("2012-06-21", "ns").astype(np.int64)
    ts = midnight + 34_200 * 10**9 + np.sort(rng.integers(0, 23_400 * 10**9, n))
    equity = 1e6 + np.cumsum(rng.normal(0, 5, n))
    return RunRecord(
        "tick run", ts, equity, kind="tick", periods_per_year=252 * 23_400,
        latency_ns=rng.lognormal(11, 0.6, 5000), queue_position=rng.integers(0, 25, 3000),
    )  # fmt: skip


def test_figures_round_trip_through_strict_json_with_the_documented_keys():
    report = build_report(_bars_run())
    text = report.as_json()
    assert "NaN" not in text and "Infinity" not in text
    figures = json.loads(text)
    assert set(figures) == FIGURE_KEYS
    assert figures == json.loads(json.dumps(report.figures))
    assert figures["latency"] is None and figures["queue_position"] is None
    for key in ("equity", "drawdown", "monthly_returns", "rolling_sharpe"):
        assert figures[key]["title"] and figures[key]["description"]
    for key in (
        "sharpe",
        "sortino",
        "calmar",
        "max_drawdown",
        "max_drawdown_duration_days",
        "turnover",
        "trades_hit_rate",
        "fees_total",
        "average_gross_exposure",
    ):
        assert key in figures["summary"]  # fmt: skip


def test_undefined_values_become_null():
    report = build_report(_bars_run(trades=3))
    rolling = report.figures["rolling_sharpe"]
    assert rolling["sharpe"][0] is None  # before the first full window
    monthly = report.figures["monthly_returns"]
    assert monthly["values"][-1][-1] is None  # the run ends before December
    assert jsonable({"a": [np.float64("inf"), np.nan, np.int64(3)]}) == {"a": [None, None, 3]}


def test_series_are_downsampled_but_keep_first_last_and_extremes():
    run = _tick_run()
    figures = build_report(run).figures
    eq = figures["equity"]
    assert eq["source_points"] == len(run.equity)
    assert eq["shown_points"] == len(eq["t"]) == len(eq["equity"]) <= charts.MAX_POINTS
    assert eq["equity"][0] == run.equity[0] and eq["equity"][-1] == run.equity[-1]
    assert min(eq["equity"]) == run.equity.min() and max(eq["equity"]) == run.equity.max()
    assert min(figures["drawdown"]["drawdown"]) == pytest.approx(
        -figures["summary"]["max_drawdown"]
    )
    assert eq["t"][0].startswith("2012-06-21T09:30") and eq["t"][0].endswith("Z")


def test_tick_run_histograms_count_every_sample():
    run = _tick_run(n=5000)
    figures = build_report(run).figures
    latency = figures["latency"]
    assert latency["unit"] == "us" and latency["count"] == 5000
    assert sum(latency["counts"]) + latency["overflow"] == 5000
    assert latency["overflow"] == np.sum(run.latency_ns / 1e3 > latency["edges"][-1])
    for p in (50, 90, 99):
        assert latency["percentiles"][f"p{p}"] == pytest.approx(
            np.percentile(run.latency_ns / 1e3, p)
        )
    queue = figures["queue_position"]
    values, counts = np.unique(run.queue_position, return_counts=True)
    # Whole-number queue positions get one bin each, centred on the number.
    assert queue["integer_bins"] is True
    assert queue["counts"] == counts.tolist()
    assert queue["edges"][0] == values[0] - 0.5


def test_the_trade_table_keeps_the_first_and_last_rows():
    run = _bars_run(trades=55)
    trades = build_report(run, trade_rows=20).figures["trades"]
    assert trades["count"] == 55 and len(trades["first"]) == 20 and len(trades["last"]) == 20
    assert trades["first"][0]["pnl"] == run.trades["pnl"][0]
    assert trades["last"][-1]["pnl"] == run.trades["pnl"][-1]
    assert trades["last"][0]["pnl"] == run.trades["pnl"][35]
    short = build_report(_bars_run(trades=7), trade_rows=20).figures["trades"]
    assert len(short["first"]) == 7 and short["last"] == []
    assert short["first"][0]["holding_seconds"] == pytest.approx(
        (run.trades["exit_ts"][0] - run.trades["entry_ts"][0]) / 1e9
    )


def test_benchmark_is_rebased_to_the_run_start():
    run = _bars_run(benchmark_equity=np.linspace(50.0, 75.0, 900))
    eq = build_report(run).figures["equity"]
    assert eq["benchmark"][0] == pytest.approx(run.equity[0])
    assert eq["benchmark"][-1] == pytest.approx(run.equity[0] * 1.5)


def test_one_mark_and_flat_runs_still_build():
    one = build_report(RunRecord("one", [NS_PER_DAY], [100.0]))
    figures = json.loads(one.as_json())
    assert figures["summary"]["sharpe"] is None and figures["rolling_sharpe"]["t"] == []
    flat = build_report(RunRecord("flat", np.arange(30) * NS_PER_DAY, np.full(30, 5.0)))
    assert json.loads(flat.as_json())["summary"]["sharpe"] is None
    assert "<svg" in flat.html()


def test_profit_factor_without_losses_is_null_in_json_and_infinite_on_the_page():
    t = [Trade(0, NS_PER_DAY, 1, 1, 1.0, 2.0, 1.0, 0.0)]
    report = build_report(RunRecord("w", np.arange(3) * NS_PER_DAY, [1.0, 2.0, 3.0], t))
    assert report.raw_summary["trades_profit_factor"] == math.inf
    assert report.figures["summary"]["trades_profit_factor"] is None
    assert "+\u221e" in report.html()


def test_build_report_rejects_anything_but_a_run_record():
    with pytest.raises(ValueError, match="RunRecord"):
        build_report({"name": "x"})
