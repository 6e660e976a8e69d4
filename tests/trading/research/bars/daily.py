"""Adjusted daily closes of the shared tickers, oldest first, on the dates they all share.

Read through the market data store when it holds them, else straight from the shared CSVs.
"""

from __future__ import annotations

import gzip
from functools import cache

import numpy as np

from trading.shared_data import shared_data_dir


def _from_store(symbols: tuple[str, ...]) -> np.ndarray | None:
    try:
        from trading.research.store import MarketDataStore, default_store_root
    except ImportError:
        return None
    store = MarketDataStore(default_store_root())
    try:
        if not set(symbols) <= set(store.symbols("daily")):
            return None
        _, closes = store.aligned_closes(list(symbols))
    except (OSError, LookupError, ValueError):
        return None
    return np.asarray(closes, dtype=np.float64)


def _from_csv(symbol: str) -> dict[str, float]:
    path = shared_data_dir() / "daily" / f"{symbol}.csv.gz"
    with gzip.open(path, "rt") as handle:
        header = handle.readline().strip().split(",")
        date_col = header.index("timestamp")
        close_col = header.index("adjusted_close")
        rows = (line.strip().split(",") for line in handle if line.strip())
        return {row[date_col]: float(row[close_col]) for row in rows}


@cache
def daily_closes(*symbols: str) -> np.ndarray:
    """(n_days, n_symbols) adjusted closes, oldest first."""
    stored = _from_store(symbols)
    if stored is not None:
        return stored
    series = [_from_csv(s) for s in symbols]
    dates = sorted(set.intersection(*(set(s) for s in series)))
    return np.array([[s[d] for s in series] for d in dates], dtype=np.float64)


@cache
def daily_ohlc(symbol: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(open, high, low, close) of one symbol, oldest first, scaled by adjusted/raw close so
    the bars are on the adjusted close's scale."""
    try:
        from trading.research.store import MarketDataStore, default_store_root

        store = MarketDataStore(default_store_root())
        if symbol in store.symbols("daily"):
            bars = store.daily_bars(symbol, adjusted=True)
            return bars.open, bars.high, bars.low, bars.close
    except (ImportError, OSError, LookupError, ValueError):
        pass
    path = shared_data_dir() / "daily" / f"{symbol}.csv.gz"
    with gzip.open(path, "rt") as handle:
        data = np.genfromtxt(handle, delimiter=",", names=True, dtype=None, encoding="utf-8")
    data = data[::-1]
    factor = data["adjusted_close"] / data["close"]
    return (
        data["open"] * factor,
        data["high"] * factor,
        data["low"] * factor,
        data["adjusted_close"].astype(np.float64),
    )
