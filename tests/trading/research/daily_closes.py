"""Adjusted closes of the shared daily tickers, read straight from the CSVs (oldest first)."""

from functools import cache

import numpy as np
import pandas as pd
import pytest

from trading.shared_data import shared_data_dir


@cache
def _adjusted_close(ticker: str) -> pd.Series:
    path = shared_data_dir() / "daily" / f"{ticker}.csv.gz"
    if not path.exists():
        pytest.skip(f"shared daily data missing: {path}")
    frame = pd.read_csv(path, parse_dates=["timestamp"], index_col="timestamp")
    return frame["adjusted_close"].sort_index()


def aligned_closes(*tickers: str) -> tuple[np.ndarray, np.ndarray]:
    """Dates (datetime64[D]) and an (n_days, n_tickers) matrix on the dates all share."""
    frame = pd.concat([_adjusted_close(t) for t in tickers], axis=1, join="inner").dropna()
    return frame.index.values.astype("datetime64[D]"), frame.to_numpy(dtype=float)
