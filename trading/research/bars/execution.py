"""Compiled order fills for the bar backtester: cash, position, debt and fees after one order.

The accounting follows vectorbt's `Portfolio` (version 1.0) so that results can be checked
against it to the last few ulps:

- A buy of `size` shares at `price` costs `size * price * (1 + slippage)` plus the percentage
  fee on that notional, a fixed fee per order and a fee per share. When the cash does not cover
  it the order is cut to what the cash buys (an infinite size means "all the cash").
- A sale credits the notional at `price * (1 - slippage)` less the same fees. Short sales put the
  proceeds in cash and record them as debt; `free_cash` is cash less twice the debt, the margin
  measure vectorbt uses when sizing an all-in short.
- Fractional shares by default; `granularity` (e.g. 1.0 for whole shares) floors the size.
- Orders smaller than `min_size` are rejected; tiny leftovers are snapped to zero with the
  relative tolerance 1e-9 (absolute 1e-12), which keeps a closed position exactly flat.

Every function returns the new state and the fill as plain floats so the simulation loops stay
free of objects. `side` is +1 for a buy, -1 for a sale and 0 when nothing was filled.
"""

from __future__ import annotations

import numpy as np
from numba import njit

LONG_ONLY = 0
SHORT_ONLY = 1
BOTH = 2

REL_TOL = 1e-9
ABS_TOL = 1e-12


@njit(cache=True)
def is_close(a: float, b: float) -> bool:
    """Approximate equality with vectorbt's tolerances (never for NaN or infinities)."""
    if np.isnan(a) or np.isnan(b) or np.isinf(a) or np.isinf(b):
        return False
    if a == b:
        return True
    return abs(a - b) <= max(REL_TOL * max(abs(a), abs(b)), ABS_TOL)


@njit(cache=True)
def is_close_or_less(a: float, b: float) -> bool:
    return is_close(a, b) or a < b


@njit(cache=True)
def is_less(a: float, b: float) -> bool:
    return (not is_close(a, b)) and a < b


@njit(cache=True)
def add(a: float, b: float) -> float:
    """a + b, snapped to exactly zero when the two cancel within the tolerance."""
    if np.sign(a) != np.sign(b):
        if is_close(abs(a), abs(b)):
            return 0.0
    elif is_close(a + b, 0.0):
        return 0.0
    return a + b


@njit(cache=True)
def _no_fill(
    cash: float, position: float, debt: float, free_cash: float
) -> tuple[float, float, float, float, float, float, float, int]:
    """The state unchanged and an empty fill: what `buy` and `sell` return for no order."""
    return cash, position, debt, free_cash, 0.0, np.nan, 0.0, 0


@njit(cache=True)
def _order_fees(
    notional: float, size: float, fees: float, fixed_fees: float, fee_per_share: float
) -> float:
    """Percentage fee on the notional, plus the fixed fee and the fee per share."""
    return notional * fees + fixed_fees + size * fee_per_share


@njit(cache=True)
def _floor_to(size: float, granularity: float) -> float:
    """`size` floored to a multiple of `granularity` (unchanged when it is NaN)."""
    if np.isnan(granularity):
        return size
    return size // granularity * granularity


@njit(cache=True)
def buy(
    cash: float,
    position: float,
    debt: float,
    free_cash: float,
    size: float,
    price: float,
    direction: int,
    fees: float,
    fixed_fees: float,
    fee_per_share: float,
    slippage: float,
    min_size: float,
    granularity: float,
) -> tuple[float, float, float, float, float, float, float, int]:
    """Buy (or cover) up to `size` shares. Returns (cash, position, debt, free_cash,
    filled_size, fill_price, fees_paid, side)."""
    adj_price = price * (1.0 + slippage)
    cash_limit = cash
    if direction != SHORT_ONLY:
        if cash_limit == 0.0:
            return _no_fill(cash, position, debt, free_cash)
    elif position == 0.0:
        return _no_fill(cash, position, debt, free_cash)
    adj_size = min(-position, size) if direction == SHORT_ONLY else size
    if adj_size == 0.0:
        return _no_fill(cash, position, debt, free_cash)
    adj_size = _floor_to(adj_size, granularity)

    req_cash = adj_size * adj_price
    req_fees = _order_fees(req_cash, adj_size, fees, fixed_fees, fee_per_share)
    total_req_cash = req_cash + req_fees
    if is_close_or_less(total_req_cash, cash_limit):
        final_size = adj_size
        fees_paid = req_fees
        final_req_cash = total_req_cash
    else:
        # Not enough cash: the largest size whose cost plus fees is the whole cash limit.
        if fee_per_share == 0.0:
            max_req_cash = add(cash_limit, -fixed_fees) / (1.0 + fees)
            if max_req_cash <= 0.0:
                return _no_fill(cash, position, debt, free_cash)
            max_acq_size = max_req_cash / adj_price
        else:
            spendable = add(cash_limit, -fixed_fees)
            if spendable <= 0.0:
                return _no_fill(cash, position, debt, free_cash)
            max_acq_size = spendable / (adj_price * (1.0 + fees) + fee_per_share)
            max_req_cash = max_acq_size * adj_price
        if not np.isnan(granularity):
            final_size = max_acq_size // granularity * granularity
            new_req_cash = final_size * adj_price
            fees_paid = _order_fees(new_req_cash, final_size, fees, fixed_fees, fee_per_share)
            final_req_cash = new_req_cash + fees_paid
        else:
            final_size = max_acq_size
            fees_paid = cash_limit - max_req_cash
            final_req_cash = cash_limit

    if is_close(adj_size, 0.0) or is_less(final_size, min_size):
        return _no_fill(cash, position, debt, free_cash)

    new_cash = add(cash, -final_req_cash)
    new_position = add(position, final_size)
    if position < 0.0:
        short_size = final_size if new_position < 0.0 else abs(position)
        avg_entry_price = debt / abs(position)
        debt_diff = short_size * avg_entry_price
        new_debt = add(debt, -debt_diff)
        new_free_cash = add(free_cash + 2.0 * debt_diff, -final_req_cash)
    else:
        new_debt = debt
        new_free_cash = add(free_cash, -final_req_cash)
    return new_cash, new_position, new_debt, new_free_cash, final_size, adj_price, fees_paid, 1


@njit(cache=True)
def sell(
    cash: float,
    position: float,
    debt: float,
    free_cash: float,
    size: float,
    price: float,
    direction: int,
    fees: float,
    fixed_fees: float,
    fee_per_share: float,
    slippage: float,
    min_size: float,
    granularity: float,
    percent: float,
) -> tuple[float, float, float, float, float, float, float, int]:
    """Sell (or sell short) up to `size` shares; an infinite size with `percent` set sells
    that fraction of the most the free cash allows. Same return as `buy`."""
    adj_price = price * (1.0 - slippage)
    if direction == LONG_ONLY:
        size_limit = min(position, size)
    elif np.isinf(size) and not np.isnan(percent):
        long_size = max(position, 0.0)
        long_cash = long_size * (adj_price * (1.0 - fees) - fee_per_share)
        total_free_cash = add(free_cash, long_cash)
        if total_free_cash <= 0.0:
            if position <= 0.0:
                return _no_fill(cash, position, debt, free_cash)
            max_size_limit = long_size
        else:
            max_short_size = add(total_free_cash, -fixed_fees) / (
                adj_price * (1.0 + fees) + fee_per_share
            )
            max_size_limit = add(long_size, max_short_size)
            if max_size_limit <= 0.0:
                return _no_fill(cash, position, debt, free_cash)
        size_limit = max_size_limit
    else:
        size_limit = size
    if not np.isnan(percent):
        size_limit = percent * size_limit
    if direction == LONG_ONLY and position == 0.0:
        return _no_fill(cash, position, debt, free_cash)
    size_limit = _floor_to(size_limit, granularity)
    if is_close(size_limit, 0.0) or is_less(size_limit, min_size):
        return _no_fill(cash, position, debt, free_cash)

    acq_cash = size_limit * adj_price
    fees_paid = _order_fees(acq_cash, size_limit, fees, fixed_fees, fee_per_share)
    final_acq_cash = add(acq_cash, -fees_paid)
    if final_acq_cash < 0.0:
        return _no_fill(cash, position, debt, free_cash)
    new_cash = cash + final_acq_cash
    new_position = add(position, -size_limit)
    if new_position < 0.0:
        short_size = size_limit if position < 0.0 else abs(new_position)
        short_value = short_size * adj_price
        new_debt = debt + short_value
        new_free_cash = add(free_cash, add(final_acq_cash, -2.0 * short_value))
    else:
        new_debt = debt
        new_free_cash = free_cash + final_acq_cash
    return new_cash, new_position, new_debt, new_free_cash, size_limit, adj_price, fees_paid, -1


@njit(cache=True)
def execute(
    cash: float,
    position: float,
    debt: float,
    free_cash: float,
    size: float,
    price: float,
    direction: int,
    fees: float,
    fixed_fees: float,
    fee_per_share: float,
    slippage: float,
    min_size: float,
    granularity: float,
) -> tuple[float, float, float, float, float, float, float, int]:
    """Execute a signed order of `size` shares (positive buys, negative sells; -inf means an
    all-in short when shorting is allowed). NaN size or price does nothing."""
    if is_close(cash, 0.0):
        cash = 0.0
    if is_close(position, 0.0):
        position = 0.0
    if is_close(debt, 0.0):
        debt = 0.0
    if is_close(free_cash, 0.0):
        free_cash = 0.0
    if np.isnan(size) or np.isnan(price):
        return _no_fill(cash, position, debt, free_cash)
    order_size = size
    percent = np.nan
    if direction != LONG_ONLY and order_size < 0.0 and np.isinf(order_size):
        percent = 1.0
    if order_size > 0.0:
        return buy(
            cash, position, debt, free_cash, order_size, price, direction, fees, fixed_fees,
            fee_per_share, slippage, min_size, granularity,
        )  # fmt: skip
    return sell(
        cash, position, debt, free_cash, -order_size, price, direction, fees, fixed_fees,
        fee_per_share, slippage, min_size, granularity, percent,
    )  # fmt: skip
