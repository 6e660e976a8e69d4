"""The compiled market maker quotes exactly what the engine's strategy quotes."""

from __future__ import annotations

import numpy as np

from trading.config import MarketMakerParams
from trading.model.market import BookTop
from trading.research.tick.strategy import market_maker_params, market_maker_quotes
from trading.strategies.market_maker import desired_quotes


def test_quotes_equal_desired_quotes_on_random_books():
    rng = np.random.default_rng(7)
    for _ in range(3000):
        tick, lot = int(rng.choice([1, 100, 500])), int(rng.choice([1, 100]))
        params = MarketMakerParams(
            half_spread_ticks=int(rng.integers(1, 6)),
            order_qty=int(rng.integers(1, 300)),
            max_inventory=int(rng.integers(1, 2000)),
            skew_ticks_per_lot=float(rng.choice([0.0, 0.25, 0.5, 1.3])),
        )
        bid = int(rng.integers(0, 3)) * int(rng.integers(1, 10_000)) * tick
        ask = bid + int(rng.integers(1, 30)) * tick if rng.random() > 0.05 else 0
        inventory = int(rng.integers(-2500, 2500))
        top = BookTop("X", bid, 100, ask, 100, 0)
        want_bid, want_ask = desired_quotes(top, inventory, params, tick, lot)
        act, b, a, qty = market_maker_quotes(
            bid, ask, inventory, market_maker_params(params, tick=tick, lot=lot)
        )
        if top.mid == 0:
            assert not act
            continue
        assert act and qty == params.order_qty
        assert (b or None, a or None) == (want_bid, want_ask)
