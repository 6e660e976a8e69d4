"""The venue: order entry rules, matching and market-data events, independent of the wire.

The venue takes decoded OUCH 4.2 requests and agent actions, runs them through one `OrderBook`
per symbol, and emits OUCH messages to the owning account and ITCH 5.0 messages to the feed
through two callbacks (message objects, or on the order-entry hot path their encoded bytes). It holds no sockets and no clock of its own (time comes in as
nanoseconds since midnight), so it runs the same in the server, in tests and in benchmarks.

Rules, as NASDAQ applies them to OUCH 4.2 orders:
- Order tokens are day-unique per account; an Enter Order that reuses one is ignored (the
  spec's answer), logged and counted.
- Time in force 0 is immediate-or-cancel, 99998 (market hours) is a DAY order, 99999 (system
  hours) stays until the simulator's session ends (GTC within a run), any other value lives that
  many seconds and is then cancelled with reason T.
- A price of 0x7FFFFFFF is a market order; it trades up to the price collar and the rest is
  cancelled (reason K when the collar stopped it, I otherwise). A limit order priced through the
  collar is rejected (X); so is a price off the tick grid or of zero.
- Cancel/replace keeps time priority only for a size decrease at the same price; a price change
  or a size increase gets a new order reference and loses priority (ITCH Order Replace), and a
  replace to a crossing price trades.
- Self-trade prevention is per firm: by default the incoming order's remainder is cancelled
  (reason Q); `cancel_oldest` cancels the resting order instead.
- A halted symbol rejects new orders and replaces (H); cancels are still accepted.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trading.config import ExchangeConfig, SymbolSpec
from trading.exchange.synthetic_flow import CANCEL, ENTER, FlowAction
from trading.order_book import BUY, SELL, OrderBook
from trading.prices import NANOS_PER_SECOND, format_price
from trading.protocols import itch, ouch

MARKET_PRICE = ouch.PRICE_MARKET_CROSS
DISPLAYED = frozenset("YAP")  # anonymous, attributable, post-only
SIDES = {ouch.BUY: BUY, ouch.SELL: SELL, ouch.SELL_SHORT: SELL, ouch.SELL_SHORT_EXEMPT: SELL}
GTC_TIF = ouch.TIF_SYSTEM_HOURS
REFERENCE_REFRESH_NS = 1_000_000  # the collar's reference price is at most 1 ms old
DAY_TIF = ouch.TIF_MARKET_HOURS

_pack_accepted = ouch.Accepted.LAYOUT.pack
_pack_add_order = itch.AddOrder.LAYOUT.pack

Reject = ouch.RejectReason
Cancel = ouch.CancelReason


@dataclass(slots=True)
class ClientOrder:
    """An order entered over OUCH, as the venue tracks it while it lives."""

    username: str
    token: str
    symbol: str
    side_code: str
    side: int
    price: int
    open_shares: int
    tif: int
    firm: str
    display: str
    capacity: str
    intermarket_sweep: str
    minimum_quantity: int
    cross_type: str
    ref: int = 0
    executed_shares: int = 0
    expires_ns: int = 0


@dataclass(slots=True)
class SymbolState:
    """One listed symbol: its book, locate code and trading state."""

    name: str
    locate: int
    book: OrderBook
    round_lot: int
    reference_price: int
    halted: bool = False
    reference_cache: int = 0
    reference_at_ns: int = 0
    last_trade_price: int = 0
    volume: int = 0
    trades: int = 0


@dataclass
class VenueCounters:
    """What the venue has done, for metrics and the operator log."""

    orders: int = 0
    rejects: int = 0
    duplicate_tokens: int = 0
    ignored_replaces: int = 0
    cancels: int = 0
    cancel_rejects: int = 0
    replaces: int = 0
    executions: int = 0
    shares_traded: int = 0
    agent_orders: int = 0
    itch_messages: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)


class Venue:
    """Order entry and matching for every symbol of the exchange."""

    def __init__(
        self,
        config: ExchangeConfig,
        symbols: list[str],
        to_client: Callable[[str, Any], None],
        to_feed: Callable[[Any], None],
        logger: logging.Logger | None = None,
        reference_prices: dict[str, int] | None = None,
        books: dict[str, OrderBook] | None = None,
        first_ref: int = 1,
    ) -> None:
        self.config = config
        self.to_client = to_client
        self.to_feed = to_feed
        self.log = logger or logging.getLogger("EXCH")
        self.tick = config.tick_size
        self.collar = config.collar_pct / 100
        self.symbols: dict[str, SymbolState] = {}
        for locate, name in enumerate(symbols, start=1):
            spec = config.symbols.get(name) or SymbolSpec()
            reference = (reference_prices or {}).get(name) or int(round(spec.start_price * 1e4))
            book = (books or {}).get(name)
            if book is None:
                book = OrderBook(self.tick)
            self.symbols[name] = SymbolState(name, locate, book, spec.round_lot, reference)
        self.by_locate = {s.locate: s for s in self.symbols.values()}
        self.self_trade = config.self_trade
        self.account_firms = {a.username: a.firm for a in config.accounts}
        firms = sorted({a.firm for a in config.accounts if a.firm})
        # Owner 0 means "no self-trade prevention" to the book; firms count from 1.
        self.firm_owner = {firm: i for i, firm in enumerate(firms, start=1)}
        self.client_orders: dict[int, ClientOrder] = {}  # by order reference number
        self.live_tokens: dict[tuple[str, str], ClientOrder] = {}
        self.used_tokens: set[tuple[str, str]] = set()
        self.agent_orders: dict[int, tuple[str, int]] = {}  # ref -> (symbol, agent order id)
        self.agent_refs: dict[int, int] = {}  # agent order id -> ref
        self.expiries: list[tuple[int, int, ClientOrder]] = []  # (due ns, serial, order) heap
        self.expiry_serial = 0
        self.next_ref = first_ref
        # Match numbers for fills the venue makes outside the book's matcher (replay queue
        # fills) come from their own range, so they never repeat a book's or a replay's.
        self.match_number = 1 << 40
        self.counters = VenueCounters()
        self.on_agent_done: Callable[[str, int], None] = lambda symbol, agent_id: None
        self.on_agent_rested: Callable[[str, int, int, int], None] = lambda *args: None
        # Called for every fill against a resting order that is not a client's (a replayed one).
        self.on_house_fill: Callable[[int, int], None] | None = None

    # -- session-level events ---------------------------------------------------------------

    def start_of_day(self, now_ns: int) -> None:
        """Publish the start of messages, the stock directory and every symbol's state."""
        self._feed(itch.SystemEvent(0, 0, now_ns, itch.SYSTEM_EVENT_START_OF_MESSAGES))
        self._feed(itch.SystemEvent(0, 0, now_ns, itch.SYSTEM_EVENT_START_OF_SYSTEM_HOURS))
        for state in self.symbols.values():
            self._feed(self.directory_message(state, now_ns))
            self._feed(self.trading_action_message(state, now_ns))
        self._feed(itch.SystemEvent(0, 0, now_ns, itch.SYSTEM_EVENT_START_OF_MARKET_HOURS))

    def system_event_for_client(self, username: str, code: str, now_ns: int) -> None:
        """An OUCH System Event (start or end of day) for one account."""
        self.to_client(username, ouch.SystemEvent(now_ns, code))

    def directory_message(self, state: SymbolState, now_ns: int) -> Any:
        """ITCH Stock Directory for a symbol (a NASDAQ Global Select common stock)."""
        return itch.StockDirectory(
            state.locate, 0, now_ns, state.name, "Q", "N", state.round_lot, "N", "C", "Z",
            "P", " ", "N", "1", "N", 0, "N",
        )  # fmt: skip

    def trading_action_message(self, state: SymbolState, now_ns: int) -> Any:
        """ITCH Stock Trading Action with the symbol's current state (T trading, H halted)."""
        return itch.StockTradingAction(
            state.locate, 0, now_ns, state.name, "H" if state.halted else "T", " ", ""
        )

    def halt(self, symbol: str, now_ns: int, halted: bool = True) -> None:
        """Halt (or resume) a symbol; the feed announces it."""
        state = self._symbol(symbol)
        if state.halted == halted:
            return
        state.halted = halted
        self._feed(self.trading_action_message(state, now_ns))
        self.log.warning("%s %s", symbol, "HALTED" if halted else "resumed trading")

    def end_of_day(self, now_ns: int) -> int:
        """Cancel every DAY order (time in force 99998); returns how many."""
        cancelled = 0
        for order in [o for o in self.client_orders.values() if o.tif == DAY_TIF]:
            self._cancel_client_order(order, now_ns, Cancel.CLOSED)
            cancelled += 1
        self._feed(itch.SystemEvent(0, 0, now_ns, itch.SYSTEM_EVENT_END_OF_MARKET_HOURS))
        return cancelled

    # -- OUCH requests ------------------------------------------------------------------------

    def handle(self, username: str, message: Any, now_ns: int) -> None:
        """Apply one decoded OUCH inbound message from an account."""
        kind = type(message)
        if kind is ouch.EnterOrder:
            self.enter_order(username, message, now_ns)
        elif kind is ouch.CancelOrder:
            self.cancel_order(username, message.order_token, message.shares, now_ns)
        elif kind is ouch.ReplaceOrder:
            self.replace_order(username, message, now_ns)
        elif kind is ouch.ModifyOrder:
            self.modify_order(username, message, now_ns)
        else:
            raise TypeError(f"not an OUCH inbound message: {kind.__name__}")

    def enter_order(self, username: str, m: Any, now_ns: int) -> None:
        """OUCH Enter Order."""
        token = m.order_token
        key = (username, token)
        if key in self.used_tokens:
            self.counters.duplicate_tokens += 1
            self.log.warning("%s: duplicate order token %r ignored", username, token)
            return
        self.used_tokens.add(key)
        reason = self._entry_reject_reason(username, m, now_ns)
        if reason is not None:
            self._reject(username, token, reason, now_ns)
            return
        state = self.symbols[m.stock]
        order = ClientOrder(
            username, token, m.stock, m.side, SIDES[m.side], m.price, m.shares,
            m.time_in_force_s, self._firm_of(username), m.display, m.capacity,
            m.intermarket_sweep_eligibility, m.minimum_quantity, m.cross_type,
        )  # fmt: skip
        market = m.price == MARKET_PRICE
        limit = self._collar_price(state, order.side, now_ns) if market else m.price
        if order.display == "P" and self._would_cross(state.book, order.side, limit):
            self._reject(username, token, Reject.INVALID_PRICE, now_ns)
            return
        order.ref = self._new_ref()
        self.counters.orders += 1
        self.to_client(username, self._accepted(order, now_ns))
        ioc = order.tif == ouch.TIF_IMMEDIATE_OR_CANCEL or market
        if order.minimum_quantity and (
            self._available(state.book, order.side, limit) < order.minimum_quantity
        ):
            # Not enough to trade the minimum at once: nothing trades.
            self.to_client(
                username,
                ouch.Canceled(now_ns, token, order.open_shares, Cancel.IMMEDIATE_OR_CANCEL),
            )
            order.open_shares = 0
            return
        result = state.book.submit(
            order.ref, order.side, limit, order.open_shares, self._owner(order.firm), now_ns,
            ioc=ioc, self_trade=self.self_trade,
        )  # fmt: skip
        self._conclude(state, result, order, now_ns, market)

    def cancel_order(self, username: str, token: str, shares: int, now_ns: int) -> None:
        """OUCH Cancel Order: `shares` is the order's new intended size, counting what has
        already executed (0 cancels all that is open)."""
        order = self.live_tokens.get((username, token))
        if order is None:
            self.counters.cancel_rejects += 1
            self.to_client(username, ouch.CancelReject(now_ns, token))
            return
        self._reduce(order, max(0, shares - order.executed_shares), now_ns, modify=False)

    def modify_order(self, username: str, m: Any, now_ns: int) -> None:
        """OUCH Modify Order: a smaller size, same rule as Cancel (a side change is refused)."""
        order = self.live_tokens.get((username, m.order_token))
        if order is None or m.side != order.side_code:
            self.counters.cancel_rejects += 1
            self.to_client(username, ouch.CancelReject(now_ns, m.order_token))
            return
        self._reduce(order, max(0, m.shares - order.executed_shares), now_ns, modify=True)

    def _reduce(self, order: ClientOrder, open_shares: int, now_ns: int, modify: bool) -> None:
        if open_shares >= order.open_shares:
            return  # nothing to take off: the order already is that small
        self.counters.cancels += 1
        if open_shares == 0:
            self._cancel_client_order(order, now_ns, Cancel.USER_REQUESTED)
            return
        state = self.symbols[order.symbol]
        decrement = order.open_shares - open_shares
        state.book.cancel(order.ref, decrement)
        order.open_shares = open_shares
        self._feed(itch.OrderCancel(state.locate, 0, now_ns, order.ref, decrement))
        if modify:
            message = ouch.OrderModified(now_ns, order.token, order.side_code, open_shares)
        else:
            message = ouch.Canceled(now_ns, order.token, decrement, Cancel.USER_REQUESTED)
        self.to_client(order.username, message)

    def replace_order(self, username: str, m: Any, now_ns: int) -> None:
        """OUCH Replace Order: a new token, price and time in force, and `shares` the order's
        new total size counting what has already executed (as for Cancel).

        As the spec says, a replace of an order that is no longer live, or one reusing a
        token, is ignored; an invalid replace of a live order cancels it and leaves the new
        token unused.
        """
        old = self.live_tokens.get((username, m.existing_order_token))
        new_key = (username, m.replacement_order_token)
        if old is None or new_key in self.used_tokens:
            self.counters.ignored_replaces += 1
            self.log.warning(
                "%s: replace of %r by %r ignored (%s)", username, m.existing_order_token,
                m.replacement_order_token,
                "no such live order" if old is None else "replacement token already used",
            )  # fmt: skip
            return
        state = self.symbols[old.symbol]
        open_shares = max(0, m.shares - old.executed_shares)
        reason = self._replace_reject_reason(state, old, m, open_shares, now_ns)
        if reason is not None:
            self.log.info(
                "%s: invalid replace of %r (%s): the order is cancelled",
                username, old.token, Reject(reason).description,
            )  # fmt: skip
            self._cancel_client_order(old, now_ns, Cancel.SYSTEM_CANCEL)
            return
        self.used_tokens.add(new_key)
        if open_shares == 0:
            self._cancel_client_order(old, now_ns, Cancel.USER_REQUESTED)
            return
        self.counters.replaces += 1
        del self.live_tokens[(username, old.token)]
        previous_token = old.token
        keeps_priority = m.price == old.price and open_shares <= old.open_shares
        old_ref = old.ref
        decrement = old.open_shares - open_shares
        old.token = m.replacement_order_token
        old.tif = m.time_in_force_s
        old.display = m.display
        old.minimum_quantity = m.minimum_quantity
        old.intermarket_sweep = m.intermarket_sweep_eligibility
        if keeps_priority:
            if decrement:
                state.book.cancel(old_ref, decrement)
                self._feed(itch.OrderCancel(state.locate, 0, now_ns, old_ref, decrement))
            old.open_shares = open_shares
            self.live_tokens[(username, old.token)] = old
            self.to_client(username, self._replaced(old, previous_token, now_ns))
            self._schedule_expiry(old, now_ns)
            return
        new_ref = self._new_ref()
        result = state.book.amend_replace(
            old_ref, new_ref, open_shares, m.price, now_ns, self_trade=self.self_trade
        )
        del self.client_orders[old_ref]
        old.ref = new_ref
        old.price = m.price
        old.open_shares = open_shares
        self.to_client(username, self._replaced(old, previous_token, now_ns))
        if result.n_fills == 0 and result.n_stp == 0 and result.resting == open_shares:
            self._feed(
                itch.OrderReplace(state.locate, 0, now_ns, old_ref, new_ref, open_shares, m.price)
            )
            self.client_orders[new_ref] = old
            self.live_tokens[(username, old.token)] = old
            self._schedule_expiry(old, now_ns)
            return
        # It met the other side: to the feed the old order is gone (before the fills and
        # self-trade cancels it caused) and what is left is a new order.
        self._feed(itch.OrderDelete(state.locate, 0, now_ns, old_ref))
        self._conclude(state, result, old, now_ns, market=False)

    def expire(self, now_ns: int) -> int:
        """Cancel orders whose time in force has run out (reason T); returns how many."""
        expired = 0
        heap = self.expiries
        while heap and heap[0][0] <= now_ns:
            due, _, order = heapq.heappop(heap)
            # A replace may have moved the order's deadline, or it may be gone already.
            if order.expires_ns == due and self.client_orders.get(order.ref) is order:
                self._cancel_client_order(order, now_ns, Cancel.TIMEOUT)
                expired += 1
        return expired

    def cancel_all(self, username: str, now_ns: int) -> int:
        """Cancel every live order of an account (supervisory, reason S); returns how many."""
        orders = [o for o in self.client_orders.values() if o.username == username]
        for order in orders:
            self._cancel_client_order(order, now_ns, Cancel.SUPERVISORY)
        return len(orders)

    # -- synthetic flow -----------------------------------------------------------------------

    def apply_flow(self, action: FlowAction, now_ns: int) -> None:
        """Apply one agent action (agents trade as owner 0: no self-trade prevention)."""
        state = self.symbols[action.symbol]
        if state.halted:
            return
        if action.kind == CANCEL:
            ref = self.agent_refs.pop(action.agent_order_id, None)
            if ref is None or ref not in state.book:
                return
            state.book.delete(ref)
            del self.agent_orders[ref]
            self._feed(itch.OrderDelete(state.locate, 0, now_ns, ref))
            self.on_agent_done(action.symbol, action.agent_order_id)
            return
        if action.kind != ENTER:
            raise ValueError(f"unknown flow action kind {action.kind}")
        ref = self._new_ref()
        self.counters.agent_orders += 1
        result = state.book.submit(
            ref, action.side, action.price, action.shares, 0, now_ns, ioc=action.ioc
        )
        self._settle_fills(state, result, None, now_ns)
        if result.resting:
            self.agent_orders[ref] = (action.symbol, action.agent_order_id)
            self.agent_refs[action.agent_order_id] = ref
            side = itch_side(action.side)
            self._feed(
                itch.AddOrder(
                    state.locate, 0, now_ns, ref, side, result.resting, state.name, action.price
                )
            )
            self.on_agent_rested(action.symbol, action.agent_order_id, action.side, action.price)

    def uncross_clients(self, symbol: str, now_ns: int) -> int:
        """A replayed order that arrives through a resting client order has traded with it:
        fill the client at its own price (it was there first) and publish the replayed
        order's side as Order Executed With Price. Returns the shares traded.

        Replayed history alone never crosses the book, so a crossed book here always has a
        client order on one side of it.
        """
        state = self.symbols[symbol]
        book = state.book
        traded = 0
        while True:
            bid = book.best_bid()[0]
            ask = book.best_ask()[0]
            if not bid or not ask or bid < ask:
                return traded
            client, replayed = self._crossing_pair(state, bid, ask)
            if client is None or replayed is None:
                return traded
            qty = min(client.open_shares, replayed.qty)
            remaining = book.execute(client.ref, qty)
            book.execute(replayed.ref, qty)
            if self.on_house_fill is not None:
                self.on_house_fill(replayed.ref, qty)
            self.match_number += 1
            match = self.match_number
            self._feed(itch.OrderExecuted(state.locate, 0, now_ns, client.ref, qty, match))
            self._feed(
                itch.OrderExecutedWithPrice(
                    state.locate, 0, now_ns, replayed.ref, qty, match, "Y", client.price
                )
            )
            client.executed_shares += qty
            client.open_shares = remaining
            state.volume += qty
            state.trades += 1
            state.last_trade_price = client.price
            self.counters.executions += 1
            self.counters.shares_traded += qty
            self.to_client(
                client.username,
                ouch.Executed(now_ns, client.token, qty, client.price, "A", match),
            )
            if remaining == 0:
                self._forget(client)
            traded += qty

    def _crossing_pair(self, state: SymbolState, bid: int, ask: int):
        """The best-placed client order inside the cross, and the first replayed order at the
        opposite best price that it meets."""
        crossing = [
            order
            for order in self.client_orders.values()
            if order.symbol == state.name
            and (
                (order.side == BUY and order.price >= ask)
                or (order.side == SELL and order.price <= bid)
            )
        ]
        if not crossing:
            return None, None
        client = min(crossing, key=lambda o: (-o.price * o.side, state.book.queue_ahead(o.ref)))
        price = ask if client.side == BUY else bid
        # Priority order; only ever walked while the book is crossed, which is rare.
        for order in state.book:
            if order.owner == 0 and order.side == -client.side and order.price == price:
                return client, order
        return client, None

    def fill_clients_ahead(self, symbol: str, ref: int, shares: int, now_ns: int) -> int:
        """A replayed execution of `shares` of resting order `ref`: client orders queued ahead
        of it at its price would have met the incoming order first, so they fill first.

        The replayed order still executes in full (the history is not rewritten), which is the
        usual no-market-impact assumption of a replay. Returns the client shares filled.
        """
        state = self.symbols[symbol]
        book = state.book
        info = book.order(ref)
        if info is None:
            return 0
        ahead_of_it = book.queue_ahead(ref)
        queued = sorted(
            (book.queue_ahead(order.ref), order.ref)
            for order in self.client_orders.values()
            if order.symbol == symbol and order.price == info.price and order.side == info.side
        )
        filled = 0
        for position, client_ref in queued:
            if position >= ahead_of_it or filled >= shares:
                break
            order = self.client_orders[client_ref]
            qty = min(shares - filled, order.open_shares)
            remaining = book.execute(client_ref, qty)
            filled += qty
            self.match_number += 1
            self._feed(
                itch.OrderExecuted(state.locate, 0, now_ns, client_ref, qty, self.match_number)
            )
            order.executed_shares += qty
            order.open_shares = remaining
            self.counters.executions += 1
            self.counters.shares_traded += qty
            self.to_client(
                order.username,
                ouch.Executed(now_ns, order.token, qty, info.price, "A", self.match_number),
            )
            if remaining == 0:
                self._forget(order)
        return filled

    def publish(self, message: Any) -> None:
        """Publish a market-data message that did not come from the venue's own matching."""
        self._feed(message)

    # -- queries ------------------------------------------------------------------------------

    def quotes(self) -> dict[str, tuple[int, int]]:
        """Best bid and ask price of every symbol (0 for an empty side)."""
        return {
            name: (s.book.best_bid()[0], s.book.best_ask()[0]) for name, s in self.symbols.items()
        }

    def snapshot_messages(self, now_ns: int) -> list[Any]:
        """The whole book as ITCH messages, GLIMPSE style: directory, state, Add Orders."""
        messages: list[Any] = []
        for state in self.symbols.values():
            messages.append(self.directory_message(state, now_ns))
            messages.append(self.trading_action_message(state, now_ns))
            for order in state.book:
                messages.append(self._add_message(state, order.ref, order.side, order.qty,
                                                  order.price, order.ts_ns))  # fmt: skip
        return messages

    def top_of_book_line(self, state: SymbolState) -> str:
        """`AAPL 189.99 x 190.01 (300 x 500) last 190.00 vol 12,300` for the operator log."""
        bid, bid_qty = state.book.best_bid()
        ask, ask_qty = state.book.best_ask()
        last = format_price(state.last_trade_price) if state.last_trade_price else "-"
        halted = " HALTED" if state.halted else ""
        return (
            f"{state.name} {_px(bid)} x {_px(ask)} ({bid_qty} x {ask_qty}) last {last} "
            f"vol {state.volume:,}{halted}"
        )

    # -- internals ----------------------------------------------------------------------------

    def _symbol(self, symbol: str) -> SymbolState:
        try:
            return self.symbols[symbol]
        except KeyError:
            raise KeyError(f"unknown symbol {symbol!r}") from None

    def _new_ref(self) -> int:
        ref = self.next_ref
        self.next_ref += 1
        return ref

    def _firm_of(self, username: str) -> str:
        return self.account_firms.get(username, "")

    def _owner(self, firm: str) -> int:
        owner = self.firm_owner.get(firm)
        if owner is None and firm:
            owner = self.firm_owner[firm] = len(self.firm_owner) + 1
        return owner or 0

    def _entry_reject_reason(self, username: str, m: Any, now_ns: int) -> str | None:
        if not m.order_token or not m.order_token.isprintable():
            return Reject.OTHER
        if m.firm and m.firm != self._firm_of(username):
            # An account trades for its own firm only: another firm's name would dodge (or
            # aim) self-trade prevention and show under that firm's MPID.
            return Reject.FIRM_NOT_AUTHORIZED_FOR_CLEARING
        state = self.symbols.get(m.stock)
        if state is None:
            return Reject.INVALID_STOCK
        if state.halted:
            return Reject.HALTED
        if m.side not in SIDES:
            return Reject.OTHER
        if m.shares <= 0 or m.shares > self.config.max_order_shares:
            return Reject.SHARES_EXCEED_SAFETY_THRESHOLD
        if m.display not in DISPLAYED:
            return Reject.INVALID_DISPLAY_TYPE
        if m.minimum_quantity and (
            m.minimum_quantity > m.shares
            or (m.time_in_force_s != ouch.TIF_IMMEDIATE_OR_CANCEL and m.price != MARKET_PRICE)
        ):
            return Reject.INVALID_MINIMUM_QUANTITY  # only an IOC order may ask for a minimum
        if m.price == MARKET_PRICE:
            return None
        return self._price_reject_reason(state, SIDES[m.side], m.price, now_ns)

    def _replace_reject_reason(
        self, state: SymbolState, old: ClientOrder, m: Any, open_shares: int, now_ns: int
    ) -> str | None:
        if not m.replacement_order_token or not m.replacement_order_token.isprintable():
            return Reject.OTHER
        if state.halted:
            return Reject.HALTED
        if open_shares > self.config.max_order_shares:
            return Reject.SHARES_EXCEED_SAFETY_THRESHOLD
        if m.display not in DISPLAYED:
            return Reject.INVALID_DISPLAY_TYPE
        if m.minimum_quantity:
            return Reject.INVALID_MINIMUM_QUANTITY  # a minimum quantity is for IOC orders only
        if open_shares == 0:
            return None
        if m.display == "P" and self._would_cross(state.book, old.side, m.price):
            return Reject.INVALID_PRICE
        return self._price_reject_reason(state, old.side, m.price, now_ns)

    def _price_reject_reason(
        self, state: SymbolState, side: int, price: int, now_ns: int
    ) -> str | None:
        if price <= 0 or price % self.tick:
            return Reject.INVALID_PRICE
        if self.collar:
            reference = self._reference_price(state, now_ns)
            # Only the aggressive side is collared: a passive order far away harms no one.
            if side == BUY and price > reference * (1 + self.collar):
                return Reject.INVALID_PRICE
            if side == SELL and price < reference * (1 - self.collar):
                return Reject.INVALID_PRICE
        return None

    def _reference_price(self, state: SymbolState, now_ns: int) -> int:
        """The collar's reference: the mid (else the last trade, else the opening price).

        Like an exchange's published reference price it is refreshed on a short period
        (REFERENCE_REFRESH_NS) rather than on every order, which keeps it off the order path.
        """
        if now_ns - state.reference_at_ns < REFERENCE_REFRESH_NS and state.reference_at_ns:
            return state.reference_cache
        bid = state.book.best_bid()[0]
        ask = state.book.best_ask()[0]
        if bid and ask:
            reference = (bid + ask) // 2
        else:
            reference = state.last_trade_price or state.reference_price
        state.reference_cache = reference
        state.reference_at_ns = now_ns
        return reference

    def _collar_price(self, state: SymbolState, side: int, now_ns: int) -> int:
        state.reference_at_ns = 0  # a market order is collared against the book as it is now
        reference = self._reference_price(state, now_ns)
        if side == BUY:
            return (int(reference * (1 + self.collar)) // self.tick) * self.tick
        return max(self.tick, -(-int(reference * (1 - self.collar)) // self.tick) * self.tick)

    @staticmethod
    def _available(book: OrderBook, side: int, limit: int) -> int:
        """Shares on the opposite side at `limit` or better."""
        levels = 16
        while True:
            depth = book.depth(levels)
            prices, qtys = (
                (depth.ask_prices, depth.ask_qtys)
                if side == BUY
                else (depth.bid_prices, depth.bid_qtys)
            )
            reachable = prices <= limit if side == BUY else prices >= limit
            if len(prices) < levels or not reachable[-1]:
                return int(qtys[reachable].sum())
            levels *= 4

    @staticmethod
    def _would_cross(book: OrderBook, side: int, price: int) -> bool:
        if side == BUY:
            ask = book.best_ask()[0]
            return bool(ask) and price >= ask
        bid = book.best_bid()[0]
        return bool(bid) and price <= bid

    def _conclude(
        self, state: SymbolState, result, order: ClientOrder, now_ns: int, market: bool
    ) -> None:
        """After matching: report the fills, rest what is left, cancel what may not rest."""
        self._settle_fills(state, result, order, now_ns)
        if result.resting:
            order.open_shares = result.resting
            self._rest(state, order, now_ns)
        else:
            order.open_shares = 0
        if result.cancelled:
            reason = self._remainder_reason(result, market, state, order)
            self.to_client(
                order.username, ouch.Canceled(now_ns, order.token, result.cancelled, reason)
            )

    def _remainder_reason(self, result, market: bool, state: SymbolState, order) -> str:
        if result.stp_cancelled:
            return Cancel.SELF_MATCH_PREVENTION
        if market:
            opposite = state.book.best_ask() if order.side == BUY else state.book.best_bid()
            # Liquidity left beyond the collar means the collar, not the book, stopped it.
            return Cancel.MARKET_COLLARS if opposite[1] else Cancel.IMMEDIATE_OR_CANCEL
        return Cancel.IMMEDIATE_OR_CANCEL

    def _reject(self, username: str, token: str, reason: str, now_ns: int) -> None:
        self.counters.rejects += 1
        self.counters.reject_reasons[reason] = self.counters.reject_reasons.get(reason, 0) + 1
        self.to_client(username, ouch.Rejected(now_ns, token, reason))

    def _accepted(self, order: ClientOrder, now_ns: int) -> bytes:
        # Encoded straight from a tuple: the hot path skips building a message object.
        return _pack_accepted(
            (
                now_ns, order.token, order.side_code, order.open_shares, order.symbol,
                order.price, order.tif, order.firm, order.display, order.ref, order.capacity,
                order.intermarket_sweep, order.minimum_quantity, order.cross_type,
                ouch.ORDER_STATE_LIVE, ouch.BBO_WEIGHT_UNSPECIFIED,
            )
        )  # fmt: skip

    def _replaced(self, order: ClientOrder, previous_token: str, now_ns: int) -> Any:
        return ouch.Replaced(
            now_ns, order.token, order.side_code, order.open_shares, order.symbol, order.price,
            order.tif, order.firm, order.display, order.ref, order.capacity,
            order.intermarket_sweep, order.minimum_quantity, order.cross_type,
            ouch.ORDER_STATE_LIVE, previous_token, ouch.BBO_WEIGHT_UNSPECIFIED,
        )  # fmt: skip

    def _rest(self, state: SymbolState, order: ClientOrder, now_ns: int) -> None:
        self.client_orders[order.ref] = order
        self.live_tokens[(order.username, order.token)] = order
        if order.display == "A":
            self._feed(
                itch.AddOrderMpid(
                    state.locate,
                    0,
                    now_ns,
                    order.ref,
                    itch_side(order.side),
                    order.open_shares,
                    state.name,
                    order.price,
                    order.firm,
                )  # fmt: skip
            )
        else:
            self._feed(
                _pack_add_order(
                    (
                        state.locate, 0, now_ns, order.ref, "B" if order.side == BUY else "S",
                        order.open_shares, state.name, order.price,
                    )
                )
            )  # fmt: skip
        self._schedule_expiry(order, now_ns)

    def _schedule_expiry(self, order: ClientOrder, now_ns: int) -> None:
        if order.tif in (ouch.TIF_IMMEDIATE_OR_CANCEL, DAY_TIF, GTC_TIF):
            order.expires_ns = 0
            return
        order.expires_ns = now_ns + order.tif * NANOS_PER_SECOND
        self.expiry_serial += 1
        heapq.heappush(self.expiries, (order.expires_ns, self.expiry_serial, order))

    def _add_message(self, state, ref, side, shares, price, ts_ns) -> Any:
        return itch.AddOrder(
            state.locate, 0, ts_ns, ref, itch_side(side), shares, state.name, price
        )

    def _cancel_client_order(self, order: ClientOrder, now_ns: int, reason: str) -> None:
        state = self.symbols[order.symbol]
        shares = state.book.delete(order.ref)
        self._forget(order)
        self._feed(itch.OrderDelete(state.locate, 0, now_ns, order.ref))
        self.to_client(order.username, ouch.Canceled(now_ns, order.token, shares, reason))

    def _forget(self, order: ClientOrder) -> None:
        self.client_orders.pop(order.ref, None)
        self.live_tokens.pop((order.username, order.token), None)
        order.open_shares = 0

    def _settle_fills(self, state: SymbolState, result, taker: ClientOrder | None, now_ns) -> None:
        """Tell both sides of every fill, publish the executions, and clean up what is gone."""
        if result.n_stp:
            for ref, qty in result.stp_cancels.tolist():
                self._feed(itch.OrderDelete(state.locate, 0, now_ns, ref))
                maker = self.client_orders.get(ref)
                if maker is not None:
                    self._forget(maker)
                    self.to_client(
                        maker.username,
                        ouch.Canceled(now_ns, maker.token, qty, Cancel.SELF_MATCH_PREVENTION),
                    )
                else:
                    self._agent_gone(ref)
        if result.n_fills:
            for maker_ref, _owner, price, qty, match, remaining in result.fills.tolist():
                self.counters.executions += 1
                self.counters.shares_traded += qty
                state.volume += qty
                state.trades += 1
                state.last_trade_price = price
                self._feed(itch.OrderExecuted(state.locate, 0, now_ns, maker_ref, qty, match))
                if taker is not None:
                    taker.executed_shares += qty
                    self.to_client(
                        taker.username,
                        ouch.Executed(now_ns, taker.token, qty, price, "R", match),
                    )
                maker = self.client_orders.get(maker_ref)
                if maker is not None:
                    maker.executed_shares += qty
                    maker.open_shares = remaining
                    self.to_client(
                        maker.username, ouch.Executed(now_ns, maker.token, qty, price, "A", match)
                    )
                    if remaining == 0:
                        self._forget(maker)
                else:
                    if self.on_house_fill is not None:
                        self.on_house_fill(maker_ref, qty)
                    if remaining == 0:
                        self._agent_gone(maker_ref)

    def _agent_gone(self, ref: int) -> None:
        entry = self.agent_orders.pop(ref, None)
        if entry is not None:
            self.agent_refs.pop(entry[1], None)
            self.on_agent_done(*entry)

    def _feed(self, message: Any) -> None:
        self.counters.itch_messages += 1
        self.to_feed(message)


def itch_side(side: int) -> str:
    """Book side (1/-1) to ITCH's buy/sell indicator."""
    return "B" if side == BUY else "S"


def _px(price: int) -> str:
    return format_price(price)[:-2] if price else "-"
