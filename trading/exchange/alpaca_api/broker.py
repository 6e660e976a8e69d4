"""Alpaca orders on the simulator's venue: entry, cancel, replace, stops, fills and events.

An Alpaca order becomes an OUCH order of the account at the venue, under an order token of its
own (`~A` and a serial number), so OUCH clients, Alpaca clients and the background flow all
trade in the same books. The venue's answers for those tokens come here instead of the
account's OUCH stream and turn into Alpaca order states and trade_updates events; every other
answer for the account still goes to its OUCH stream and is only read here for the fills.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from trading.exchange.alpaca_api.ledger import AccountBook, Position, position_json
from trading.exchange.alpaca_api.orders import (
    NOT_YET_LIVE,
    AlpacaOrder,
    OrderSpec,
)
from trading.exchange.alpaca_api.wire import (
    CODE_FORBIDDEN,
    CODE_UNPROCESSABLE,
    ApiError,
    invalid,
    money,
    new_id,
    not_found,
    timestamp,
)
from trading.order_book import BUY, SELL
from trading.protocols import ouch

if TYPE_CHECKING:
    from trading.exchange.server import ExchangeServer

TOKEN_PREFIX = "~A"
_TOKEN_PREFIX_BYTES = TOKEN_PREFIX.encode()
_TOKEN_DIGITS = 12
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Outbound OUCH messages that change an order (every one carries its token at bytes 9-23).
_ORDER_MESSAGES = frozenset(
    cls.MESSAGE_TYPE[0]
    for cls in (
        ouch.Accepted, ouch.Replaced, ouch.Canceled, ouch.AiqCanceled, ouch.Executed,
        ouch.ExecutedWithReferencePrice, ouch.Rejected, ouch.OrderModified,
    )
)  # fmt: skip
_ACCEPTED = ouch.Accepted.MESSAGE_TYPE[0]
_REPLACED = ouch.Replaced.MESSAGE_TYPE[0]
_EXECUTED = ouch.Executed.MESSAGE_TYPE[0]
_EXECUTED_WITH_REFERENCE = ouch.ExecutedWithReferencePrice.MESSAGE_TYPE[0]
_CANCELED = ouch.Canceled.MESSAGE_TYPE[0]
_AIQ_CANCELED = ouch.AiqCanceled.MESSAGE_TYPE[0]
_MODIFIED = ouch.OrderModified.MESSAGE_TYPE[0]
_BUY = ord(ouch.BUY)
_U32 = struct.Struct(">I")
_U32X2 = struct.Struct(">II")
_PREVIOUS_TOKEN = slice(65, 79)  # Replaced: the previous order token
_TIF = {
    "day": ouch.TIF_MARKET_HOURS,
    "gtc": ouch.TIF_SYSTEM_HOURS,
    "ioc": ouch.TIF_IMMEDIATE_OR_CANCEL,
    "fok": ouch.TIF_IMMEDIATE_OR_CANCEL,
}
_EXPIRY_REASONS = frozenset({ouch.CancelReason.TIMEOUT, ouch.CancelReason.CLOSED})

TradeListener = Callable[[dict[str, Any]], None]


class AlpacaBroker:
    """Every account's Alpaca orders, cash and positions, kept on the exchange's loop."""

    def __init__(self, exchange: ExchangeServer) -> None:
        self.exchange = exchange
        self.venue = exchange.venue
        self.tick = exchange.ex.tick_size
        self.books: dict[str, AccountBook] = {}
        self.orders: dict[str, AlpacaOrder] = {}
        self.account_orders: dict[str, list[AlpacaOrder]] = {}
        self.client_ids: dict[tuple[str, str], AlpacaOrder] = {}
        self.by_token: dict[tuple[str, str], AlpacaOrder] = {}
        self.stops: list[AlpacaOrder] = []  # stop orders waiting for their trigger
        # OUCH clients' live orders by (username, raw token): [symbol, is buy, open shares].
        self.ouch_orders: dict[tuple[str, bytes], list[Any]] = {}
        self.listeners: dict[str, set[TradeListener]] = {}
        self.reject_next = 0  # fault injection: reject this many new orders
        self.next_token = 1

    # -- accounts -----------------------------------------------------------------------------

    def book(self, username: str) -> AccountBook:
        book = self.books.get(username)
        if book is None:
            book = self.books[username] = AccountBook(username, _now())
        return book

    def mark(self, symbol: str) -> int:
        """The price positions are valued at: last trade, else the mid, else the opening."""
        state = self.venue.symbols[symbol]
        if state.last_trade_price:
            return state.last_trade_price
        bid, ask = state.book.best_bid()[0], state.book.best_ask()[0]
        if bid and ask:
            return (bid + ask) // 2
        return state.reference_price

    def marks(self, book: AccountBook) -> dict[str, int]:
        return {symbol: self.mark(symbol) for symbol in book.positions}

    def open_order_value(self, username: str) -> int:
        """What the account's open Alpaca buy orders would cost (it holds buying power)."""
        total = 0
        for order in self.account_orders.get(username, ()):
            if order.open and order.side == "buy":
                total += order.leaves_qty * self._order_price(order)
        return total

    def account_json(self, username: str) -> dict[str, Any]:
        book = self.book(username)
        return book.account_json(self.marks(book), self.open_order_value(username))

    def positions_json(self, username: str) -> list[dict[str, Any]]:
        book = self.book(username)
        return [self._position_json(s, p) for s, p in sorted(book.positions.items())]

    def position_json(self, username: str, symbol: str) -> dict[str, Any]:
        position = self.book(username).positions.get(symbol.upper())
        if position is None:
            raise not_found("position does not exist")
        return self._position_json(symbol.upper(), position)

    def _position_json(self, symbol: str, position: Position) -> dict[str, Any]:
        lastday = self.venue.symbols[symbol].reference_price
        return position_json(symbol, position, self.mark(symbol), lastday)

    # -- trade updates ------------------------------------------------------------------------

    def listen(self, username: str, listener: TradeListener) -> None:
        self.listeners.setdefault(username, set()).add(listener)

    def unlisten(self, username: str, listener: TradeListener) -> None:
        self.listeners.get(username, set()).discard(listener)

    def _emit(self, order: AlpacaOrder, event: str, now_ns: int, **fill: Any) -> None:
        order.events.append(event)
        listeners = self.listeners.get(order.account)
        if not listeners:
            return
        data: dict[str, Any] = {
            "event": event,
            "execution_id": new_id(),
            "order": order.to_json(),
            "timestamp": timestamp(now_ns),
            **fill,
        }
        for listener in list(listeners):
            listener(data)

    # -- orders -------------------------------------------------------------------------------

    def order(self, username: str, order_id: str) -> AlpacaOrder:
        order = self.orders.get(order_id)
        if order is None or order.account != username:
            raise not_found("order not found")
        return order

    def by_client_order_id(self, username: str, client_order_id: str) -> AlpacaOrder:
        order = self.client_ids.get((username, client_order_id))
        if order is None:
            raise not_found("order not found")
        return order

    def submit(self, username: str, spec: OrderSpec) -> AlpacaOrder:
        """A new order: checked, recorded, and sent to the venue (or held until its stop)."""
        client_order_id = spec.client_order_id or new_id()
        if (username, client_order_id) in self.client_ids:
            raise invalid("client_order_id must be unique")
        state = self.venue.symbols[spec.symbol]
        if state.halted:
            raise ApiError(403, CODE_FORBIDDEN, f"asset {spec.symbol} is halted")
        if spec.qty > self.exchange.ex.max_order_shares:
            raise invalid(f"qty must be at most {self.exchange.ex.max_order_shares}")
        self._check_buying_power(username, spec)
        now = _now()
        order = AlpacaOrder(
            new_id(), username, client_order_id, spec.symbol, spec.qty, spec.side, spec.type,
            spec.time_in_force, spec.limit_price, spec.stop_price, spec.extended_hours, now,
            updated_ns=now,
        )  # fmt: skip
        self._record(order)
        if self.reject_next > 0:
            self.reject_next -= 1
            self._rejected(order, now)
            return order
        if spec.type in ("stop", "stop_limit"):
            order.status = "new"
            self._emit(order, "new", now)
            self.stops.append(order)
            last = state.last_trade_price
            if last and self._stop_reached(order, last):
                self._trigger(order)
            return order
        self._send_new(order)
        return order

    def cancel(self, username: str, order_id: str) -> None:
        """DELETE /v2/orders/{id}."""
        order = self.order(username, order_id)
        if not order.open:
            raise ApiError(422, CODE_UNPROCESSABLE, f'order is already in "{order.status}" state')
        if order.status in ("pending_new", "pending_cancel", "pending_replace"):
            raise ApiError(422, CODE_UNPROCESSABLE, f'order is in "{order.status}" state')
        if not order.triggered and order in self.stops:
            self.stops.remove(order)
            self._closed(order, "canceled", _now())
            return
        message = ouch.CancelOrder(order.token, 0)
        self._to_venue(username, message, lambda: None)
        if order.open:
            order.status = "pending_cancel"

    def cancel_all(self, username: str) -> list[dict[str, Any]]:
        """DELETE /v2/orders: one entry per open order, as Alpaca's 207 multi-status answer."""
        answers = []
        for order in list(self.account_orders.get(username, ())):
            if not order.open:
                continue
            try:
                self.cancel(username, order.id)
            except ApiError as exc:
                answers.append({"id": order.id, "status": exc.status, "body": exc.body()})
            else:
                answers.append({"id": order.id, "status": 200, "body": order.to_json()})
        return answers

    def replace(self, username: str, order_id: str, changes: dict[str, Any]) -> AlpacaOrder:
        """PATCH /v2/orders/{id}: a new order that replaces the old one at the venue."""
        old = self.order(username, order_id)
        if not old.open or old.status in NOT_YET_LIVE:
            raise ApiError(
                422, CODE_UNPROCESSABLE, f'order is in "{old.status}" state: cannot replace'
            )
        if old.type in ("market",) or (old.type == "stop" and old.triggered):
            raise ApiError(422, CODE_UNPROCESSABLE, "a market order cannot be replaced")
        client_order_id = changes.get("client_order_id") or new_id()
        if (username, client_order_id) in self.client_ids:
            raise invalid("client_order_id must be unique")
        now = _now()
        new = AlpacaOrder(
            new_id(), username, client_order_id, old.symbol, changes.get("qty", old.qty),
            old.side, old.type, changes.get("time_in_force", old.time_in_force),
            changes.get("limit_price", old.limit_price), changes.get("stop_price", old.stop_price),
            old.extended_hours, now, updated_ns=now, replaces=old.id,
            filled_qty=old.filled_qty, filled_value=old.filled_value,
        )  # fmt: skip
        if new.time_in_force in ("ioc", "fok") and new.time_in_force != old.time_in_force:
            raise invalid("time_in_force can only be changed to day or gtc")
        if not old.triggered and old in self.stops:
            self._record(new)
            self.stops.remove(old)
            self._replaced(old, new, now)
            self.stops.append(new)
            last = self.venue.symbols[new.symbol].last_trade_price
            if last and self._stop_reached(new, last):
                self._trigger(new)
            return new
        new.triggered = True
        price = self._venue_price(new)
        side = BUY if new.side == "buy" else SELL
        state = self.venue.symbols[new.symbol]
        if state.halted:
            raise ApiError(403, CODE_FORBIDDEN, f"asset {new.symbol} is halted")
        if self.venue._price_reject_reason(state, side, price, self.exchange.clock()):
            raise invalid(f"limit_price {money(price)} is outside the simulator's price collar")
        self._record(new)
        new.token = self._new_token()
        self.by_token[(username, new.token)] = new
        old.status = "pending_replace"
        message = ouch.ReplaceOrder(
            old.token, new.token, new.qty, price, _TIF[new.time_in_force], "Y", "N", 0
        )
        self._to_venue(username, message, lambda: self._replace_done(old, new))
        return new

    def close_position(
        self, username: str, symbol: str, qty: int | None, percentage: Any
    ) -> AlpacaOrder:
        """DELETE /v2/positions/{symbol}: a market order for (part of) the position."""
        symbol = symbol.upper()
        held = self.book(username).position_qty(symbol)
        if not held:
            raise not_found("position does not exist")
        if qty is None and percentage is not None:
            qty = int(abs(held) * percentage // 100)
        qty = abs(held) if qty is None else qty
        if qty <= 0 or qty > abs(held):
            raise ApiError(
                403, CODE_FORBIDDEN, "insufficient qty available for order",
                available=str(abs(held)), existing_qty=str(abs(held)), held_for_orders="0",
                symbol=symbol,
            )  # fmt: skip
        spec = OrderSpec(
            symbol, qty, "sell" if held > 0 else "buy", "market", "day", None, None, None, False
        )
        return self.submit(username, spec)

    # -- the venue's answers ------------------------------------------------------------------

    def on_client_message(self, username: str, payload: bytes) -> bool:
        """An OUCH answer to `username`; True when it was for an Alpaca order (taken here)."""
        if payload[0] not in _ORDER_MESSAGES:
            return False
        if payload[9:11] == _TOKEN_PREFIX_BYTES:
            self._alpaca_answer(username, ouch.decode_outbound(payload))
            return True
        self._ouch_answer(username, payload)
        return False

    def _ouch_answer(self, username: str, payload: bytes) -> None:
        """Follow an OUCH client's orders just enough to book their fills.

        This runs for every OUCH answer while the endpoint is served, so it reads the few
        fields it needs at their fixed offsets instead of decoding whole messages.
        """
        kind = payload[0]
        orders = self.ouch_orders
        key = (username, payload[9:23])
        if kind == _ACCEPTED:
            stock = payload[28:36].decode("ascii").rstrip()
            orders[key] = [stock, payload[23] == _BUY, _U32.unpack_from(payload, 24)[0]]
        elif kind in (_EXECUTED, _EXECUTED_WITH_REFERENCE):
            entry = orders.get(key)
            if entry is not None:
                shares, price = _U32X2.unpack_from(payload, 23)
                self.book(username).fill(entry[0], entry[1], shares, price)
                entry[2] -= shares
                if entry[2] <= 0:
                    del orders[key]
        elif kind in (_CANCELED, _AIQ_CANCELED):
            entry = orders.get(key)
            if entry is not None:
                entry[2] -= _U32.unpack_from(payload, 23)[0]
                if entry[2] <= 0:
                    del orders[key]
        elif kind == _REPLACED:
            entry = orders.pop((username, payload[_PREVIOUS_TOKEN]), None)
            if entry is not None:
                entry[2] = _U32.unpack_from(payload, 24)[0]
                orders[key] = entry
        elif kind == _MODIFIED:
            entry = orders.get(key)
            if entry is not None:
                entry[2] = _U32.unpack_from(payload, 24)[0]

    def _alpaca_answer(self, username: str, m: Any) -> None:
        kind = type(m)
        token = m.replacement_order_token if kind is ouch.Replaced else m.order_token
        order = self.by_token.get((username, token))
        if order is None:
            self.exchange.logger.warning("%s: answer for unknown Alpaca token %r", username, token)
            return
        now = _now()
        order.updated_ns = now
        if kind is ouch.Accepted:
            if order.status in ("pending_new", "accepted"):
                order.status = "new"
                self._emit(order, "new", now)
        elif kind is ouch.Executed or kind is ouch.ExecutedWithReferencePrice:
            self._fill(order, m.executed_shares, m.execution_price, now)
        elif kind is ouch.Canceled or kind is ouch.AiqCanceled:
            self._venue_canceled(order, m.reason, now)
        elif kind is ouch.Rejected:
            self.by_token.pop((username, token), None)
            self._rejected(order, now)
        elif kind is ouch.Replaced:
            old = self.orders.get(order.replaces or "")
            if old is not None:
                self.by_token.pop((username, old.token), None)
                self._replaced(old, order, now)

    def _fill(self, order: AlpacaOrder, shares: int, price: int, now: int) -> None:
        order.filled_qty += shares
        order.filled_value += shares * price
        position = self.book(order.account).fill(order.symbol, order.side == "buy", shares, price)
        done = order.filled_qty >= order.qty
        if done:
            order.status = "filled"
            order.filled_ns = now
            self.by_token.pop((order.account, order.token), None)
        elif order.status != "pending_cancel":
            order.status = "partially_filled"
        self._emit(
            order, "fill" if done else "partial_fill", now,
            price=money(price), qty=str(shares), position_qty=str(position),
        )  # fmt: skip

    def _venue_canceled(self, order: AlpacaOrder, reason: str, now: int) -> None:
        # (An invalid replace also ends here: the venue cancels the order it would replace.)
        self.by_token.pop((order.account, order.token), None)
        status = "expired" if reason in _EXPIRY_REASONS else "canceled"
        self._closed(order, status, now)

    def _closed(self, order: AlpacaOrder, status: str, now: int) -> None:
        order.status = status
        order.updated_ns = now
        if status == "expired":
            order.expired_ns = now
        else:
            order.canceled_ns = now
        self._emit(order, status, now)

    def _rejected(self, order: AlpacaOrder, now: int) -> None:
        order.status = "rejected"
        order.failed_ns = now
        order.updated_ns = now
        self._emit(order, "rejected", now)

    def _replaced(self, old: AlpacaOrder, new: AlpacaOrder, now: int) -> None:
        old.status = "replaced"
        old.replaced_ns = now
        old.replaced_by = new.id
        old.updated_ns = now
        self._emit(old, "replaced", now)
        new.status = "partially_filled" if new.filled_qty else "new"
        self._emit(new, "new", now)

    def _replace_done(self, old: AlpacaOrder, new: AlpacaOrder) -> None:
        """After the venue took the replace: if it ignored it, the replacement is rejected."""
        if new.status != "pending_new":
            return
        self.by_token.pop((new.account, new.token), None)
        now = _now()
        if old.status == "pending_replace":
            old.status = "partially_filled" if old.filled_qty else "new"
            if not old.open:
                old.status = "canceled"
        self._rejected(new, now)

    # -- stops and the venue ------------------------------------------------------------------

    def on_trade(self, symbol: str, price: int) -> None:
        """A trade printed: stop orders whose stop it reached go to the venue (after the
        current matching step, never inside it)."""
        if not self.stops:
            return
        reached = [o for o in self.stops if o.symbol == symbol and self._stop_reached(o, price)]
        if reached:
            loop = asyncio.get_running_loop()
            for order in reached:
                loop.call_soon(self._trigger, order)

    @staticmethod
    def _stop_reached(order: AlpacaOrder, price: int) -> bool:
        assert order.stop_price is not None
        return price >= order.stop_price if order.side == "buy" else price <= order.stop_price

    def _trigger(self, order: AlpacaOrder) -> None:
        if order not in self.stops or not order.open:
            return
        self.stops.remove(order)
        order.triggered = True
        self._send_new(order)

    def _send_new(self, order: AlpacaOrder) -> None:
        order.token = self._new_token()
        self.by_token[(order.account, order.token)] = order
        tif = _TIF[order.time_in_force]
        price = self._venue_price(order)
        minimum = order.qty - order.filled_qty if order.time_in_force == "fok" else 0
        message = ouch.EnterOrder(
            order.token, ouch.BUY if order.side == "buy" else ouch.SELL,
            order.qty - order.filled_qty, order.symbol, price, tif, "", "Y", "P", "N", minimum,
            "N", " ",
        )  # fmt: skip
        self._to_venue(order.account, message, lambda: self._entry_done(order))

    def _entry_done(self, order: AlpacaOrder) -> None:
        if order.status == "pending_new" and (order.account, order.token) in self.by_token:
            # The venue said nothing (a token it had seen): the order never reached a book.
            self.by_token.pop((order.account, order.token), None)
            self._rejected(order, _now())

    def _to_venue(self, username: str, message: Any, after: Callable[[], None]) -> None:
        exchange = self.exchange

        def act() -> None:
            exchange.venue.handle(username, message, exchange.clock())
            after()

        if exchange.order_delay.delay_s:
            exchange.order_delay.submit(act)
        else:
            act()

    def _venue_price(self, order: AlpacaOrder) -> int:
        if order.type in ("limit", "stop_limit"):
            assert order.limit_price is not None
            return order.limit_price
        return ouch.PRICE_MARKET_CROSS

    def _order_price(self, order: AlpacaOrder) -> int:
        if order.limit_price is not None:
            return order.limit_price
        if order.stop_price is not None:
            return order.stop_price
        return self.mark(order.symbol)

    def _check_buying_power(self, username: str, spec: OrderSpec) -> None:
        book = self.book(username)
        price = spec.limit_price or spec.stop_price or self.mark(spec.symbol)
        held = book.position_qty(spec.symbol)
        if spec.side == "buy":
            opening = max(0, spec.qty - max(0, -held))
        else:
            opening = max(0, spec.qty - max(0, held))
        cost = opening * price
        if not cost:
            return
        power = book.buying_power(self.marks(book), self.open_order_value(username))
        if cost > power:
            raise ApiError(
                403, CODE_FORBIDDEN, "insufficient buying power",
                buying_power=money(power), cost_basis=money(cost),
            )  # fmt: skip

    def _new_token(self) -> str:
        n = self.next_token
        self.next_token += 1
        digits = []
        for _ in range(_TOKEN_DIGITS):
            n, digit = divmod(n, 36)
            digits.append(_BASE36[digit])
        return TOKEN_PREFIX + "".join(reversed(digits))

    def _record(self, order: AlpacaOrder) -> None:
        self.orders[order.id] = order
        self.account_orders.setdefault(order.account, []).append(order)
        self.client_ids[(order.account, order.client_order_id)] = order


def _now() -> int:
    """Wall-clock nanoseconds at Alpaca's precision (microseconds), so a time a client read
    back from an order compares equal to the order's own."""
    return time.time_ns() // 1000 * 1000
