"""Strategies as signal generators for the bar backtester.

- Moving-average crossover: enter long when the fast average crosses above the slow one, leave
  (or, long/short, reverse to short) when it crosses below.
- Pairs: the spread log(b) - beta*log(a) - alpha of an Engle-Granger fit over the last
  `lookback` bars, refitted every `refit_every` bars, and its z-score against the fit's
  residual standard deviation; the state machine of `trading.strategies.pairs.Pairs` (enter at
  |z| > entry_z, exit at |z| < exit_z, stop out at |z| > stop_z and stay out until |z| is back
  inside exit_z), one sample per bar instead of per book update.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
from numba import njit

from trading.research.bars.indicators import crossed_above, moving_average
from trading.research.bars.portfolio import BacktestResult, simulate_orders, simulate_signals

PAIR_FLAT = 0
PAIR_LONG_SPREAD = 1  # long b, short beta of a
PAIR_SHORT_SPREAD = -1  # short b, long beta of a
PAIR_STOPPED = 2


def _check_windows(fast: int, slow: int) -> None:
    if fast < 1 or slow < 1:
        raise ValueError(f"windows must be >= 1, got fast={fast}, slow={slow}")
    if fast >= slow:
        raise ValueError(f"fast window must be shorter than slow, got fast={fast} >= slow={slow}")


def ma_crossover_signals(close: np.ndarray, fast: int, slow: int) -> tuple[np.ndarray, np.ndarray]:
    """(entries, exits): the bars where the fast average crosses above / below the slow one."""
    _check_windows(fast, slow)
    values = np.ascontiguousarray(close, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"close must be 1-d, got shape {values.shape}")
    if np.isnan(values).any():
        raise ValueError("close contains NaN")
    fast_ma = moving_average(values, fast)
    slow_ma = moving_average(values, slow)
    return crossed_above(fast_ma, slow_ma), crossed_above(slow_ma, fast_ma)


def backtest_ma_crossover(
    close: np.ndarray, fast: int, slow: int, *, long_only: bool = True, **kwargs
) -> BacktestResult:
    """One crossover backtest; `kwargs` go to `simulate_signals` (fees, fill, stops, ...).

    Long/short reverses on each cross: all-in long on the cross above, all-in short on the
    cross below.
    """
    entries, exits = ma_crossover_signals(close, fast, slow)
    if long_only:
        return simulate_signals(close, entries, exits, **kwargs)
    return simulate_signals(close, entries, None, short_entries=exits, **kwargs)


@dataclass(frozen=True)
class PairsSignals:
    """Per-bar fit and decisions of the pairs strategy on two closes."""

    beta: np.ndarray  # hedge ratio in force at each bar (NaN before the first fit)
    alpha: np.ndarray
    sigma: np.ndarray
    zscore: np.ndarray
    state: np.ndarray  # PAIR_FLAT, PAIR_LONG_SPREAD, PAIR_SHORT_SPREAD or PAIR_STOPPED
    weights: np.ndarray  # (n_bars, 2) target fraction of equity in a, b; NaN = hold


@njit(cache=True)
def _pairs_nb(log_a, log_b, lookback, refit_every, entry_z, exit_z, stop_z, fraction):
    n = log_a.shape[0]
    beta_out = np.full(n, np.nan)
    alpha_out = np.full(n, np.nan)
    sigma_out = np.full(n, np.nan)
    z_out = np.full(n, np.nan)
    state_out = np.zeros(n, dtype=np.int64)
    weights = np.full((n, 2), np.nan)
    have_fit = False
    beta = np.nan
    alpha = np.nan
    sigma = np.nan
    since_fit = 0
    state = PAIR_FLAT
    for i in range(n):
        if i + 1 >= lookback and (not have_fit or since_fit >= refit_every):
            a = log_a[i + 1 - lookback : i + 1]
            b = log_b[i + 1 - lookback : i + 1]
            a_mean = a.mean()
            b_mean = b.mean()
            da = a - a_mean
            sxx = da @ da
            # A constant leg a cannot be regressed on: keep the previous fit, if any.
            if sxx != 0.0:
                beta = (da @ (b - b_mean)) / sxx
                alpha = b_mean - beta * a_mean
                resid = b - beta * a - alpha
                sigma = np.sqrt(np.mean(resid * resid))
                have_fit = True
            since_fit = 0
        since_fit += 1
        if have_fit and sigma > 0.0:
            z = (log_b[i] - beta * log_a[i] - alpha) / sigma
            z_out[i] = z
            size = abs(z)
            if state == PAIR_STOPPED:
                if size < exit_z:
                    state = PAIR_FLAT
            elif size > stop_z:
                state = PAIR_STOPPED
                weights[i, 0] = 0.0
                weights[i, 1] = 0.0
            elif state != PAIR_FLAT and size < exit_z:
                state = PAIR_FLAT
                weights[i, 0] = 0.0
                weights[i, 1] = 0.0
            else:
                wanted = PAIR_SHORT_SPREAD if z > 0.0 else PAIR_LONG_SPREAD
                if size > entry_z and state != wanted:
                    state = wanted
                    weights[i, 0] = -wanted * beta * fraction
                    weights[i, 1] = wanted * fraction
        beta_out[i] = beta
        alpha_out[i] = alpha
        sigma_out[i] = sigma
        state_out[i] = state
    return beta_out, alpha_out, sigma_out, z_out, state_out, weights


def pairs_signals(
    close_a: np.ndarray,
    close_b: np.ndarray,
    *,
    lookback: int = 60,
    refit_every: int | None = None,
    entry_z: float = 2.0,
    exit_z: float = 0.5,
    stop_z: float = 3.0,
    equity_fraction: float = 0.5,
) -> PairsSignals:
    """Fit, z-score and state per bar, and the target weights of each leg on state changes.

    Long the spread means b worth `equity_fraction` of equity long and a worth beta times that
    short; the weights are set on the bar the state changes and held (NaN) otherwise, so the
    share counts stay those of the entry, as in the live strategy.
    """
    a = np.ascontiguousarray(close_a, dtype=np.float64)
    b = np.ascontiguousarray(close_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"legs must be 1-d of equal length, got {a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))) or (a <= 0).any() or (b <= 0).any():
        raise ValueError("closes must be finite and positive (found NaN, inf or <= 0)")
    if lookback < 3 or lookback > a.shape[0]:
        raise ValueError(f"lookback must be in 3..{a.shape[0]}, got {lookback}")
    refit = refit_every if refit_every is not None else max(1, lookback // 4)
    if refit < 1:
        raise ValueError(f"refit_every must be >= 1, got {refit}")
    if not (0.0 <= exit_z < entry_z < stop_z):
        raise ValueError(f"need 0 <= exit_z < entry_z < stop_z, got {exit_z}, {entry_z}, {stop_z}")
    if not (0.0 < equity_fraction <= 1.0):
        raise ValueError(f"equity_fraction must be in (0, 1], got {equity_fraction}")
    beta, alpha, sigma, z, state, weights = _pairs_nb(
        np.log(a), np.log(b), int(lookback), int(refit), float(entry_z), float(exit_z),
        float(stop_z), float(equity_fraction),
    )  # fmt: skip
    return PairsSignals(beta, alpha, sigma, z, state, weights)


# The keyword-only parameters of `pairs_signals` (lookback, refit_every, entry_z, ...).
_PAIRS_OPTIONS = tuple(
    p.name
    for p in inspect.signature(pairs_signals).parameters.values()
    if p.kind is inspect.Parameter.KEYWORD_ONLY
)


def backtest_pairs(
    close_a: np.ndarray, close_b: np.ndarray, **kwargs
) -> tuple[PairsSignals, BacktestResult]:
    """Run the pairs strategy on two closes: the keywords of `pairs_signals` (lookback,
    refit_every, entry_z, exit_z, stop_z, equity_fraction) go to it, the others to
    `simulate_orders` (fees, fill, ...)."""
    options = {name: kwargs.pop(name) for name in _PAIRS_OPTIONS if name in kwargs}
    signals = pairs_signals(close_a, close_b, **options)
    close = np.column_stack([close_a, close_b]).astype(np.float64)
    result = simulate_orders(close, signals.weights, size_type="target_percent", **kwargs)
    return signals, result
