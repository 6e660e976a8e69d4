"""Per-bar returns of every moving-average crossover of a grid on one series: the input of
walk-forward selection and of combinatorial purged cross-validation."""

from __future__ import annotations

from typing import Any

import numpy as np

from lab.jobs import checks
from lab.jobs.data import daily_from_store
from lab.runner import ParamsError, ProgressFn

GRID_DEFAULTS: dict[str, Any] = {
    "symbol": "SPY",
    "start": None,
    "end": None,
    "fast": [5, 50],
    "slow": [60, 200],
    "step": 5,
    "fee": 0.001,
    "long_only": True,
}


def clean_grid(params: dict[str, Any]) -> None:
    if not isinstance(params["symbol"], str) or not params["symbol"]:
        raise ParamsError(f"symbol: expected a ticker symbol, got {params['symbol']!r}")
    params["symbol"] = params["symbol"].upper()
    checks.date_or_none(params, "start")
    checks.date_or_none(params, "end")
    fast = checks.window_range(params, "fast")
    slow = checks.window_range(params, "slow")
    checks.integer(params, "step", low=1)
    if fast[0] >= slow[1]:
        raise ParamsError(f"fast {fast} and slow {slow}: no fast window is shorter than a slow one")
    checks.number(params, "fee", low=0.0, high=0.1)
    if not isinstance(params["long_only"], bool):
        raise ParamsError(f"long_only: expected true or false, got {params['long_only']!r}")


def parameter_grid(params: dict[str, Any]) -> list[tuple[int, int]]:
    step = params["step"]
    fasts = range(params["fast"][0], params["fast"][1] + 1, step)
    slows = range(params["slow"][0], params["slow"][1] + 1, step)
    return [(f, s) for f in fasts for s in slows if f < s]


def grid_returns(
    params: dict[str, Any], progress: ProgressFn, share: float = 0.5
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """(dates, returns[n_bars, n_params], grid): each column one crossover's per-bar returns."""
    from trading.research.bars.strategies import backtest_ma_crossover

    (bars,) = daily_from_store([params["symbol"]], params["start"], params["end"])
    close = np.ascontiguousarray(bars.close, dtype=np.float64)
    grid = parameter_grid(params)
    if len(close) <= max(s for _f, s in grid) + 1:
        raise ParamsError(f"{params['symbol']}: {len(close)} bars is too few for the slow windows")
    returns = np.empty((len(close), len(grid)))
    for k, (fast, slow) in enumerate(grid):
        result = backtest_ma_crossover(
            close, fast, slow, long_only=params["long_only"], fees=params["fee"]
        )
        returns[:, k] = result.returns()
        if k % 25 == 0:
            progress(share * k / len(grid), f"backtest {k + 1} of {len(grid)}")
    return np.asarray(bars.dates), returns, grid
