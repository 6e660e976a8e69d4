"""Pairs: the Engle-Granger hedge ratio, the spread's z-score and the enter/exit/stop cycle."""

import math

import numpy as np
import pytest

from trading.config import PairsParams
from trading.model.market import BookTop
from trading.model.orders import BUY, SELL, OrderIntent, TimeInForce
from trading.strategies import Pairs, SimpleContext, WorkingOrder, fit_spread, hedge_ratio
from trading.strategies.pairs import FLAT, LONG_SPREAD, SHORT_SPREAD, STOPPED, leg_sizes


@pytest.mark.parametrize("seed", range(5))
def test_hedge_ratio_agrees_with_numpy_polyfit(seed):
    rng = np.random.default_rng(seed)
    log_a = np.log(100.0) + np.cumsum(rng.normal(0, 0.01, 500))
    beta = rng.uniform(0.3, 3.0)
    log_b = 0.7 + beta * log_a + rng.normal(0, 0.002, 500)
    fitted = hedge_ratio(log_a, log_b)
    expected = np.polyfit(log_a, log_b, 1)
    assert fitted[0] == pytest.approx(expected[0], abs=1e-12)
    assert fitted[1] == pytest.approx(expected[1], abs=1e-12)
    assert fitted[0] == pytest.approx(beta, abs=0.05)


def test_hedge_ratio_rejects_what_cannot_be_regressed():
    with pytest.raises(ValueError):
        hedge_ratio([4.6], [3.9])
    with pytest.raises(ValueError):
        hedge_ratio([4.6, 4.6, 4.6], [3.9, 3.8, 3.7])
    with pytest.raises(ValueError):
        hedge_ratio([4.6, 4.7], [3.9, 3.8, 3.7])


def test_fit_spread_measures_the_residuals():
    log_a = np.array([0.0, 1.0, 2.0, 3.0])
    log_b = 1.0 + 2.0 * log_a + np.array([0.1, -0.1, -0.1, 0.1])
    fit = fit_spread(log_a, log_b)
    assert (fit.beta, fit.alpha) == (pytest.approx(2.0), pytest.approx(1.0))
    assert fit.sigma == pytest.approx(0.1)
    assert fit.zscore(1.5, 1.0 + 2.0 * 1.5 + 0.25) == pytest.approx(2.5)


def test_leg_sizes_for_two_percent_of_a_million():
    # $20,000 of B at $50 is 400 shares; beta 1.5 -> $30,000 of A at $100 is 300 shares
    assert leg_sizes(1_000_000, 0.02, 1.5, 100.0, 50.0) == (300, 400)
    assert leg_sizes(1_000_000, 0.02, 0.7272668, 100.0, 50.5252) == (145, 396)


PARAMS = PairsParams(
    leg_a="AAA", leg_b="BBB", lookback=12, entry_z=2.0, exit_z=0.5, stop_z=3.0,
    equity_fraction=0.02,
)  # fmt: skip


def book(symbol: str, dollars: float) -> BookTop:
    """A book one cent wide whose mid is `dollars` (rounded to the price unit)."""
    mid = round(dollars * 10_000)
    return BookTop(symbol, mid - 100, 1_000, mid + 100, 1_000, 0)


class Driver:
    """Feeds a Pairs strategy and keeps its own record of the samples, to check against."""

    def __init__(self, context: SimpleContext) -> None:
        # refit_every is large so the fit of the first full window stays put for the test
        self.strategy = Pairs(PARAMS, (), context, refit_every=1_000)
        self.mids: dict[str, float] = {}
        self.samples: list[tuple[float, float]] = []

    def send(self, symbol: str, dollars: float) -> list:
        top = book(symbol, dollars)
        self.mids[symbol] = top.mid / 10_000
        if len(self.mids) == 2:
            self.samples.append((math.log(self.mids["AAA"]), math.log(self.mids["BBB"])))
        return self.strategy.on_book(top)

    def warm_up(self) -> None:
        """A rises from $100 to $101.50 and back while B tracks half of it +-0.2%."""
        for k, a in enumerate([100.0, 100.5, 101.0, 101.5, 101.0, 100.5, 100.0]):
            assert self.send("AAA", a) == []
            if k < 6:
                assert self.send("BBB", round(0.5 * a * math.exp(0.002 * (-1) ** k), 4)) == []
        assert len(self.samples) == 12

    def b_for_z(self, z: float) -> float:
        """The B price (A at its last mid) whose spread scores `z` under the current fit."""
        fit = self.strategy.fit
        assert fit is not None
        log_a = math.log(self.mids["AAA"])
        return round(math.exp(fit.alpha + fit.beta * log_a + z * fit.sigma), 4)


def order(symbol: str, side: int, qty: int, price: int, reduce_only: bool = False) -> OrderIntent:
    return OrderIntent(symbol, side, qty, price, TimeInForce.IOC, "pairs", reduce_only)


def test_the_fit_is_the_ols_of_the_window():
    driver = Driver(SimpleContext(equity_dollars=1_000_000))
    driver.warm_up()
    fit = driver.strategy.fit
    assert fit is not None
    log_a, log_b = np.array(driver.samples).T
    beta, alpha = np.polyfit(log_a, log_b, 1)
    assert fit.beta == pytest.approx(beta, abs=1e-12)
    assert fit.alpha == pytest.approx(alpha, abs=1e-12)
    assert fit.sigma == pytest.approx(np.std(log_b - beta * log_a - alpha), rel=1e-9)
    assert fit.beta == pytest.approx(0.72727, abs=1e-5)
    assert driver.strategy.state == FLAT


def enter_short_spread(driver: Driver, context: SimpleContext) -> None:
    price_b = driver.b_for_z(2.5)
    assert price_b == 50.5252
    intents = driver.send("BBB", price_b)
    assert driver.strategy.z == pytest.approx(2.5, abs=0.01)
    assert driver.strategy.state == SHORT_SPREAD
    # 2% of $1,000,000 = $20,000: sell 396 B at its bid, buy beta * $20,000 = $14,545 of A at
    # $100 = 145 shares at its ask
    assert intents == [order("AAA", BUY, 145, 1_000_100), order("BBB", SELL, 396, 505_152)]
    context.positions.update({"AAA": 145, "BBB": -396})


def test_enters_holds_and_exits_at_the_right_z_levels():
    context = SimpleContext(equity_dollars=1_000_000)
    driver = Driver(context)
    driver.warm_up()
    enter_short_spread(driver, context)
    # z back to 1.0: between exit and entry, hold
    assert driver.send("BBB", driver.b_for_z(1.0)) == []
    assert driver.strategy.state == SHORT_SPREAD
    # z = 0.3 < exit_z: flatten both legs
    intents = driver.send("BBB", driver.b_for_z(0.3))
    assert driver.strategy.state == FLAT
    assert intents == [  # B's mid is now $50.1525
        order("AAA", SELL, 145, 999_900, reduce_only=True),
        order("BBB", BUY, 396, 501_625, reduce_only=True),
    ]


def test_longs_the_spread_below_minus_entry_z():
    context = SimpleContext(equity_dollars=1_000_000)
    driver = Driver(context)
    driver.warm_up()
    price_b = driver.b_for_z(-2.5)
    assert price_b == 49.6821
    intents = driver.send("BBB", price_b)
    assert driver.strategy.state == LONG_SPREAD
    # buy $20,000 / $49.6821 = 403 B at its ask, sell 145 A at its bid
    assert intents == [order("AAA", SELL, 145, 999_900), order("BBB", BUY, 403, 496_921)]


def test_stops_out_beyond_stop_z_and_stays_out_until_inside_exit_z():
    context = SimpleContext(equity_dollars=1_000_000)
    driver = Driver(context)
    driver.warm_up()
    enter_short_spread(driver, context)
    # z = 3.5 > stop_z: flatten
    intents = driver.send("BBB", driver.b_for_z(3.5))
    assert driver.strategy.state == STOPPED
    assert [(i.symbol, i.side, i.qty, i.reduce_only) for i in intents] == [
        ("AAA", SELL, 145, True),
        ("BBB", BUY, 396, True),
    ]
    context.positions.update({"AAA": 0, "BBB": 0})
    # back to 2.5 and then 1.0: no re-entry while stopped
    assert driver.send("BBB", driver.b_for_z(2.5)) == []
    assert driver.send("BBB", driver.b_for_z(1.0)) == []
    assert driver.strategy.state == STOPPED
    # inside exit_z the stop is lifted, and the next entry signal trades again
    assert driver.send("BBB", driver.b_for_z(0.2)) == []
    assert driver.strategy.state == FLAT
    intents = driver.send("BBB", driver.b_for_z(2.5))
    assert driver.strategy.state == SHORT_SPREAD
    assert [(i.symbol, i.side, i.qty) for i in intents] == [("AAA", BUY, 145), ("BBB", SELL, 396)]


def test_never_enters_beyond_the_stop():
    driver = Driver(SimpleContext(equity_dollars=1_000_000))
    driver.warm_up()
    assert driver.send("BBB", driver.b_for_z(3.5)) == []
    assert driver.strategy.state == STOPPED


def test_no_duplicate_orders_while_the_legs_are_working():
    context = SimpleContext(equity_dollars=1_000_000)
    driver = Driver(context)
    driver.warm_up()
    price_b = driver.b_for_z(2.5)
    driver.send("BBB", price_b)
    context.add_order("pairs", WorkingOrder(1, "AAA", BUY, 145, 1_000_100))
    context.add_order("pairs", WorkingOrder(2, "BBB", SELL, 396, 505_152))
    assert driver.send("BBB", price_b) == []
    assert driver.send("AAA", 100.0) == []
    # one leg filled, the other's IOC lapsed: only the missing leg is sent again
    context.remove_order("pairs", 1)
    context.positions["AAA"] = 145
    context.remove_order("pairs", 2)
    assert driver.send("BBB", price_b) == [order("BBB", SELL, 396, 505_152)]


def test_refits_on_a_schedule_not_every_update():
    driver = Driver(SimpleContext(equity_dollars=1_000_000))
    driver.strategy = Pairs(PARAMS, (), driver.strategy.context)  # default: every 12 // 4 = 3
    assert driver.strategy.refit_every == 3
    driver.warm_up()
    first = driver.strategy.fit
    driver.send("BBB", 50.10)
    driver.send("BBB", 50.11)
    assert driver.strategy.fit is first
    driver.send("BBB", 50.12)
    assert driver.strategy.fit is not None and driver.strategy.fit is not first
    log_a, log_b = np.array(driver.samples[-12:]).T
    assert driver.strategy.fit.beta == pytest.approx(np.polyfit(log_a, log_b, 1)[0], abs=1e-12)


def test_ignores_other_symbols_and_waits_for_both_legs():
    strategy = Pairs(PARAMS, (), SimpleContext(equity_dollars=1_000_000))
    assert strategy.symbols == ("AAA", "BBB")
    assert strategy.on_book(book("ZZZ", 10.0)) == []
    assert strategy.on_book(book("AAA", 100.0)) == []
    assert strategy.fit is None
    with pytest.raises(ValueError):
        Pairs(PairsParams(leg_a="AAA", leg_b="AAA"))
