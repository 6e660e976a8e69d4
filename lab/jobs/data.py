"""Where jobs get market data: the research store, or daily CSV files named directly."""

from __future__ import annotations

from functools import reduce
from pathlib import Path

import numpy as np

from lab.runner import ParamsError
from trading.research.store import DailyBars, MarketDataStore, NotInStoreError, adjust_daily_bars


def store() -> MarketDataStore:
    """The configured research store (DESK_MARKET_DATA, else var/market_data)."""
    return MarketDataStore()


def stored_daily_symbols() -> list[str]:
    symbols = store().symbols("daily")
    if not symbols:
        raise ParamsError(
            "the research store holds no daily bars: import some with "
            "`manage.py importdata FILE...` (e.g. the shared daily CSVs)"
        )
    return symbols


def daily_from_csv(paths: list[str]) -> list[DailyBars]:
    """Adjusted daily bars read straight from Alpha Vantage daily CSV files."""
    from trading.research.importers import (
        DataImportError,
        read_daily_csv,
        symbol_from_daily_file_name,
    )

    bars = []
    for path in paths:
        if not Path(path).is_file():
            raise ParamsError(f"paths: no such file {path}")
        try:
            raw = read_daily_csv(path)
        except DataImportError as exc:
            raise ParamsError(f"paths: {exc}") from None
        bars.append(adjust_daily_bars(raw, symbol_from_daily_file_name(path)))
    return bars


def daily_from_store(symbols: list[str], start: str | None, end: str | None) -> list[DailyBars]:
    """Adjusted daily bars of `symbols` from the store, limited to start..end."""
    source = store()
    try:
        return [source.daily_bars(s, adjusted=True, start=start, end=end) for s in symbols]
    except NotInStoreError as exc:
        raise ParamsError(f"symbols: {exc}") from None


def align(
    bars: list[DailyBars], start: str | None = None, end: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(dates, closes[n_days, n_symbols]) on the dates every series has, within start..end."""
    dates = reduce(np.intersect1d, [b.dates for b in bars])
    if start:
        dates = dates[dates >= np.datetime64(start, "D")]
    if end:
        dates = dates[dates <= np.datetime64(end, "D")]
    closes = np.empty((len(dates), len(bars)), dtype=np.float64)
    for column, b in enumerate(bars):
        closes[:, column] = np.asarray(b.close)[np.searchsorted(b.dates, dates)]
    return dates.astype("datetime64[D]"), closes


def daily_closes(params: dict) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(symbols, dates, closes) for a job: from `paths` when given, else the store's `symbols`
    (all stored daily symbols when empty).

    A worker running many chunks of one sweep asks for the same closes each time: the last
    few answers are kept, keyed by what was asked and by the store's catalogue as it stands
    (a re-import changes the catalogue, so it never serves stale prices).
    """
    catalogue = store().catalogue_path
    try:
        version = catalogue.stat().st_mtime_ns
    except FileNotFoundError:
        version = 0
    key = (
        str(catalogue), version, tuple(params.get("paths") or ()), tuple(params.get("symbols") or ()),
        params.get("start"), params.get("end"),
    )  # fmt: skip
    if params.get("paths"):
        return _load_closes(params)
    return _cached_closes(key, params)


_CACHE: dict[tuple, tuple[list[str], np.ndarray, np.ndarray]] = {}
_CACHE_SIZE = 4


def _cached_closes(key: tuple, params: dict) -> tuple[list[str], np.ndarray, np.ndarray]:
    hit = _CACHE.get(key)
    if hit is None:
        hit = _load_closes(params)
        hit[1].setflags(write=False)
        hit[2].setflags(write=False)
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = hit
    symbols, dates, closes = hit
    return list(symbols), dates, closes


def _load_closes(params: dict) -> tuple[list[str], np.ndarray, np.ndarray]:
    if params.get("paths"):
        bars = daily_from_csv(params["paths"])
    else:
        symbols = params.get("symbols") or stored_daily_symbols()
        bars = daily_from_store(symbols, None, None)
    dates, closes = align(bars, params.get("start"), params.get("end"))
    if len(dates) == 0:
        raise ParamsError("the series share no dates in the requested range")
    return [b.symbol for b in bars], dates, closes
