"""Mean reversion fades moves outside the z-score band and flattens inside the exit band."""

import numpy as np
import pytest

from trading.config import MeanReversionParams
from trading.model.market import BookTop
from trading.model.orders import BUY, SELL, OrderIntent, TimeInForce
from trading.strategies import MeanReversion, SimpleContext, WorkingOrder
from trading.strategies.mean_reversion import target_from_z

PARAMS = MeanReversionParams(window=20, entry_z=2.0, exit_z=0.5, order_qty=100)


QUIET = [1_000_000 + 200 * (i % 2) for i in range(20)]


def numpy_z(window: list[int]) -> float:
    values = np.array(window, dtype=np.float64)
    return float((values[-1] - values.mean()) / values.std())


def top(mid: int, symbol: str = "AAA") -> BookTop:
    """A book one cent wide around `mid` (price units of 1e-4 dollars)."""
    return BookTop(symbol, mid - 100, 300, mid + 100, 300, 0)


def warmed_up(context: SimpleContext) -> MeanReversion:
    """Twenty quiet updates alternating $100.00 / $100.02 (z = +-1: no trade)."""
    strategy = MeanReversion(PARAMS, ["AAA"], context)
    for mid in QUIET:
        assert strategy.on_book(top(mid)) == []
    assert strategy.zscore("AAA") == pytest.approx(1.0)
    return strategy


def sell(qty: int, price: int, reduce_only: bool = False) -> OrderIntent:
    return OrderIntent("AAA", SELL, qty, price, TimeInForce.IOC, "mean_reversion", reduce_only)


def buy(qty: int, price: int, reduce_only: bool = False) -> OrderIntent:
    return OrderIntent("AAA", BUY, qty, price, TimeInForce.IOC, "mean_reversion", reduce_only)


def test_nothing_happens_until_the_window_is_full():
    strategy = MeanReversion(PARAMS, ["AAA"], SimpleContext())
    for _ in range(19):
        assert strategy.on_book(top(2_000_000)) == []
    assert strategy.zscore("AAA") is None


def test_sells_a_spike_above_the_band_at_the_bid_and_flattens_when_it_comes_back():
    context = SimpleContext()
    strategy = warmed_up(context)
    # $100.50 after nineteen quiet mids: one outlier in twenty scores z = 4.34 (sqrt(19) for
    # a perfectly flat history)
    assert strategy.on_book(top(1_005_000)) == [sell(100, 1_004_900)]
    assert strategy.zscore("AAA") == pytest.approx(numpy_z(QUIET[1:] + [1_005_000]))
    assert strategy.zscore("AAA") == pytest.approx(4.3409, abs=1e-4)
    assert strategy.target("AAA") == -100

    context.positions["AAA"] = -100  # the sell filled
    # back to $100.01: mean $100.0345, std $0.1072, z = -0.23 is inside exit_z -> buy back
    intents = strategy.on_book(top(1_000_100))
    assert strategy.zscore("AAA") == pytest.approx(numpy_z(QUIET[2:] + [1_005_000, 1_000_100]))
    assert abs(strategy.zscore("AAA") or 99.0) < 0.5
    assert intents == [buy(100, 1_000_200, reduce_only=True)]


def test_buys_a_dip_below_the_band_at_the_ask():
    strategy = warmed_up(SimpleContext())
    assert strategy.on_book(top(995_000)) == [buy(100, 995_100)]
    assert strategy.target("AAA") == 100


def test_no_duplicate_order_while_one_is_working_and_a_retry_once_it_is_gone():
    context = SimpleContext()
    strategy = warmed_up(context)
    (order,) = strategy.on_book(top(1_005_000))
    assert isinstance(order, OrderIntent)
    context.add_order("mean_reversion", WorkingOrder(7, "AAA", order.side, order.qty, order.price))
    # the spike holds (two outliers in twenty: z = 2.99, still short): the working sell covers it
    assert strategy.on_book(top(1_005_000)) == []
    assert strategy.zscore("AAA") == pytest.approx(numpy_z(QUIET[2:] + [1_005_000] * 2))
    # the IOC expired unfilled: the target is still short, so the strategy tries again
    context.remove_order("mean_reversion", 7)
    assert strategy.on_book(top(1_005_000)) == [sell(100, 1_004_900)]


def test_the_band_between_exit_and_entry_holds_the_current_target():
    assert target_from_z(1.2, -100, 100, 2.0, 0.5) == -100
    assert target_from_z(-1.2, 100, 100, 2.0, 0.5) == 100
    assert target_from_z(1.2, 0, 100, 2.0, 0.5) == 0
    assert target_from_z(0.4, -100, 100, 2.0, 0.5) == 0
    assert target_from_z(2.1, 100, 100, 2.0, 0.5) == -100


def test_symbols_are_independent_and_others_are_ignored():
    context = SimpleContext()
    strategy = MeanReversion(PARAMS, ["AAA", "BBB"], context)
    for i in range(20):
        strategy.on_book(top(1_000_000 + 200 * (i % 2)))
        strategy.on_book(top(500_000 + 200 * (i % 2), "BBB"))
    assert strategy.on_book(top(1_005_000, "ZZZ")) == []
    (order,) = strategy.on_book(top(505_000, "BBB"))
    assert isinstance(order, OrderIntent)
    assert (order.symbol, order.side, order.qty) == ("BBB", SELL, 100)
    assert strategy.target("AAA") == 0
