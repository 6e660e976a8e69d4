"""The trading engine's hot loop for one account.

market data -> book -> strategies -> pre-trade risk -> order manager -> gateway -> venue,
and back: acks and fills -> order manager -> portfolio -> risk -> strategies.

One thread does all of it, event by event, so nothing needs a lock; the only work besides the
hot path is a housekeeping step (timers, overdue orders, marks, latency draining) run between
events a few times a second. Timestamps (monotonic ns) travel with each event: T1 when the
market data arrived, T2 when a strategy asked for an order, T3 when risk passed it, T4 when it
was written to the socket, T5 when the venue's answer arrived.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from trading.config import SystemConfig
from trading.engine.feed_handler import FeedHandler
from trading.engine.gateway import OuchGateway, VenueMessage, VenueReset
from trading.engine.latency import LatencyBook
from trading.hdr_histogram import warm_up as warm_up_histograms
from trading.model.market import BookTop
from trading.model.orders import BUY, CancelIntent, Fill, OrderIntent, TimeInForce
from trading.order_book import warm_up
from trading.portfolio.order_manager import OrderManager
from trading.portfolio.positions import Portfolio, to_dollars
from trading.prices import PRICE_SCALE, format_price
from trading.protocols import itch, ouch
from trading.risk.limits import RiskLimits, RiskLimitsError
from trading.risk.pre_trade_risk import PreTradeRisk
from trading.strategies.base import Strategy, WorkingOrder, build_strategies

_Feed = TypeVar("_Feed", bound=FeedHandler)
_Gateway = TypeVar("_Gateway", bound=OuchGateway)

HOUSEKEEPING_NS = 100_000_000  # 10 times a second
FILL_LINES_PER_S = 20
RECENT_FILLS = 50
STATUS_WORKING_ORDERS = 100  # beyond this a second's fills are summed up in one line
ACK_TIMEOUT_NS = 2_000_000_000
_BOOK_MESSAGES = (
    itch.AddOrder,
    itch.AddOrderMpid,
    itch.OrderExecuted,
    itch.OrderExecutedWithPrice,
    itch.OrderCancel,
    itch.OrderDelete,
    itch.OrderReplace,
)


@dataclass
class EngineCounters:
    """What the engine has done, for the log, the dashboard and the metrics."""

    intents: int = 0
    orders: int = 0
    cancels: int = 0
    risk_rejects: int = 0
    risk_reduced: int = 0
    venue_rejects: int = 0
    fills: int = 0
    filled_shares: int = 0
    anomalies: int = 0
    venue_resets: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)


class EngineContext:
    """What one strategy may ask of the engine, always current (a `StrategyContext`).

    Each strategy sees its own position, made of its own fills, so that two strategies on
    one symbol each steer their own book rather than fighting over the account's total.
    """

    def __init__(self, engine: TradingEngine, strategy: str = "") -> None:
        self.engine = engine
        self.strategy = strategy

    def position(self, symbol: str) -> int:
        return self.engine.strategy_positions.get((self.strategy, symbol), 0)

    def equity(self) -> float:
        return to_dollars(self.engine.portfolio.equity)

    def working_orders(self, strategy: str) -> Sequence[WorkingOrder]:
        return [
            WorkingOrder(o.order_id, o.symbol, o.side, o.working_qty, o.price)
            for o in self.engine.oms.working_orders()
            if o.strategy == strategy
        ]


class TradingEngine:
    """One account's engine: call `run_once` in a loop (or `run` until stopped)."""

    def __init__(
        self,
        config: SystemConfig,
        *,
        host: str,
        order_port: int,
        feed_port: int,
        snapshot_port: int,
        username: str,
        password: str,
        starting_equity: float = 1_000_000.0,
        clock_ns: Callable[[], int] = time.monotonic_ns,
        logger: logging.Logger | None = None,
    ) -> None:
        self.config = config
        self.clock_ns = clock_ns
        warm_up()  # no tick may wait for the compiler
        warm_up_histograms()
        self.log = logger or logging.getLogger("STRAT")
        self.risk_log = logging.getLogger("RISK")
        self.portfolio = Portfolio(starting_cash=int(round(starting_equity * PRICE_SCALE)))
        self.oms = OrderManager()
        self.risk = PreTradeRisk(RiskLimits.from_config(config.risk))
        self.context = EngineContext(self)
        round_lot = min((config.exchange.symbols[s].round_lot for s in config.symbols), default=100)
        self.strategies: list[Strategy] = build_strategies(
            config.engine.strategies, config.engine.params, config.symbols, self.context,
            tick_size=config.exchange.tick_size, lot=round_lot,
        )  # fmt: skip
        self.by_name = {s.name: s for s in self.strategies}
        self.strategy_positions: dict[tuple[str, str], int] = {}
        for strategy in self.strategies:
            strategy.bind(EngineContext(self, strategy.name))
        self.watchers: dict[str, list[Strategy]] = {}
        for strategy in self.strategies:
            for symbol in strategy.symbols:
                self.watchers.setdefault(symbol, []).append(strategy)
        self.feed: FeedHandler
        self.gateway: OuchGateway
        self.open_sessions(
            FeedHandler, OuchGateway, host=host, order_port=order_port, feed_port=feed_port,
            snapshot_port=snapshot_port, username=username, password=password,
        )  # fmt: skip
        self.latency = LatencyBook()
        self.counters = EngineCounters()
        self.tops: dict[int, tuple[int, int, int, int]] = {}
        self.changed_books: dict[int, None] = {}  # locates touched in the current batch
        # The latest fills with their latency, for the dashboard (bounded: oldest go first).
        self.recent_fills: deque[dict[str, Any]] = deque(maxlen=RECENT_FILLS)
        self.sent_at: dict[int, tuple[int, int]] = {}  # order id -> (T1 of its tick, T4)
        self.next_housekeeping_ns = 0
        self.fill_lines_left = FILL_LINES_PER_S
        self.fills_unlogged = 0
        self.next_fill_summary_ns = 0
        self.paused = False
        self.stop_requested = False
        self.last_reject_reason = ""
        # Where orders and fills go to be kept (the ledger's writer, in the engine process);
        # it must not block: the hot path calls it.
        self.record: Callable[[Any], Any] = lambda item: None

    def open_sessions(
        self,
        feed_type: type[_Feed],
        gateway_type: type[_Gateway],
        *,
        host: str,
        order_port: int,
        feed_port: int,
        snapshot_port: int,
        username: str,
        password: str,
    ) -> tuple[_Feed, _Gateway]:
        """Give the engine a feed and an order gateway of these types, wired to it and to its
        clock, for the venue at this address (they connect on their first poll)."""
        self.feed = feed = feed_type(
            host, feed_port, snapshot_port, username, password,
            tick_size=self.config.exchange.tick_size, on_message=self._on_market_data,
            on_snapshot=self._on_snapshot, on_batch=self._on_feed_batch, clock_ns=self.clock_ns,
        )  # fmt: skip
        self.gateway = gateway = gateway_type(
            host, order_port, username, password, clock_ns=self.clock_ns
        )
        return feed, gateway

    # -- the loop -----------------------------------------------------------------------------

    def run_once(self, timeout_s: float = 0.001) -> None:
        """Take in what has arrived (market data, then the venue's answers), then keep house."""
        self.feed.poll(timeout_s)
        for event in self.gateway.poll(0.0):
            self._on_venue(event)
        now = self.clock_ns()
        if now >= self.next_housekeeping_ns:
            self.next_housekeeping_ns = now + HOUSEKEEPING_NS
            self._housekeeping(now)

    def run(self, should_stop: Callable[[], bool]) -> None:
        """Run until `should_stop()` says so, then cancel working orders and log out."""
        while not should_stop():
            self.run_once()
        self.shutdown()

    def shutdown(self) -> None:
        """Cancel every working order, give the venue a moment to confirm, and log out."""
        for order in self.oms.working_orders():
            if self.oms.request_cancel(order.order_id, self.clock_ns()):
                self._send_cancel(order.order_id)
        deadline = time.monotonic() + 2.0
        while self.oms.working_orders() and time.monotonic() < deadline and self.gateway.connected:
            for event in self.gateway.poll(0.05):
                self._on_venue(event)
        self.gateway.close()
        self.feed.close()

    # -- market data --------------------------------------------------------------------------

    def _on_snapshot(self, t1: int) -> None:
        self.tops.clear()
        for locate in list(self.feed.builder.books):
            self._book_changed(locate, t1)

    def _on_market_data(self, message: Any, t1: int) -> None:
        if type(message) in _BOOK_MESSAGES:
            self.changed_books[message.stock_locate] = None

    def _on_feed_batch(self, t1: int) -> None:
        # Strategies see each book once per batch, as the batch left it: a packet that adds
        # a new best bid and deletes the old one is one move, not two to trade on.
        changed = self.changed_books
        if changed:
            for locate in changed:
                self._book_changed(locate, t1)
            changed.clear()

    def _book_changed(self, locate: int, t1: int) -> None:
        symbol = self.feed.builder.symbols.get(locate)
        if symbol is None:
            return
        watchers = self.watchers.get(symbol)
        book = self.feed.builder.book(locate)
        bid, bid_qty = book.best_bid()
        ask, ask_qty = book.best_ask()
        top = (bid, bid_qty, ask, ask_qty)
        if self.tops.get(locate) == top:
            return  # deeper in the book: strategies trade on the top
        self.tops[locate] = top
        event = BookTop(symbol, bid, bid_qty, ask, ask_qty, t1)
        self.risk.on_book(event)
        if not watchers:
            return
        for strategy in watchers:
            intents = strategy.on_book(event)
            if intents:
                self._act(intents, t1)

    # -- operator actions (applied between events) -------------------------------------------

    @property
    def state(self) -> str:
        """STOPPING, PAUSED, or the risk state (ACTIVE, REDUCING, HALTED)."""
        if self.stop_requested:
            return "STOPPING"
        if self.paused:
            return "PAUSED"
        return str(self.risk.state)

    def operate(self, action: str, who: str) -> tuple[bool, str]:
        """Apply an operator's command; returns (done, what happened or why not)."""
        now = self.clock_ns()
        if action == "pause":
            self.paused = True
            cancelled = self.cancel_all()
            return True, f"paused by {who}; {cancelled} working orders cancelled"
        if action in ("resume", "start"):
            self.paused = False
            # "start" is the operator's explicit go-ahead, which also lifts a kill.
            state = self.risk.resume(force=action == "start")
            if state != "ACTIVE":
                return False, f"{action} by {who}: still {state} ({self.risk.reason})"
            return True, f"{action} by {who}"
        if action == "kill":
            self.risk.kill(f"kill switch by {who}", now)
            cancelled = self.cancel_all()
            return True, f"killed by {who}; {cancelled} working orders cancelled"
        if action == "flatten_all":
            cancelled = self.cancel_all()
            flattening = self.flatten_all()
            return True, f"flatten by {who}: {cancelled} cancelled, {flattening} closing orders"
        if action == "stop":
            self.stop_requested = True
            return True, f"stop by {who}"
        if action == "reload_limits":
            return False, "reload_limits needs the limits: use set_limits"
        return False, f"{action!r} is not something this engine can do yet"

    def set_limits(self, values: Mapping[str, Any], who: str) -> tuple[bool, str]:
        """Put new risk limits in force for the next order; invalid ones change nothing."""
        current = self.risk.limits
        try:
            limits = current.replace(**values)
        except RiskLimitsError as exc:
            return False, f"limits from {who} refused: {exc}"
        changed = {
            name: value for name, value in limits.as_dict().items()
            if value != getattr(current, name)
        }  # fmt: skip
        self.risk.set_limits(limits, self.clock_ns())
        if not changed:
            return True, f"limits from {who}: unchanged"
        text = ", ".join(f"{name}={value:g}" for name, value in sorted(changed.items()))
        return True, f"limits from {who}: {text}"

    def cancel_all(self) -> int:
        """Cancel every working order; returns how many cancels went out."""
        sent = 0
        for order in self.oms.working_orders():
            if self.oms.request_cancel(order.order_id, self.clock_ns()):
                self._send_cancel(order.order_id)
                sent += 1
        return sent

    def flatten_all(self) -> int:
        """Close every position with reduce-only market orders; returns how many were sent."""
        sent = 0
        for position in self.portfolio.open_positions():
            side = -1 if position.qty > 0 else BUY
            intent = OrderIntent(
                position.symbol, side, abs(position.qty), 0, TimeInForce.IOC, "flatten",
                reduce_only=True,
            )  # fmt: skip
            before = self.counters.orders
            self.submit(intent)
            sent += self.counters.orders - before
        return sent

    # -- orders out ---------------------------------------------------------------------------

    def submit(self, intent: OrderIntent) -> int:
        """An order from outside the strategies (an operator's ticket): same risk, same path.

        Returns the order id, or 0 when risk refused it or the venue is unreachable.
        """
        now = self.clock_ns()
        self.counters.intents += 1
        return self._send_order(intent, now, now)

    def ticket(self, args: Mapping[str, Any], who: str) -> tuple[bool, str]:
        """An operator's order (a `submit_order` command): checked, then through risk."""
        try:
            intent = ticket_intent(args, self.config.symbols)
        except ValueError as exc:
            return False, f"order from {who} refused: {exc}"
        if self.paused and not intent.reduce_only:
            return False, f"order from {who} refused: the engine is paused"
        rejects = self.counters.risk_rejects
        order_id = self.submit(intent)
        if order_id:
            return True, f"order {order_id} sent for {who}"
        if self.counters.risk_rejects > rejects:
            reason = self.last_reject_reason
            return False, f"order from {who} refused by risk: {reason}"
        return False, f"order from {who} not sent: the venue is not connected"

    def cancel_order(self, order_id: Any, who: str) -> tuple[bool, str]:
        """An operator's cancel of one working order (a `cancel_order` command)."""
        if isinstance(order_id, bool) or not isinstance(order_id, int):
            return False, f"cancel from {who} refused: order_id must be an integer"
        if not self.oms.request_cancel(order_id, self.clock_ns()):
            return False, f"cancel from {who} refused: order {order_id} is not working"
        self._send_cancel(order_id)
        return True, f"cancel of order {order_id} sent for {who}"

    def _act(self, intents: list, t1: int) -> None:
        t2 = self.clock_ns()
        self.latency.add("feed_to_signal", t2 - t1)
        for intent in intents:
            self.counters.intents += 1
            if isinstance(intent, CancelIntent):
                if self.oms.request_cancel(intent.order_id, t2):
                    self._send_cancel(intent.order_id)
                continue
            if self.paused and not intent.reduce_only:
                continue  # a paused engine keeps its positions and opens nothing
            self._send_order(intent, t1, t2)

    def _send_order(self, intent: OrderIntent, t1: int, t2: int) -> int:
        decision = self.risk.check(intent, t2)
        t3 = self.clock_ns()
        self.latency.add("signal_to_risk", t3 - t2)
        if not decision.passed:
            self.counters.risk_rejects += 1
            reasons = self.counters.reject_reasons
            reasons[decision.reason] = reasons.get(decision.reason, 0) + 1
            self.last_reject_reason = decision.reason
            return 0
        qty = decision.qty_for(intent)
        if qty != intent.qty:
            self.counters.risk_reduced += 1
            intent = OrderIntent(
                intent.symbol, intent.side, qty, intent.price, intent.tif, intent.strategy,
                intent.reduce_only,
            )  # fmt: skip
        order = self.oms.new_order(intent, t3)
        self.record(order)
        self.risk.on_order_sent(order.order_id, intent.symbol, intent.side, qty)
        self._working_prices(intent.symbol)
        try:
            t4 = self.gateway.send_enter(order.order_id, intent)
        except ConnectionError:
            self.oms.on_rejected(order.order_id, "not connected", t3)
            self.risk.on_order_done(order.order_id)
            return 0
        self.counters.orders += 1
        self.latency.add("risk_to_wire", t4 - t3)
        self.latency.add("tick_to_order", t4 - t1)
        self.sent_at[order.order_id] = (t1, t4)
        return order.order_id

    def _send_cancel(self, order_id: int) -> None:
        try:
            self.gateway.send_cancel(order_id)
            self.counters.cancels += 1
        except ConnectionError:
            pass  # the order is re-examined by housekeeping once connected again

    # -- answers in ---------------------------------------------------------------------------

    def _on_venue(self, event: VenueMessage | VenueReset) -> None:
        if isinstance(event, VenueReset):
            self.counters.venue_resets += 1
            for working in self.oms.working_orders():
                self.oms.on_cancelled(
                    working.order_id, working.working_qty, "venue reset", event.t5_ns
                )
                self.risk.on_order_done(working.order_id)
                self.record(working)
            self.risk.on_disconnect(event.t5_ns)
            return
        message = event.message
        order_id = event.order_id
        kind = type(message)
        self._on_answer(kind, message, order_id, event)
        order = self.oms.get(order_id)
        if order is not None:
            self.record(order)

    def _on_answer(self, kind: type, message: Any, order_id: int, event: VenueMessage) -> None:
        if kind is ouch.Accepted:
            self._note(self.oms.on_accepted(order_id, event.t5_ns))
            self.risk.on_accept()
            sent = self.sent_at.get(order_id)
            if sent is not None:
                self.latency.add("order_to_ack", event.t5_ns - sent[1])
        elif kind is ouch.Executed:
            order = self.oms.get(order_id)
            if order is None:
                self._note(None, f"execution for unknown order {order_id}")
                return
            fill = Fill(
                order_id, order.symbol, order.side, message.executed_shares,
                message.execution_price, event.t5_ns, message.match_number,
                message.liquidity_flag, order.strategy,
            )  # fmt: skip
            anomaly = self.oms.on_fill(fill)
            self._note(anomaly)
            if self.portfolio.on_fill(fill):
                self.record(fill)
                self.risk.on_fill(fill)
                key = (order.strategy, order.symbol)
                self.strategy_positions[key] = (
                    self.strategy_positions.get(key, 0) + order.side * fill.qty
                )
                self.counters.fills += 1
                self.counters.filled_shares += fill.qty
                sent = self.sent_at.get(order_id)
                self.recent_fills.append(
                    {
                        "order_id": order_id, "symbol": order.symbol,
                        "side": "BUY" if order.side == BUY else "SELL", "qty": fill.qty,
                        "price": fill.price / PRICE_SCALE, "match": fill.match_number,
                        "strategy": order.strategy, "wall_ts": time.time(),
                        # From the order leaving (T4) to its execution arriving (T5).
                        "latency_us": (event.t5_ns - sent[1]) / 1000 if sent else None,
                    }
                )  # fmt: skip
                if self.fill_lines_left:
                    self.fill_lines_left -= 1
                    self.log.info(
                        "FILL %s %s %d @ %s (%s)", order.symbol,
                        "BUY" if order.side == BUY else "SELL", fill.qty,
                        format_price(fill.price), order.strategy,
                    )  # fmt: skip
                else:
                    self.fills_unlogged += 1
                strategy = self.by_name.get(order.strategy)
                if strategy is not None:
                    intents = strategy.on_fill(fill)
                    if intents:
                        self._act(intents, event.t5_ns)
            self._done_if_terminal(order_id)
        elif kind is ouch.Canceled:
            self._note(
                self.oms.on_cancelled(
                    order_id, message.decrement_shares, message.reason, event.t5_ns
                )  # fmt: skip
            )
            self._done_if_terminal(order_id)
        elif kind is ouch.Rejected:
            self.counters.venue_rejects += 1
            self._note(self.oms.on_rejected(order_id, message.reason, event.t5_ns))
            self.risk.on_reject(event.t5_ns)
            self.risk_log.warning("venue rejected order %d: %s", order_id, message.reason)
            self._done_if_terminal(order_id)
        elif kind is ouch.CancelReject:
            self._note(self.oms.on_cancel_rejected(order_id, "cancel rejected"))

    def _done_if_terminal(self, order_id: int) -> None:
        order = self.oms.get(order_id)
        if order is not None and order.is_terminal:
            self.risk.on_order_done(order_id)
            self.sent_at.pop(order_id, None)
            self._working_prices(order.symbol)

    def _working_prices(self, symbol: str) -> None:
        """Tell risk where our own resting orders are, for self-trade prevention."""
        best_buy = best_sell = 0
        for order in self.oms.working_orders(symbol):
            if order.side == BUY:
                best_buy = max(best_buy, order.price)
            elif not best_sell or order.price < best_sell:
                best_sell = order.price
        self.risk.on_working_prices(symbol, best_buy, best_sell)

    def _note(self, anomaly: Any, text: str = "") -> None:
        if anomaly is None and not text:
            return
        self.counters.anomalies += 1
        self.log.warning("order anomaly: %s", text or anomaly)

    # -- between events -----------------------------------------------------------------------

    def _housekeeping(self, now_ns: int) -> None:
        if now_ns >= self.next_fill_summary_ns:
            self.next_fill_summary_ns = now_ns + 1_000_000_000
            if self.fills_unlogged:
                self.log.info("%d more fills in the last second (all in the ledger)",
                              self.fills_unlogged)  # fmt: skip
            self.fills_unlogged = 0
            self.fill_lines_left = FILL_LINES_PER_S
        for strategy in self.strategies:
            intents = strategy.on_timer(now_ns)
            if intents:
                self._act(intents, now_ns)
        for order in self.oms.expire_unacked(now_ns, ACK_TIMEOUT_NS):
            self.log.warning("order %d unanswered for 2 s: cancelling", order.order_id)
            if self.oms.request_cancel(order.order_id, now_ns):
                self._send_cancel(order.order_id)
        for locate, (bid, _, ask, _) in self.tops.items():
            if bid and ask:
                self.portfolio.mark(self.feed.builder.symbols[locate], (bid + ask) // 2)
        self.risk.set_pnl(
            to_dollars(self.portfolio.realised), to_dollars(self.portfolio.unrealised), now_ns
        )

    def restore(
        self,
        portfolio_snapshot: dict[str, Any] | None,
        session: str,
        next_sequence: int,
        open_orders: list,
        next_order_id: int,
        strategy_positions: dict[tuple[str, str], int],
    ) -> None:
        """Carry on after a restart: the portfolio as last saved, the venue session from the
        next answer not yet applied (the venue replays the rest), the orders still open."""
        if portfolio_snapshot is not None:
            self.portfolio = Portfolio.restore(portfolio_snapshot)
            for position in self.portfolio.open_positions():
                # Risk learns the positions as if filled, so its limits count them.
                self.risk.on_fill(
                    Fill(
                        0,
                        position.symbol,
                        BUY if position.qty > 0 else -1,
                        abs(position.qty),
                        int(position.avg_price),
                        0,
                    )  # fmt: skip
                )
        self.gateway.session = session
        self.gateway.next_sequence = next_sequence
        self.oms = OrderManager(first_order_id=next_order_id)
        for order in open_orders:
            self.oms.adopt(order)
            self.risk.on_order_sent(order.order_id, order.symbol, order.side, order.working_qty)
        self.strategy_positions = dict(strategy_positions)

    def checkpoint(self) -> tuple[dict[str, Any], str, int]:
        """The portfolio and the venue position, taken together at a safe point: after a
        crash, replaying the venue from that sequence onto that portfolio is exact."""
        return self.portfolio.snapshot().as_dict(), self.gateway.session, self.gateway.next_sequence

    def status(self) -> dict[str, Any]:
        """Everything the dashboard shows of the engine, as plain JSON-ready values."""
        portfolio = self.portfolio
        positions = {}
        for p in portfolio.open_positions() + [
            p for p in portfolio.positions.values() if not p.qty and p.realised
        ]:
            positions[p.symbol] = {
                "qty": p.qty,
                "avg_price": p.avg_price / PRICE_SCALE,
                "mark": p.mark_price / PRICE_SCALE,
                "unrealised": to_dollars(p.unrealised),
                "realised": to_dollars(p.realised),
                "total": to_dollars(p.total_pnl),
            }
        working = self.oms.working_orders()
        return {
            "positions": positions,
            "realised": to_dollars(portfolio.realised),
            "unrealised": to_dollars(portfolio.unrealised),
            "daily_pnl": to_dollars(portfolio.daily_pnl),
            "equity": to_dollars(portfolio.equity),
            "state": self.state,
            "risk_state": str(self.risk.state),
            "risk_reason": self.risk.reason,
            "limits": self.risk.limits.as_dict(),
            "risk_usage": self.risk.usage(self.clock_ns()),
            "working_orders": len(working),
            "working": [
                {
                    "order_id": o.order_id,
                    "symbol": o.symbol,
                    "side": "BUY" if o.side == BUY else "SELL",
                    "qty": o.qty,
                    "working": o.working_qty,
                    "price": o.price / PRICE_SCALE,
                    "state": str(o.state),
                    "strategy": o.strategy,
                }
                for o in working[:STATUS_WORKING_ORDERS]
            ],  # fmt: skip
            "fills": list(self.recent_fills),
            "counters": dict(vars(self.counters)),
            "latency_us": self.latency.publish(),
            "venue": {
                "name": self.config.engine.venue,
                "order_connected": self.gateway.connected,
                "order_reconnects": self.gateway.reconnects,
                # What a broker gateway is doing (READY, RATE_LIMITED, ...); "" for OUCH.
                "order_state": getattr(self.gateway, "state", ""),
                "feed_connected": self.feed.connected,
            },
            "feed": {
                "messages": self.feed.stats.messages,
                "next_sequence": self.feed.next_sequence,
                "gaps": self.feed.stats.gaps,
                "resyncs": self.feed.stats.resyncs,
                "reconnects": self.feed.stats.reconnects,
                "malformed": self.feed.stats.malformed,
            },
            "strategies": [s.name for s in self.strategies],
        }


_SIDES = {"BUY": BUY, "SELL": -1}
_TIFS = {"DAY": TimeInForce.DAY, "IOC": TimeInForce.IOC, "GTC": TimeInForce.GTC}


def ticket_intent(args: Mapping[str, Any], symbols: Sequence[str]) -> OrderIntent:
    """An operator's order from command arguments; raises ValueError naming the bad field.

    `price` is in dollars (0 or absent: a market order), `side` BUY or SELL, `tif` DAY (the
    default), IOC or GTC.
    """
    symbol = args.get("symbol")
    if symbol not in symbols:
        raise ValueError(f"symbol: {symbol!r} is not traded here ({', '.join(symbols)})")
    side = _SIDES.get(str(args.get("side", "")).upper())
    if side is None:
        raise ValueError("side: must be BUY or SELL")
    qty = args.get("qty")
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise ValueError("qty: must be a positive integer")
    price = args.get("price", 0)
    if isinstance(price, bool) or not isinstance(price, int | float) or price < 0:
        raise ValueError("price: must be a number of dollars, 0 for a market order")
    tif = _TIFS.get(str(args.get("tif", "DAY")).upper())
    if tif is None:
        raise ValueError("tif: must be DAY, IOC or GTC")
    price_units = round(price * PRICE_SCALE)
    if price and abs(price_units - price * PRICE_SCALE) > 1e-6:
        raise ValueError("price: at most 4 decimal places")
    return OrderIntent(str(symbol), side, qty, price_units, tif, "manual")
