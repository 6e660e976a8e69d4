"""Bar-by-bar portfolio simulation: signals or target orders in, equity, cash and fills out.

Two compiled simulators share the fills of `execution`:

- `simulate_signals`: one instrument driven by long/short entry and exit signals, with
  stop-loss, take-profit and trailing stops.
- `simulate_orders`: several instruments sharing one cash account, driven by per-bar orders
  (shares, value, or a target number of shares, value or percent of equity; NaN holds).

Timing and fill rules
---------------------
- `fill="close"`: a signal on bar i fills at bar i's close (the sweep benchmark's rule).
  `fill="next_open"`: a signal on bar i fills at bar i+1's open; the last bar's signal is
  dropped.
- Stops are armed when a position opens, from the order's price (the close, or the next open),
  and checked from the following bar on against that bar's open, high and low. A long stop-loss
  at level L fills at the open when the bar opens at or below L (a gap), else at L when
  low <= L <= high; take-profit mirrors it above the entry, and shorts mirror both. When a bar
  reaches both, the stop-loss wins (the path inside a bar is unknown, so the bad outcome is
  assumed). A trailing stop moves its reference to the highest high (lowest low for shorts)
  *after* checking the bar, so a bar never raises the level it is checked against. Stop fills
  take no slippage (they are priced at the stop level) and the bar's own signals are ignored.
- Opposite signals reverse a position; an entry and an exit for the same side on one bar
  cancel each other; long and short entries on one bar cancel each other.
- Short borrow: `borrow_rate` is an annual rate on short notional. At the start of each bar the
  short position carried from the previous bar pays `|shares| * previous close * rate /
  periods_per_year` out of cash. Should the cash ever not cover it, the rest is owed and
  subtracted from equity, so cash itself never goes negative.
- Costs per fill: `fees` (fraction of notional), `fixed_fees` (per order), `fee_per_share`,
  and `slippage` (fraction of the price, against the trader).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from trading.research.bars.execution import BOTH, LONG_ONLY, SHORT_ONLY, execute

ORDER_DTYPE = np.dtype(
    [
        ("bar", np.int64),
        ("column", np.int64),
        ("side", np.int8),
        ("size", np.float64),
        ("price", np.float64),
        ("fees", np.float64),
        ("stop", np.bool_),
    ]
)

AMOUNT = 0
VALUE = 1
TARGET_AMOUNT = 3
TARGET_VALUE = 4
TARGET_PERCENT = 5
SIZE_TYPES = {
    "amount": AMOUNT,
    "value": VALUE,
    "target_amount": TARGET_AMOUNT,
    "target_value": TARGET_VALUE,
    "target_percent": TARGET_PERCENT,
}
FILL_RULES = ("close", "next_open")


@dataclass(frozen=True)
class BacktestResult:
    """Per-bar equity, cash and position(s), and the fills of one simulation."""

    value: np.ndarray
    cash: np.ndarray
    position: np.ndarray
    orders: np.ndarray
    init_cash: float
    borrow_paid: float

    @property
    def final_value(self) -> float:
        return float(self.value[-1])

    @property
    def total_return(self) -> float:
        return float(self.value[-1] / self.init_cash - 1.0)

    @property
    def fees_paid(self) -> float:
        return float(self.orders["fees"].sum())

    @property
    def n_orders(self) -> int:
        return int(self.orders.shape[0])

    def returns(self) -> np.ndarray:
        """Simple returns per bar (the first against the initial cash)."""
        previous = np.concatenate(([self.init_cash], self.value[:-1]))
        return self.value / previous - 1.0


@njit(cache=True)
def _stop_price(
    position: float, reference: float, stop: float, open_: float, low: float, high: float,
    below: bool,
) -> float:  # fmt: skip
    """The fill price of a stop this bar, or NaN when it is not reached."""
    if (position > 0.0 and below) or (position < 0.0 and not below):
        level = reference * (1.0 - stop)
        if open_ <= level:
            return open_
        if low <= level <= high:
            return level
        return np.nan
    if (position < 0.0 and below) or (position > 0.0 and not below):
        level = reference * (1.0 + stop)
        if level <= open_:
            return open_
        if low <= level <= high:
            return level
    return np.nan


@njit(cache=True)
def _simulate_signals_nb(
    price, close, open_, high, low, long_entries, long_exits, short_entries, short_exits,
    size, fees, fixed_fees, fee_per_share, slippage, min_size, granularity, borrow_per_bar,
    init_cash, sl_stop, sl_trail, tp_stop, out_cash, out_position, out_value, orders,
):  # fmt: skip
    n = close.shape[0]
    use_stops = not (np.isnan(sl_stop) and np.isnan(tp_stop))
    cash = init_cash
    free_cash = init_cash
    position = 0.0
    debt = 0.0
    owed = 0.0
    borrow_paid = 0.0
    sl_ref = np.nan
    sl_active = np.nan
    tp_ref = np.nan
    tp_active = np.nan
    n_orders = 0
    for i in range(n):
        if i > 0 and position < 0.0 and borrow_per_bar > 0.0:
            charge = -position * close[i - 1] * borrow_per_bar
            paid = min(charge, cash)
            cash -= paid
            free_cash -= paid
            owed += charge - paid
            borrow_paid += charge

        order_price = price[i]
        order_slippage = slippage
        stop_fill = np.nan
        if use_stops and (not np.isnan(sl_active) or not np.isnan(tp_active)):
            o = open_[i]
            c = close[i]
            if np.isnan(o):
                o = c
            lo = low[i]
            if np.isnan(lo):
                lo = min(o, c)
            hi = high[i]
            if np.isnan(hi):
                hi = max(o, c)
            if not np.isnan(sl_active):
                stop_fill = _stop_price(position, sl_ref, sl_active, o, lo, hi, True)
            if np.isnan(stop_fill) and not np.isnan(tp_active):
                stop_fill = _stop_price(position, tp_ref, tp_active, o, lo, hi, False)
            if not np.isnan(sl_active) and sl_trail:
                if position > 0.0 and hi > sl_ref:
                    sl_ref = hi
                elif position < 0.0 and lo < sl_ref:
                    sl_ref = lo

        if not np.isnan(stop_fill):
            is_long_entry = False
            is_short_entry = False
            is_long_exit = position > 0.0
            is_short_exit = position < 0.0
            order_price = stop_fill
            order_slippage = 0.0
        else:
            is_long_entry = long_entries[i]
            is_long_exit = long_exits[i]
            is_short_entry = short_entries[i]
            is_short_exit = short_exits[i]
            if is_long_entry and is_long_exit:
                is_long_entry = False
                is_long_exit = False
            if is_short_entry and is_short_exit:
                is_short_entry = False
                is_short_exit = False
            if is_long_entry and is_short_entry:
                is_long_entry = False
                is_short_entry = False

        order_size = 0.0
        direction = BOTH
        if position > 0.0:
            if is_short_entry:
                order_size = -position - size
            elif is_long_exit:
                direction = LONG_ONLY
                order_size = -position
        elif position < 0.0:
            if is_long_entry:
                order_size = -position + size
            elif is_short_exit:
                direction = SHORT_ONLY
                order_size = -position
        elif is_long_entry:
            order_size = size
        elif is_short_entry:
            order_size = -size

        if order_size != 0.0:
            position_before = position
            cash, position, debt, free_cash, filled, fill_price, fee, side = execute(
                cash, position, debt, free_cash, order_size, order_price, direction, fees,
                fixed_fees, fee_per_share, order_slippage, min_size, granularity,
            )  # fmt: skip
            if side != 0:
                record = orders[n_orders]
                record["bar"] = i
                record["column"] = 0
                record["side"] = side
                record["size"] = filled
                record["price"] = fill_price
                record["fees"] = fee
                record["stop"] = not np.isnan(stop_fill)
                n_orders += 1
                if use_stops:
                    if position == 0.0:
                        sl_ref = np.nan
                        sl_active = np.nan
                        tp_ref = np.nan
                        tp_active = np.nan
                    elif position_before == 0.0 or np.sign(position) != np.sign(position_before):
                        sl_ref = order_price
                        sl_active = sl_stop
                        tp_ref = order_price
                        tp_active = tp_stop

        out_cash[i] = cash
        out_position[i] = position
        out_value[i] = cash + position * close[i] - owed
    return n_orders, borrow_paid


@njit(cache=True)
def _simulate_orders_nb(
    price, close, size, size_type, fees, fixed_fees, fee_per_share, slippage, min_size,
    granularity, borrow_per_bar, init_cash, out_cash, out_position, out_value, orders,
):  # fmt: skip
    n, k = close.shape
    cash = init_cash
    free_cash = init_cash
    owed = 0.0
    borrow_paid = 0.0
    position = np.zeros(k)
    debt = np.zeros(k)
    val_price = np.full(k, np.nan)
    n_orders = 0
    for i in range(n):
        if i > 0 and borrow_per_bar > 0.0:
            for col in range(k):
                if position[col] < 0.0:
                    charge = -position[col] * close[i - 1, col] * borrow_per_bar
                    paid = min(charge, cash)
                    cash -= paid
                    free_cash -= paid
                    owed += charge - paid
                    borrow_paid += charge
        for col in range(k):
            if not np.isnan(price[i, col]):
                val_price[col] = price[i, col]
        # Target-percent orders of one bar all size against the equity at the bar's start.
        value = cash - owed
        for col in range(k):
            if position[col] != 0.0:
                value += position[col] * val_price[col]
        for col in range(k):
            amount = size[i, col]
            if np.isnan(amount):
                continue
            kind = size_type[i, col]
            if kind == TARGET_PERCENT:
                if np.isnan(value) or value <= 0.0:
                    continue
                amount *= value
                kind = TARGET_VALUE
            if kind != AMOUNT and kind != TARGET_AMOUNT:  # a value: to shares
                if np.isnan(val_price[col]):
                    continue
                amount /= val_price[col]
                kind = AMOUNT if kind == VALUE else TARGET_AMOUNT
            if kind == TARGET_AMOUNT:
                amount -= position[col]
            if amount == 0.0:
                continue
            cash, pos, debt_col, free_cash, filled, fill_price, fee, side = execute(
                cash, position[col], debt[col], free_cash, amount, price[i, col], BOTH, fees,
                fixed_fees, fee_per_share, slippage, min_size, granularity,
            )  # fmt: skip
            position[col] = pos
            debt[col] = debt_col
            if side != 0:
                record = orders[n_orders]
                record["bar"] = i
                record["column"] = col
                record["side"] = side
                record["size"] = filled
                record["price"] = fill_price
                record["fees"] = fee
                record["stop"] = False
                n_orders += 1
        total = cash - owed
        for col in range(k):
            out_position[i, col] = position[col]
            total += position[col] * close[i, col]
        out_cash[i] = cash
        out_value[i] = total
    return n_orders, borrow_paid


def _finite_prices(name: str, values: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    if values is None:
        return np.full(shape, np.nan)
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{name} has shape {array.shape}, expected {shape}")
    if not np.all(np.isfinite(array)) or np.any(array <= 0.0):
        raise ValueError(f"{name} must be finite and positive (found NaN, inf or <= 0)")
    return array


def _signal(name: str, values: np.ndarray | None, n: int) -> np.ndarray:
    if values is None:
        return np.zeros(n, dtype=np.bool_)
    array = np.ascontiguousarray(values, dtype=np.bool_)
    if array.shape != (n,):
        raise ValueError(f"{name} has shape {array.shape}, expected ({n},)")
    return array


def _costs(
    fees: float, fixed_fees: float, fee_per_share: float, slippage: float, borrow_rate: float,
    periods_per_year: float, init_cash: float, granularity: float | None, min_size: float,
) -> tuple[float, float]:  # fmt: skip
    for name, value in (
        ("fees", fees), ("fixed_fees", fixed_fees), ("fee_per_share", fee_per_share),
        ("slippage", slippage), ("borrow_rate", borrow_rate), ("min_size", min_size),
    ):  # fmt: skip
        if not np.isfinite(value) or value < 0.0:
            raise ValueError(f"{name} must be finite and >= 0, got {value}")
    if slippage >= 1.0:
        raise ValueError(f"slippage must be below 1, got {slippage}")
    if not np.isfinite(init_cash) or init_cash <= 0.0:
        raise ValueError(f"init_cash must be finite and > 0, got {init_cash}")
    if not periods_per_year > 0.0:
        raise ValueError(f"periods_per_year must be > 0, got {periods_per_year}")
    if granularity is not None and not (np.isfinite(granularity) and granularity > 0.0):
        raise ValueError(f"granularity must be None or > 0, got {granularity}")
    return borrow_rate / periods_per_year, np.nan if granularity is None else float(granularity)


def _next_open_fill(fill: str, open_: np.ndarray | None) -> bool:
    """Whether orders fill at the next bar's open (`fill="next_open"`), which needs the opens."""
    if fill not in FILL_RULES:
        raise ValueError(f"fill must be one of {FILL_RULES}, got {fill!r}")
    if fill == "next_open" and open_ is None:
        raise ValueError("fill='next_open' needs the open prices")
    return fill == "next_open"


def _shift_for_next_open(values: np.ndarray, empty: bool | float) -> np.ndarray:
    """`values` one bar later, `empty` on the first bar: bar i's decision fills on bar i+1."""
    shifted = np.full_like(values, empty)
    shifted[1:] = values[:-1]
    return shifted


def simulate_signals(
    close: np.ndarray,
    entries: np.ndarray | None = None,
    exits: np.ndarray | None = None,
    *,
    short_entries: np.ndarray | None = None,
    short_exits: np.ndarray | None = None,
    open: np.ndarray | None = None,  # noqa: A002 - the bar field's name
    high: np.ndarray | None = None,
    low: np.ndarray | None = None,
    fill: str = "close",
    size: float = np.inf,
    fees: float = 0.0,
    fixed_fees: float = 0.0,
    fee_per_share: float = 0.0,
    slippage: float = 0.0,
    borrow_rate: float = 0.0,
    periods_per_year: float = 252.0,
    init_cash: float = 100.0,
    granularity: float | None = None,
    min_size: float = 1e-8,
    sl_stop: float | None = None,
    sl_trail: bool = False,
    tp_stop: float | None = None,
) -> BacktestResult:
    """Backtest one instrument from signals (see the module notes for the fill rules).

    `entries`/`exits` open and close longs; `short_entries`/`short_exits` do the same for
    shorts. `size` is shares per entry (inf: all the cash; for an all-in short, as many shares
    as the free cash covers). `sl_stop`/`tp_stop` are fractions of the entry price (0.05 =
    5 %); `sl_trail` makes the stop-loss trail the best price since entry.
    """
    close_arr = _finite_prices("close", close, np.shape(close))
    if close_arr.ndim != 1 or close_arr.shape[0] < 1:
        raise ValueError(f"close must be a non-empty 1-d array, got shape {close_arr.shape}")
    n = close_arr.shape[0]
    next_open = _next_open_fill(fill, open)
    open_arr = _finite_prices("open", open, (n,))
    high_arr = _finite_prices("high", high, (n,))
    low_arr = _finite_prices("low", low, (n,))
    signals = [
        _signal(name, values, n)
        for name, values in (
            ("entries", entries),
            ("exits", exits),
            ("short_entries", short_entries),
            ("short_exits", short_exits),
        )  # fmt: skip
    ]
    if not (size > 0.0):
        raise ValueError(f"size must be > 0, got {size}")
    borrow_per_bar, gran = _costs(
        fees, fixed_fees, fee_per_share, slippage, borrow_rate, periods_per_year, init_cash,
        granularity, min_size,
    )  # fmt: skip
    for name, stop in (("sl_stop", sl_stop), ("tp_stop", tp_stop)):
        if stop is not None and not (np.isfinite(stop) and stop >= 0.0):
            raise ValueError(f"{name} must be None or a finite fraction >= 0, got {stop}")
    if next_open:
        price = open_arr
        signals = [_shift_for_next_open(s, False) for s in signals]
    else:
        price = close_arr
    out_cash = np.empty(n)
    out_position = np.empty(n)
    out_value = np.empty(n)
    orders = np.zeros(n, dtype=ORDER_DTYPE)
    n_orders, borrow_paid = _simulate_signals_nb(  # type: ignore[call-arg]  # numba's Dispatcher stub takes no arguments
        price, close_arr, open_arr, high_arr, low_arr, *signals, float(size), float(fees),
        float(fixed_fees), float(fee_per_share), float(slippage), float(min_size), gran,
        borrow_per_bar, float(init_cash), np.nan if sl_stop is None else float(sl_stop),
        bool(sl_trail), np.nan if tp_stop is None else float(tp_stop), out_cash, out_position,
        out_value, orders,
    )  # fmt: skip
    return BacktestResult(
        out_value, out_cash, out_position, orders[:n_orders].copy(), float(init_cash),
        float(borrow_paid),
    )  # fmt: skip


def simulate_orders(
    close: np.ndarray,
    size: np.ndarray,
    *,
    size_type: str = "target_percent",
    open: np.ndarray | None = None,  # noqa: A002 - the bar field's name
    fill: str = "close",
    fees: float = 0.0,
    fixed_fees: float = 0.0,
    fee_per_share: float = 0.0,
    slippage: float = 0.0,
    borrow_rate: float = 0.0,
    periods_per_year: float = 252.0,
    init_cash: float = 100.0,
    granularity: float | None = None,
    min_size: float = 1e-8,
) -> BacktestResult:
    """Backtest instruments sharing one cash account from per-bar orders.

    `close` and `size` are (n_bars, n_instruments); NaN in `size` means no order. Orders of
    one bar are executed in column order; target-percent orders all size against the equity
    at the start of the bar, valued at the fill price.
    """
    close_arr = _finite_prices("close", close, np.shape(close))
    if close_arr.ndim != 2 or close_arr.shape[0] < 1 or close_arr.shape[1] < 1:
        raise ValueError(f"close must be (n_bars, n_instruments), got shape {close_arr.shape}")
    size_arr = np.ascontiguousarray(size, dtype=np.float64)
    if size_arr.shape != close_arr.shape:
        raise ValueError(f"size has shape {size_arr.shape}, expected {close_arr.shape}")
    if np.any(np.isinf(size_arr)):
        raise ValueError("size must be finite or NaN (no order)")
    if size_type not in SIZE_TYPES:
        raise ValueError(f"size_type must be one of {sorted(SIZE_TYPES)}, got {size_type!r}")
    next_open = _next_open_fill(fill, open)
    borrow_per_bar, gran = _costs(
        fees, fixed_fees, fee_per_share, slippage, borrow_rate, periods_per_year, init_cash,
        granularity, min_size,
    )  # fmt: skip
    if next_open:
        price = _finite_prices("open", open, close_arr.shape)
        size_arr = _shift_for_next_open(size_arr, np.nan)
    else:
        price = close_arr
    types = np.full(close_arr.shape, SIZE_TYPES[size_type], dtype=np.int64)
    n, k = close_arr.shape
    out_cash = np.empty(n)
    out_position = np.empty((n, k))
    out_value = np.empty(n)
    orders = np.zeros(n * k, dtype=ORDER_DTYPE)
    n_orders, borrow_paid = _simulate_orders_nb(
        price, close_arr, size_arr, types, float(fees), float(fixed_fees), float(fee_per_share),
        float(slippage), float(min_size), gran, borrow_per_bar, float(init_cash), out_cash,
        out_position, out_value, orders,
    )  # fmt: skip
    return BacktestResult(
        out_value, out_cash, out_position, orders[:n_orders].copy(), float(init_cash),
        float(borrow_paid),
    )  # fmt: skip
