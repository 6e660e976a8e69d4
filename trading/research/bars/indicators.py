"""Moving averages and crossovers, computed the way vectorbt computes them.

The rolling mean is a difference of running sums divided by the window (not a fresh sum per
window), with NaN until `window` values have been seen: the same arithmetic as vectorbt's
`MA` indicator, so crossover signals agree bar for bar even when two averages nearly touch.

A crossover "above" fires on the first bar where the first series is strictly above the second
after having been strictly below it at some earlier bar since the last NaN. A bar of equality
neither arms nor disarms it, but it restarts the count, so below -> above -> equal -> above fires
twice; vectorbt does the same.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def rolling_mean_1d(values: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average of a 1-d float array; NaN during the warm-up and around NaNs."""
    n = values.shape[0]
    out = np.empty(n, dtype=np.float64)
    cumsum_arr = np.zeros(n, dtype=np.float64)
    nancnt_arr = np.zeros(n, dtype=np.float64)
    cumsum = 0.0
    nancnt = 0.0
    for i in range(n):
        if np.isnan(values[i]):
            nancnt = nancnt + 1.0
        else:
            cumsum = cumsum + values[i]
        nancnt_arr[i] = nancnt
        cumsum_arr[i] = cumsum
        if i < window:
            window_len = i + 1 - nancnt
            window_cumsum = cumsum
        else:
            window_len = window - (nancnt - nancnt_arr[i - window])
            window_cumsum = cumsum - cumsum_arr[i - window]
        if window_len < window:
            out[i] = np.nan
        else:
            out[i] = window_cumsum / window_len
    return out


@njit(cache=True, parallel=True)
def rolling_means(values: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Moving averages of one series for several windows: shape (len(windows), len(values)).

    The windows are computed in parallel; each row is `rolling_mean_1d` of its window.
    """
    out = np.empty((windows.shape[0], values.shape[0]), dtype=np.float64)
    for k in prange(windows.shape[0]):
        out[k] = rolling_mean_1d(values, windows[k])
    return out


@njit(cache=True)
def crossed_above(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """True on the bars where `first` crosses strictly above `second` (see the module notes)."""
    n = first.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    was_below = False
    crossed_ago = -1
    for i in range(n):
        if np.isnan(first[i]) or np.isnan(second[i]):
            crossed_ago = -1
            was_below = False
        elif first[i] > second[i]:
            if was_below:
                crossed_ago += 1
                out[i] = crossed_ago == 0
        elif first[i] == second[i]:
            crossed_ago = -1
        else:
            crossed_ago = -1
            was_below = True
    return out


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average (NaN for the first window - 1 bars)."""
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    return rolling_mean_1d(np.ascontiguousarray(values, dtype=np.float64), int(window))
