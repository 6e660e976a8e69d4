"""Limit order book per symbol with price-time priority.

One book serves two users:

* an exchange's matching engine (`OrderBook.submit`, `OrderBook.amend`, `match_batch`), and
* a trading engine rebuilding a venue's book from an order-by-order feed such as NASDAQ ITCH
  or LOBSTER (`OrderBook.add`, `execute`, `cancel`, `delete`, `replace`, `apply_events`).

Units: prices are integers in 1e-4 dollars (5853300 = $585.33), quantities are integer shares,
times are int64 nanoseconds. Sides are `BUY` (1) and `SELL` (-1).

Layout. All state lives in int64 numpy arrays allocated up front, so that no Python object
exists per order and the compiled kernels (``@numba.njit(cache=True)`` functions; a jitclass
cannot be cached) can work on them directly:

* the order pool ``(capacity, 8)``: one 64-byte row per order (ref, price, remaining qty, owner,
  timestamp, prev, next, level-and-side), free rows chained through ``next``;
* the levels ``(2, n_levels, 4)``: per side and per price tick of a sliding window
  (``level = (price - base) // tick``), the total qty, order count, FIFO head and tail;
* an open-addressing hash table ``(2 * capacity, 2)`` from order ref to pool row (linear probing
  with backward-shift deletion, so it never fills with tombstones);
* a scalars array (window base, best levels, counters, next match number, error counts);
* an output array ``(capacity, 8)`` that the matcher writes fills (and orders cancelled by
  self-trade prevention) into, instead of building Python objects per fill.

Every numba call from Python costs about 0.1 us per array argument for unboxing, which is why
these five arrays are regions of one arena array (a kernel call passes only that) and why replays
and benchmarks go through the batch kernels (`apply_events`, `match_batch`) that run a whole
stream in one compiled loop.

Kernels never raise: they return a status code, and the `OrderBook` wrapper turns error codes
into exceptions and the rare "grow" codes into a resize of the pool or of the level window,
then retries. So a book that starts at $585 still accepts an order at $1 or at $5000.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
from numba import njit

__all__ = [
    "ADD",
    "BOOK_EVENT_DTYPE",
    "BUY",
    "CANCEL",
    "DELETE",
    "EXECUTE",
    "FILL_MAKER_OWNER",
    "FILL_MAKER_REF",
    "FILL_MAKER_REMAINING",
    "FILL_MATCH_NUMBER",
    "FILL_PRICE",
    "FILL_QTY",
    "FLAG_AMEND",
    "FLAG_CANCEL",
    "FLAG_IOC",
    "FLAG_MARKET",
    "ORDER_DTYPE",
    "REPLACE",
    "SELL",
    "SELF_TRADE_MODES",
    "Depth",
    "DuplicateOrderRef",
    "Fill",
    "InvalidOrderRef",
    "InvalidPrice",
    "InvalidQuantity",
    "InvalidSide",
    "MatchTotals",
    "OrderBook",
    "OrderBookError",
    "OrderInfo",
    "RestingOrder",
    "StaleResultError",
    "SubmitResult",
    "apply_events",
    "match_batch",
    "warm_up",
]

BUY = 1
SELL = -1

# Event kinds of BOOK_EVENT_DTYPE (the order-by-order feed vocabulary).
ADD = 1
CANCEL = 2
DELETE = 3
EXECUTE = 4
REPLACE = 5

# Bits of ORDER_DTYPE.flags.
FLAG_IOC = 1
FLAG_MARKET = 2
FLAG_CANCEL = 4
FLAG_AMEND = 8

BOOK_EVENT_DTYPE = np.dtype(
    [
        ("ts_ns", np.int64),
        ("ref", np.int64),
        ("new_ref", np.int64),  # REPLACE only
        ("price", np.int64),  # ADD, REPLACE
        ("qty", np.int64),  # ADD, CANCEL (shares removed), EXECUTE (shares executed), REPLACE
        ("owner", np.int64),  # ADD (attribution / firm id), 0 if unknown
        ("side", np.int8),  # ADD
        ("kind", np.uint8),
    ],
    align=True,
)
"""One order-by-order feed event; `apply_events` consumes arrays of it."""

ORDER_DTYPE = np.dtype(
    [
        ("ref", np.int64),
        ("price", np.int64),  # ignored for market orders and cancels
        ("qty", np.int64),  # new remaining qty for FLAG_AMEND; ignored for FLAG_CANCEL
        ("owner", np.int64),
        ("ts_ns", np.int64),
        ("side", np.int8),  # ignored for FLAG_CANCEL and FLAG_AMEND
        ("flags", np.uint8),  # FLAG_IOC | FLAG_MARKET, or FLAG_CANCEL, or FLAG_AMEND
    ],
    align=True,
)
"""One order entry instruction; `match_batch` consumes arrays of it."""

# Columns of the fill output (SubmitResult.fills).
FILL_MAKER_REF = 0
FILL_MAKER_OWNER = 1
FILL_PRICE = 2
FILL_QTY = 3
FILL_MATCH_NUMBER = 4
FILL_MAKER_REMAINING = 5
# Columns 6 and 7 of the same output rows carry (ref, qty) of resting orders cancelled by STP.
_OUT_STP_REF = 6
_OUT_STP_QTY = 7

SELF_TRADE_MODES = {"none": 0, "cancel_newest": 1, "cancel_oldest": 2, "cancel_both": 3}
_STP_NONE = 0
_STP_NEWEST = 1
_STP_OLDEST = 2
_STP_BOTH = 3

# Status codes returned by kernels. 1..7 are rejects, >= 100 ask the wrapper to grow and retry.
_OK = 0
_ERR_DUPLICATE = 1
_ERR_UNKNOWN = 2
_ERR_PRICE = 3
_ERR_QTY = 4
_ERR_SIDE = 5
_ERR_REF = 6
_ERR_KIND = 7
_N_STATUS = 8
_NEED_POOL = 100
_NEED_LEVELS = 101

_STATUS_NAMES = (
    "ok",
    "duplicate_ref",
    "unknown_ref",
    "invalid_price",
    "invalid_qty",
    "invalid_side",
    "invalid_ref",
    "invalid_kind",
)

# Pool row fields. One row is exactly 64 bytes so an order touches a single cache line.
_P_REF = 0
_P_PRICE = 1
_P_QTY = 2
_P_OWNER = 3
_P_TS = 4
_P_PREV = 5
_P_NEXT = 6
# level * 2 + side index: stored so that cancels do not need a division to find the level, and
# rewritten for every live order when the window is re-based (rare).
_P_LVS = 7
_P_FIELDS = 8

# Level fields.
_L_QTY = 0
_L_CNT = 1
_L_HEAD = 2
_L_TAIL = 3

# Scalars. Per-side entries are at X + side index (0 = bids, 1 = asks).
_S_BASE = 0
_S_TICK = 1
_S_NLV = 2
_S_BEST = 3  # best non-empty level per side, -1 when the side is empty
_S_FAR = 5  # farthest non-empty level per side (bounds the scan for the next best level)
_S_COUNT = 7
_S_FREE = 8
_S_HMASK = 9
_S_HSHIFT = 10
_S_MATCH = 11
_S_CAP = 12
_S_ERR = 16  # _S_ERR + status: number of events/orders rejected in batch kernels
_S_SIZE = 32

# Fibonacci hashing: multiply by 2^64 / golden ratio and keep the top bits, which spreads the
# sequential refs every venue hands out. Signed so that numba stays in int64 arithmetic.
_HASH_MUL = -7046029254386353131  # 0x9E3779B97F4A7C15 as int64

_INT64_MAX = (1 << 63) - 1
_MAX_LEVELS = 1 << 22  # 4M ticks per side (256 MiB); beyond that a price is refused


# ---------------------------------------------------------------------------------------------
# Exceptions and result types
# ---------------------------------------------------------------------------------------------


class OrderBookError(Exception):
    """Base class of the order book's rejects."""


class DuplicateOrderRef(OrderBookError):
    """The order ref is already live in the book."""


class UnknownOrderRef(OrderBookError):
    """No live order has this ref."""


class InvalidPrice(OrderBookError):
    """The price is not positive, not on the book's tick grid, or too far from the book."""


class InvalidQuantity(OrderBookError):
    """The quantity is not positive, or exceeds the order's remaining quantity."""


class InvalidSide(OrderBookError):
    """The side is neither BUY (1) nor SELL (-1)."""


class InvalidOrderRef(OrderBookError):
    """The order ref is not in 1 .. 2**63 - 1."""


class StaleResultError(OrderBookError):
    """A SubmitResult's fills were read after the book was changed again."""


class Fill(NamedTuple):
    """One execution against a resting (maker) order, at the maker's price."""

    maker_ref: int
    maker_owner: int
    price: int
    qty: int
    match_number: int
    maker_remaining: int


class OrderInfo(NamedTuple):
    """What `OrderBook.order` tells about a live order."""

    side: int
    price: int
    remaining: int
    owner: int


class RestingOrder(NamedTuple):
    """A live order as yielded by iterating a book (in priority order)."""

    ref: int
    side: int
    price: int
    qty: int
    owner: int
    ts_ns: int


class Depth(NamedTuple):
    """Top levels per side, best first: prices, total quantities and order counts (int64)."""

    bid_prices: np.ndarray
    bid_qtys: np.ndarray
    bid_counts: np.ndarray
    ask_prices: np.ndarray
    ask_qtys: np.ndarray
    ask_counts: np.ndarray


class MatchTotals(NamedTuple):
    """Totals of one `match_batch` run.

    For the submitted orders (and amends, counted as orders of their new quantity),
    ``submitted shares == shares_traded + shares_rested + shares_cancelled``.
    ``resting_cancelled`` counts shares of resting orders removed by FLAG_CANCEL or by
    self-trade prevention.
    """

    orders: int
    fills: int
    shares_traded: int
    shares_rested: int
    shares_cancelled: int
    resting_cancelled: int
    errors: int


class SubmitResult:
    """Outcome of `submit` / `amend` / `amend_replace`.

    ``filled + resting + cancelled`` equals the order's quantity; ``stp_cancelled`` is the part of
    ``cancelled`` that self-trade prevention removed from the incoming order.

    `fills` is an ``(n_fills, 6)`` int64 array (columns ``FILL_*``) and `stp_cancels` an
    ``(n_stp, 2)`` array of (ref, qty) of resting orders cancelled by self-trade prevention.
    For `OrderBook` both are views into the book's reusable output buffer, so they are only valid
    until the book is changed again; reading them later raises StaleResultError. Copy them (or use
    `fill_list`) to keep them.
    """

    # The counts stay in the tuple the kernel returned, (status, filled, resting, cancelled,
    # stp_cancelled, n_fills, n_stp): copying them into attributes would cost more than the
    # whole rest of the Python side of a submit.
    __slots__ = ("ref", "_r", "_out", "_book", "_gen")

    def __init__(self, ref: int, counts: tuple, out: np.ndarray, book=None, gen: int = 0):
        self.ref = ref
        self._r = counts
        self._out = out
        self._book = book
        self._gen = gen

    @property
    def filled(self) -> int:
        """Shares traded."""
        return self._r[1]

    @property
    def resting(self) -> int:
        """Shares left resting in the book."""
        return self._r[2]

    @property
    def cancelled(self) -> int:
        """Shares cancelled: IOC/market remainder and self-trade prevention."""
        return self._r[3]

    @property
    def stp_cancelled(self) -> int:
        """Shares of this order cancelled by self-trade prevention (part of `cancelled`)."""
        return self._r[4]

    @property
    def n_fills(self) -> int:
        """Number of fills."""
        return self._r[5]

    @property
    def n_stp(self) -> int:
        """Number of resting orders cancelled by self-trade prevention."""
        return self._r[6]

    def _buffer(self) -> np.ndarray:
        if self._book is not None and self._book._gen != self._gen:
            raise StaleResultError("the book changed since this result; copy fills before that")
        return self._out

    @property
    def qty(self) -> int:
        """The order's quantity: filled + resting + cancelled."""
        return self.filled + self.resting + self.cancelled

    @property
    def fills(self) -> np.ndarray:
        """The fills, an (n_fills, 6) int64 array with columns FILL_*."""
        return self._buffer()[: self.n_fills, :6]

    @property
    def stp_cancels(self) -> np.ndarray:
        """Resting orders cancelled by self-trade prevention, an (n_stp, 2) array of ref, qty."""
        return self._buffer()[: self.n_stp, _OUT_STP_REF:]

    def fill_list(self) -> list[Fill]:
        """The fills as a list of `Fill` (a copy, valid forever)."""
        return [Fill(*row) for row in self.fills.tolist()]

    def stp_list(self) -> list[tuple[int, int]]:
        """Resting orders cancelled by self-trade prevention as (ref, qty) tuples."""
        return [tuple(row) for row in self.stp_cancels.tolist()]

    def __repr__(self) -> str:
        return (
            f"SubmitResult(ref={self.ref}, filled={self.filled}, resting={self.resting}, "
            f"cancelled={self.cancelled}, stp_cancelled={self.stp_cancelled}, "
            f"n_fills={self.n_fills}, n_stp={self.n_stp})"
        )


# ---------------------------------------------------------------------------------------------
# Kernels: hash table
# ---------------------------------------------------------------------------------------------


@njit(cache=True)
def _hfind(ht, sc, ref):
    """Pool row of `ref`, or -1."""
    if ref == 0:
        return -1  # 0 marks empty slots, so it must never be "found" in one
    mask = sc[_S_HMASK]
    i = ((ref * _HASH_MUL) >> sc[_S_HSHIFT]) & mask
    while True:
        k = ht[i, 0]
        if k == ref:
            return ht[i, 1]
        if k == 0:
            return -1
        i = (i + 1) & mask


@njit(cache=True)
def _hinsert(ht, sc, ref, row):
    """Insert a ref known to be absent; the table is kept at most half full by construction."""
    mask = sc[_S_HMASK]
    i = ((ref * _HASH_MUL) >> sc[_S_HSHIFT]) & mask
    while ht[i, 0] != 0:
        i = (i + 1) & mask
    ht[i, 0] = ref
    ht[i, 1] = row


@njit(cache=True)
def _hdelete(ht, sc, ref):
    """Remove a ref known to be present, shifting later entries of its probe run back."""
    mask = sc[_S_HMASK]
    shift = sc[_S_HSHIFT]
    i = ((ref * _HASH_MUL) >> shift) & mask
    while ht[i, 0] != ref:
        i = (i + 1) & mask
    j = i
    while True:
        j = (j + 1) & mask
        k = ht[j, 0]
        if k == 0:
            break
        home = ((k * _HASH_MUL) >> shift) & mask
        # The entry at j can fill the hole at i only if its home slot is not in (i, j]
        # (cyclically); otherwise moving it would put it before its home and lose it.
        stays = (i < home <= j) if i <= j else (home > i or home <= j)
        if not stays:
            ht[i, 0] = k
            ht[i, 1] = ht[j, 1]
            i = j
    ht[i, 0] = 0


@njit(cache=True)
def _rehash(old, new, sc):
    """Insert every entry of `old` into the empty table `new` (sc already holds new's mask)."""
    for i in range(old.shape[0]):
        k = old[i, 0]
        if k != 0:
            _hinsert(new, sc, k, old[i, 1])


# ---------------------------------------------------------------------------------------------
# Kernels: levels and queues
# ---------------------------------------------------------------------------------------------


@njit(cache=True)
def _level_filled(sc, s, lvl):
    """Track best/far levels when level `lvl` of side `s` goes from empty to non-empty."""
    best = sc[_S_BEST + s]
    if best < 0:
        sc[_S_BEST + s] = lvl
        sc[_S_FAR + s] = lvl
    elif s == 0:
        if lvl > best:
            sc[_S_BEST] = lvl
        elif lvl < sc[_S_FAR]:
            sc[_S_FAR] = lvl
    else:
        if lvl < best:
            sc[_S_BEST + 1] = lvl
        elif lvl > sc[_S_FAR + 1]:
            sc[_S_FAR + 1] = lvl


@njit(cache=True)
def _level_emptied(lv, sc, s, lvl):
    """Track best/far levels when level `lvl` of side `s` becomes empty."""
    best = sc[_S_BEST + s]
    far = sc[_S_FAR + s]
    if lvl == best and lvl == far:
        sc[_S_BEST + s] = -1
        sc[_S_FAR + s] = -1
        return
    # Bids get worse downwards, asks upwards.
    step = 1 if s == 1 else -1
    if lvl == best:
        j = lvl + step
        while lv[s, j, _L_CNT] == 0:
            j += step
        sc[_S_BEST + s] = j
    elif lvl == far:
        # Pull the far end in so later scans for a new best never walk a dead range.
        j = lvl - step
        while lv[s, j, _L_CNT] == 0:
            j -= step
        sc[_S_FAR + s] = j


@njit(cache=True)
def _link_new(pool, lv, sc, row, s, lvl, ref, price, qty, owner, ts):
    """Fill pool row `row` and append it at the back of its level's FIFO."""
    pool[row, _P_REF] = ref
    pool[row, _P_PRICE] = price
    pool[row, _P_QTY] = qty
    pool[row, _P_OWNER] = owner
    pool[row, _P_TS] = ts
    pool[row, _P_LVS] = lvl * 2 + s
    pool[row, _P_NEXT] = -1
    cnt = lv[s, lvl, _L_CNT]
    if cnt == 0:
        lv[s, lvl, _L_HEAD] = row
        pool[row, _P_PREV] = -1
        _level_filled(sc, s, lvl)
    else:
        tail = lv[s, lvl, _L_TAIL]
        pool[tail, _P_NEXT] = row
        pool[row, _P_PREV] = tail
    lv[s, lvl, _L_TAIL] = row
    lv[s, lvl, _L_CNT] = cnt + 1
    lv[s, lvl, _L_QTY] += qty


@njit(cache=True)
def _insert(pool, lv, ht, sc, ref, s, lvl, price, qty, owner, ts):
    """Create a resting order (the caller checked ref, window and free rows)."""
    row = sc[_S_FREE]
    sc[_S_FREE] = pool[row, _P_NEXT]
    _link_new(pool, lv, sc, row, s, lvl, ref, price, qty, owner, ts)
    _hinsert(ht, sc, ref, row)
    sc[_S_COUNT] += 1


@njit(cache=True)
def _remove(pool, lv, ht, sc, row):
    """Unlink a live order from its level, the hash table and the pool."""
    lvs = pool[row, _P_LVS]
    s = lvs & 1
    lvl = lvs >> 1
    prv = pool[row, _P_PREV]
    nxt = pool[row, _P_NEXT]
    if prv >= 0:
        pool[prv, _P_NEXT] = nxt
    else:
        lv[s, lvl, _L_HEAD] = nxt
    if nxt >= 0:
        pool[nxt, _P_PREV] = prv
    else:
        lv[s, lvl, _L_TAIL] = prv
    lv[s, lvl, _L_QTY] -= pool[row, _P_QTY]
    cnt = lv[s, lvl, _L_CNT] - 1
    lv[s, lvl, _L_CNT] = cnt
    if cnt == 0:
        _level_emptied(lv, sc, s, lvl)
    _hdelete(ht, sc, pool[row, _P_REF])
    # qty 0 marks a free row (live orders always have qty > 0), which re-basing relies on.
    pool[row, _P_QTY] = 0
    pool[row, _P_REF] = 0
    pool[row, _P_NEXT] = sc[_S_FREE]
    sc[_S_FREE] = row
    sc[_S_COUNT] -= 1


@njit(cache=True)
def _reduce(pool, lv, row, qty):
    """Take `qty` (< remaining) shares off a live order without touching its priority."""
    lvs = pool[row, _P_LVS]
    pool[row, _P_QTY] -= qty
    lv[lvs & 1, lvs >> 1, _L_QTY] -= qty


# ---------------------------------------------------------------------------------------------
# Kernels: matching
# ---------------------------------------------------------------------------------------------


@njit(cache=True)
def _match_and_rest(pool, lv, ht, sc, out, ref, side, price, qty, owner, ts, flags, stp_mode):
    """Match an already validated order against the opposite side, then rest or cancel the rest.

    Returns (status, filled, rested, cancelled, stp_cancelled, n_fills, n_stp).
    """
    s = 0 if side == 1 else 1
    o = 1 - s
    market = (flags & FLAG_MARKET) != 0
    can_rest = (flags & (FLAG_IOC | FLAG_MARKET)) == 0
    base = sc[_S_BASE]
    tick = sc[_S_TICK]
    remaining = qty
    filled = 0
    n_fills = 0
    n_stp = 0
    stp_cancelled = 0
    check_stp = stp_mode != _STP_NONE and owner != 0
    while remaining > 0:
        lvl = sc[_S_BEST + o]
        if lvl < 0:
            break
        lp = base + lvl * tick
        if not market:
            if s == 0:
                if lp > price:
                    break
            elif lp < price:
                break
        row = lv[o, lvl, _L_HEAD]
        maker_owner = pool[row, _P_OWNER]
        if check_stp and maker_owner == owner:
            if stp_mode == _STP_NEWEST:
                stp_cancelled = remaining
                remaining = 0
                break
            out[n_stp, _OUT_STP_REF] = pool[row, _P_REF]
            out[n_stp, _OUT_STP_QTY] = pool[row, _P_QTY]
            n_stp += 1
            _remove(pool, lv, ht, sc, row)
            if stp_mode == _STP_BOTH:
                stp_cancelled = remaining
                remaining = 0
                break
            continue
        mq = pool[row, _P_QTY]
        q = remaining if remaining < mq else mq
        match = sc[_S_MATCH] + 1
        sc[_S_MATCH] = match
        out[n_fills, FILL_MAKER_REF] = pool[row, _P_REF]
        out[n_fills, FILL_MAKER_OWNER] = maker_owner
        out[n_fills, FILL_PRICE] = lp
        out[n_fills, FILL_QTY] = q
        out[n_fills, FILL_MATCH_NUMBER] = match
        out[n_fills, FILL_MAKER_REMAINING] = mq - q
        n_fills += 1
        remaining -= q
        filled += q
        if q == mq:
            _remove(pool, lv, ht, sc, row)
        else:
            pool[row, _P_QTY] = mq - q
            lv[o, lvl, _L_QTY] -= q
    rested = 0
    cancelled = stp_cancelled
    if remaining > 0:
        if can_rest:
            _insert(pool, lv, ht, sc, ref, s, (price - base) // tick, price, remaining, owner, ts)
            rested = remaining
        else:
            cancelled += remaining
    return _OK, filled, rested, cancelled, stp_cancelled, n_fills, n_stp


@njit(cache=True)
def _submit(pool, lv, ht, sc, out, ref, side, price, qty, owner, ts, flags, stp_mode):
    """Validate and match a new order. Returns the tuple of `_match_and_rest`."""
    if ref <= 0:
        return _ERR_REF, 0, 0, 0, 0, 0, 0
    if side != 1 and side != -1:
        return _ERR_SIDE, 0, 0, 0, 0, 0, 0
    if qty <= 0:
        return _ERR_QTY, 0, 0, 0, 0, 0, 0
    tick = sc[_S_TICK]
    if (flags & FLAG_MARKET) == 0 and (price <= 0 or price % tick != 0):
        return _ERR_PRICE, 0, 0, 0, 0, 0, 0
    if _hfind(ht, sc, ref) >= 0:
        return _ERR_DUPLICATE, 0, 0, 0, 0, 0, 0
    if (flags & (FLAG_IOC | FLAG_MARKET)) == 0:
        # Growth must be settled before any matching so a retry starts from a clean state.
        lvl = (price - sc[_S_BASE]) // tick
        if lvl < 0 or lvl >= sc[_S_NLV]:
            return _NEED_LEVELS, 0, 0, 0, 0, 0, 0
        if sc[_S_FREE] < 0:
            return _NEED_POOL, 0, 0, 0, 0, 0, 0
    return _match_and_rest(pool, lv, ht, sc, out, ref, side, price, qty, owner, ts, flags, stp_mode)


@njit(cache=True)
def _amend(pool, lv, ht, sc, out, ref, new_ref, new_qty, new_price, ts, stp_mode):
    """Cancel/replace with NASDAQ priority rules. Returns the tuple of `_match_and_rest`."""
    row = _hfind(ht, sc, ref)
    if row < 0:
        return _ERR_UNKNOWN, 0, 0, 0, 0, 0, 0
    if new_ref <= 0:
        return _ERR_REF, 0, 0, 0, 0, 0, 0
    if new_qty <= 0:
        return _ERR_QTY, 0, 0, 0, 0, 0, 0
    tick = sc[_S_TICK]
    if new_price <= 0 or new_price % tick != 0:
        return _ERR_PRICE, 0, 0, 0, 0, 0, 0
    if new_ref != ref and _hfind(ht, sc, new_ref) >= 0:
        return _ERR_DUPLICATE, 0, 0, 0, 0, 0, 0
    old_qty = pool[row, _P_QTY]
    if new_price == pool[row, _P_PRICE] and new_qty <= old_qty:
        # Same price and not bigger: the order keeps its place in the queue.
        if new_qty < old_qty:
            _reduce(pool, lv, row, old_qty - new_qty)
        if new_ref != ref:
            _hdelete(ht, sc, ref)
            _hinsert(ht, sc, new_ref, row)
            pool[row, _P_REF] = new_ref
        return _OK, 0, new_qty, 0, 0, 0, 0
    lvl = (new_price - sc[_S_BASE]) // tick
    if lvl < 0 or lvl >= sc[_S_NLV]:
        return _NEED_LEVELS, 0, 0, 0, 0, 0, 0
    side = 1 if (pool[row, _P_LVS] & 1) == 0 else -1
    owner = pool[row, _P_OWNER]
    # Removing first frees the row the new order will need and keeps the old order out of
    # its own way (it must not match or STP against itself).
    _remove(pool, lv, ht, sc, row)
    return _match_and_rest(
        pool, lv, ht, sc, out, new_ref, side, new_price, new_qty, owner, ts, 0, stp_mode
    )


# ---------------------------------------------------------------------------------------------
# Kernels: book reconstruction (no matching)
# ---------------------------------------------------------------------------------------------


@njit(cache=True)
def _add(pool, lv, ht, sc, ref, side, price, qty, owner, ts):
    """Append an order to the back of its level without matching. Returns a status."""
    if ref <= 0:
        return _ERR_REF
    if side != 1 and side != -1:
        return _ERR_SIDE
    if qty <= 0:
        return _ERR_QTY
    tick = sc[_S_TICK]
    if price <= 0 or price % tick != 0:
        return _ERR_PRICE
    if _hfind(ht, sc, ref) >= 0:
        return _ERR_DUPLICATE
    lvl = (price - sc[_S_BASE]) // tick
    if lvl < 0 or lvl >= sc[_S_NLV]:
        return _NEED_LEVELS
    if sc[_S_FREE] < 0:
        return _NEED_POOL
    _insert(pool, lv, ht, sc, ref, 0 if side == 1 else 1, lvl, price, qty, owner, ts)
    return _OK


@njit(cache=True)
def _take(pool, lv, ht, sc, ref, qty):
    """Remove `qty` shares (execution or partial cancel). Returns (status, remaining)."""
    row = _hfind(ht, sc, ref)
    if row < 0:
        return _ERR_UNKNOWN, 0
    mq = pool[row, _P_QTY]
    if qty <= 0 or qty > mq:
        return _ERR_QTY, mq
    if qty == mq:
        _remove(pool, lv, ht, sc, row)
        return _OK, 0
    _reduce(pool, lv, row, qty)
    return _OK, mq - qty


@njit(cache=True)
def _delete(pool, lv, ht, sc, ref):
    """Remove an order. Returns (status, shares it had)."""
    row = _hfind(ht, sc, ref)
    if row < 0:
        return _ERR_UNKNOWN, 0
    mq = pool[row, _P_QTY]
    _remove(pool, lv, ht, sc, row)
    return _OK, mq


@njit(cache=True)
def _replace(pool, lv, ht, sc, ref, new_ref, qty, price, ts):
    """ITCH Order Replace: the new order goes to the back, same side and owner."""
    row = _hfind(ht, sc, ref)
    if row < 0:
        return _ERR_UNKNOWN
    if new_ref <= 0:
        return _ERR_REF
    if qty <= 0:
        return _ERR_QTY
    tick = sc[_S_TICK]
    if price <= 0 or price % tick != 0:
        return _ERR_PRICE
    if new_ref != ref and _hfind(ht, sc, new_ref) >= 0:
        return _ERR_DUPLICATE
    lvl = (price - sc[_S_BASE]) // tick
    if lvl < 0 or lvl >= sc[_S_NLV]:
        return _NEED_LEVELS
    s = pool[row, _P_LVS] & 1
    owner = pool[row, _P_OWNER]
    _remove(pool, lv, ht, sc, row)
    _insert(pool, lv, ht, sc, new_ref, s, lvl, price, qty, owner, ts)
    return _OK


# ---------------------------------------------------------------------------------------------
# Kernels: batches
# ---------------------------------------------------------------------------------------------


@njit(cache=True)
def _apply_events(pool, lv, ht, sc, events, start):
    """Apply feed events from `start`. Returns (next index, status, applied).

    Stops early only with a grow status, at the event that needs it, so the wrapper can grow
    and resume there; rejected events are counted in the scalars and skipped.
    """
    applied = 0
    n = events.shape[0]
    for i in range(start, n):
        ev = events[i]
        kind = ev.kind
        if kind == ADD:
            st = _add(
                pool, lv, ht, sc, ev.ref, np.int64(ev.side), ev.price, ev.qty, ev.owner, ev.ts_ns
            )
        elif kind in (CANCEL, EXECUTE):
            st = _take(pool, lv, ht, sc, ev.ref, ev.qty)[0]
        elif kind == DELETE:
            st = _delete(pool, lv, ht, sc, ev.ref)[0]
        elif kind == REPLACE:
            st = _replace(pool, lv, ht, sc, ev.ref, ev.new_ref, ev.qty, ev.price, ev.ts_ns)
        else:
            st = _ERR_KIND
        if st == _OK:
            applied += 1
        elif st >= _NEED_POOL:
            return i, st, applied
        else:
            sc[_S_ERR + st] += 1
    return n, _OK, applied


@njit(cache=True)
def _match_batch(pool, lv, ht, sc, out, orders, start, stp_mode, tot):
    """Run order entry instructions from `start`, accumulating totals into `tot`.

    Returns (next index, status); stops early only with a grow status, like `_apply_events`.
    """
    n = orders.shape[0]
    for i in range(start, n):
        od = orders[i]
        flags = np.int64(od.flags)
        if flags & FLAG_CANCEL:
            st, had = _delete(pool, lv, ht, sc, od.ref)
            if st == _OK:
                tot[5] += had
        else:
            if flags & FLAG_AMEND:
                r = _amend(
                    pool, lv, ht, sc, out, od.ref, od.ref, od.qty, od.price, od.ts_ns, stp_mode
                )
            else:
                r = _submit(
                    pool,
                    lv,
                    ht,
                    sc,
                    out,
                    od.ref,
                    np.int64(od.side),
                    od.price,
                    od.qty,
                    od.owner,
                    od.ts_ns,
                    flags & (FLAG_IOC | FLAG_MARKET),
                    stp_mode,
                )
            st = r[0]
            if st == _OK:
                tot[1] += r[5]
                tot[2] += r[1]
                tot[3] += r[2]
                tot[4] += r[3]
                for k in range(r[6]):
                    tot[5] += out[k, _OUT_STP_QTY]
        if st >= _NEED_POOL:
            return i, st
        if st != _OK:
            sc[_S_ERR + st] += 1
            tot[6] += 1
        tot[0] += 1
    return n, _OK


# ---------------------------------------------------------------------------------------------
# Kernels: queries
# ---------------------------------------------------------------------------------------------


@njit(cache=True)
def _best(lv, sc, s):
    """(price, qty) of the best level of side `s`, or (0, 0) when the side is empty."""
    lvl = sc[_S_BEST + s]
    if lvl < 0:
        return 0, 0
    return sc[_S_BASE] + lvl * sc[_S_TICK], lv[s, lvl, _L_QTY]


@njit(cache=True)
def _depth(lv, sc, s, n, dst):
    """Write up to n levels of side `s` (best first) into dst rows: price, qty, count."""
    lvl = sc[_S_BEST + s]
    if lvl < 0:
        return 0
    far = sc[_S_FAR + s]
    step = 1 if s == 1 else -1
    base = sc[_S_BASE]
    tick = sc[_S_TICK]
    k = 0
    while k < n:
        if lv[s, lvl, _L_CNT] > 0:
            dst[k, 0] = base + lvl * tick
            dst[k, 1] = lv[s, lvl, _L_QTY]
            dst[k, 2] = lv[s, lvl, _L_CNT]
            k += 1
        if lvl == far:
            break
        lvl += step
    return k


@njit(cache=True)
def _order(pool, ht, sc, ref):
    """(found, side, price, remaining, owner) of a live order."""
    row = _hfind(ht, sc, ref)
    if row < 0:
        return False, 0, 0, 0, 0
    side = 1 if (pool[row, _P_LVS] & 1) == 0 else -1
    return True, side, pool[row, _P_PRICE], pool[row, _P_QTY], pool[row, _P_OWNER]


@njit(cache=True)
def _queue_ahead(pool, ht, sc, ref):
    """Shares queued in front of `ref` at its level, or -1 if unknown."""
    row = _hfind(ht, sc, ref)
    if row < 0:
        return -1
    ahead = 0
    row = pool[row, _P_PREV]
    while row >= 0:
        ahead += pool[row, _P_QTY]
        row = pool[row, _P_PREV]
    return ahead


@njit(cache=True)
def _snapshot(pool, lv, sc, dst):
    """Write every live order in priority order (bids best first, then asks) into dst rows:
    ref, side, price, qty, owner, ts. Returns the row count."""
    k = 0
    for s in range(2):
        lvl = sc[_S_BEST + s]
        if lvl < 0:
            continue
        far = sc[_S_FAR + s]
        step = 1 if s == 1 else -1
        while True:
            row = lv[s, lvl, _L_HEAD] if lv[s, lvl, _L_CNT] > 0 else -1
            while row >= 0:
                dst[k, 0] = pool[row, _P_REF]
                dst[k, 1] = 1 if s == 0 else -1
                dst[k, 2] = pool[row, _P_PRICE]
                dst[k, 3] = pool[row, _P_QTY]
                dst[k, 4] = pool[row, _P_OWNER]
                dst[k, 5] = pool[row, _P_TS]
                k += 1
                row = pool[row, _P_NEXT]
            if lvl == far:
                break
            lvl += step
    return k


# ---------------------------------------------------------------------------------------------
# The arena and the entry kernels called from Python
# ---------------------------------------------------------------------------------------------
#
# Numba unboxes every array argument separately (about 0.1 us each), so the five state arrays
# live in one (rows, 8) int64 arena and each entry kernel cuts its views out of it. Rows:
#   [0, 4)                   scalars (32 int64)
#   [4, 4 + cap)             order pool, one row per order
#   [.., + cap)              fill / STP output
#   [.., + n_levels)         levels, viewed as (2, n_levels, 4)
#   [.., + cap // 2)         hash table, viewed as (2 * cap, 2)

_SC_ROWS = _S_SIZE // 8


def _alloc(cap: int, nlv: int) -> np.ndarray:
    """A zeroed arena for `cap` orders and `nlv` levels per side (sizes recorded in it)."""
    mem = np.zeros((_SC_ROWS + 2 * cap + nlv + cap // 2, 8), np.int64)
    sc = mem[:_SC_ROWS].reshape(_S_SIZE)
    sc[_S_CAP] = cap
    sc[_S_NLV] = nlv
    return mem


def _np_views(mem: np.ndarray):
    """(sc, pool, lv, ht, out) numpy views of an arena, as `_views` cuts them in kernels."""
    sc = mem[:_SC_ROWS].reshape(_S_SIZE)
    cap, nlv = int(sc[_S_CAP]), int(sc[_S_NLV])
    p0 = _SC_ROWS
    o0 = p0 + cap
    l0 = o0 + cap
    h0 = l0 + nlv
    lv = mem[l0:h0].reshape((2, nlv, 4))
    ht = mem[h0 : h0 + cap // 2].reshape((2 * cap, 2))
    return sc, mem[p0:o0], lv, ht, mem[o0:l0]


@njit(cache=True)
def _views(mem):
    """(sc, pool, lv, ht, out) views of an arena; see `_np_views`."""
    sc = mem[:_SC_ROWS].reshape(_S_SIZE)
    cap = sc[_S_CAP]
    nlv = sc[_S_NLV]
    p0 = _SC_ROWS
    o0 = p0 + cap
    l0 = o0 + cap
    h0 = l0 + nlv
    lv = mem[l0:h0].reshape((2, nlv, 4))
    ht = mem[h0 : h0 + cap // 2].reshape((2 * cap, 2))
    return sc, mem[p0:o0], lv, ht, mem[o0:l0]


@njit(cache=True)
def _k_submit(mem, ref, side, price, qty, owner, ts, flags, stp_mode):
    sc, pool, lv, ht, out = _views(mem)
    return _submit(pool, lv, ht, sc, out, ref, side, price, qty, owner, ts, flags, stp_mode)


@njit(cache=True)
def _k_amend(mem, ref, new_ref, new_qty, new_price, ts, stp_mode):
    sc, pool, lv, ht, out = _views(mem)
    return _amend(pool, lv, ht, sc, out, ref, new_ref, new_qty, new_price, ts, stp_mode)


@njit(cache=True)
def _k_add(mem, ref, side, price, qty, owner, ts):
    sc, pool, lv, ht, _ = _views(mem)
    return _add(pool, lv, ht, sc, ref, side, price, qty, owner, ts)


@njit(cache=True)
def _k_take(mem, ref, qty):
    sc, pool, lv, ht, _ = _views(mem)
    return _take(pool, lv, ht, sc, ref, qty)


@njit(cache=True)
def _k_delete(mem, ref):
    sc, pool, lv, ht, _ = _views(mem)
    return _delete(pool, lv, ht, sc, ref)


@njit(cache=True)
def _k_replace(mem, ref, new_ref, qty, price, ts):
    sc, pool, lv, ht, _ = _views(mem)
    return _replace(pool, lv, ht, sc, ref, new_ref, qty, price, ts)


@njit(cache=True)
def _k_apply_events(mem, events, start):
    sc, pool, lv, ht, _ = _views(mem)
    return _apply_events(pool, lv, ht, sc, events, start)


@njit(cache=True)
def _k_match_batch(mem, orders, start, stp_mode, tot):
    sc, pool, lv, ht, out = _views(mem)
    return _match_batch(pool, lv, ht, sc, out, orders, start, stp_mode, tot)


@njit(cache=True)
def _k_best(mem, s):
    sc, _, lv, _, _ = _views(mem)
    return _best(lv, sc, s)


@njit(cache=True)
def _k_depth(mem, s, n, dst):
    sc, _, lv, _, _ = _views(mem)
    return _depth(lv, sc, s, n, dst)


@njit(cache=True)
def _k_order(mem, ref):
    sc, pool, _, ht, _ = _views(mem)
    return _order(pool, ht, sc, ref)


@njit(cache=True)
def _k_queue_ahead(mem, ref):
    sc, pool, _, ht, _ = _views(mem)
    return _queue_ahead(pool, ht, sc, ref)


@njit(cache=True)
def _k_contains(mem, ref):
    sc, _, _, ht, _ = _views(mem)
    return _hfind(ht, sc, ref) >= 0


@njit(cache=True)
def _k_snapshot(mem, dst):
    sc, pool, lv, _, _ = _views(mem)
    return _snapshot(pool, lv, sc, dst)


# ---------------------------------------------------------------------------------------------
# Python wrapper
# ---------------------------------------------------------------------------------------------


def _as_int(name: str, value) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None


def _pow2_at_least(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()


class OrderBook:
    """Limit order book of one symbol with price-time priority (see the module docstring).

    `tick_size` (default 100 = one cent) is the price grid: a price that is not a multiple of it
    is refused with InvalidPrice. `capacity` and `levels` are initial sizes; both grow on demand.
    `base_price` optionally centres the initial level window (otherwise the first order does).
    """

    def __init__(
        self,
        tick_size: int = 100,
        capacity: int = 1024,
        levels: int = 4096,
        base_price: int | None = None,
    ):
        tick_size = _as_int("tick_size", tick_size)
        if tick_size <= 0:
            raise ValueError("tick_size must be positive")
        cap = _pow2_at_least(max(16, _as_int("capacity", capacity)))
        nlv = _pow2_at_least(max(64, _as_int("levels", levels)))
        mem = _alloc(0, nlv)
        sc = _np_views(mem)[0]
        sc[_S_TICK] = tick_size
        sc[_S_BEST : _S_BEST + 2] = -1
        sc[_S_FAR : _S_FAR + 2] = -1
        sc[_S_FREE] = -1
        self._bind(mem)
        self._grow_pool(cap)
        # Bumped on every change, so SubmitResult views can tell they went stale.
        self._gen = 0
        if base_price is not None:
            self._recentre(_as_int("base_price", base_price))

    def _bind(self, mem: np.ndarray) -> None:
        """Adopt a (new) arena; the per-region views are for the Python side only (growth,
        checks): kernels get the arena alone and cut their own views."""
        self._mem = mem
        self._sc, self._pool, self._lv, self._ht, self._out = _np_views(mem)

    # -- sizing -------------------------------------------------------------------------------

    @property
    def tick_size(self) -> int:
        """The price grid, in 1e-4 dollars."""
        return int(self._sc[_S_TICK])

    @property
    def capacity(self) -> int:
        """Orders the pool holds before it next grows."""
        return int(self._sc[_S_CAP])

    @property
    def level_window(self) -> tuple[int, int]:
        """(lowest, highest) price the level arrays cover before they next re-base."""
        base = int(self._sc[_S_BASE])
        return base, base + (int(self._sc[_S_NLV]) - 1) * self.tick_size

    def _grow_pool(self, new_cap: int | None = None) -> None:
        """Double the pool (and the hash table, kept at twice the pool so it stays <= 1/2 full)."""
        old_sc, old_pool, old_lv, old_ht = self._sc, self._pool, self._lv, self._ht
        old_cap = old_pool.shape[0]
        if new_cap is None:
            new_cap = old_cap * 2
        mem = _alloc(new_cap, old_lv.shape[1])
        sc, pool, lv, ht, _ = _np_views(mem)
        sc[:] = old_sc
        sc[_S_CAP] = new_cap
        lv[:] = old_lv
        pool[:old_cap] = old_pool
        # New rows join the free list in order, ahead of whatever is still free.
        pool[old_cap:, _P_NEXT] = np.arange(old_cap + 1, new_cap + 1)
        pool[new_cap - 1, _P_NEXT] = old_sc[_S_FREE]
        sc[_S_FREE] = old_cap
        hcap = ht.shape[0]
        sc[_S_HMASK] = hcap - 1
        sc[_S_HSHIFT] = 64 - (hcap.bit_length() - 1)
        _rehash(old_ht, ht, sc)
        self._bind(mem)

    def _recentre(self, price: int) -> None:
        """Move the window of an empty book so that `price` sits in its middle."""
        tick = self.tick_size
        nlv = int(self._sc[_S_NLV])
        base = max(0, (price // tick - nlv // 2) * tick)
        self._sc[_S_BASE] = base

    def _grow_levels(self, price: int) -> None:
        """Re-base and/or enlarge the level window so it covers `price` and every live level."""
        sc = self._sc
        tick = self.tick_size
        if len(self) == 0:
            self._recentre(price)
            return
        base = int(sc[_S_BASE])
        lo = hi = price // tick
        for s in (0, 1):
            if sc[_S_BEST + s] >= 0:
                a, b = sorted((int(sc[_S_BEST + s]), int(sc[_S_FAR + s])))
                lo = min(lo, base // tick + a)
                hi = max(hi, base // tick + b)
        old_nlv = int(sc[_S_NLV])
        span = hi - lo + 1
        nlv = max(old_nlv, _pow2_at_least(span + 2048))
        new_base_ticks = max(0, lo - (nlv - span) // 2)
        if hi - new_base_ticks >= nlv:
            # The window hit price zero: widen it upwards instead.
            nlv = _pow2_at_least(hi - new_base_ticks + 1 + 1024)
        if nlv > _MAX_LEVELS:
            raise InvalidPrice(
                f"price {price} is too far from the book's live prices (more than "
                f"{_MAX_LEVELS} ticks of {tick} would be needed)"
            )
        mem = _alloc(int(sc[_S_CAP]), nlv)
        new_sc, pool, lv, ht, _ = _np_views(mem)
        new_sc[:] = sc
        new_sc[_S_NLV] = nlv
        pool[:] = self._pool
        ht[:] = self._ht
        off = base // tick - new_base_ticks
        # Only the live range is copied; anything outside it is empty by construction.
        a = lo - base // tick
        b = hi - base // tick + 1
        a_old, b_old = max(a, 0), min(b, old_nlv)
        if b_old > a_old:
            lv[:, a_old + off : b_old + off] = self._lv[:, a_old:b_old]
        live = pool[:, _P_QTY] > 0
        pool[live, _P_LVS] += 2 * off
        for s in (0, 1):
            if new_sc[_S_BEST + s] >= 0:
                new_sc[_S_BEST + s] += off
                new_sc[_S_FAR + s] += off
        new_sc[_S_BASE] = new_base_ticks * tick
        self._bind(mem)

    # -- errors -------------------------------------------------------------------------------

    def _fail(self, status: int, ref=None, price=None, qty=None, side=None) -> None:
        """Grow for a grow status (the caller retries), raise for an error status."""
        if status == _NEED_POOL:
            self._grow_pool()
        elif status == _NEED_LEVELS:
            self._grow_levels(price)
        elif status == _ERR_DUPLICATE:
            raise DuplicateOrderRef(f"order ref {ref} is already live")
        elif status == _ERR_UNKNOWN:
            raise UnknownOrderRef(f"no live order with ref {ref}")
        elif status == _ERR_PRICE:
            raise InvalidPrice(
                f"price {price} must be positive and a multiple of the tick size {self.tick_size}"
            )
        elif status == _ERR_QTY:
            raise InvalidQuantity(f"quantity {qty} is not positive or exceeds what is left")
        elif status == _ERR_SIDE:
            raise InvalidSide(f"side {side} is neither BUY (1) nor SELL (-1)")
        elif status == _ERR_REF:
            raise InvalidOrderRef(f"order ref {ref} is not in 1 .. 2**63-1")
        else:  # pragma: no cover - kernels return only the codes above
            raise OrderBookError(f"kernel status {status}")

    @staticmethod
    def _check_ints(**values) -> list[int]:
        """Slow path for arguments that are not plain ints: coerce numpy ints, refuse floats,
        and map values outside int64 to the matching reject."""
        out = []
        for name, v in values.items():
            v = _as_int(name, v)
            if not -_INT64_MAX - 1 <= v <= _INT64_MAX:
                if name in ("ref", "new_ref"):
                    raise InvalidOrderRef(f"order ref {v} is not in 1 .. 2**63-1")
                if name == "live_ref":
                    raise UnknownOrderRef(f"no live order with ref {v}")
                if name in ("price", "new_price"):
                    raise InvalidPrice(f"price {v} is out of range")
                if name in ("qty", "new_qty"):
                    raise InvalidQuantity(f"quantity {v} is out of range")
                if name == "side":
                    raise InvalidSide(f"side {v} is neither BUY (1) nor SELL (-1)")
                raise OverflowError(f"{name}={v} does not fit in int64")
            out.append(v)
        return out

    # -- matching -----------------------------------------------------------------------------

    def submit(
        self,
        ref: int,
        side: int,
        price: int,
        qty: int,
        owner: int = 0,
        ts_ns: int = 0,
        *,
        ioc: bool = False,
        market: bool = False,
        self_trade: str = "cancel_newest",
    ) -> SubmitResult:
        """Match a new order against the opposite side in price-time priority.

        Limit orders trade while the opposite best price is at or better than `price`; market
        orders ignore `price`. What is left rests at the back of its level, unless the order is
        IOC or market, in which case it is cancelled. Fills are at the resting order's price and
        carry match numbers that increase by one per fill across the book, starting at 1.

        Self-trade prevention applies between orders of the same non-zero `owner`:
        "cancel_newest" cancels the incoming order's remainder, "cancel_oldest" cancels the
        resting order and keeps matching, "cancel_both" does both, "none" lets them trade.

        Raises InvalidOrderRef, InvalidSide, InvalidQuantity, InvalidPrice (also for a price off
        the tick grid) or DuplicateOrderRef, in that order of checking, without changing the book.
        """
        stp = SELF_TRADE_MODES.get(self_trade)
        if stp is None:
            raise ValueError(f"self_trade must be one of {sorted(SELF_TRADE_MODES)}")
        if (
            type(ref) is not int
            or type(side) is not int
            or type(price) is not int
            or type(qty) is not int
            or type(owner) is not int
            or type(ts_ns) is not int
        ):
            ref, side, price, qty, owner, ts_ns = self._check_ints(
                ref=ref, side=side, price=price, qty=qty, owner=owner, ts_ns=ts_ns
            )
        flags = (FLAG_IOC if ioc else 0) | (FLAG_MARKET if market else 0)
        while True:
            try:
                r = _k_submit(self._mem, ref, side, price, qty, owner, ts_ns, flags, stp)
            except OverflowError:
                self._check_ints(ref=ref, side=side, price=price, qty=qty, owner=owner, ts_ns=ts_ns)
                raise
            if r[0] == _OK:
                break
            self._fail(r[0], ref=ref, price=price, qty=qty, side=side)
        self._gen += 1
        return SubmitResult(ref, r, self._out, self, self._gen)

    def amend(
        self,
        ref: int,
        new_qty: int,
        new_price: int,
        ts_ns: int = 0,
        *,
        self_trade: str = "cancel_newest",
    ) -> SubmitResult:
        """Change a resting order's remaining quantity and/or price (NASDAQ cancel/replace).

        Same price and `new_qty` not above the remaining quantity: the order keeps its time
        priority (and its timestamp). A price change or a size increase loses priority: the
        order is taken out and re-entered as a new limit order at `ts_ns`, so an amend to a
        crossing price matches (with fills reported as for `submit`) and rests what is left.
        `new_qty` is the new remaining (open) quantity and must be positive; use `delete`
        to cancel.
        """
        return self.amend_replace(ref, ref, new_qty, new_price, ts_ns, self_trade=self_trade)

    def amend_replace(
        self,
        old_ref: int,
        new_ref: int,
        new_qty: int,
        new_price: int,
        ts_ns: int = 0,
        *,
        self_trade: str = "cancel_newest",
    ) -> SubmitResult:
        """`amend` that also gives the order a new ref (OUCH Replace Order), same rules.

        Raises UnknownOrderRef, InvalidOrderRef, InvalidQuantity, InvalidPrice or
        DuplicateOrderRef (new_ref live and different from old_ref), without changing the book.
        """
        stp = SELF_TRADE_MODES.get(self_trade)
        if stp is None:
            raise ValueError(f"self_trade must be one of {sorted(SELF_TRADE_MODES)}")
        if (
            type(old_ref) is not int
            or type(new_ref) is not int
            or type(new_qty) is not int
            or type(new_price) is not int
            or type(ts_ns) is not int
        ):
            old_ref, new_ref, new_qty, new_price, ts_ns = self._check_ints(
                live_ref=old_ref, new_ref=new_ref, new_qty=new_qty, new_price=new_price, ts_ns=ts_ns
            )
        while True:
            try:
                r = _k_amend(self._mem, old_ref, new_ref, new_qty, new_price, ts_ns, stp)
            except OverflowError:
                self._check_ints(
                    live_ref=old_ref,
                    new_ref=new_ref,
                    new_qty=new_qty,
                    new_price=new_price,
                    ts_ns=ts_ns,
                )
                raise
            if r[0] == _OK:
                break
            self._fail(
                r[0], ref=old_ref if r[0] == _ERR_UNKNOWN else new_ref, price=new_price, qty=new_qty
            )
        self._gen += 1
        return SubmitResult(new_ref, r, self._out, self, self._gen)

    # -- reconstruction -----------------------------------------------------------------------

    def add(
        self, ref: int, side: int, price: int, qty: int, owner: int = 0, ts_ns: int = 0
    ) -> None:
        """Append an order at the back of its level without matching (feed Add Order).

        Raises InvalidOrderRef, InvalidSide, InvalidQuantity, InvalidPrice or DuplicateOrderRef.
        """
        if (
            type(ref) is not int
            or type(side) is not int
            or type(price) is not int
            or type(qty) is not int
            or type(owner) is not int
            or type(ts_ns) is not int
        ):
            ref, side, price, qty, owner, ts_ns = self._check_ints(
                ref=ref, side=side, price=price, qty=qty, owner=owner, ts_ns=ts_ns
            )
        while True:
            try:
                st = _k_add(self._mem, ref, side, price, qty, owner, ts_ns)
            except OverflowError:
                self._check_ints(ref=ref, side=side, price=price, qty=qty, owner=owner, ts_ns=ts_ns)
                raise
            if st == _OK:
                break
            self._fail(st, ref=ref, price=price, qty=qty, side=side)
        self._gen += 1

    def execute(self, ref: int, qty: int) -> int:
        """Take `qty` executed shares off an order (feed Order Executed); returns what is left.

        An order executed down to zero is removed. Raises UnknownOrderRef, or InvalidQuantity if
        `qty` is not positive or exceeds the remaining quantity (the book is then unchanged).
        """
        return self._take(ref, qty)

    def cancel(self, ref: int, qty: int) -> int:
        """Remove `qty` shares from an order (feed partial Order Cancel); returns what is left.

        The order keeps its priority; cancelling all that is left removes it. Raises as `execute`.
        """
        return self._take(ref, qty)

    def _take(self, ref, qty) -> int:
        if type(ref) is not int or type(qty) is not int:
            ref, qty = self._check_ints(live_ref=ref, qty=qty)
        try:
            st, left = _k_take(self._mem, ref, qty)
        except OverflowError:
            self._check_ints(live_ref=ref, qty=qty)
            raise
        if st != _OK:
            self._fail(st, ref=ref, qty=qty)
        self._gen += 1
        return left

    def delete(self, ref: int) -> int:
        """Remove an order (feed Order Delete, or a cancel); returns the shares it had left.

        Raises UnknownOrderRef.
        """
        if type(ref) is not int:
            (ref,) = self._check_ints(live_ref=ref)
        try:
            st, had = _k_delete(self._mem, ref)
        except OverflowError:
            self._check_ints(live_ref=ref)
            raise
        if st != _OK:
            self._fail(st, ref=ref)
        self._gen += 1
        return had

    def replace(self, old_ref: int, new_ref: int, qty: int, price: int, ts_ns: int = 0) -> None:
        """Feed Order Replace: delete `old_ref` and add `new_ref` with the same side and owner
        at the back of its level (always losing priority), without matching.

        Raises UnknownOrderRef, InvalidOrderRef, InvalidQuantity, InvalidPrice or
        DuplicateOrderRef, without changing the book.
        """
        if (
            type(old_ref) is not int
            or type(new_ref) is not int
            or type(qty) is not int
            or type(price) is not int
            or type(ts_ns) is not int
        ):
            old_ref, new_ref, qty, price, ts_ns = self._check_ints(
                live_ref=old_ref, new_ref=new_ref, qty=qty, price=price, ts_ns=ts_ns
            )
        while True:
            try:
                st = _k_replace(self._mem, old_ref, new_ref, qty, price, ts_ns)
            except OverflowError:
                self._check_ints(
                    live_ref=old_ref, new_ref=new_ref, qty=qty, price=price, ts_ns=ts_ns
                )
                raise
            if st == _OK:
                break
            self._fail(st, ref=old_ref if st == _ERR_UNKNOWN else new_ref, price=price, qty=qty)
        self._gen += 1

    # -- queries ------------------------------------------------------------------------------

    def best_bid(self) -> tuple[int, int]:
        """(price, total qty) of the best bid level, or (0, 0) when there is no bid."""
        return _k_best(self._mem, 0)

    def best_ask(self) -> tuple[int, int]:
        """(price, total qty) of the best ask level, or (0, 0) when there is no ask."""
        return _k_best(self._mem, 1)

    def depth(self, n: int) -> Depth:
        """The top `n` non-empty levels per side, best first (shorter if the side is thinner)."""
        n = max(0, _as_int("n", n))
        n = min(n, len(self))
        bids = np.empty((n, 3), np.int64)
        asks = np.empty((n, 3), np.int64)
        kb = _k_depth(self._mem, 0, n, bids)
        ka = _k_depth(self._mem, 1, n, asks)
        return Depth(
            bids[:kb, 0], bids[:kb, 1], bids[:kb, 2], asks[:ka, 0], asks[:ka, 1], asks[:ka, 2]
        )

    def order(self, ref: int) -> OrderInfo | None:
        """(side, price, remaining, owner) of a live order, or None."""
        ref = _as_int("ref", ref)
        if not 0 < ref <= _INT64_MAX:
            return None
        found, side, price, qty, owner = _k_order(self._mem, ref)
        return OrderInfo(side, price, qty, owner) if found else None

    def queue_ahead(self, ref: int) -> int:
        """Shares queued in front of a live order at its price level. Raises UnknownOrderRef."""
        ref = _as_int("ref", ref)
        ahead = _k_queue_ahead(self._mem, ref) if 0 < ref <= _INT64_MAX else -1
        if ahead < 0:
            raise UnknownOrderRef(f"no live order with ref {ref}")
        return ahead

    def __contains__(self, ref) -> bool:
        try:
            ref = operator.index(ref)
        except TypeError:
            return False
        if not 0 < ref <= _INT64_MAX:
            return False
        return _k_contains(self._mem, ref)

    def __len__(self) -> int:
        return int(self._sc[_S_COUNT])

    def snapshot(self) -> np.ndarray:
        """All live orders in priority order (bids best first, then asks best first; FIFO
        within a level) as an (n, 6) int64 array: ref, side, price, qty, owner, ts_ns."""
        dst = np.empty((len(self), 6), np.int64)
        k = _k_snapshot(self._mem, dst)
        return dst[:k]

    def __iter__(self) -> Iterator[RestingOrder]:
        """Live orders in priority order (see `snapshot`), e.g. to send a book as Add Orders."""
        return iter([RestingOrder(*row) for row in self.snapshot().tolist()])

    @property
    def last_match_number(self) -> int:
        """The match number of the most recent fill (0 before the first)."""
        return int(self._sc[_S_MATCH])

    @property
    def event_errors(self) -> int:
        """Events and orders rejected (and skipped) by `apply_events` and `match_batch`."""
        return int(self._sc[_S_ERR : _S_ERR + _N_STATUS].sum())

    @property
    def event_error_counts(self) -> dict[str, int]:
        """`event_errors` by reason, e.g. {"unknown_ref": 12}; reasons with no error omitted."""
        counts = self._sc[_S_ERR : _S_ERR + _N_STATUS].tolist()
        return {_STATUS_NAMES[i]: c for i, c in enumerate(counts) if c}

    def check_invariants(self, allow_crossed: bool = False) -> None:
        """Verify the internal structure (for tests; O(book)). Raises AssertionError.

        Checks: the book is not crossed (unless `allow_crossed`: `add` does not match, so a
        reconstructed book may be), every level's total and count equal the sum over its
        FIFO list, links are consistent both ways, best/far levels bound the live levels, and
        the hash table maps exactly the live refs to their rows.
        """
        sc, lv, pool = self._sc, self._lv, self._pool
        base, tick = int(sc[_S_BASE]), self.tick_size
        seen = 0
        for s in (0, 1):
            live_levels = np.nonzero(lv[s, :, _L_CNT])[0]
            best, far = int(sc[_S_BEST + s]), int(sc[_S_FAR + s])
            if len(live_levels) == 0:
                assert best == -1 and far == -1, (s, best, far)
                continue
            lo, hi = int(live_levels[0]), int(live_levels[-1])
            assert (best, far) == ((hi, lo) if s == 0 else (lo, hi)), (s, best, far, lo, hi)
            for lvl in live_levels.tolist():
                row, prev, qty, cnt = int(lv[s, lvl, _L_HEAD]), -1, 0, 0
                while row >= 0:
                    assert pool[row, _P_PREV] == prev
                    assert pool[row, _P_LVS] == lvl * 2 + s
                    assert pool[row, _P_PRICE] == base + lvl * tick
                    assert pool[row, _P_QTY] > 0
                    assert _hfind(self._ht, sc, int(pool[row, _P_REF])) == row
                    qty += int(pool[row, _P_QTY])
                    cnt += 1
                    prev, row = row, int(pool[row, _P_NEXT])
                assert prev == lv[s, lvl, _L_TAIL]
                assert (qty, cnt) == (lv[s, lvl, _L_QTY], lv[s, lvl, _L_CNT]), (s, lvl)
                seen += cnt
            assert not np.any(lv[s, :, _L_QTY][lv[s, :, _L_CNT] == 0])
        assert seen == len(self) == int(np.count_nonzero(self._ht[:, 0]))
        assert seen == int(np.count_nonzero(pool[:, _P_QTY]))
        if not allow_crossed:
            self.assert_not_crossed()

    def assert_not_crossed(self) -> None:
        """Raise AssertionError if the best bid is at or above the best ask."""
        bid, ask = self.best_bid(), self.best_ask()
        if bid[1] and ask[1]:
            assert bid[0] < ask[0], f"crossed book: bid {bid} ask {ask}"

    # -- batches ------------------------------------------------------------------------------

    def apply_events(self, events: np.ndarray) -> int:
        """See the module-level `apply_events`."""
        return apply_events(self, events)

    def match_batch(self, orders: np.ndarray, self_trade: str = "cancel_newest") -> MatchTotals:
        """See the module-level `match_batch`."""
        return match_batch(self, orders, self_trade)

    def __repr__(self) -> str:
        return (
            f"OrderBook(orders={len(self)}, best_bid={self.best_bid()}, "
            f"best_ask={self.best_ask()}, tick_size={self.tick_size})"
        )


def apply_events(book: OrderBook, events: np.ndarray) -> int:
    """Apply an array of BOOK_EVENT_DTYPE feed events to `book` in one compiled loop.

    Kinds: ADD (ref, side, price, qty, owner, ts_ns), CANCEL (ref, qty removed), DELETE (ref),
    EXECUTE (ref, qty executed), REPLACE (ref, new_ref, qty, price, ts_ns). Nothing matches.
    Returns the number of events applied; events that would raise in the single-call methods
    (unknown ref, duplicate ref, bad price/qty/side/kind) are skipped and counted in
    `book.event_errors` / `book.event_error_counts` instead.
    """
    if events.dtype != BOOK_EVENT_DTYPE:
        raise TypeError(f"events must have dtype BOOK_EVENT_DTYPE, not {events.dtype}")
    if events.ndim != 1:
        raise ValueError("events must be one-dimensional")
    i, applied, n = 0, 0, len(events)
    while i < n:
        i, st, a = _k_apply_events(book._mem, events, i)
        applied += a
        if st == _NEED_POOL:
            book._grow_pool()
        elif st == _NEED_LEVELS:
            try:
                book._grow_levels(int(events[i]["price"]))
            except InvalidPrice:
                book._sc[_S_ERR + _ERR_PRICE] += 1
                i += 1
    book._gen += 1
    return applied


def match_batch(
    book: OrderBook, orders: np.ndarray, self_trade: str = "cancel_newest"
) -> MatchTotals:
    """Run an array of ORDER_DTYPE instructions through the matcher in one compiled loop.

    Each row is a `submit` (flags FLAG_IOC / FLAG_MARKET as the keyword arguments), a delete of
    `ref` (FLAG_CANCEL) or an `amend(ref, qty, price)` (FLAG_AMEND). Individual fills are not
    kept (the output buffer is reused per order); the totals are returned. Rejected rows are
    skipped and counted in `MatchTotals.errors` and `book.event_errors`.
    """
    if orders.dtype != ORDER_DTYPE:
        raise TypeError(f"orders must have dtype ORDER_DTYPE, not {orders.dtype}")
    if orders.ndim != 1:
        raise ValueError("orders must be one-dimensional")
    stp = SELF_TRADE_MODES.get(self_trade)
    if stp is None:
        raise ValueError(f"self_trade must be one of {sorted(SELF_TRADE_MODES)}")
    tot = np.zeros(7, np.int64)
    i, n = 0, len(orders)
    while i < n:
        i, st = _k_match_batch(book._mem, orders, i, stp, tot)
        if st == _NEED_POOL:
            book._grow_pool()
        elif st == _NEED_LEVELS:
            try:
                book._grow_levels(int(orders[i]["price"]))
            except InvalidPrice:
                book._sc[_S_ERR + _ERR_PRICE] += 1
                tot[6] += 1
                tot[0] += 1
                i += 1
    book._gen += 1
    return MatchTotals(*tot.tolist())


def warm_up() -> None:
    """Compile (or load from numba's cache) every kernel a book uses, on a throwaway book.

    A process that serves orders calls this before it takes its first one, so that no order
    ever waits for the compiler (seconds on a cold cache).
    """
    book = OrderBook(100, capacity=64, levels=64)
    book.add(1, BUY, 1_000_000, 100, owner=1, ts_ns=1)
    book.submit(2, SELL, 1_000_000, 50, 2, 2, ioc=True)
    book.submit(3, SELL, 1_000_100, 100, 2, 3)
    book.amend(3, 50, 1_000_100, 4)
    book.amend_replace(3, 4, 60, 1_000_200, 5)
    book.replace(1, 5, 40, 999_900, 6)
    book.execute(5, 10)
    book.cancel(5, 10)
    book.queue_ahead(5)
    book.depth(5)
    book.best_bid()
    book.best_ask()
    list(book)
    book.delete(5)
    events = np.zeros(1, dtype=BOOK_EVENT_DTYPE)
    events[0] = (7, 9, 0, 1_000_000, 100, 0, BUY, ADD)
    apply_events(book, events)
    orders = np.zeros(1, dtype=ORDER_DTYPE)
    orders[0] = (10, 1_000_000, 100, 0, 8, SELL, FLAG_IOC)
    match_batch(book, orders)
