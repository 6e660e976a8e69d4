"""Polygon results as the research store's columns, through polygon-api-client's models.

Aggregates carry their start as Unix milliseconds; a daily bar starts at midnight New York
time, so its date is taken in that zone.  Trades and quotes carry nanosecond SIP timestamps.
A result missing a field the store needs is a :class:`PolygonPayloadError` naming the row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from polygon.rest.models import Agg, Quote, Trade

from trading.research.store import TICK_CODES, RawDailyBars
from trading.venues.polygon.errors import PolygonPayloadError

NEW_YORK = ZoneInfo("America/New_York")
_NS_PER_MS = 1_000_000
_TRADE_FIELDS = frozenset(f.name for f in dataclasses.fields(Trade))
_QUOTE_FIELDS = frozenset(f.name for f in dataclasses.fields(Quote))


def _number(value: Any, what: str, row: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolygonPayloadError(f"result {row}: {what} must be a number, got {value!r}")
    return float(value)


def _integer(value: Any, what: str, row: int, missing: int | None = None) -> int:
    if value is None and missing is not None:
        return missing
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolygonPayloadError(f"result {row}: {what} must be an integer, got {value!r}")
    return value


def _codes(values: Any, what: str, row: int) -> list[int]:
    if values is None:
        return [-1] * TICK_CODES
    if not isinstance(values, list):
        raise PolygonPayloadError(f"result {row}: {what} must be a list, got {values!r}")
    codes = [_integer(v, what, row) for v in values[:TICK_CODES]]
    return codes + [-1] * (TICK_CODES - len(codes))


def agg_columns(results: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Aggregate results as the store's bar columns (``t_ns``, ``open``, ... ``transactions``)."""
    bars = [Agg.from_dict(r) for r in results]
    columns: dict[str, list[Any]] = {
        "t_ns": [],
        "open": [],
        "high": [],
        "low": [],
        "close": [],
        "volume": [],
        "vwap": [],
        "transactions": [],
    }
    for row, bar in enumerate(bars):
        columns["t_ns"].append(_integer(bar.timestamp, "t", row) * _NS_PER_MS)
        columns["open"].append(_number(bar.open, "o", row))
        columns["high"].append(_number(bar.high, "h", row))
        columns["low"].append(_number(bar.low, "l", row))
        columns["close"].append(_number(bar.close, "c", row))
        columns["volume"].append(_number(bar.volume, "v", row))
        columns["vwap"].append(np.nan if bar.vwap is None else _number(bar.vwap, "vw", row))
        columns["transactions"].append(_integer(bar.transactions, "n", row, missing=-1))
    return {
        "t_ns": np.array(columns["t_ns"], dtype=np.int64),
        **{k: np.array(columns[k], dtype=np.float64) for k in ("open", "high", "low", "close")},
        "volume": np.array(columns["volume"], dtype=np.float64),
        "vwap": np.array(columns["vwap"], dtype=np.float64),
        "transactions": np.array(columns["transactions"], dtype=np.int64),
    }


def new_york_dates(t_ns: np.ndarray) -> np.ndarray:
    """The New York calendar date of each timestamp, as ``datetime64[D]``."""
    return np.array(
        [dt.datetime.fromtimestamp(int(t) / 1e9, NEW_YORK).date().isoformat() for t in t_ns],
        dtype="datetime64[D]",
    )


def daily_bars(results: Sequence[dict[str, Any]], *, adjusted: bool) -> RawDailyBars:
    """Daily aggregates as the store's daily bars.

    Polygon's adjusted bars are already adjusted for splits, so they are stored as the
    adjusted series (``adjusted_close`` = their close); unadjusted bars are stored as traded.
    Polygon's aggregates carry no dividends or split factors, so those columns are neutral.
    """
    columns = agg_columns(results)
    n = len(columns["t_ns"])
    return RawDailyBars(
        dates=new_york_dates(columns["t_ns"]),
        open=columns["open"],
        high=columns["high"],
        low=columns["low"],
        close=columns["close"],
        volume=columns["volume"],
        dividend=np.zeros(n),
        split=np.ones(n),
        adjusted_close=columns["close"].copy() if adjusted else None,
    )


def _model(cls: Any, fields: frozenset[str], result: dict[str, Any]) -> Any:
    # Fields Polygon adds later must not break the download; the store keeps known ones.
    return cls(**{k: v for k, v in result.items() if k in fields})


def trade_columns(results: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    """v3 trades as the store's trade columns."""
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "sip_ns",
            "participant_ns",
            "price",
            "size",
            "exchange",
            "tape",
            "sequence",
            "conditions",
        )
    }
    for row, result in enumerate(results):
        trade = _model(Trade, _TRADE_FIELDS, result)
        rows["sip_ns"].append(_integer(trade.sip_timestamp, "sip_timestamp", row))
        rows["participant_ns"].append(
            _integer(trade.participant_timestamp, "participant_timestamp", row, missing=0)
        )
        rows["price"].append(_number(trade.price, "price", row))
        rows["size"].append(_number(trade.size, "size", row))
        rows["exchange"].append(_integer(trade.exchange, "exchange", row, missing=-1))
        rows["tape"].append(_integer(trade.tape, "tape", row, missing=-1))
        rows["sequence"].append(_integer(trade.sequence_number, "sequence_number", row))
        rows["conditions"].append(_codes(trade.conditions, "conditions", row))
    return _arrays(rows, ("price", "size"))


def quote_columns(results: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    """v3 quotes as the store's quote columns."""
    names = (
        "sip_ns",
        "participant_ns",
        "bid_price",
        "bid_size",
        "bid_exchange",
        "ask_price",
        "ask_size",
        "ask_exchange",
        "tape",
        "sequence",
        "conditions",
        "indicators",
    )
    rows: dict[str, list[Any]] = {k: [] for k in names}
    for row, result in enumerate(results):
        quote = _model(Quote, _QUOTE_FIELDS, result)
        rows["sip_ns"].append(_integer(quote.sip_timestamp, "sip_timestamp", row))
        rows["participant_ns"].append(
            _integer(quote.participant_timestamp, "participant_timestamp", row, missing=0)
        )
        for side in ("bid", "ask"):
            rows[f"{side}_price"].append(_number(getattr(quote, f"{side}_price"), "price", row))
            rows[f"{side}_size"].append(_number(getattr(quote, f"{side}_size"), "size", row))
            rows[f"{side}_exchange"].append(
                _integer(getattr(quote, f"{side}_exchange"), "exchange", row, missing=-1)
            )
        rows["tape"].append(_integer(quote.tape, "tape", row, missing=-1))
        rows["sequence"].append(_integer(quote.sequence_number, "sequence_number", row))
        rows["conditions"].append(_codes(quote.conditions, "conditions", row))
        rows["indicators"].append(_codes(quote.indicators, "indicators", row))
    return _arrays(rows, ("bid_price", "bid_size", "ask_price", "ask_size"))


def _arrays(rows: dict[str, list[Any]], floats: tuple[str, ...]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, values in rows.items():
        if name in ("conditions", "indicators"):
            out[name] = np.array(values, dtype=np.int32).reshape(len(values), TICK_CODES)
        elif name in floats:
            out[name] = np.array(values, dtype=np.float64)
        else:
            out[name] = np.array(values, dtype=np.int64)
    return out
