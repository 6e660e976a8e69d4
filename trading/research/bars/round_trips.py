"""Fills of a bar backtest paired into round-trip trades, first in first out, per instrument.

A trade is one lot (or the part of it closed by one fill): opened by one fill, closed by a later
one. Fees are shared out by quantity: a fill's fees are split over the lots it opens or closes,
so every fee lands on exactly one trade and, once the book is flat, the trades' net P&L adds up
to the change in equity (bar the borrow cost, which is not a fill).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from trading.research.report.record import TRADE_DTYPE

_EPS = 1e-12


def round_trips(orders: np.ndarray, timestamps: np.ndarray) -> np.ndarray:
    """Closed trades (TRADE_DTYPE) from an order array with `bar`, `column`, `side`, `size`,
    `price` and `fees` fields; `timestamps[bar]` gives each fill's time (ns since the epoch).

    Lots still open at the end are not trades yet and are left out.
    """
    times = np.asarray(timestamps).astype("datetime64[ns]").astype(np.int64)
    open_lots: dict[int, deque[list[float]]] = {}
    trades: list[tuple] = []
    for order in orders:
        column = int(order["column"])
        side = int(order["side"])
        remaining = float(order["size"])
        if remaining <= 0:
            continue
        price = float(order["price"])
        fee_per_unit = float(order["fees"]) / remaining
        ts = int(times[int(order["bar"])])
        lots = open_lots.setdefault(column, deque())
        # A lot is [side, qty, price, fee per unit, entry time].
        while remaining > _EPS and lots and lots[0][0] != side:
            lot = lots[0]
            matched = min(lot[1], remaining)
            lot_side = int(lot[0])
            gross = lot_side * matched * (price - lot[2])
            fees = matched * (lot[3] + fee_per_unit)
            trades.append((int(lot[4]), ts, lot_side, matched, lot[2], price, gross - fees, fees))
            lot[1] -= matched
            remaining -= matched
            if lot[1] <= _EPS:
                lots.popleft()
        if remaining > _EPS:
            lots.append([side, remaining, price, fee_per_unit, ts])
    out = np.zeros(len(trades), dtype=TRADE_DTYPE)
    for i, trade in enumerate(trades):
        out[i] = trade
    return out
