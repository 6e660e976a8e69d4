"""The strategy interface: rolling statistics, order discipline and the registry."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading.config import StrategyParams
from trading.model.market import BookTop
from trading.model.orders import BUY, SELL, CancelIntent, OrderIntent, TimeInForce
from trading.strategies import (
    MarketMaker,
    MeanReversion,
    Momentum,
    Pairs,
    RollingIntStats,
    RollingStats,
    SimpleContext,
    Strategy,
    WorkingOrder,
    build_strategies,
    registry,
)


def top(symbol: str, bid: int, ask: int) -> BookTop:
    return BookTop(symbol, bid, 500, ask, 500, 0)


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=30),
    values=st.lists(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=200
    ),
)
def test_rolling_stats_agree_with_numpy_on_every_window(size, values):
    stats = RollingStats(size)
    for i, value in enumerate(values):
        stats.push(value)
        window = np.array(values[max(0, i + 1 - size) : i + 1])
        assert stats.count == len(window)
        assert stats.full == (len(window) == size)
        assert stats.values() == list(window)
        assert stats.oldest() == window[0]
        # Float running sums carry rounding from values that already left the window, so the
        # error is relative to the magnitudes seen since the last resync, not the window's own.
        scale = max(1.0, float(np.max(np.abs(values[: i + 1]))))
        assert stats.mean == pytest.approx(window.mean(), abs=1e-9 * scale)
        assert stats.variance == pytest.approx(window.var(), abs=1e-9 * scale * scale)


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=30),
    values=st.lists(st.integers(min_value=1, max_value=2_000_000_000), min_size=1, max_size=200),
)
def test_exact_integer_rolling_stats_agree_with_numpy_on_every_window(size, values):
    stats = RollingIntStats(size)
    for i, value in enumerate(values):
        stats.push(value)
        window = np.array(values[max(0, i + 1 - size) : i + 1], dtype=np.float64)
        assert stats.count == len(window)
        assert stats.values() == values[max(0, i + 1 - size) : i + 1]
        assert stats.oldest() == window[0]
        assert stats.mean == pytest.approx(window.mean(), rel=1e-12)
        assert stats.std == pytest.approx(window.std(), rel=1e-6, abs=1e-6)
        z = stats.zscore(value)
        if window.std() == 0.0:
            assert z is None and stats.variance == 0.0
        elif window.std() > 1e-3 * window.mean():  # numpy's own cancellation is negligible
            assert z == pytest.approx((value - window.mean()) / window.std(), rel=1e-6)


def test_a_flat_window_after_a_spike_has_exactly_zero_variance():
    stats = RollingIntStats(3)
    for value in (1_000_000, 9_000_000, 1_000_000, 1_000_000, 1_000_000):
        stats.push(value)
    assert stats.variance == 0.0 and stats.zscore(1_000_000) is None


def test_rolling_stats_stay_exact_over_a_long_run_of_prices():
    rng = np.random.default_rng(7)
    prices = 1_000_000 + np.cumsum(rng.integers(-300, 301, size=100_000))
    stats = RollingStats(250)
    for price in prices:
        stats.push(int(price))
    window = prices[-250:].astype(float)
    assert stats.mean == pytest.approx(window.mean(), rel=1e-14)
    assert stats.std == pytest.approx(window.std(), rel=1e-9)


def test_rolling_stats_reject_an_empty_window():
    with pytest.raises(ValueError):
        RollingStats(0)
    with pytest.raises(ValueError):
        RollingIntStats(0)
    with pytest.raises(IndexError):
        RollingStats(3).oldest()
    with pytest.raises(IndexError):
        RollingIntStats(3).oldest()


class Fixed(Strategy):
    kind = "fixed_for_test"


def make_fixed(position=0, orders=()):
    context = SimpleContext(positions={"AAA": position}, equity_dollars=1e6)
    for order in orders:
        context.add_order("fixed_for_test", order)
    return Fixed(["AAA"], context), context


BOOK = top("AAA", 1_000_000, 1_000_100)


def test_trade_toward_sends_one_marketable_ioc_order_at_the_touch():
    strategy, _ = make_fixed()
    assert strategy.trade_toward("AAA", 300, BOOK) == [
        OrderIntent("AAA", BUY, 300, 1_000_100, TimeInForce.IOC, "fixed_for_test")
    ]
    assert strategy.trade_toward("AAA", -200, BOOK) == [
        OrderIntent("AAA", SELL, 200, 1_000_000, TimeInForce.IOC, "fixed_for_test")
    ]


def test_trade_toward_counts_working_orders_and_never_stacks():
    order = WorkingOrder(11, "AAA", BUY, 300, 1_000_100)
    strategy, _ = make_fixed(orders=[order])
    assert strategy.trade_toward("AAA", 300, BOOK) == []
    # a partial fill: position plus what remains still adds up to the target
    strategy, _ = make_fixed(position=100, orders=[WorkingOrder(11, "AAA", BUY, 200, 1)])
    assert strategy.trade_toward("AAA", 300, BOOK) == []
    # part of the target is working: only the rest is sent
    strategy, _ = make_fixed(position=100, orders=[WorkingOrder(11, "AAA", BUY, 100, 1)])
    assert strategy.trade_toward("AAA", 300, BOOK) == [
        OrderIntent("AAA", BUY, 100, 1_000_100, TimeInForce.IOC, "fixed_for_test")
    ]


def test_trade_toward_cancels_a_wrong_way_order_once_and_waits_for_the_cancel():
    strategy, context = make_fixed(orders=[WorkingOrder(11, "AAA", BUY, 300, 1_000_100)])
    assert strategy.trade_toward("AAA", -100, BOOK) == [CancelIntent(11, "fixed_for_test")]
    # the venue has not confirmed yet: no second cancel, no new order that could overshoot
    assert strategy.trade_toward("AAA", -100, BOOK) == []
    context.remove_order("fixed_for_test", 11)
    assert strategy.trade_toward("AAA", -100, BOOK) == [
        OrderIntent("AAA", SELL, 100, 1_000_000, TimeInForce.IOC, "fixed_for_test")
    ]


def test_trade_toward_marks_flattening_orders_reduce_only():
    strategy, _ = make_fixed(position=-100)
    assert strategy.trade_toward("AAA", 0, BOOK) == [
        OrderIntent("AAA", BUY, 100, 1_000_100, TimeInForce.IOC, "fixed_for_test", True)
    ]
    # crossing through zero is not a reduction
    (order,) = strategy.trade_toward("AAA", 100, BOOK)
    assert (order.qty, order.reduce_only) == (200, False)


def test_trade_toward_needs_a_touch():
    strategy, _ = make_fixed()
    assert strategy.trade_toward("AAA", 100, top("AAA", 1_000_000, 0)) == []


def test_an_unbound_strategy_says_so():
    with pytest.raises(RuntimeError, match="bind"):
        Fixed(["AAA"]).context.position("AAA")
    strategy = Fixed(["AAA"])
    strategy.bind(SimpleContext())
    assert strategy.context.position("AAA") == 0


def test_default_callbacks_do_nothing():
    strategy, _ = make_fixed()
    assert strategy.on_book(BOOK) == []
    assert strategy.on_timer(0) == []


def test_registry_names_every_configured_strategy():
    assert registry == {
        "mean_reversion": MeanReversion,
        "momentum": Momentum,
        "pairs": Pairs,
        "market_maker": MarketMaker,
    }


def test_build_strategies_from_the_configuration():
    context = SimpleContext()
    built = build_strategies(
        ["mean_reversion", "momentum", "pairs", "market_maker"],
        StrategyParams(),
        ["SYNA", "SYNB"],
        context,
        tick_size=50,
        lot=10,
    )
    assert [type(s) for s in built] == [MeanReversion, Momentum, Pairs, MarketMaker]
    assert [s.name for s in built] == ["mean_reversion", "momentum", "pairs", "market_maker"]
    assert all(s.context is context for s in built)
    assert all(s.symbols == ("SYNA", "SYNB") for s in built)
    assert built[0].params == StrategyParams().mean_reversion  # type: ignore[attr-defined]
    maker = built[3]
    assert isinstance(maker, MarketMaker) and (maker.tick, maker.lot) == (50, 10)


def test_build_strategies_rejects_an_unknown_name():
    with pytest.raises(ValueError, match="unknown strategy 'carry'"):
        build_strategies(["carry"], StrategyParams(), [], None)
