"""The crossover sweep: identical to vectorbt on a grid over shared daily data, chunkable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.trading.research.bars.daily import daily_closes
from trading.research.bars.strategies import backtest_ma_crossover
from trading.research.bars.sweep import (
    count_combos,
    decode_combos,
    merge_sweeps,
    plan_chunks,
    sweep_chunk,
    sweep_ma_crossover,
)

vbt = pytest.importorskip("vectorbt")

TICKERS = ("KO", "PEP", "SPY", "XOM")
FAST = np.arange(2, 22)
SLOW = np.arange(22, 42)


@pytest.fixture(scope="module")
def close() -> np.ndarray:
    return daily_closes(*TICKERS)


def vectorbt_sweep(close: np.ndarray, fast, slow, *, fee: float, long_only: bool):
    """vectorbt's run of the same grid, one column per combination in ticker-major order."""
    ticker, fast_w, slow_w = decode_combos(
        np.arange(count_combos(close.shape[1], fast, slow)), fast, slow
    )
    prices = pd.DataFrame(close[:, ticker])
    fast_ma = vbt.MA.run(prices, list(fast_w), per_column=True).ma
    slow_ma = vbt.MA.run(prices, list(slow_w), per_column=True).ma
    entries = fast_ma.vbt.crossed_above(slow_ma).to_numpy()
    exits = fast_ma.vbt.crossed_below(slow_ma).to_numpy()
    return vbt.Portfolio.from_signals(
        prices, entries, exits, fees=fee, init_cash=100.0, freq="1D",
        direction="longonly" if long_only else "both",
    )  # fmt: skip


@pytest.mark.parametrize("long_only", [True, False])
def test_total_returns_equal_vectorbt_on_the_grid(close, long_only):
    ours = sweep_ma_crossover(close, FAST, SLOW, fee=0.001, long_only=long_only)
    theirs = vectorbt_sweep(close, FAST, SLOW, fee=0.001, long_only=long_only)
    assert ours.n_combos == 4 * 20 * 20
    np.testing.assert_allclose(
        ours.total_return, theirs.total_return().to_numpy(), rtol=0, atol=1e-9
    )
    np.testing.assert_allclose(ours.final_value, theirs.final_value().to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(ours.n_orders, theirs.orders.count().to_numpy())
    np.testing.assert_array_equal(ours.n_trades, theirs.trades.count().to_numpy())
    # The grid has trades at all, so the comparison says something.
    assert ours.n_orders.min() > 0


def test_each_combination_equals_the_single_backtest(close):
    result = sweep_ma_crossover(close[:, :2], [3, 9], [30, 50], fee=0.002, init_cash=1_000.0)
    ticker, fast, slow = result.combos()
    for k in range(result.n_combos):
        single = backtest_ma_crossover(
            close[:, ticker[k]], int(fast[k]), int(slow[k]), fees=0.002, init_cash=1_000.0
        )
        assert result.total_return[k] == pytest.approx(single.total_return, abs=1e-12)
        assert result.n_orders[k] == single.n_orders


def test_grid_reshapes_ticker_major(close):
    result = sweep_ma_crossover(close, [2, 5, 8], [20, 40], fee=0.0)
    grid = result.grid()
    assert grid.shape == (4, 3, 2)
    ticker, fast, slow = result.combos()
    k = int(np.flatnonzero((ticker == 2) & (fast == 5) & (slow == 40))[0])
    assert grid[2, 1, 1] == result.total_return[k]


@pytest.mark.parametrize("n_chunks", [1, 3, 7, 64])
def test_chunks_merge_to_the_single_run_exactly(close, n_chunks):
    whole = sweep_ma_crossover(close, FAST, SLOW, long_only=False)
    parts = [
        sweep_chunk(close, FAST, SLOW, start, stop, long_only=False)
        for start, stop in plan_chunks(whole.n_combos, n_chunks)
    ]
    merged = merge_sweeps(parts[::-1])  # order of arrival does not matter
    assert merged.is_complete
    np.testing.assert_array_equal(merged.total_return, whole.total_return)
    np.testing.assert_array_equal(merged.final_value, whole.final_value)
    np.testing.assert_array_equal(merged.n_orders, whole.n_orders)
    np.testing.assert_array_equal(merged.n_trades, whole.n_trades)


def test_merge_refuses_gaps_and_foreign_chunks(close):
    a = sweep_chunk(close, FAST, SLOW, 0, 100)
    c = sweep_chunk(close, FAST, SLOW, 200, 300)
    with pytest.raises(ValueError, match="tile"):
        merge_sweeps([a, c])
    other = sweep_chunk(close, FAST, SLOW, 100, 200, fee=0.002)
    with pytest.raises(ValueError, match="different grids"):
        merge_sweeps([a, other])
    with pytest.raises(ValueError, match="no chunks"):
        merge_sweeps([])
    with pytest.raises(ValueError, match="complete"):
        a.grid()


def test_plan_chunks_tiles_the_range():
    chunks = plan_chunks(10_000, 7)
    assert chunks[0][0] == 0 and chunks[-1][1] == 10_000
    assert all(b == c for (_, b), (c, _) in zip(chunks[:-1], chunks[1:], strict=True))
    assert plan_chunks(3, 10) == [(0, 1), (1, 2), (2, 3)]
    with pytest.raises(ValueError):
        plan_chunks(0, 2)


@pytest.mark.parametrize(
    ("fast", "slow", "message"),
    [
        ([5, 30], [20, 40], "shorter"),
        ([10], [10], "shorter"),
        ([0, 2], [20], "lie in"),
        ([2.5], [20], "integers"),
        ([], [20], "non-empty"),
    ],
)
def test_bad_windows_are_refused(close, fast, slow, message):
    with pytest.raises(ValueError, match=message):
        sweep_ma_crossover(close, fast, slow)


def test_bad_prices_and_ranges_are_refused(close):
    with_nan = close.copy()
    with_nan[10, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sweep_ma_crossover(with_nan, [2], [20])
    with pytest.raises(ValueError, match="n_bars, n_tickers"):
        sweep_ma_crossover(close[None], [2], [20])
    with pytest.raises(ValueError, match="combo_start"):
        sweep_chunk(close, [2], [20], 3, 2)
    with pytest.raises(ValueError, match="combo_start"):
        sweep_chunk(close, [2], [20], 0, 5)
    with pytest.raises(ValueError, match="fee"):
        sweep_ma_crossover(close, [2], [20], fee=-0.1)
