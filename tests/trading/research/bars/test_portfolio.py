"""Signal and order simulation: vectorbt's accounting, stops against a brute-force loop,
borrow cost, slippage, per-share commission, cash never negative and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.trading.research.bars.daily import daily_ohlc
from trading.research.bars.portfolio import simulate_orders, simulate_signals
from trading.research.bars.strategies import ma_crossover_signals

vbt = pytest.importorskip("vectorbt")


@pytest.fixture(scope="module")
def ko():
    open_, high, low, close = daily_ohlc("KO")
    entries, exits = ma_crossover_signals(close, 10, 30)
    return {"open": open_, "high": high, "low": low, "close": close, "entries": entries,
            "exits": exits}  # fmt: skip


def vbt_signals(bars, *, long_only=True, **kwargs):
    return vbt.Portfolio.from_signals(
        pd.Series(bars["close"]), bars["entries"], bars["exits"], init_cash=100.0, freq="1D",
        direction="longonly" if long_only else "both", **kwargs,
    )  # fmt: skip


def ours(bars, *, long_only=True, **kwargs):
    if long_only:
        return simulate_signals(bars["close"], bars["entries"], bars["exits"], **kwargs)
    return simulate_signals(
        bars["close"], bars["entries"], None, short_entries=bars["exits"], **kwargs
    )


COSTS = [
    {"fees": 0.001},
    {"fees": 0.002, "fixed_fees": 0.05},
    {"fees": 0.001, "slippage": 0.0005},
    {"fees": 0.0, "granularity": 1.0},
    {"fees": 0.001, "size": 0.5},
]


@pytest.mark.parametrize("long_only", [True, False])
@pytest.mark.parametrize("costs", COSTS)
def test_equity_equals_vectorbt(ko, long_only, costs):
    kwargs = dict(costs)
    vbt_kwargs = {("size_granularity" if k == "granularity" else k): v for k, v in kwargs.items()}
    theirs = vbt_signals(ko, long_only=long_only, **vbt_kwargs)
    mine = ours(ko, long_only=long_only, **kwargs)
    np.testing.assert_allclose(mine.value, theirs.value().to_numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(mine.cash, theirs.cash().to_numpy(), rtol=1e-9, atol=1e-9)
    assert mine.n_orders == theirs.orders.count()
    assert mine.fees_paid == pytest.approx(theirs.orders.fees.sum(), rel=1e-9)
    assert abs(mine.total_return - theirs.total_return()) < 1e-9


@pytest.mark.parametrize("long_only", [True, False])
def test_next_open_fill_equals_vectorbt_with_shifted_signals(ko, long_only):
    mine = ours(ko, long_only=long_only, fill="next_open", open=ko["open"], fees=0.001)
    shifted = dict(ko)
    shifted["entries"] = np.r_[False, ko["entries"][:-1]]
    shifted["exits"] = np.r_[False, ko["exits"][:-1]]
    theirs = vbt_signals(shifted, long_only=long_only, fees=0.001, price=ko["open"])
    np.testing.assert_allclose(mine.value, theirs.value().to_numpy(), rtol=1e-9, atol=1e-9)
    # Each fill really is at an open, the bar after its signal.
    first = mine.orders[0]
    assert first["price"] == ko["open"][first["bar"]]
    assert ko["entries"][first["bar"] - 1] or ko["exits"][first["bar"] - 1]


STOPS = [
    {"sl_stop": 0.05},
    {"tp_stop": 0.08},
    {"sl_stop": 0.05, "sl_trail": True},
    {"sl_stop": 0.03, "tp_stop": 0.04},
    {"sl_stop": 0.04, "tp_stop": 0.06, "sl_trail": True},
]


@pytest.mark.parametrize("long_only", [True, False])
@pytest.mark.parametrize("stops", STOPS)
def test_stops_equal_vectorbt(ko, long_only, stops):
    bars = {k: ko[k] for k in ("open", "high", "low")}
    mine = ours(ko, long_only=long_only, fees=0.001, slippage=0.0005, **bars, **stops)
    theirs = vbt_signals(ko, long_only=long_only, fees=0.001, slippage=0.0005, **bars, **stops)
    np.testing.assert_allclose(mine.value, theirs.value().to_numpy(), rtol=1e-9, atol=1e-9)
    assert mine.n_orders == theirs.orders.count()
    assert mine.orders["stop"].any()


def brute_force_long_stops(close, open_, high, low, entries, exits, sl, tp, trail, fee):
    """A plain loop of the documented stop rules for an all-in long-only strategy."""
    cash, shares, ref, entry = 100.0, 0.0, None, None
    stops = []
    for i in range(len(close)):
        hit = None
        if shares > 0:
            if sl is not None:
                level = ref * (1 - sl)
                if open_[i] <= level:
                    hit = open_[i]
                elif low[i] <= level <= high[i]:
                    hit = level
            if hit is None and tp is not None:
                level = entry * (1 + tp)
                if level <= open_[i]:
                    hit = open_[i]
                elif low[i] <= level <= high[i]:
                    hit = level
            if trail and high[i] > ref:
                ref = high[i]
        if hit is not None:
            cash += shares * hit * (1 - fee)
            shares = 0.0
            stops.append(i)
        elif shares == 0 and entries[i] and not exits[i]:
            shares = cash / (1 + fee) / close[i]
            cash = 0.0
            ref = entry = close[i]
        elif shares > 0 and exits[i] and not entries[i]:
            cash += shares * close[i] * (1 - fee)
            shares = 0.0
    return cash + shares * close[-1], stops


@pytest.mark.parametrize(
    ("sl", "tp", "trail"),
    [(0.05, None, False), (None, 0.07, False), (0.04, None, True), (0.03, 0.05, True)],
)
def test_stops_equal_a_brute_force_loop(ko, sl, tp, trail):
    mine = ours(
        ko, fees=0.001, open=ko["open"], high=ko["high"], low=ko["low"], sl_stop=sl,
        tp_stop=tp, sl_trail=trail,
    )  # fmt: skip
    final, stop_bars = brute_force_long_stops(
        ko["close"], ko["open"], ko["high"], ko["low"], ko["entries"], ko["exits"], sl, tp,
        trail, 0.001,
    )  # fmt: skip
    assert mine.final_value == pytest.approx(final, rel=1e-10)
    assert list(mine.orders["bar"][mine.orders["stop"]]) == stop_bars
    assert stop_bars


def test_gap_through_the_stop_fills_at_the_open():
    close = np.array([10.0, 10.0, 9.0, 9.0])
    open_ = np.array([10.0, 10.0, 8.0, 9.0])  # opens below a 5 % stop at 9.5
    high = np.array([10.0, 10.0, 9.2, 9.0])
    low = np.array([10.0, 10.0, 7.9, 9.0])
    result = simulate_signals(
        close, np.array([True, False, False, False]), None, open=open_, high=high, low=low,
        sl_stop=0.05,
    )  # fmt: skip
    stop = result.orders[result.orders["stop"]][0]
    assert (stop["bar"], stop["price"]) == (2, 8.0)
    assert result.final_value == pytest.approx(100.0 * 8.0 / 10.0)


def test_borrow_cost_accrues_per_bar_on_short_notional():
    close = np.array([100.0, 101.0, 99.0, 98.0, 102.0])
    short = np.array([True, False, False, False, False])
    rate = 0.10
    result = simulate_signals(
        close, None, None, short_entries=short, borrow_rate=rate, periods_per_year=252.0,
        init_cash=1_000.0,
    )  # fmt: skip
    free = simulate_signals(close, None, None, short_entries=short, init_cash=1_000.0)
    shares = -free.position[0]
    expected = sum(shares * close[i - 1] * rate / 252.0 for i in range(1, len(close)))
    assert result.borrow_paid == pytest.approx(expected, rel=1e-12)
    assert free.final_value - result.final_value == pytest.approx(expected, rel=1e-12)
    assert shares == pytest.approx(1_000.0 / 100.0)


def test_slippage_and_per_share_commission_reduce_the_fill():
    close = np.array([10.0, 10.0, 12.0])
    entries = np.array([True, False, False])
    exits = np.array([False, False, True])
    result = simulate_signals(
        close, entries, exits, init_cash=1_000.0, slippage=0.01, fee_per_share=0.02,
        fees=0.001,
    )  # fmt: skip
    buy_price = 10.0 * 1.01
    shares = 1_000.0 / (buy_price * 1.001 + 0.02)
    sell_price = 12.0 * 0.99
    expected = shares * sell_price * (1 - 0.001) - shares * 0.02
    assert result.orders["price"].tolist() == pytest.approx([buy_price, sell_price])
    assert result.orders["size"][0] == pytest.approx(shares)
    assert result.cash[0] == pytest.approx(0.0, abs=1e-9)
    assert result.final_value == pytest.approx(expected, rel=1e-12)


def test_cash_never_goes_negative_on_random_signals():
    rng = np.random.default_rng(7)
    for _ in range(30):
        n = 300
        close = 50.0 * np.exp(np.cumsum(rng.normal(0, 0.03, n)))
        signals = rng.random((4, n)) < 0.08
        result = simulate_signals(
            close, signals[0], signals[1], short_entries=signals[2], short_exits=signals[3],
            fees=0.003, fixed_fees=0.5, fee_per_share=0.01, slippage=0.002, borrow_rate=0.2,
            init_cash=1_000.0,
        )  # fmt: skip
        assert (result.cash >= 0.0).all()
        weights = np.where(rng.random((n, 2)) < 0.05, rng.uniform(-1, 1, (n, 2)), np.nan)
        both = simulate_orders(
            np.column_stack([close, close[::-1]]), weights, fees=0.002, borrow_rate=0.1,
            init_cash=1_000.0,
        )  # fmt: skip
        assert (both.cash >= 0.0).all()


def test_target_orders_equal_vectorbt_from_orders():
    rng = np.random.default_rng(3)
    n = 400
    close = 40.0 * np.exp(np.cumsum(rng.normal(0, 0.02, (n, 2)), axis=0))
    weights = np.where(rng.random((n, 2)) < 0.05, rng.uniform(-0.6, 0.6, (n, 2)), np.nan)
    mine = simulate_orders(close, weights, fees=0.001, slippage=0.001, init_cash=1_000.0)
    theirs = vbt.Portfolio.from_orders(
        pd.DataFrame(close), weights, size_type="targetpercent", fees=0.001, slippage=0.001,
        init_cash=1_000.0, group_by=True, cash_sharing=True, freq="1D",
    )  # fmt: skip
    np.testing.assert_allclose(mine.value, theirs.value().to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(mine.position, theirs.assets().to_numpy(), rtol=1e-9, atol=1e-9)


def test_bad_input_is_refused(ko):
    close = ko["close"]
    with pytest.raises(ValueError, match="NaN"):
        simulate_signals(np.r_[close[:5], np.nan], None, None)
    with pytest.raises(ValueError, match="shape"):
        simulate_signals(close, ko["entries"][:-1], None)
    with pytest.raises(ValueError, match="fill"):
        simulate_signals(close, None, None, fill="vwap")
    with pytest.raises(ValueError, match="open prices"):
        simulate_signals(close, None, None, fill="next_open")
    with pytest.raises(ValueError, match="fees"):
        simulate_signals(close, None, None, fees=-0.01)
    with pytest.raises(ValueError, match="sl_stop"):
        simulate_signals(close, None, None, sl_stop=-0.1)
    with pytest.raises(ValueError, match="init_cash"):
        simulate_signals(close, None, None, init_cash=0.0)
    with pytest.raises(ValueError, match="size has shape"):
        simulate_orders(np.ones((5, 2)), np.ones((5, 3)))
    with pytest.raises(ValueError, match="size_type"):
        simulate_orders(np.ones((5, 2)), np.ones((5, 2)), size_type="percent_of_moon")
