"""Strategy signals: moving averages and crossovers as vectorbt computes them, and the pairs
strategy checked against the live strategy's fit and state machine and against vectorbt."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.trading.research.bars.daily import daily_closes
from trading.config import PairsParams
from trading.model.market import BookTop
from trading.research.bars.indicators import crossed_above, moving_average
from trading.research.bars.strategies import (
    PAIR_FLAT,
    PAIR_LONG_SPREAD,
    PAIR_SHORT_SPREAD,
    PAIR_STOPPED,
    backtest_ma_crossover,
    backtest_pairs,
    ma_crossover_signals,
    pairs_signals,
)
from trading.strategies import pairs as live_pairs
from trading.strategies.base import SimpleContext

vbt = pytest.importorskip("vectorbt")


@pytest.fixture(scope="module")
def ko_pep() -> np.ndarray:
    return daily_closes("KO", "PEP")


def test_moving_average_equals_pandas_and_vectorbt(ko_pep):
    close = ko_pep[:, 0]
    for window in (1, 2, 17, 200):
        mine = moving_average(close, window)
        expected = pd.Series(close).rolling(window).mean().to_numpy()
        np.testing.assert_allclose(mine, expected, rtol=1e-12, equal_nan=True)
        np.testing.assert_array_equal(mine, vbt.MA.run(pd.Series(close), window).ma.to_numpy())
        assert np.isnan(mine[: window - 1]).all() and not np.isnan(mine[window - 1 :]).any()


def brute_force_crossed_above(a, b):
    """A cross needs a strictly-below bar since the last NaN, then the first strictly-above
    bar after it (an equal bar restarts the 'first')."""
    out, armed, fired = [], False, False
    for x, y in zip(a, b, strict=True):
        if np.isnan(x) or np.isnan(y):
            armed, fired = False, False
            out.append(False)
        elif x > y:
            out.append(armed and not fired)
            fired = fired or armed
        else:
            armed = armed or x < y
            fired = False
            out.append(False)
    return np.array(out)


def test_crossed_above_matches_vectorbt_and_a_brute_force_loop():
    rng = np.random.default_rng(11)
    a = rng.integers(0, 4, 500).astype(float)  # many ties on purpose
    b = rng.integers(0, 4, 500).astype(float)
    a[[10, 11, 200]] = np.nan
    expected = pd.Series(a).vbt.crossed_above(pd.Series(b)).to_numpy()
    np.testing.assert_array_equal(crossed_above(a, b), expected)
    np.testing.assert_array_equal(crossed_above(a, b), brute_force_crossed_above(a, b))


def test_crossover_signals_equal_vectorbt(ko_pep):
    close = pd.Series(ko_pep[:, 1])
    entries, exits = ma_crossover_signals(close.to_numpy(), 5, 40)
    fast = vbt.MA.run(close, 5).ma
    slow = vbt.MA.run(close, 40).ma
    np.testing.assert_array_equal(entries, fast.vbt.crossed_above(slow).to_numpy())
    np.testing.assert_array_equal(exits, fast.vbt.crossed_below(slow).to_numpy())
    assert entries.sum() > 10


def test_crossover_backtest_refuses_bad_windows(ko_pep):
    with pytest.raises(ValueError, match="shorter"):
        backtest_ma_crossover(ko_pep[:, 0], 30, 30)
    with pytest.raises(ValueError, match=">= 1"):
        ma_crossover_signals(ko_pep[:, 0], 0, 30)
    with pytest.raises(ValueError, match="NaN"):
        ma_crossover_signals(np.r_[ko_pep[:50, 0], np.nan], 2, 30)


LOOKBACK = 60
REFIT = 15


def test_pairs_fit_and_zscore_equal_the_live_strategy(ko_pep):
    a, b = ko_pep[:, 0], ko_pep[:, 1]
    signals = pairs_signals(a, b, lookback=LOOKBACK, refit_every=REFIT)
    log_a, log_b = np.log(a), np.log(b)
    fit = None
    since = 0
    for i in range(len(a)):
        if i + 1 >= LOOKBACK and (fit is None or since >= REFIT):
            window = slice(i + 1 - LOOKBACK, i + 1)
            fit = live_pairs.fit_spread(log_a[window], log_b[window])
            since = 0
        since += 1
        if fit is None:
            assert np.isnan(signals.zscore[i])
            continue
        assert signals.beta[i] == pytest.approx(fit.beta, rel=1e-9)
        assert signals.sigma[i] == pytest.approx(fit.sigma, rel=1e-9)
        assert signals.zscore[i] == pytest.approx(fit.zscore(log_a[i], log_b[i]), abs=1e-8)


def test_pairs_hedge_ratio_equals_statsmodels_ols(ko_pep):
    sm = pytest.importorskip("statsmodels.api")
    a, b = ko_pep[:, 0], ko_pep[:, 1]
    signals = pairs_signals(a, b, lookback=LOOKBACK, refit_every=1)
    i = 3_000
    window = slice(i + 1 - LOOKBACK, i + 1)
    ols = sm.OLS(np.log(b[window]), sm.add_constant(np.log(a[window]))).fit()
    assert signals.alpha[i] == pytest.approx(ols.params[0], rel=1e-9)
    assert signals.beta[i] == pytest.approx(ols.params[1], rel=1e-9)


def test_pairs_states_and_targets_equal_the_live_state_machine(ko_pep):
    a, b = ko_pep[:, 0], ko_pep[:, 1]
    signals = pairs_signals(a, b, lookback=LOOKBACK, refit_every=REFIT, equity_fraction=0.5)
    params = PairsParams(leg_a="KO", leg_b="PEP", lookback=LOOKBACK, equity_fraction=0.5)
    equity = 1e9  # large, so whole-share rounding in the live sizes is negligible
    strategy = live_pairs.Pairs(params, context=SimpleContext(equity_dollars=equity))
    names = {
        live_pairs.FLAT: PAIR_FLAT, live_pairs.LONG_SPREAD: PAIR_LONG_SPREAD,
        live_pairs.SHORT_SPREAD: PAIR_SHORT_SPREAD, live_pairs.STOPPED: PAIR_STOPPED,
    }  # fmt: skip
    seen = set()
    for i in range(len(a)):
        if np.isnan(signals.zscore[i]):
            continue
        strategy.fit = live_pairs.SpreadFit(signals.beta[i], signals.alpha[i], signals.sigma[i])
        top_a = BookTop("KO", int(a[i] * 1e4), 100, int(a[i] * 1e4), 100, 0)
        top_b = BookTop("PEP", int(b[i] * 1e4), 100, int(b[i] * 1e4), 100, 0)
        before = dict(strategy._target)
        strategy._decide(float(signals.zscore[i]), top_a, top_b)
        assert names[strategy.state] == signals.state[i], i
        seen.add(strategy.state)
        if not np.isnan(signals.weights[i]).any():
            # Live targets are shares at the book's prices (whole 1e-4 dollars); ours are
            # fractions of equity.
            qty_a, qty_b = strategy._target["KO"], strategy._target["PEP"]
            value_a = qty_a * top_a.mid / 1e4 / equity
            value_b = qty_b * top_b.mid / 1e4 / equity
            assert signals.weights[i, 0] == pytest.approx(value_a, abs=1e-6)
            assert signals.weights[i, 1] == pytest.approx(value_b, abs=1e-6)
        else:
            assert np.isnan(signals.weights[i]).all() and strategy._target == before
    assert seen == set(names)  # every state was visited


def test_pairs_backtest_equals_vectorbt(ko_pep):
    a, b = ko_pep[:, 0], ko_pep[:, 1]
    signals, result = backtest_pairs(
        a, b, lookback=LOOKBACK, refit_every=REFIT, equity_fraction=0.5, fees=0.001,
        init_cash=10_000.0,
    )  # fmt: skip
    theirs = vbt.Portfolio.from_orders(
        pd.DataFrame(ko_pep), signals.weights, size_type="targetpercent", fees=0.001,
        init_cash=10_000.0, group_by=True, cash_sharing=True, freq="1D",
    )  # fmt: skip
    assert result.n_orders == theirs.orders.count() > 50
    np.testing.assert_allclose(result.value, theirs.value().to_numpy(), rtol=1e-9)
    assert abs(result.total_return - theirs.total_return()) < 1e-9
    np.testing.assert_allclose(result.position, theirs.assets().to_numpy(), rtol=1e-9, atol=1e-9)
    # Short legs really were held.
    assert (result.position < 0).any()


def test_pairs_refuses_bad_input(ko_pep):
    a, b = ko_pep[:, 0], ko_pep[:, 1]
    with pytest.raises(ValueError, match="equal length"):
        pairs_signals(a, b[:-1])
    with pytest.raises(ValueError, match="exit_z < entry_z < stop_z"):
        pairs_signals(a, b, entry_z=3.5)
    with pytest.raises(ValueError, match="lookback"):
        pairs_signals(a, b, lookback=2)
    with pytest.raises(ValueError, match="NaN"):
        pairs_signals(np.r_[a[:-1], np.nan], b)
