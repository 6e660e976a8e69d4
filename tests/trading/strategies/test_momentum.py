"""Momentum follows the mid's return over the lookback."""

import pytest

from trading.config import MomentumParams
from trading.model.market import BookTop
from trading.model.orders import BUY, SELL, OrderIntent, TimeInForce
from trading.strategies import Momentum, SimpleContext, WorkingOrder
from trading.strategies.momentum import return_bps

PARAMS = MomentumParams(lookback=5, threshold_bps=5.0, order_qty=100)


def top(mid: int) -> BookTop:
    return BookTop("AAA", mid - 100, 300, mid + 100, 300, 0)


def order(side: int, price: int, reduce_only: bool = False) -> OrderIntent:
    return OrderIntent("AAA", side, 100, price, TimeInForce.IOC, "momentum", reduce_only)


def test_return_in_basis_points():
    assert return_bps(1_001_000, 1_000_000) == pytest.approx(10.0)
    assert return_bps(999_000, 1_000_000) == pytest.approx(-10.0)


def test_goes_long_on_a_rise_above_the_threshold_and_flat_when_it_fades():
    context = SimpleContext()
    strategy = Momentum(PARAMS, ["AAA"], context)
    for _ in range(5):  # five $100.00 mids: no return over five updates yet
        assert strategy.on_book(top(1_000_000)) == []
    assert strategy.last_return_bps("AAA") is None
    # $100.10 five updates after $100.00: +10 bps > 5 -> long 100 at the ask
    assert strategy.on_book(top(1_001_000)) == [order(BUY, 1_001_100)]
    assert strategy.last_return_bps("AAA") == pytest.approx(10.0)

    context.positions["AAA"] = 100
    for _ in range(4):  # still +10 bps against the older $100.00 mids: hold
        assert strategy.on_book(top(1_001_000)) == []
    # five updates at $100.10: the return is 0 -> flatten at the bid
    assert strategy.on_book(top(1_001_000)) == [order(SELL, 1_000_900, reduce_only=True)]


def test_goes_short_on_a_fall_and_ignores_moves_inside_the_threshold():
    context = SimpleContext()
    strategy = Momentum(PARAMS, ["AAA"], context)
    for _ in range(5):
        strategy.on_book(top(1_000_000))
    assert strategy.on_book(top(999_600)) == []  # -4 bps: inside the threshold
    assert strategy.target("AAA") == 0
    for _ in range(3):
        strategy.on_book(top(1_000_000))
    # -6 bps over five updates -> short 100 at the bid
    assert strategy.on_book(top(999_400)) == [order(SELL, 999_300)]


def test_no_duplicate_order_while_one_is_working():
    context = SimpleContext()
    strategy = Momentum(PARAMS, ["AAA"], context)
    for _ in range(5):
        strategy.on_book(top(1_000_000))
    strategy.on_book(top(1_001_000))
    context.add_order("momentum", WorkingOrder(3, "AAA", BUY, 100, 1_001_100))
    assert strategy.on_book(top(1_001_000)) == []
