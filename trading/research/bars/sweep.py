"""Moving-average crossover parameter sweeps as one compiled array job.

Each moving average is computed once per ticker (all windows in parallel), then every
(fast, slow) combination of that ticker is simulated in a parallel loop over combinations. The
simulation is the one of `simulate_signals` (fill at the close, all-in entries, percentage fee),
specialised so that a backtest is one pass over two rows of averages.

Combinations are numbered ticker-major:

    combo = ticker * (n_fast * n_slow) + fast_index * n_slow + slow_index

`sweep_chunk(..., combo_start, combo_stop)` runs any contiguous slice of that numbering, so a
sweep can be split over workers; `merge_sweeps` joins the slices back, and because every
combination is computed by the same code from the same averages whatever the slice, the merged
result equals a single run bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from trading.research.bars.execution import BOTH, LONG_ONLY, execute
from trading.research.bars.indicators import rolling_means


@dataclass(frozen=True)
class SweepResult:
    """Results of combinations `combo_start` .. `combo_stop - 1` of a crossover grid."""

    fast_windows: np.ndarray
    slow_windows: np.ndarray
    n_tickers: int
    combo_start: int
    combo_stop: int
    total_return: np.ndarray
    final_value: np.ndarray
    n_orders: np.ndarray
    n_trades: np.ndarray
    init_cash: float
    fee: float
    long_only: bool

    @property
    def n_combos(self) -> int:
        return self.combo_stop - self.combo_start

    @property
    def is_complete(self) -> bool:
        total = self.n_tickers * self.fast_windows.size * self.slow_windows.size
        return self.combo_start == 0 and self.combo_stop == total

    def combos(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ticker index, fast window, slow window) of each combination held."""
        return decode_combos(
            np.arange(self.combo_start, self.combo_stop), self.fast_windows, self.slow_windows
        )

    def grid(self, field: str = "total_return") -> np.ndarray:
        """A field of a complete sweep as an array (n_tickers, n_fast, n_slow)."""
        if not self.is_complete:
            raise ValueError("grid() needs a complete sweep; merge the chunks first")
        values = getattr(self, field)
        return values.reshape(self.n_tickers, self.fast_windows.size, self.slow_windows.size)


def decode_combos(
    combos: np.ndarray, fast_windows: np.ndarray, slow_windows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ticker index, fast window, slow window) of ticker-major combination numbers."""
    n_fast = len(fast_windows)
    n_slow = len(slow_windows)
    ticker, rest = np.divmod(combos, n_fast * n_slow)
    fast_index, slow_index = np.divmod(rest, n_slow)
    return ticker, np.asarray(fast_windows)[fast_index], np.asarray(slow_windows)[slow_index]


def count_combos(
    n_tickers: int,
    fast_windows: Sequence[int] | np.ndarray,
    slow_windows: Sequence[int] | np.ndarray,
) -> int:
    """How many backtests a grid holds."""
    return n_tickers * len(fast_windows) * len(slow_windows)


def plan_chunks(n_combos: int, n_chunks: int) -> list[tuple[int, int]]:
    """Split 0 .. n_combos into `n_chunks` contiguous (start, stop) slices of near-equal size."""
    if n_combos < 1:
        raise ValueError(f"n_combos must be >= 1, got {n_combos}")
    if n_chunks < 1:
        raise ValueError(f"n_chunks must be >= 1, got {n_chunks}")
    edges = np.linspace(0, n_combos, min(n_chunks, n_combos) + 1).round().astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


@njit(cache=True)
def _crossover_backtest(
    close: np.ndarray, fast: np.ndarray, slow: np.ndarray, fee: float, long_only: bool,
    init_cash: float,
) -> tuple[float, int, int]:  # fmt: skip
    """Final value, orders and positions opened of one crossover backtest (close fills)."""
    cash = init_cash
    free_cash = init_cash
    position = 0.0
    debt = 0.0
    n_orders = 0
    n_trades = 0
    n = close.shape[0]
    # The prices hold no NaN, so the averages are NaN only during their warm-up.
    first = 0
    while first < n and (np.isnan(fast[first]) or np.isnan(slow[first])):
        first += 1
    # indicators.crossed_above, reduced to its events: the fast average crosses above on each
    # bar that turns the regime (sign of fast - slow) to "above" once any bar was "below", and
    # crosses below on each turn to "below" once any bar was "above".
    regime = np.int64(2)
    seen_below = False
    seen_above = False
    for i in range(first, n):
        # Branch-free sign: when the averages nearly touch, a branchy one mispredicts.
        now = np.int64(fast[i] > slow[i]) - np.int64(fast[i] < slow[i])
        if now == regime:
            continue
        regime = now
        entry = False
        exit_ = False
        if now == 1:
            entry = seen_below
            seen_above = True
        elif now == -1:
            exit_ = seen_above
            seen_below = True
        if not (entry or exit_):
            continue
        order_size = 0.0
        direction = BOTH
        if position > 0.0:
            if exit_:
                if long_only:
                    direction = LONG_ONLY
                    order_size = -position
                else:
                    order_size = -np.inf
        elif position < 0.0:
            if entry:
                order_size = np.inf
        elif entry:
            order_size = np.inf
        elif exit_ and not long_only:
            order_size = -np.inf
        if order_size == 0.0:
            continue
        before = position
        cash, position, debt, free_cash, _, _, _, side = execute(
            cash, position, debt, free_cash, order_size, close[i], direction, fee, 0.0,
            0.0, 0.0, 1e-8, np.nan,
        )  # fmt: skip
        if side != 0:
            n_orders += 1
            if position != 0.0 and np.sign(position) != np.sign(before):
                n_trades += 1
    return cash + position * close[n - 1], n_orders, n_trades


@njit(cache=True, parallel=True)
def _sweep_ticker(
    close: np.ndarray, averages: np.ndarray, fast_row: np.ndarray, slow_row: np.ndarray,
    fee: float, long_only: bool, init_cash: float, final_value: np.ndarray,
    n_orders: np.ndarray, n_trades: np.ndarray,
) -> None:  # fmt: skip
    for j in prange(fast_row.shape[0]):
        value, orders, trades = _crossover_backtest(
            close, averages[fast_row[j]], averages[slow_row[j]], fee, long_only, init_cash
        )
        final_value[j] = value
        n_orders[j] = orders
        n_trades[j] = trades


def _check_grid(
    close: np.ndarray, fast_windows: Sequence[int] | np.ndarray, slow_windows: Sequence[int] | np.ndarray, fee: float,
    init_cash: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    prices = np.asarray(close, dtype=np.float64)
    if prices.ndim == 1:
        prices = prices[:, None]
    if prices.ndim != 2 or prices.shape[0] < 2 or prices.shape[1] < 1:
        raise ValueError(f"close must be (n_bars, n_tickers), got shape {np.shape(close)}")
    if not np.all(np.isfinite(prices)) or np.any(prices <= 0.0):
        raise ValueError("close must be finite and positive (found NaN, inf or <= 0)")
    fast = np.asarray(fast_windows)
    slow = np.asarray(slow_windows)
    for name, windows in (("fast_windows", fast), ("slow_windows", slow)):
        if windows.ndim != 1 or windows.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-d sequence")
        if not np.issubdtype(windows.dtype, np.integer):
            raise ValueError(f"{name} must hold integers, got dtype {windows.dtype}")
        if windows.min() < 1 or windows.max() > prices.shape[0]:
            raise ValueError(f"{name} must lie in 1..{prices.shape[0]} (the number of bars)")
    if fast.max() >= slow.min():
        raise ValueError(
            f"every fast window must be shorter than every slow one, got fast={fast.max()} "
            f">= slow={slow.min()}"
        )
    if not np.isfinite(fee) or fee < 0.0:
        raise ValueError(f"fee must be finite and >= 0, got {fee}")
    if not np.isfinite(init_cash) or init_cash <= 0.0:
        raise ValueError(f"init_cash must be finite and > 0, got {init_cash}")
    return prices, fast.astype(np.int64), slow.astype(np.int64)


def sweep_chunk(
    close: np.ndarray,
    fast_windows: Sequence[int] | np.ndarray,
    slow_windows: Sequence[int] | np.ndarray,
    combo_start: int,
    combo_stop: int,
    *,
    fee: float = 0.001,
    long_only: bool = True,
    init_cash: float = 100.0,
) -> SweepResult:
    """Backtest combinations `combo_start` .. `combo_stop - 1` (ticker-major numbering)."""
    prices, fast, slow = _check_grid(close, fast_windows, slow_windows, fee, init_cash)
    n_tickers = prices.shape[1]
    per_ticker = fast.size * slow.size
    total = n_tickers * per_ticker
    if not (0 <= combo_start < combo_stop <= total):
        raise ValueError(
            f"need 0 <= combo_start < combo_stop <= {total}, got {combo_start}, {combo_stop}"
        )
    windows, inverse = np.unique(np.concatenate([fast, slow]), return_inverse=True)
    fast_pos = inverse[: fast.size]
    slow_pos = inverse[fast.size :]
    n = combo_stop - combo_start
    final_value = np.empty(n)
    n_orders = np.empty(n, dtype=np.int64)
    n_trades = np.empty(n, dtype=np.int64)
    for ticker in range(combo_start // per_ticker, (combo_stop - 1) // per_ticker + 1):
        lo = max(combo_start, ticker * per_ticker)
        hi = min(combo_stop, (ticker + 1) * per_ticker)
        local = np.arange(lo - ticker * per_ticker, hi - ticker * per_ticker)
        fast_index, slow_index = np.divmod(local, slow.size)
        series = np.ascontiguousarray(prices[:, ticker])
        # Only the averages this slice uses: a small chunk does not pay for the whole grid's.
        fast_rows = fast_pos[fast_index]
        slow_rows = slow_pos[slow_index]
        needed = np.unique(np.concatenate([fast_rows, slow_rows]))
        averages = rolling_means(series, windows[needed])
        out = slice(lo - combo_start, hi - combo_start)
        _sweep_ticker(
            series, averages, np.searchsorted(needed, fast_rows),
            np.searchsorted(needed, slow_rows), float(fee),
            bool(long_only), float(init_cash), final_value[out], n_orders[out], n_trades[out],
        )  # fmt: skip
    return SweepResult(
        fast, slow, n_tickers, int(combo_start), int(combo_stop), final_value / init_cash - 1.0,
        final_value, n_orders, n_trades, float(init_cash), float(fee), bool(long_only),
    )  # fmt: skip


def sweep_ma_crossover(
    close: np.ndarray,
    fast_windows: Sequence[int] | np.ndarray,
    slow_windows: Sequence[int] | np.ndarray,
    *,
    fee: float = 0.001,
    long_only: bool = True,
    init_cash: float = 100.0,
) -> SweepResult:
    """Backtest every (fast, slow, ticker) combination of a crossover grid in one job.

    `close` is (n_bars, n_tickers), oldest first. Total returns agree with vectorbt's
    `Portfolio.from_signals` on the same crossover signals with `fees=fee` and fills at the
    close (long only, or `direction="both"` when `long_only` is False).
    """
    prices, fast, slow = _check_grid(close, fast_windows, slow_windows, fee, init_cash)
    total = count_combos(prices.shape[1], fast, slow)
    return sweep_chunk(
        prices, fast, slow, 0, total, fee=fee, long_only=long_only, init_cash=init_cash
    )


def merge_sweeps(chunks: Sequence[SweepResult]) -> SweepResult:
    """Join chunk results (in any order) of one grid into one result; they must tile it."""
    if not chunks:
        raise ValueError("no chunks to merge")
    ordered = sorted(chunks, key=lambda c: c.combo_start)
    first = ordered[0]
    for chunk in ordered[1:]:
        same_grid = (
            np.array_equal(chunk.fast_windows, first.fast_windows)
            and np.array_equal(chunk.slow_windows, first.slow_windows)
            and chunk.n_tickers == first.n_tickers
            and chunk.init_cash == first.init_cash
            and chunk.fee == first.fee
            and chunk.long_only == first.long_only
        )
        if not same_grid:
            raise ValueError("chunks come from different grids or settings")
    for previous, chunk in zip(ordered[:-1], ordered[1:], strict=True):
        if chunk.combo_start != previous.combo_stop:
            raise ValueError(
                f"chunks do not tile the grid: {previous.combo_stop} then {chunk.combo_start}"
            )
    return SweepResult(
        first.fast_windows, first.slow_windows, first.n_tickers, first.combo_start,
        ordered[-1].combo_stop,
        np.concatenate([c.total_return for c in ordered]),
        np.concatenate([c.final_value for c in ordered]),
        np.concatenate([c.n_orders for c in ordered]),
        np.concatenate([c.n_trades for c in ordered]),
        first.init_cash, first.fee, first.long_only,
    )  # fmt: skip
