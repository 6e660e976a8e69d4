"""A plain-Python limit order book with the same public methods and semantics as `OrderBook`.

It favours being obviously correct over being fast (dicts of dicts, sorting on every query), and
exists so tests can run the same operations on both books and compare fills and depth. It has no
batch kernels. Validation checks happen in the same order as in `OrderBook`, so the same bad call
raises the same exception from both.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from trading.order_book import (
    BUY,
    SELF_TRADE_MODES,
    SELL,
    Depth,
    DuplicateOrderRef,
    Fill,
    InvalidOrderRef,
    InvalidPrice,
    InvalidQuantity,
    InvalidSide,
    OrderInfo,
    RestingOrder,
    SubmitResult,
    UnknownOrderRef,
)

_INT64_MAX = (1 << 63) - 1


def _stp_mode(name: str) -> int:
    if name not in SELF_TRADE_MODES:
        raise ValueError(f"self_trade must be one of {sorted(SELF_TRADE_MODES)}")
    return SELF_TRADE_MODES[name]


@dataclass
class _Order:
    ref: int
    side: int
    price: int
    qty: int
    owner: int
    ts_ns: int


class ReferenceBook:
    """Price-time priority book: per side, price -> {ref: order} in arrival (FIFO) order."""

    def __init__(self, tick_size: int = 100):
        self.tick_size = tick_size
        self._orders: dict[int, _Order] = {}
        self._levels: dict[int, dict[int, dict[int, _Order]]] = {BUY: {}, SELL: {}}
        self.last_match_number = 0

    # -- validation (same order of checks as OrderBook) -----------------------------------------

    def _check_ref(self, ref: int) -> None:
        if not 0 < ref <= _INT64_MAX:
            raise InvalidOrderRef(ref)

    def _check_side(self, side: int) -> None:
        if side not in (BUY, SELL):
            raise InvalidSide(side)

    def _check_qty(self, qty: int) -> None:
        if not 0 < qty <= _INT64_MAX:
            raise InvalidQuantity(qty)

    def _check_price(self, price: int) -> None:
        if not 0 < price <= _INT64_MAX or price % self.tick_size:
            raise InvalidPrice(price)

    def _check_new(self, ref: int) -> None:
        if ref in self._orders:
            raise DuplicateOrderRef(ref)

    def _live(self, ref: int) -> _Order:
        if ref not in self._orders:
            raise UnknownOrderRef(ref)
        return self._orders[ref]

    # -- queue primitives -----------------------------------------------------------------------

    def _rest(self, o: _Order) -> None:
        self._orders[o.ref] = o
        self._levels[o.side].setdefault(o.price, {})[o.ref] = o

    def _unlink(self, o: _Order) -> None:
        del self._orders[o.ref]
        level = self._levels[o.side][o.price]
        del level[o.ref]
        if not level:
            del self._levels[o.side][o.price]

    def _best_price(self, side: int) -> int | None:
        prices = self._levels[side]
        if not prices:
            return None
        return max(prices) if side == BUY else min(prices)

    # -- matching -----------------------------------------------------------------------------

    def _match(self, o: _Order, can_rest: bool, market: bool, stp: int) -> SubmitResult:
        fills: list[Fill] = []
        stp_cancels: list[tuple[int, int]] = []
        stp_cancelled = 0
        contra = -o.side
        while o.qty > 0:
            best = self._best_price(contra)
            if best is None:
                break
            if not market and (best > o.price if o.side == BUY else best < o.price):
                break
            maker = next(iter(self._levels[contra][best].values()))
            if stp != 0 and o.owner != 0 and maker.owner == o.owner:
                if stp in (SELF_TRADE_MODES["cancel_oldest"], SELF_TRADE_MODES["cancel_both"]):
                    stp_cancels.append((maker.ref, maker.qty))
                    self._unlink(maker)
                if stp in (SELF_TRADE_MODES["cancel_newest"], SELF_TRADE_MODES["cancel_both"]):
                    stp_cancelled = o.qty
                    o.qty = 0
                continue
            q = min(o.qty, maker.qty)
            self.last_match_number += 1
            maker.qty -= q
            o.qty -= q
            fills.append(Fill(maker.ref, maker.owner, best, q, self.last_match_number, maker.qty))
            if maker.qty == 0:
                self._unlink(maker)
        filled = sum(f.qty for f in fills)
        resting = cancelled = 0
        if o.qty > 0 and can_rest:
            resting = o.qty
            self._rest(o)
        else:
            cancelled = o.qty + stp_cancelled
        rows = max(len(fills), len(stp_cancels))
        out = np.zeros((rows, 8), np.int64)
        for i, f in enumerate(fills):
            out[i, :6] = f
        for i, c in enumerate(stp_cancels):
            out[i, 6:] = c
        counts = (0, filled, resting, cancelled, stp_cancelled, len(fills), len(stp_cancels))
        return SubmitResult(o.ref, counts, out)

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
        """Match a new order, then rest (limit) or cancel (IOC, market) the remainder."""
        stp = _stp_mode(self_trade)
        self._check_ref(ref)
        self._check_side(side)
        self._check_qty(qty)
        if not market:
            self._check_price(price)
        self._check_new(ref)
        o = _Order(ref, side, price, qty, owner, ts_ns)
        return self._match(o, not (ioc or market), market, stp)

    def amend(
        self,
        ref: int,
        new_qty: int,
        new_price: int,
        ts_ns: int = 0,
        *,
        self_trade: str = "cancel_newest",
    ) -> SubmitResult:
        """Same price and not bigger keeps priority; otherwise re-enter as a new limit order."""
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
        """`amend` giving the order a new ref."""
        stp = _stp_mode(self_trade)
        o = self._live(old_ref)
        self._check_ref(new_ref)
        self._check_qty(new_qty)
        self._check_price(new_price)
        if new_ref != old_ref:
            self._check_new(new_ref)
        if new_price == o.price and new_qty <= o.qty:
            o.qty = new_qty
            if new_ref != old_ref:
                # Rebuild the level dict so the renamed order keeps its place in the queue.
                level = self._levels[o.side][o.price]
                items = [(new_ref if r == old_ref else r, x) for r, x in level.items()]
                level.clear()
                level.update(items)
                del self._orders[old_ref]
                o.ref = new_ref
                self._orders[new_ref] = o
            return SubmitResult(new_ref, (0, 0, new_qty, 0, 0, 0, 0), np.zeros((0, 8), np.int64))
        self._unlink(o)
        new = _Order(new_ref, o.side, new_price, new_qty, o.owner, ts_ns)
        return self._match(new, True, False, stp)

    # -- reconstruction -----------------------------------------------------------------------

    def add(
        self, ref: int, side: int, price: int, qty: int, owner: int = 0, ts_ns: int = 0
    ) -> None:
        """Append at the back of the level, no matching."""
        self._check_ref(ref)
        self._check_side(side)
        self._check_qty(qty)
        self._check_price(price)
        self._check_new(ref)
        self._rest(_Order(ref, side, price, qty, owner, ts_ns))

    def execute(self, ref: int, qty: int) -> int:
        """Take executed shares off an order; returns what is left."""
        return self._take(ref, qty)

    def cancel(self, ref: int, qty: int) -> int:
        """Take cancelled shares off an order; returns what is left."""
        return self._take(ref, qty)

    def _take(self, ref: int, qty: int) -> int:
        o = self._live(ref)
        if qty <= 0 or qty > o.qty:
            raise InvalidQuantity(qty)
        o.qty -= qty
        if o.qty == 0:
            self._unlink(o)
        return o.qty

    def delete(self, ref: int) -> int:
        """Remove an order; returns the shares it had left."""
        o = self._live(ref)
        self._unlink(o)
        return o.qty

    def replace(self, old_ref: int, new_ref: int, qty: int, price: int, ts_ns: int = 0) -> None:
        """Delete old_ref and add new_ref (same side/owner) at the back, no matching."""
        o = self._live(old_ref)
        self._check_ref(new_ref)
        self._check_qty(qty)
        self._check_price(price)
        if new_ref != old_ref:
            self._check_new(new_ref)
        self._unlink(o)
        self._rest(_Order(new_ref, o.side, price, qty, o.owner, ts_ns))

    # -- queries ------------------------------------------------------------------------------

    def _level_list(self, side: int) -> list[tuple[int, int, int]]:
        levels = self._levels[side]
        prices = sorted(levels, reverse=(side == BUY))
        return [(p, sum(o.qty for o in levels[p].values()), len(levels[p])) for p in prices]

    def best_bid(self) -> tuple[int, int]:
        """(price, qty) of the best bid, or (0, 0)."""
        levels = self._level_list(BUY)
        return levels[0][:2] if levels else (0, 0)

    def best_ask(self) -> tuple[int, int]:
        """(price, qty) of the best ask, or (0, 0)."""
        levels = self._level_list(SELL)
        return levels[0][:2] if levels else (0, 0)

    def depth(self, n: int) -> Depth:
        """Top n levels per side as arrays (prices, qtys, counts), best first."""
        cols = []
        for side in (BUY, SELL):
            rows = self._level_list(side)[: max(0, n)]
            arr = np.array(rows, np.int64).reshape(-1, 3)
            cols += [arr[:, 0], arr[:, 1], arr[:, 2]]
        return Depth(*cols)

    def order(self, ref: int) -> OrderInfo | None:
        """(side, price, remaining, owner) or None."""
        o = self._orders.get(ref)
        return None if o is None else OrderInfo(o.side, o.price, o.qty, o.owner)

    def queue_ahead(self, ref: int) -> int:
        """Shares in front of the order at its level."""
        o = self._live(ref)
        ahead = 0
        for other in self._levels[o.side][o.price].values():
            if other is o:
                return ahead
            ahead += other.qty
        raise AssertionError("order missing from its level")

    def __contains__(self, ref) -> bool:
        return ref in self._orders

    def __len__(self) -> int:
        return len(self._orders)

    def __iter__(self) -> Iterator[RestingOrder]:
        """Live orders: bids best first, then asks best first, FIFO within a level."""
        for side in (BUY, SELL):
            levels = self._levels[side]
            for p in sorted(levels, reverse=(side == BUY)):
                for o in levels[p].values():
                    yield RestingOrder(o.ref, o.side, o.price, o.qty, o.owner, o.ts_ns)
