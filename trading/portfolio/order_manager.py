"""The engine's book of its own orders (OMS): ids, states, fills and in-flight exposure.

Life of an order::

    NEW (sent, not acked) -> ACCEPTED -> PARTIALLY_FILLED -> FILLED
                           \\-> REJECTED (reason)
    any live state -> CANCEL_PENDING -> CANCELLED (or back, if the cancel is rejected)
    any live state -> REPLACED (its replacement carries on under a new order id)

FILLED, CANCELLED, REJECTED and REPLACED are terminal: the order leaves the working set at
once, so nothing counts it as live any more. Venue events that do not fit (fills for
unknown or finished orders, duplicate fills, overfills, acks out of order) are returned as
`Anomaly` values for the engine to log and act on; they never change state silently.

Prices are integers of 1e-4 dollars, quantities shares, times int64 ns. Pure Python, no I/O.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from enum import StrEnum

from trading.model.orders import BUY, Fill, OrderIntent, TimeInForce


class OrderState(StrEnum):
    """Where one of our orders stands."""

    NEW = "NEW"
    ACCEPTED = "ACCEPTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCEL_PENDING = "CANCEL_PENDING"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    REPLACED = "REPLACED"


TERMINAL_STATES = frozenset(
    {OrderState.FILLED, OrderState.CANCELLED, OrderState.REJECTED, OrderState.REPLACED}
)


class AnomalyKind(StrEnum):
    """Why a venue event could not be applied as it stands."""

    UNKNOWN_ORDER = "UNKNOWN_ORDER"  # no order with this id was ever sent
    TERMINAL_ORDER = "TERMINAL_ORDER"  # the order is already finished
    DUPLICATE_FILL = "DUPLICATE_FILL"  # same (order_id, match_number) seen before
    OVERFILL = "OVERFILL"  # more shares filled than the order had open (applied anyway)
    MISMATCH = "MISMATCH"  # fill symbol or side differs from the order's
    UNEXPECTED = "UNEXPECTED"  # an event the order's state does not allow


@dataclass(slots=True, frozen=True)
class Anomaly:
    """A venue event that did not fit our view of an order."""

    kind: AnomalyKind
    order_id: int
    detail: str = ""
    fill: Fill | None = None


@dataclass(slots=True)
class ManagedOrder:
    """One of our orders and everything the venue has told us about it."""

    order_id: int
    symbol: str
    side: int
    qty: int  # shares ordered (for a replacement: its open quantity when sent)
    price: int
    sent_ns: int
    tif: TimeInForce = TimeInForce.DAY
    strategy: str = ""
    reduce_only: bool = False
    state: OrderState = OrderState.NEW
    filled_qty: int = 0
    fill_notional: int = 0  # sum of fill qty x fill price
    cancelled_qty: int = 0
    accepted: bool = False  # the venue's accept message arrived
    acked_ns: int = 0
    done_ns: int = 0
    reason: str = ""  # reject or cancel reason
    replaces: int = 0  # the order id this one replaces, if any
    replaced_by: int = 0
    pending_since_ns: int = 0  # when the request now awaiting an answer was sent
    overdue: bool = False  # already reported by expire_unacked for that request
    match_numbers: set[int] = field(default_factory=set)
    resume_state: OrderState = OrderState.NEW  # where a rejected cancel leaves the order

    @property
    def is_terminal(self) -> bool:
        """True once the order can trade no more."""
        return self.state in TERMINAL_STATES

    @property
    def working_qty(self) -> int:
        """Shares still open on the venue (0 once terminal)."""
        if self.is_terminal:
            return 0
        return max(self.qty - self.filled_qty - self.cancelled_qty, 0)

    @property
    def avg_fill_price(self) -> float:
        """Average fill price in price units (0.0 before any fill)."""
        return self.fill_notional / self.filled_qty if self.filled_qty else 0.0

    @property
    def is_acked(self) -> bool:
        """True once the venue has accepted the order (or filled it, which implies it)."""
        return self.accepted or self.filled_qty > 0


@dataclass(slots=True, frozen=True)
class OpenExposure:
    """Live (unfinished, acked or not) order quantity and notional on one symbol."""

    buy_qty: int = 0
    sell_qty: int = 0
    buy_notional: int = 0  # qty x limit price, 1e-4 $; market orders (price 0) add nothing
    sell_notional: int = 0
    unacked_orders: int = 0


class OrderManager:
    """Assigns order ids and tracks our orders from sending to their final state."""

    def __init__(self, first_order_id: int = 1, retained_finished: int = 10_000) -> None:
        self._next_id = first_order_id
        self.orders: dict[int, ManagedOrder] = {}
        self._working: dict[int, ManagedOrder] = {}
        # Finished orders are kept for late answers (a fill racing a cancel) up to this many;
        # older ones are forgotten so a long session's memory stays flat.
        self._finished: deque[int] = deque()
        self._retained = retained_finished
        self.anomaly_counts: Counter[AnomalyKind] = Counter()

    def adopt(self, order: ManagedOrder) -> None:
        """Take back a live order after a restart (from the ledger); later ids come after it."""
        self.orders[order.order_id] = order
        if not order.is_terminal:
            self._working[order.order_id] = order
        self._next_id = max(self._next_id, order.order_id + 1)

    # -- requests from the engine ---------------------------------------------------------

    def new_order(self, intent: OrderIntent, now_ns: int) -> ManagedOrder:
        """Record an order about to be sent; it gets the next order id and state NEW."""
        if intent.qty <= 0 or intent.side not in (1, -1):
            raise ValueError(f"bad order intent: {intent}")
        order = ManagedOrder(
            order_id=self._take_id(),
            symbol=intent.symbol,
            side=intent.side,
            qty=intent.qty,
            price=intent.price,
            sent_ns=now_ns,
            tif=intent.tif,
            strategy=intent.strategy,
            reduce_only=intent.reduce_only,
            pending_since_ns=now_ns,
        )
        self.orders[order.order_id] = order
        self._working[order.order_id] = order
        return order

    def request_cancel(self, order_id: int, now_ns: int) -> bool:
        """Note that a cancel was sent; False (send nothing) if the order is not live."""
        order = self._working.get(order_id)
        if order is None:
            return False
        if order.state is not OrderState.CANCEL_PENDING:
            order.resume_state = order.state
            order.state = OrderState.CANCEL_PENDING
        order.pending_since_ns = now_ns
        order.overdue = False
        return True

    def request_replace(self, order_id: int, qty: int, price: int, now_ns: int) -> ManagedOrder:
        """Record a replace request: a NEW replacement order with `qty` open at `price`.

        The original stays live until the venue confirms, so during the replace both
        count towards open exposure; risk over-counts rather than under-counts.
        """
        old = self._working.get(order_id)
        if old is None:
            raise KeyError(f"order {order_id} is not live")
        intent = OrderIntent(
            old.symbol, old.side, qty, price, old.tif, old.strategy, old.reduce_only
        )
        new = self.new_order(intent, now_ns)
        new.replaces = order_id
        return new

    # -- events from the venue ------------------------------------------------------------

    def on_accepted(self, order_id: int, now_ns: int) -> Anomaly | None:
        """The venue accepted the order."""
        order, anomaly = self._live(order_id, "accept")
        if order is None:
            return anomaly
        if order.accepted:
            return self._anomaly(AnomalyKind.UNEXPECTED, order_id, "accepted twice")
        order.accepted = True
        order.acked_ns = now_ns
        if order.state is OrderState.NEW:
            order.state = OrderState.ACCEPTED
            order.pending_since_ns = 0
        elif order.state is OrderState.CANCEL_PENDING and order.resume_state is OrderState.NEW:
            # a cancel sent before the ack: if the cancel fails we must not go back to NEW
            order.resume_state = OrderState.ACCEPTED
        order.overdue = False
        return None

    def on_fill(self, fill: Fill) -> Anomaly | None:
        """An execution of one of our orders.

        Fills for unknown or finished orders, duplicates and symbol/side mismatches are
        returned as anomalies and not applied. An overfill is applied (the venue's fill is
        the truth) and returned as an anomaly too.
        """
        order, anomaly = self._live(fill.order_id, "fill", fill)
        if order is None:
            return anomaly
        if fill.symbol != order.symbol or fill.side != order.side or fill.qty <= 0:
            return self._anomaly(AnomalyKind.MISMATCH, order.order_id, "fill", fill)
        if fill.match_number:
            if fill.match_number in order.match_numbers:
                return self._anomaly(AnomalyKind.DUPLICATE_FILL, order.order_id, "", fill)
            order.match_numbers.add(fill.match_number)
        open_before = order.working_qty
        order.filled_qty += fill.qty
        order.fill_notional += fill.qty * fill.price
        self._after_fill(order, fill.ts_ns)
        if fill.qty > open_before:
            detail = f"filled {fill.qty} with {open_before} open"
            return self._anomaly(AnomalyKind.OVERFILL, order.order_id, detail, fill)
        return None

    def on_cancelled(
        self, order_id: int, qty: int, reason: str = "", now_ns: int = 0
    ) -> Anomaly | None:
        """The venue cancelled `qty` shares (all or part of what was open).

        Unsolicited cancels (IOC remainders, venue-side cancels) arrive the same way.
        """
        order, anomaly = self._live(order_id, "cancel")
        if order is None:
            return anomaly
        cancelled = min(qty, order.working_qty)
        order.cancelled_qty += cancelled
        order.reason = reason
        if order.working_qty == 0:
            self._finish(order, OrderState.CANCELLED, now_ns)
        elif order.state is OrderState.CANCEL_PENDING:
            # a partial cancel (a size reduction) leaves the order working as before
            self._settle_cancel(order)
        if qty > cancelled:
            return self._anomaly(
                AnomalyKind.UNEXPECTED, order_id, f"cancelled {qty} with {cancelled} open"
            )
        return None

    def on_cancel_rejected(self, order_id: int, reason: str = "") -> Anomaly | None:
        """The venue refused our cancel (e.g. too late): the order keeps working."""
        finished = self.orders.get(order_id)
        if finished is not None and finished.is_terminal:
            # The cancel crossed the order's last fill or cancel on the wire: the ordinary
            # race of cancelling a live order, not a fault.
            return None
        order, anomaly = self._live(order_id, "cancel reject")
        if order is None:
            return anomaly
        if order.state is not OrderState.CANCEL_PENDING:
            return self._anomaly(AnomalyKind.UNEXPECTED, order_id, "no cancel was pending")
        order.reason = reason
        self._settle_cancel(order)
        return None

    def on_rejected(self, order_id: int, reason: str, now_ns: int = 0) -> Anomaly | None:
        """The venue rejected an order it had not accepted."""
        order, anomaly = self._live(order_id, "reject")
        if order is None:
            return anomaly
        if order.is_acked:
            return self._anomaly(AnomalyKind.UNEXPECTED, order_id, "reject after accept")
        order.reason = reason
        self._finish(order, OrderState.REJECTED, now_ns)
        return None

    def on_replaced(
        self, order_id: int, new_order_id: int, qty: int, price: int, now_ns: int
    ) -> Anomaly | None:
        """The venue replaced `order_id` by `new_order_id`, open `qty` at `price`.

        The venue's `qty` wins over what we asked, since fills on the original may have
        arrived in between.
        """
        old, anomaly = self._live(order_id, "replace")
        if old is None:
            return anomaly
        new = self._working.get(new_order_id)
        if new is None or new.replaces != order_id:
            return self._anomaly(AnomalyKind.UNEXPECTED, order_id, f"replaced by {new_order_id}")
        old.replaced_by = new_order_id
        self._finish(old, OrderState.REPLACED, now_ns)
        new.qty = new.filled_qty + new.cancelled_qty + qty
        new.price = price
        return self.on_accepted(new_order_id, now_ns)

    # -- queries ----------------------------------------------------------------------------

    def get(self, order_id: int) -> ManagedOrder | None:
        """Any order we sent, live or finished."""
        return self.orders.get(order_id)

    def working_orders(self, symbol: str | None = None) -> list[ManagedOrder]:
        """Live orders (acked or not), oldest first, optionally for one symbol."""
        return [o for o in self._working.values() if symbol is None or o.symbol == symbol]

    def open_exposure(self, symbol: str) -> OpenExposure:
        """Open quantity and notional per side on `symbol`, counting orders not yet acked."""
        buy_qty = sell_qty = buy_notional = sell_notional = unacked = 0
        for order in self.working_orders(symbol):
            qty = order.working_qty
            if order.side == BUY:
                buy_qty += qty
                buy_notional += qty * order.price
            else:
                sell_qty += qty
                sell_notional += qty * order.price
            unacked += not order.is_acked
        return OpenExposure(buy_qty, sell_qty, buy_notional, sell_notional, unacked)

    def expire_unacked(self, now_ns: int, timeout_ns: int) -> list[ManagedOrder]:
        """Live orders whose last request (send or cancel) got no answer within `timeout_ns`.

        Each overdue request is reported once, so the engine can cancel or query the order
        without being told again on every call; a new request re-arms the timer.
        """
        expired = []
        for order in self._working.values():
            waiting = order.state in (OrderState.NEW, OrderState.CANCEL_PENDING)
            if waiting and not order.overdue and now_ns - order.pending_since_ns >= timeout_ns:
                order.overdue = True
                expired.append(order)
        return expired

    # -- internals --------------------------------------------------------------------------

    def _take_id(self) -> int:
        order_id = self._next_id
        self._next_id += 1
        return order_id

    def _live(
        self, order_id: int, event: str, fill: Fill | None = None
    ) -> tuple[ManagedOrder | None, Anomaly | None]:
        order = self.orders.get(order_id)
        if order is None:
            return None, self._anomaly(AnomalyKind.UNKNOWN_ORDER, order_id, event, fill)
        if order.is_terminal:
            detail = f"{event} on {order.state}"
            return None, self._anomaly(AnomalyKind.TERMINAL_ORDER, order_id, detail, fill)
        return order, None

    def _anomaly(
        self, kind: AnomalyKind, order_id: int, detail: str, fill: Fill | None = None
    ) -> Anomaly:
        self.anomaly_counts[kind] += 1
        return Anomaly(kind, order_id, detail, fill)

    def _after_fill(self, order: ManagedOrder, now_ns: int) -> None:
        if order.working_qty == 0:
            self._finish(order, OrderState.FILLED, now_ns)
            return
        if order.state is OrderState.CANCEL_PENDING:
            # still waiting for the cancel; remember where it goes if the cancel fails
            order.resume_state = OrderState.PARTIALLY_FILLED
        else:
            order.state = OrderState.PARTIALLY_FILLED
            order.pending_since_ns = 0  # a fill is as good as an ack

    def _settle_cancel(self, order: ManagedOrder) -> None:
        order.state = order.resume_state
        order.overdue = False
        # an order still unacked keeps timing its ack from when it was sent
        order.pending_since_ns = order.sent_ns if order.state is OrderState.NEW else 0

    def _finish(self, order: ManagedOrder, state: OrderState, now_ns: int) -> None:
        order.state = state
        order.done_ns = now_ns
        order.overdue = False
        if self._working.pop(order.order_id, None) is not None:
            finished = self._finished
            finished.append(order.order_id)
            if len(finished) > self._retained:
                self.orders.pop(finished.popleft(), None)
