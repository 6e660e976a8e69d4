"""Tick-level backtest of the passive market maker on a stored LOBSTER day: queue position,
latency and fees simulated, every fill kept, the run reported with its latency and queue
distributions."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from lab.jobs import checks
from lab.jobs.data import store
from lab.runner import JobOutput, ParamsError, ProgressFn

DEFAULTS: dict[str, Any] = {
    "symbol": "AMZN",
    "date": None,
    "rows": 0,
    "queue_model": "l3_fifo",
    "prob_n": 3.0,
    "entry_latency_ns": 50_000,
    "response_latency_ns": 50_000,
    "maker_fee": 0.0,
    "taker_fee": 0.0,
    "fee_per_share": False,
    "half_spread_ticks": 2,
    "order_qty": 100,
    "max_inventory": 1_000,
    "skew_ticks_per_lot": 0.5,
    "interval_ms": 100.0,
}
QUEUE_MODELS = ("l3_fifo", "risk_averse", "power", "log")
NEW_YORK = ZoneInfo("America/New_York")


def clean(params: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(params["symbol"], str) or not params["symbol"]:
        raise ParamsError(f"symbol: expected a ticker symbol, got {params['symbol']!r}")
    params["symbol"] = params["symbol"].upper()
    checks.date_or_none(params, "date")
    checks.integer(params, "rows", low=0)
    checks.choice(params, "queue_model", QUEUE_MODELS)
    checks.number(params, "prob_n", low=1e-6, high=100.0)
    checks.integer(params, "entry_latency_ns", low=0, high=10**10)
    checks.integer(params, "response_latency_ns", low=0, high=10**10)
    checks.number(params, "maker_fee", low=-0.1, high=0.1)
    checks.number(params, "taker_fee", low=-0.1, high=0.1)
    if not isinstance(params["fee_per_share"], bool):
        raise ParamsError(f"fee_per_share: expected true or false, got {params['fee_per_share']!r}")
    checks.integer(params, "half_spread_ticks", low=1, high=10_000)
    checks.integer(params, "order_qty", low=1, high=1_000_000)
    checks.integer(params, "max_inventory", low=1)
    checks.number(params, "skew_ticks_per_lot", low=0.0, high=1_000.0)
    checks.number(params, "interval_ms", low=0.0, high=3_600_000.0)
    return params


def params_from_options(options: dict[str, Any]) -> dict[str, Any]:
    """`manage.py backtest --tick SYMBOL ...` as job parameters."""
    symbols = options["symbols"]
    if len(symbols) != 1:
        raise ParamsError(f"a tick backtest trades one symbol, got {symbols}")
    return {
        "symbol": symbols[0],
        "date": options["date"],
        "queue_model": options["queue_model"],
        "entry_latency_ns": round(options["entry_latency_us"] * 1000),
        "response_latency_ns": round(options["response_latency_us"] * 1000),
    }


def run(params: dict[str, Any], progress: ProgressFn) -> JobOutput:
    from trading.config import MarketMakerParams
    from trading.research.bars.portfolio import ORDER_DTYPE
    from trading.research.bars.round_trips import round_trips
    from trading.research.report import RunRecord, build_report
    from trading.research.store import NotInStoreError
    from trading.research.tick.backtest import Fees, TickBacktest
    from trading.research.tick.latency import ConstantLatency

    source = store()
    try:
        date = params["date"] or source.lobster_dates(params["symbol"])[0].isoformat()
        day = source.lobster_day(params["symbol"], date)
    except (NotInStoreError, IndexError):
        raise ParamsError(
            f"symbol: no LOBSTER day of {params['symbol']} {params['date'] or ''} in the store "
            f"(it holds {', '.join(source.symbols('lobster')) or 'none'})"
        ) from None
    rows = params["rows"] or len(day.messages)
    messages = np.ascontiguousarray(day.messages[:rows])
    orderbook = np.ascontiguousarray(day.orderbook[:rows])
    progress(0.05, f"{rows:,} events of {params['symbol']} {date}")
    backtest = TickBacktest(
        messages, orderbook,
        queue_model=params["queue_model"], prob_n=params["prob_n"],
        latency=ConstantLatency(params["entry_latency_ns"], params["response_latency_ns"]),
        fees=Fees(params["maker_fee"], params["taker_fee"], params["fee_per_share"]),
        strategy=MarketMakerParams(
            half_spread_ticks=params["half_spread_ticks"], order_qty=params["order_qty"],
            max_inventory=params["max_inventory"],
            skew_ticks_per_lot=params["skew_ticks_per_lot"],
        ),
        interval_ns=round(params["interval_ms"] * 1_000_000),
    )  # fmt: skip
    progress(0.3, "replaying")
    result = backtest.run()
    progress(0.8, "building the report")
    # LOBSTER times are nanoseconds after midnight in New York.
    day_start = dt.datetime.combine(dt.date.fromisoformat(str(date)), dt.time(), NEW_YORK)
    midnight = int(day_start.timestamp()) * 1_000_000_000
    # The curve starts from a notional account so its returns mean something: the capital a
    # market maker of this size needs to carry its largest inventory.
    capital = float(params["max_inventory"] * np.nanmax(messages["price"]) / 10_000)
    fills = result.fills
    as_orders = np.zeros(len(fills), dtype=ORDER_DTYPE)
    as_orders["bar"] = np.arange(len(fills))
    as_orders["side"] = fills["side"]
    as_orders["size"] = fills["qty"]
    as_orders["price"] = fills["price"] / 10_000
    as_orders["fees"] = fills["fee"]
    record = RunRecord(
        name=f"Tick backtest: market maker on {params['symbol']} {date}",
        kind="tick",
        timestamps=result.equity_ts + midnight,
        equity=result.equity + capital,
        trades=round_trips(as_orders, fills["ts_ns"] + midnight),
        fees_total=result.fees,
        traded_notional=float(np.sum(result.fills["price"] * result.fills["qty"]) / 10_000),
        latency_ns=result.latency_ns[:, 0] + result.latency_ns[:, 1],
        queue_position=result.queue_position,
        periods_per_year=252.0 * 23_400.0,
        params=params,
    )
    report = build_report(record)
    figures = dict(report.figures)
    maker = fills["maker"]
    figures["tick"] = {
        "events": result.events_processed,
        "events_per_s": result.events_per_s,
        "replay_s": result.elapsed_s,
        "orders_sent": result.orders_sent,
        "cancels_sent": result.cancels_sent,
        "fills": int(len(fills)),
        "maker_fills": int(maker.sum()),
        "filled_shares": int(fills["qty"].sum()),
        "position": result.position,
        "realised_pnl": result.realised_pnl,
        "unrealised_pnl": result.unrealised_pnl,
        "total_pnl": result.total_pnl,
        "fees": result.fees,
        "capital": capital,
        "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in result.settings.items()},
    }
    figures["digest"] = {
        "day": f"{params['symbol']} {date}, {result.events_processed:,} events",
        "replay": f"{result.elapsed_s:.3f} s ({result.events_per_s:,.0f} events/s)",
        "queue model": params["queue_model"],
        "latency": f"entry {params['entry_latency_ns'] / 1000:g} us, "
        f"response {params['response_latency_ns'] / 1000:g} us",
        "orders / cancels / fills": f"{result.orders_sent:,} / {result.cancels_sent:,} / "
        f"{len(fills):,} ({int(maker.sum()):,} maker)",
        "P&L": f"{result.total_pnl:,.2f} (realised {result.realised_pnl:,.2f}, "
        f"fees {result.fees:,.2f}), position {result.position:,}",
    }
    progress(1.0, "done")
    return JobOutput(figures=figures, report_html=report.html(), summary=record.name)
