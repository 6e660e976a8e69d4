"""Bar backtest of one strategy on daily bars: moving-average crossover or the pairs strategy,
with costs, stops and short borrow, reported in full."""

from __future__ import annotations

from typing import Any

import numpy as np

from lab.jobs import checks
from lab.jobs.data import daily_from_store
from lab.runner import JobOutput, ParamsError, ProgressFn

DEFAULTS: dict[str, Any] = {
    "strategy": "ma_crossover",
    "symbols": ["SPY"],
    "start": None,
    "end": None,
    "fast": 10,
    "slow": 50,
    "lookback": 60,
    "entry_z": 2.0,
    "exit_z": 0.5,
    "stop_z": 3.0,
    "equity_fraction": 0.5,
    "fee": 0.001,
    "slippage": 0.0,
    "borrow_rate": 0.0,
    "init_cash": 100_000.0,
    "long_only": True,
    "fill": "close",
    "stop_loss": None,
    "take_profit": None,
    "trailing_stop": False,
}
STRATEGIES = ("ma_crossover", "pairs")


def clean(params: dict[str, Any]) -> dict[str, Any]:
    strategy = checks.choice(params, "strategy", STRATEGIES)
    symbols = checks.symbols(params, "symbols")
    want = 1 if strategy == "ma_crossover" else 2
    if len(symbols) != want:
        raise ParamsError(f"symbols: {strategy} trades {want} symbol(s), got {symbols}")
    checks.date_or_none(params, "start")
    checks.date_or_none(params, "end")
    fast = checks.integer(params, "fast", low=1)
    slow = checks.integer(params, "slow", low=2)
    if strategy == "ma_crossover" and fast >= slow:
        raise ParamsError(f"fast: must be shorter than slow, got fast={fast}, slow={slow}")
    checks.integer(params, "lookback", low=3)
    exit_z = checks.number(params, "exit_z", low=0.0)
    entry_z = checks.number(params, "entry_z", low=0.0)
    stop_z = checks.number(params, "stop_z", low=0.0)
    if strategy == "pairs" and not exit_z < entry_z < stop_z:
        raise ParamsError(f"need exit_z < entry_z < stop_z, got {exit_z}, {entry_z}, {stop_z}")
    checks.number(params, "equity_fraction", low=1e-6, high=1.0)
    checks.number(params, "fee", low=0.0, high=0.1)
    checks.number(params, "slippage", low=0.0, high=0.1)
    checks.number(params, "borrow_rate", low=0.0, high=1.0)
    checks.number(params, "init_cash", low=1e-6)
    checks.choice(params, "fill", ("close", "next_open"))
    for name in ("stop_loss", "take_profit"):
        if params[name] is not None:
            checks.number(params, name, low=1e-6, high=0.99 if name == "stop_loss" else 100.0)
    for flag in ("long_only", "trailing_stop"):
        if not isinstance(params[flag], bool):
            raise ParamsError(f"{flag}: expected true or false, got {params[flag]!r}")
    if params["trailing_stop"] and params["stop_loss"] is None:
        raise ParamsError("trailing_stop: needs a stop_loss distance to trail")
    return params


def _ns(dates: np.ndarray) -> np.ndarray:
    return np.asarray(dates).astype("datetime64[ns]").astype(np.int64)


def record_of(name, dates, result, params, *, traded) -> Any:
    """A report record of a bar backtest result."""
    from trading.research.bars.round_trips import round_trips
    from trading.research.report import RunRecord

    orders = result.orders
    notional = float(np.sum(np.abs(orders["size"] * orders["price"]))) if len(orders) else 0.0
    position = np.atleast_2d(result.position.T).T if result.position.ndim == 1 else result.position
    exposure = np.abs(position * traded).sum(axis=1) / result.value
    return RunRecord(
        name=name,
        kind="bars",
        timestamps=_ns(dates),
        equity=np.asarray(result.value, dtype=np.float64),
        trades=round_trips(orders, dates),
        fees_total=float(orders["fees"].sum()) if len(orders) else 0.0,
        exposure=exposure,
        traded_notional=notional,
        periods_per_year=252.0,
        params=params,
    )


def ma_crossover_record(name, dates, close, fast, slow, *, params, **kwargs) -> Any:
    from trading.research.bars.strategies import backtest_ma_crossover

    close = np.ascontiguousarray(close, dtype=np.float64)
    result = backtest_ma_crossover(close, fast, slow, **kwargs)
    return record_of(name, dates, result, params, traded=close[:, None])


def run(params: dict[str, Any], progress: ProgressFn) -> JobOutput:
    from trading.research.bars.strategies import backtest_ma_crossover, backtest_pairs
    from trading.research.report import build_report

    progress(0.0, "loading daily bars")
    bars = daily_from_store(params["symbols"], params["start"], params["end"])
    if params["strategy"] == "ma_crossover":
        (b,) = bars
        if len(b) <= params["slow"]:
            raise ParamsError(f"slow: {params['slow']} bars needed, only {len(b)} in range")
        close = np.ascontiguousarray(b.close, dtype=np.float64)
        stops = {}
        if params["stop_loss"] is not None:
            stops["sl_stop"] = params["stop_loss"]
            stops["sl_trail"] = params["trailing_stop"]
        if params["take_profit"] is not None:
            stops["tp_stop"] = params["take_profit"]
        result = backtest_ma_crossover(
            close, params["fast"], params["slow"], long_only=params["long_only"],
            open=np.ascontiguousarray(b.open, dtype=np.float64),
            high=np.ascontiguousarray(b.high, dtype=np.float64),
            low=np.ascontiguousarray(b.low, dtype=np.float64),
            fill=params["fill"], fees=params["fee"], slippage=params["slippage"],
            borrow_rate=params["borrow_rate"], init_cash=params["init_cash"], **stops,
        )  # fmt: skip
        dates, traded = b.dates, close[:, None]
        name = f"MA crossover {params['fast']}/{params['slow']} on {b.symbol}"
    else:
        from lab.jobs.data import align

        dates, closes = align(bars)
        if len(dates) <= params["lookback"]:
            raise ParamsError(f"lookback: {params['lookback']} bars needed, {len(dates)} shared")
        _signals, result = backtest_pairs(
            closes[:, 0], closes[:, 1], lookback=params["lookback"], entry_z=params["entry_z"],
            exit_z=params["exit_z"], stop_z=params["stop_z"],
            equity_fraction=params["equity_fraction"], fees=params["fee"],
            slippage=params["slippage"], borrow_rate=params["borrow_rate"],
            init_cash=params["init_cash"], fill=params["fill"],
        )  # fmt: skip
        traded = closes
        name = f"Pairs {params['symbols'][0]}/{params['symbols'][1]}"
    progress(0.8, "building the report")
    report = build_report(record_of(name, dates, result, params, traded=traded))
    figures = dict(report.figures)
    s = figures["summary"]
    figures["digest"] = {
        "period": f"{s['start']} .. {s['end']} ({s['marks']} bars)",
        "total return": _pct(s["total_return"]),
        "CAGR": _pct(s["cagr"]),
        "Sharpe": _num(s["sharpe"]),
        "max drawdown": "—" if s["max_drawdown"] is None else f"{s['max_drawdown']:.2%}",
        "trades": s["trades_count"],
        "fees": _num(s["fees_total"]),
        "borrow paid": _num(result.borrow_paid),
    }
    progress(1.0, "done")
    return JobOutput(figures=figures, report_html=report.html(), summary=name)


def _pct(value) -> str:
    return "—" if value is None else f"{value:+.2%}"


def _num(value) -> str:
    return "—" if value is None else f"{value:,.2f}"
