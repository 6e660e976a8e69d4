"""Compiled quoting strategies for the tick backtester.

A strategy here answers one question at each wake-up: which bid and ask to quote (0 for a side
not to quote), or "leave the quotes alone". The backtester's order manager turns the answer
into cancels and new orders the way the engine's `MarketMaker._requote` does: an order already
at the wanted price keeps its place in the queue, anything else on that side is cancelled.

Strategies are chosen by an integer code so the compiled core stays cacheable (numba cannot
cache a function that takes another compiled function as an argument); adding one means a new
code, a kernel and a branch in :func:`strategy_quotes`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from trading.config import MarketMakerParams

__all__ = ["MARKET_MAKER", "market_maker_params", "market_maker_quotes", "strategy_quotes"]

MARKET_MAKER = 0

# Positions in the market maker's parameter vector.
P_HALF_SPREAD_TICKS = 0
P_ORDER_QTY = 1
P_MAX_INVENTORY = 2
P_SKEW_TICKS_PER_LOT = 3
P_TICK = 4
P_LOT = 5


def market_maker_params(
    params: MarketMakerParams, *, tick: int = 100, lot: int = 100
) -> np.ndarray:
    """The parameter vector of :func:`market_maker_quotes` for the engine's parameters."""
    if tick < 1 or lot < 1:
        raise ValueError(f"tick and lot must be positive, got tick={tick}, lot={lot}")
    vec = np.zeros(6, np.float64)
    vec[P_HALF_SPREAD_TICKS] = params.half_spread_ticks
    vec[P_ORDER_QTY] = params.order_qty
    vec[P_MAX_INVENTORY] = params.max_inventory
    vec[P_SKEW_TICKS_PER_LOT] = params.skew_ticks_per_lot
    vec[P_TICK] = tick
    vec[P_LOT] = lot
    return vec


@njit(cache=True)
def market_maker_quotes(bid: int, ask: int, inventory: int, params: np.ndarray):
    """`trading.strategies.market_maker.desired_quotes` in compiled form.

    Returns (act, bid_price, ask_price, qty): act is False when the book is one-sided (the
    engine's strategy leaves its quotes alone then); a price of 0 means "do not quote".
    The arithmetic follows the Python function operation for operation, so the prices agree
    exactly.
    """
    if bid == 0 or ask == 0:
        return False, 0, 0, 0
    mid = (bid + ask) // 2
    tick = int(params[P_TICK])
    lot = int(params[P_LOT])
    qty = int(params[P_ORDER_QTY])
    max_inventory = int(params[P_MAX_INVENTORY])
    skew = inventory / lot * params[P_SKEW_TICKS_PER_LOT] * tick
    half = int(params[P_HALF_SPREAD_TICKS]) * tick
    b = min(math.floor((mid - half - skew) / tick) * tick, ask - tick)
    a = max(math.ceil((mid + half - skew) / tick) * tick, bid + tick)
    if not (b > 0 and inventory + qty <= max_inventory):
        b = 0
    if not (inventory - qty >= -max_inventory):
        a = 0
    return True, b, a, qty


@njit(cache=True)
def strategy_quotes(kind: int, bid: int, ask: int, inventory: int, params: np.ndarray):
    """Dispatch to the strategy `kind` (see the module docstring)."""
    if kind == MARKET_MAKER:
        return market_maker_quotes(bid, ask, inventory, params)
    return False, 0, 0, 0
