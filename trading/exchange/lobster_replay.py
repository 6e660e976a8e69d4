"""Replay a LOBSTER day as an order-by-order feed whose book matches LOBSTER's, row by row.

LOBSTER's message file alone does not rebuild its orderbook file: orders resting before the
file starts, or deeper than the file's depth, surface later without an Add; an order can be
referenced with fewer shares than we know it to have left; a level can appear or disappear
through events the file leaves out.  :class:`LobsterReplay` therefore keeps its own
:class:`~trading.order_book.OrderBook` (``replay.book``) and wraps every LOBSTER row in
*synthetic* events so that a client applying the published events, and nothing else, holds a
book whose top ``levels`` levels per side equal LOBSTER's orderbook row after each row:

1. **Before** the row's event (:meth:`LobsterReplay._prepare`): an order the event references
   but the book does not hold gets a synthetic ``ADD`` with the LOBSTER id and exactly the
   shares the event needs; an order holding fewer shares than a cancel/execution needs (or
   sitting at another price) is moved by a synthetic ``REPLACE`` to a fresh synthetic ref
   with the shares needed, and the LOBSTER id is mapped to that ref from then on.
2. **The event itself**, with LOBSTER's exact size and price (see the mapping below).
3. **After** it (:meth:`LobsterReplay._reconcile`): the top levels are compared with the
   orderbook row.  A level the row shows bigger gets a synthetic ``ADD``; a level it shows
   smaller loses shares through synthetic ``CANCEL``/``DELETE`` (synthetic orders before real
   ones, newest first within each); our levels inside the covered price range that the row
   does not have are emptied, and when the row shows fewer than ``levels`` levels on a side
   (LOBSTER's empty-level sentinels) everything beyond them is emptied too.

Mapping of LOBSTER types: 1 -> ``ADD``, 2 -> ``CANCEL``, 3 -> ``DELETE``, 4 -> ``EXECUTE``
(with a match number), 5 -> ``TRADE`` (hidden execution: order ref 0, LOBSTER's price and
size, ``side`` = the resting order's side = LOBSTER's direction, as in ITCH's Trade message),
6 -> ``CROSS``, 7 -> ``TRADING_ACTION`` (``code`` 'H' halted, 'Q' quotation only, 'T' trading).
Every event carries the row's timestamp (ns since midnight) and row number, so a client can
group events by timestamp or by row.

Orders of the exchange's own clients may rest in ``replay.book`` too (any non-zero
``owner``).  The replay only ever compares, cancels or deletes its own orders (owner 0): it
tracks them in a mirror beside the book, so the top levels it reconciles are the levels of
owner-0 shares only.  When the exchange's matcher executes one of the replay's orders it must
call :meth:`LobsterReplay.note_execution` so the mirror stays in step with the book.

Synthetic refs count up from ``SYNTHETIC_REF_BASE`` (or above the day's largest LOBSTER id if
that is higher), so they never collide with LOBSTER ids; clients' refs should stay at or above
``CLIENT_REF_BASE``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import Counter
from collections.abc import Iterable, Iterator
from enum import IntEnum
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from trading import lobster
from trading.order_book import BOOK_EVENT_DTYPE, BUY, SELL, OrderBook, OrderBookError
from trading.protocols import itch

__all__ = [
    "CLIENT_REF_BASE",
    "SYNTHETIC_REF_BASE",
    "EventKind",
    "LobsterReplay",
    "ReplayError",
    "ReplayEvent",
    "book_events",
    "to_itch",
]

SYNTHETIC_REF_BASE = 1 << 40
"""First synthetic order ref; NASDAQ day-unique refs stay far below it."""

CLIENT_REF_BASE = 1 << 48
"""Suggested first ref for the exchange's own client orders in ``replay.book``."""


class ReplayError(ValueError):
    """A LOBSTER row the book refused (the message names the row); the replay is then spoiled."""


class EventKind(IntEnum):
    """Kinds of :class:`ReplayEvent`; ADD..REPLACE equal the OrderBook feed-event kinds."""

    ADD = 1
    CANCEL = 2
    DELETE = 3
    EXECUTE = 4
    REPLACE = 5
    TRADE = 6  # hidden (non-displayed) execution, no book change
    CROSS = 7  # cross/auction trade, no book change of its own
    TRADING_ACTION = 8  # halt / quotation / resume marker


ADD, CANCEL, DELETE, EXECUTE, REPLACE, TRADE, CROSS, TRADING_ACTION = EventKind
_BOOK_KINDS = frozenset((ADD, CANCEL, DELETE, EXECUTE, REPLACE))


class ReplayEvent(NamedTuple):
    """One published event.

    ``ref``: the order (for REPLACE the old one; 0 for TRADE/CROSS/TRADING_ACTION);
    ``new_ref``: REPLACE's new ref; ``side``: 1 buy / -1 sell of the order (TRADE: of the
    hidden resting order); ``price``: the order's price (REPLACE: the new one), the trade
    price, or for TRADING_ACTION LOBSTER's code (-1 halt, 0 quote, 1 resume); ``shares``:
    added / cancelled / executed / traded shares, the new size for REPLACE and the shares
    removed for DELETE; ``match_number``: EXECUTE, TRADE and CROSS; ``synthetic``: made up by
    the replay rather than read from LOBSTER; ``lobster_row``: the message row this event
    belongs to; ``code``: CROSS type ('O', 'C' or 'H') or trading state ('H', 'Q', 'T').
    """

    ts_ns: int
    kind: EventKind
    ref: int
    new_ref: int
    side: int
    price: int
    shares: int
    match_number: int
    synthetic: bool
    lobster_row: int
    code: str = ""

    @property
    def aggressor_side(self) -> int:
        """For EXECUTE and TRADE, the side of the incoming order (the resting one's opposite)."""
        return -self.side


# Fields of a mirrored order (a list, for speed): side, price, shares left, LOBSTER id (0 for a
# synthetic order).
_SIDE, _PRICE, _QTY, _LID = range(4)

_HALT_CODES = {-1: "H", 0: "Q", 1: "T"}
_NOON_NS = 12 * 3600 * 1_000_000_000


class LobsterReplay:
    """Turn LOBSTER rows into :class:`ReplayEvent` lists, keeping ``book`` equal to LOBSTER.

    ``messages`` is a :data:`trading.lobster.MESSAGE_DTYPE` array, ``orderbook`` the matching
    ``(rows, 4 * levels)`` array; ``levels`` defaults to what the orderbook holds.  Rows must
    be replayed in order: :meth:`events_for` (one row), :meth:`rows` or iterating the replay.
    ``book`` may be passed in (e.g. an exchange's book with client orders already in it).
    """

    def __init__(
        self,
        messages: np.ndarray,
        orderbook: np.ndarray,
        levels: int | None = None,
        tick_size: int = 100,
        *,
        book: OrderBook | None = None,
    ) -> None:
        if len(messages) != len(orderbook):
            raise ValueError(f"{len(messages)} messages but {len(orderbook)} orderbook rows")
        self.levels = lobster.level_count(orderbook) if levels is None else int(levels)
        if not 1 <= self.levels <= lobster.level_count(orderbook):
            raise ValueError(f"levels must be 1..{lobster.level_count(orderbook)}")
        self.book = OrderBook(tick_size) if book is None else book
        self._orderbook = np.ascontiguousarray(orderbook[:, : 4 * self.levels], dtype=np.int64)
        # Python lists: indexing them per row is several times faster than numpy scalars.
        self._ts = messages["ts_ns"].tolist()
        self._kind = messages["kind"].tolist()
        self._oid = messages["order_id"].tolist()
        self._size = messages["size"].tolist()
        self._price = messages["price"].tolist()
        self._dir = messages["direction"].tolist()
        top_id = int(messages["order_id"].max()) if len(messages) else 0
        self._next_ref = max(SYNTHETIC_REF_BASE, top_id + 1)
        self._next_match = 1
        self._next_row = 0
        self._halted = False
        # The mirror of the replay's own (owner 0) orders: ref -> [side, price, qty, lobster id],
        # per side price -> {ref: None} in FIFO order, price -> total shares, sorted prices.
        self._orders: dict[int, list[int]] = {}
        self._queues: dict[int, dict[int, dict[int, None]]] = {BUY: {}, SELL: {}}
        self._qty: dict[int, dict[int, int]] = {BUY: {}, SELL: {}}
        self._prices: dict[int, list[int]] = {BUY: [], SELL: []}
        self._alias: dict[int, int] = {}  # LOBSTER id -> published ref, when they differ
        self._synthetic: Counter[str] = Counter()
        self._reasons: Counter[str] = Counter()
        self._skipped: Counter[str] = Counter()
        # Per-row context, set by events_for.
        self._out: list[ReplayEvent] = []
        self._row = -1
        self._now = 0

    @classmethod
    def from_day(
        cls, day: lobster.LobsterDay, tick_size: int = 100, **kwargs: Any
    ) -> LobsterReplay:
        """A replay of a loaded :class:`~trading.lobster.LobsterDay`."""
        return cls(day.messages, day.orderbook, day.levels, tick_size, **kwargs)

    @classmethod
    def from_files(
        cls, message_path: str | Path, tick_size: int = 100, **kwargs: Any
    ) -> LobsterReplay:
        """A replay of the LOBSTER message file at ``message_path`` and its orderbook file."""
        return cls.from_day(lobster.load_day(message_path), tick_size, **kwargs)

    # -- public state -------------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of LOBSTER rows."""
        return len(self._ts)

    @property
    def next_row(self) -> int:
        """The row :meth:`events_for` expects next."""
        return self._next_row

    @property
    def synthetic_counts(self) -> dict[str, int]:
        """Synthetic events published so far, by kind name (e.g. ``{"ADD": 12, ...}``)."""
        return dict(self._synthetic)

    @property
    def synthetic_reasons(self) -> dict[str, int]:
        """Synthetic events published so far, by why they were needed."""
        return dict(self._reasons)

    @property
    def skipped_counts(self) -> dict[str, int]:
        """LOBSTER rows that published nothing because they could not mean anything, by why."""
        return dict(self._skipped)

    def published_ref(self, lobster_id: int) -> int | None:
        """The ref under which a live LOBSTER order is published, or None if not live."""
        ref = self._alias.get(lobster_id, lobster_id)
        return ref if ref in self._orders else None

    def own_levels(self) -> list[int]:
        """The replay's own (owner 0) top levels in LOBSTER's row layout, empty-level sentinels included."""
        return self._own_row()

    # -- driving ------------------------------------------------------------------------------

    def events_for(self, i: int) -> list[ReplayEvent]:
        """Publish row ``i`` (must be :attr:`next_row`): synthetic fixes, the event, and the
        reconciliation with orderbook row ``i``.  Afterwards ``book``'s owner-0 top levels
        equal that row."""
        if i != self._next_row:
            raise ValueError(f"rows replay in order: expected row {self._next_row}, got {i}")
        out: list[ReplayEvent] = []
        self._out = out
        self._row, self._now = i, self._ts[i]
        row = self._orderbook[i].tolist()
        try:
            self._dispatch(i)
            if self._own_row() != row:
                self._reconcile(row)
        except OrderBookError as exc:
            # E.g. a price off the book's tick grid; the replay cannot go on after this.
            raise ReplayError(f"LOBSTER row {i}: {exc}") from exc
        self._next_row = i + 1
        return out

    def rows(self) -> Iterator[tuple[int, list[ReplayEvent]]]:
        """Yield ``(row, events)`` for every remaining row."""
        for i in range(self._next_row, len(self._ts)):
            yield i, self.events_for(i)

    def __iter__(self) -> Iterator[ReplayEvent]:
        """Every remaining event, in publication order."""
        for _, events in self.rows():
            yield from events

    def note_execution(self, ref: int, shares: int) -> None:
        """Tell the replay that the exchange's matcher executed ``shares`` of its order ``ref``
        in ``book`` (the book is already changed; only the replay's mirror is updated)."""
        order = self._orders.get(ref)
        if order is None:
            raise KeyError(f"order {ref} is not one of the replay's live orders")
        if not 0 < shares <= order[_QTY]:
            raise ValueError(f"cannot execute {shares} of the {order[_QTY]} shares of {ref}")
        self._mirror_take(ref, order, shares)

    # -- one LOBSTER row ----------------------------------------------------------------------

    def _dispatch(self, i: int) -> None:
        kind, oid, size = self._kind[i], self._oid[i], self._size[i]
        price, side = self._price[i], self._dir[i]
        if kind == lobster.ADD:
            self._on_add(oid, side, price, size)
        elif kind in (lobster.CANCEL, lobster.EXECUTE_VISIBLE):
            self._on_take(kind, oid, side, price, size)
        elif kind == lobster.DELETE:
            self._on_delete(oid, side, price, size)
        elif kind == lobster.EXECUTE_HIDDEN:
            self._emit(TRADE, 0, 0, side, price, size, self._match(), False)
        elif kind == lobster.CROSS:
            code = "O" if self._now < _NOON_NS else "C"
            self._emit(
                CROSS, 0, 0, 0, price, size, self._match(), False, "H" if self._halted else code
            )
        elif kind == lobster.HALT:
            self._halted = price != 1
            self._emit(TRADING_ACTION, 0, 0, 0, price, 0, 0, False, _HALT_CODES.get(price, "H"))

    def _on_add(self, oid: int, side: int, price: int, size: int) -> None:
        if size <= 0 or oid <= 0:
            self._skipped["add without shares or id"] += 1
            return
        ref = self.published_ref(oid)
        if ref is not None:
            # The id is reused while we still hold it: the old order must have gone unseen.
            self._delete(ref, "duplicate_add")
        self._add(oid, side, price, size, oid, None)

    def _on_take(self, kind: int, oid: int, side: int, price: int, size: int) -> None:
        if size <= 0:
            self._skipped["cancel/execution without shares"] += 1
            return
        ref = self._prepare(oid, side, price, size)
        if kind == lobster.CANCEL:
            self._take(ref, size, CANCEL, 0, None)
        else:
            self._take(ref, size, EXECUTE, self._match(), None)

    def _on_delete(self, oid: int, side: int, price: int, size: int) -> None:
        ref = self.published_ref(oid) if oid > 0 else None
        if ref is None:
            ref = self._prepare(oid, side, price, max(size, 1), exact=True)
        self._delete(ref, None)

    def _prepare(self, oid: int, side: int, price: int, need: int, exact: bool = False) -> int:
        """Make sure an order for LOBSTER id ``oid`` rests at ``price`` with >= ``need`` shares,
        publishing synthetic fixes if not; return its published ref.  ``exact``: the event
        removes the whole order, so only exactly ``need`` shares avoid a later correction."""
        ref = self.published_ref(oid) if oid > 0 else None
        if ref is not None and self._orders[ref][_SIDE] != side:
            self._delete(ref, "side_mismatch")
            ref = None
        if ref is None:
            return self._surface(oid, side, price, need, exact)
        order = self._orders[ref]
        if order[_PRICE] != price or order[_QTY] < need:
            reason = "price_mismatch" if order[_PRICE] != price else "short_order"
            shares = max(order[_QTY], need) if order[_PRICE] != price else need
            new_ref = self._new_ref()
            self._replace(ref, new_ref, shares, price, reason)
            ref = new_ref
        return ref

    def _surface(self, oid: int, side: int, price: int, need: int, exact: bool) -> int:
        """Publish an order we do not hold.  Its shares are usually already in the level as
        synthetic shares (it rested before the file starts, or deeper than the file shows), so
        renaming a synthetic order that is big enough saves adding now and cancelling later."""
        if oid <= 0:
            ref = self._new_ref()
            self._add(ref, side, price, need, 0, "unknown_order")
            return ref
        donor = self._synthetic_donor(side, price, need, exact)
        if donor is None:
            self._add(oid, side, price, need, oid, "unknown_order")
        else:
            self._replace(donor, oid, self._orders[donor][_QTY], price, "unknown_order", oid)
        return oid

    def _synthetic_donor(self, side: int, price: int, need: int, exact: bool) -> int | None:
        """The newest synthetic order at the level with ``need`` (or, not exact, more) shares."""
        queue = self._queues[side].get(price)
        if queue is None:
            return None
        for ref in reversed(queue):
            order = self._orders[ref]
            if order[_LID] == 0 and (order[_QTY] == need or (order[_QTY] > need and not exact)):
                return ref
        return None

    # -- reconciliation -----------------------------------------------------------------------

    def _own_row(self) -> list[int]:
        """Owner-0 top levels as a LOBSTER orderbook row (ask_p, ask_s, bid_p, bid_s, ...)."""
        asks, bids = self._prices[SELL], self._prices[BUY]
        ask_qty, bid_qty = self._qty[SELL], self._qty[BUY]
        n_asks, n_bids = len(asks), len(bids)
        row: list[int] = []
        for k in range(self.levels):
            if k < n_asks:
                p = asks[k]
                row += (p, ask_qty[p])
            else:
                row += (lobster.EMPTY_ASK, 0)
            if k < n_bids:
                p = bids[n_bids - 1 - k]
                row += (p, bid_qty[p])
            else:
                row += (lobster.EMPTY_BID, 0)
        return row

    def _wanted(self, row: list[int], side: int) -> list[tuple[int, int]]:
        """The (price, size) levels the row shows for ``side``, best first, empty-level sentinels cut."""
        col = 2 if side == BUY else 0
        wanted = []
        for k in range(self.levels):
            price, size = row[4 * k + col], row[4 * k + col + 1]
            if size <= 0 or price in (lobster.EMPTY_ASK, lobster.EMPTY_BID):
                break
            wanted.append((price, size))
        return wanted

    def _covered(self, side: int, wanted: list[tuple[int, int]]) -> list[int]:
        """Our prices on ``side`` that the row speaks for: up to its last level, or all of them
        when the row shows fewer levels than the file covers (the side has no more)."""
        prices = self._prices[side]
        if len(wanted) < self.levels:
            return list(prices)
        edge = wanted[-1][0]
        if side == SELL:
            return prices[: bisect_right(prices, edge)]
        return prices[bisect_left(prices, edge) :]

    def _reconcile(self, row: list[int]) -> None:
        """Bring the owner-0 top levels to ``row``: shrink first, so no step crosses the book."""
        wanted = {side: self._wanted(row, side) for side in (SELL, BUY)}
        for side in (SELL, BUY):
            target = dict(wanted[side])
            for price in self._covered(side, wanted[side]):
                extra = self._qty[side][price] - target.get(price, 0)
                if extra > 0:
                    reason = "level_down" if price in target else "level_gone"
                    self._shrink(side, price, extra, reason)
        for side in (SELL, BUY):
            for price, size in wanted[side]:
                missing = size - self._qty[side].get(price, 0)
                if missing > 0:
                    self._add(self._new_ref(), side, price, missing, 0, "level_up")

    def _shrink(self, side: int, price: int, shares: int, reason: str) -> None:
        """Remove ``shares`` at a level: synthetic orders first, then real ones, newest first."""
        newest_first = list(reversed(self._queues[side][price]))
        for want_synthetic in (True, False):
            for ref in newest_first:
                if shares == 0:
                    return
                order = self._orders.get(ref)
                if order is None or (order[_LID] == 0) != want_synthetic:
                    continue
                if order[_QTY] <= shares:
                    shares -= order[_QTY]
                    self._delete(ref, reason)
                else:
                    self._take(ref, shares, CANCEL, 0, reason)
                    shares = 0

    # -- publishing: book, mirror and event list in one place ---------------------------------

    def _new_ref(self) -> int:
        ref = self._next_ref
        self._next_ref += 1
        return ref

    def _match(self) -> int:
        number = self._next_match
        self._next_match += 1
        return number

    def _emit(
        self,
        kind: EventKind,
        ref: int,
        new_ref: int,
        side: int,
        price: int,
        shares: int,
        match: int,
        synthetic: bool,
        code: str = "",
    ) -> None:
        self._out.append(
            ReplayEvent(
                self._now,
                kind,
                ref,
                new_ref,
                side,
                price,
                shares,
                match,
                synthetic,
                self._row,
                code,
            )
        )

    def _count(self, kind: EventKind, reason: str | None) -> bool:
        """Count a synthetic event (``reason`` not None); returns whether it is synthetic."""
        if reason is None:
            return False
        self._synthetic[kind.name] += 1
        self._reasons[reason] += 1
        return True

    def _add(
        self, ref: int, side: int, price: int, shares: int, lid: int, reason: str | None
    ) -> None:
        self.book.add(ref, side, price, shares, 0, self._now)
        self._link(ref, [side, price, shares, lid])
        self._emit(ADD, ref, 0, side, price, shares, 0, self._count(ADD, reason))

    def _take(self, ref: int, shares: int, kind: EventKind, match: int, reason: str | None) -> None:
        order = self._orders[ref]
        if kind == EXECUTE:
            self.book.execute(ref, shares)
        else:
            self.book.cancel(ref, shares)
        self._mirror_take(ref, order, shares)
        synthetic = self._count(kind, reason)
        self._emit(kind, ref, 0, order[_SIDE], order[_PRICE], shares, match, synthetic)

    def _delete(self, ref: int, reason: str | None) -> None:
        self.book.delete(ref)
        order = self._unlink(ref)
        synthetic = self._count(DELETE, reason)
        self._emit(DELETE, ref, 0, order[_SIDE], order[_PRICE], order[_QTY], 0, synthetic)

    def _replace(
        self, ref: int, new_ref: int, shares: int, price: int, reason: str, lid: int | None = None
    ) -> None:
        """Publish a REPLACE; ``lid`` gives the new order a LOBSTER id (default: the old one's)."""
        self.book.replace(ref, new_ref, shares, price, self._now)
        order = self._unlink(ref)
        side = order[_SIDE]
        lid = order[_LID] if lid is None else lid
        self._link(new_ref, [side, price, shares, lid])
        if lid and lid != new_ref:
            self._alias[lid] = new_ref
        self._emit(REPLACE, ref, new_ref, side, price, shares, 0, self._count(REPLACE, reason))

    def _link(self, ref: int, order: list[int]) -> None:
        side, price = order[_SIDE], order[_PRICE]
        self._orders[ref] = order
        queue = self._queues[side].get(price)
        if queue is None:
            queue = self._queues[side][price] = {}
            self._qty[side][price] = 0
            insort(self._prices[side], price)
        queue[ref] = None
        self._qty[side][price] += order[_QTY]

    def _unlink(self, ref: int) -> list[int]:
        order = self._orders.pop(ref)
        side, price = order[_SIDE], order[_PRICE]
        queue = self._queues[side][price]
        del queue[ref]
        if queue:
            self._qty[side][price] -= order[_QTY]
        else:
            del self._queues[side][price], self._qty[side][price]
            prices = self._prices[side]
            del prices[bisect_left(prices, price)]
        lid = order[_LID]
        if lid and self._alias.get(lid) == ref:
            del self._alias[lid]
        return order

    def _mirror_take(self, ref: int, order: list[int], shares: int) -> None:
        if order[_QTY] == shares:
            self._unlink(ref)
            order[_QTY] = 0
        else:
            order[_QTY] -= shares
            self._qty[order[_SIDE]][order[_PRICE]] -= shares


# --------------------------------------------------------------------------------------------
# Conversions
# --------------------------------------------------------------------------------------------


def book_events(events: Iterable[ReplayEvent]) -> np.ndarray:
    """The book-changing events as a ``BOOK_EVENT_DTYPE`` array, for ``OrderBook.apply_events``
    (TRADE, CROSS and TRADING_ACTION leave the book alone and are dropped)."""
    rows = [
        (e.ts_ns, e.ref, e.new_ref, e.price, e.shares, 0, e.side, int(e.kind))
        for e in events
        if e.kind in _BOOK_KINDS
    ]
    out = np.zeros(len(rows), dtype=BOOK_EVENT_DTYPE)
    if rows:
        for name, column in zip(
            ("ts_ns", "ref", "new_ref", "price", "qty", "owner", "side", "kind"),
            zip(*rows, strict=True),
            strict=True,
        ):
            out[name] = column
    return out


def _side_char(side: int) -> str:
    return "B" if side == BUY else "S"


def to_itch(event: ReplayEvent, stock_locate: int, stock: str, tracking_number: int = 0) -> Any:
    """The ITCH 5.0 message object (``trading.protocols.itch``) that publishes ``event``."""
    head = (stock_locate, tracking_number, event.ts_ns)
    kind = event.kind
    if kind == ADD:
        return itch.AddOrder(
            *head, event.ref, _side_char(event.side), event.shares, stock, event.price
        )
    if kind == EXECUTE:
        return itch.OrderExecuted(*head, event.ref, event.shares, event.match_number)
    if kind == CANCEL:
        return itch.OrderCancel(*head, event.ref, event.shares)
    if kind == DELETE:
        return itch.OrderDelete(*head, event.ref)
    if kind == REPLACE:
        return itch.OrderReplace(*head, event.ref, event.new_ref, event.shares, event.price)
    if kind == TRADE:
        return itch.Trade(
            *head, 0, _side_char(event.side), event.shares, stock, event.price, event.match_number
        )
    if kind == CROSS:
        return itch.CrossTrade(
            *head, event.shares, stock, event.price, event.match_number, event.code or "O"
        )
    if kind == TRADING_ACTION:
        return itch.StockTradingAction(*head, stock, event.code or "H", " ", "")
    raise ValueError(f"unknown replay event kind {kind!r}")
