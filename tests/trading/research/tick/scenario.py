"""Small hand-written LOBSTER days for the tick backtester's tests."""

from __future__ import annotations

import numpy as np

from trading.config import MarketMakerParams
from trading.lobster import MESSAGE_DTYPE

S = 1_000_000_000  # one second in ns
BID = 1_000_000  # $100.00
ASK = 1_000_200  # $100.02: with half a spread of one tick the maker joins both touches

# Join the touch on both sides, no skew, room for any inventory.
JOIN_TOUCH = MarketMakerParams(
    half_spread_ticks=1, order_qty=100, max_inventory=1_000_000, skew_ticks_per_lot=0.0
)


def day(rows: list[tuple[float, int, int, int, int, int]]) -> np.ndarray:
    """Messages from (seconds, kind, order id, size, price, direction) rows."""
    msgs = np.zeros(len(rows), MESSAGE_DTYPE)
    for k, (sec, kind, oid, size, price, direction) in enumerate(rows):
        msgs[k] = (int(round(sec * S)), kind, oid, size, price, direction)
    return msgs


def opening() -> list[tuple[float, int, int, int, int, int]]:
    """A resting bid A (id 1) and ask B (id 2) of 100 each; the maker quotes at 1 s."""
    return [(0.0, 1, 1, 100, BID, 1), (0.0, 1, 2, 100, ASK, -1)]
