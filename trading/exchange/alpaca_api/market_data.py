"""Alpaca stock data messages (`t` trades, `q` quotes, `b` bars) from the simulator's feed.

Every ITCH message the venue publishes passes through `on_feed`. Resting orders are followed
by reference number just far enough to price their executions; a book change marks the symbol
for a quote from the venue's own book, sent once the current matching step is over; trades go
out as they print, and one-minute bars when their minute is over.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgpack

from trading.prices import NANOS_PER_SECOND, PRICE_SCALE
from trading.protocols import itch

if TYPE_CHECKING:
    from trading.exchange.server import ExchangeServer

EXCHANGE_CODE = "V"  # IEX's code in Alpaca's exchange list: the simulator speaks for "the feed"
TAPE = "C"  # Nasdaq-listed
MINUTE_NS = 60 * NANOS_PER_SECOND
CHANNELS = ("trades", "quotes", "bars")


@dataclass(eq=False)  # one per connection: compared and hashed by identity
class Subscriber:
    """One data stream connection: its subscriptions and how to hand it a batch."""

    send: Callable[[list[dict[str, Any]]], None]
    channels: dict[str, set[str]] = field(default_factory=lambda: {c: set() for c in CHANNELS})

    def wants(self, channel: str, symbol: str) -> bool:
        subscribed = self.channels[channel]
        return symbol in subscribed or "*" in subscribed


@dataclass
class _Bar:
    minute_ns: int
    open: int
    high: int
    low: int
    close: int
    volume: int = 0
    trades: int = 0
    value: int = 0


class MarketData:
    """Feed tap, per-symbol state and the subscribers of the data streams."""

    def __init__(self, exchange: ExchangeServer, on_trade: Callable[[str, int], None]) -> None:
        self.exchange = exchange
        self.venue = exchange.venue
        self.on_trade = on_trade
        self.orders: dict[int, list[int]] = {}  # ref -> [price, shares, locate]
        self.subscribers: set[Subscriber] = set()
        self.dirty: set[int] = set()
        self.pending: dict[Subscriber, list[dict[str, Any]]] = {}
        self.last_quote: dict[str, tuple[int, int, int, int]] = {}
        self.bars: dict[str, _Bar] = {}
        self.flush_scheduled = False
        self.epoch_offset_ns = _midnight_epoch_ns(exchange)

    # -- the time of the market -----------------------------------------------------------

    def epoch_ns(self) -> int:
        """Now on the exchange's clock (the replayed day's time in a replay), since the epoch."""
        if self.exchange.replay is None:
            return time.time_ns()
        return self.epoch_offset_ns + self.exchange.clock()

    # -- the feed ---------------------------------------------------------------------------

    def on_feed(self, message: Any) -> None:
        if message.__class__ is bytes:
            message = itch.decode(message)
        kind = type(message)
        orders = self.orders
        if kind is itch.AddOrder or kind is itch.AddOrderMpid:
            orders[message.order_reference_number] = [
                message.price, message.shares, message.stock_locate,
            ]  # fmt: skip
            self._touch(message.stock_locate)
        elif kind is itch.OrderExecuted or kind is itch.OrderExecutedWithPrice:
            entry = self._reduce(message.order_reference_number, message.executed_shares)
            locate = message.stock_locate
            self._touch(locate)
            if kind is itch.OrderExecutedWithPrice:
                if message.printable == "Y":
                    self._trade(locate, message.execution_price, message.executed_shares,
                                message.match_number)  # fmt: skip
            else:
                # An order that rested before the tap saw it (a replay's opening book) trades
                # at the venue's last price, which the venue set for this very execution.
                state = self.venue.by_locate.get(locate)
                price = entry[0] if entry is not None else state.last_trade_price if state else 0
                if price:
                    self._trade(locate, price, message.executed_shares, message.match_number)
        elif kind is itch.OrderCancel:
            self._reduce(message.order_reference_number, message.cancelled_shares)
            self._touch(message.stock_locate)
        elif kind is itch.OrderDelete:
            orders.pop(message.order_reference_number, None)
            self._touch(message.stock_locate)
        elif kind is itch.OrderReplace:
            orders.pop(message.original_order_reference_number, None)
            orders[message.new_order_reference_number] = [
                message.price, message.shares, message.stock_locate,
            ]  # fmt: skip
            self._touch(message.stock_locate)
        elif kind is itch.Trade:
            self._trade(message.stock_locate, message.price, message.shares,
                        message.match_number)  # fmt: skip

    def _reduce(self, ref: int, shares: int) -> list[int] | None:
        entry = self.orders.get(ref)
        if entry is not None:
            entry[1] -= shares
            if entry[1] <= 0:
                del self.orders[ref]
        return entry

    def _touch(self, locate: int) -> None:
        if self.subscribers:
            self.dirty.add(locate)
            self._schedule()

    def _trade(self, locate: int, price: int, shares: int, match: int) -> None:
        state = self.venue.by_locate.get(locate)
        if state is None:
            return
        symbol = state.name
        now = self.epoch_ns()
        self._bar(symbol, price, shares, now)
        self.on_trade(symbol, price)
        if not self.subscribers:
            return
        trade = {
            "T": "t", "S": symbol, "i": match, "x": EXCHANGE_CODE, "p": price / PRICE_SCALE,
            "s": shares, "c": ["@"], "z": TAPE, "t": msgpack.Timestamp.from_unix_nano(now),
        }  # fmt: skip
        self._publish("trades", symbol, trade)

    def _bar(self, symbol: str, price: int, shares: int, now: int) -> None:
        minute = now - now % MINUTE_NS
        bar = self.bars.get(symbol)
        if bar is not None and bar.minute_ns != minute:
            self._send_bar(symbol, bar)
            bar = None
        if bar is None:
            bar = self.bars[symbol] = _Bar(minute, price, price, price, price)
        bar.high = max(bar.high, price)
        bar.low = min(bar.low, price)
        bar.close = price
        bar.volume += shares
        bar.trades += 1
        bar.value += price * shares

    def close_bars(self) -> None:
        """Send the bars whose minute is over (called every second)."""
        minute = self.epoch_ns()
        minute -= minute % MINUTE_NS
        for symbol, bar in list(self.bars.items()):
            if bar.minute_ns < minute:
                del self.bars[symbol]
                self._send_bar(symbol, bar)

    def _send_bar(self, symbol: str, bar: _Bar) -> None:
        if not self.subscribers:
            return
        message = {
            "T": "b", "S": symbol, "o": bar.open / PRICE_SCALE, "h": bar.high / PRICE_SCALE,
            "l": bar.low / PRICE_SCALE, "c": bar.close / PRICE_SCALE, "v": bar.volume,
            "t": msgpack.Timestamp.from_unix_nano(bar.minute_ns), "n": bar.trades,
            "vw": round(bar.value / bar.volume / PRICE_SCALE, 6),
        }  # fmt: skip
        self._publish("bars", symbol, message)

    # -- to the subscribers -----------------------------------------------------------------

    def quote(self, symbol: str) -> dict[str, Any]:
        """The current top of the venue's book as an Alpaca quote message."""
        book = self.venue.symbols[symbol].book
        bid, bid_size = book.best_bid()
        ask, ask_size = book.best_ask()
        return {
            "T": "q", "S": symbol, "bx": EXCHANGE_CODE if bid else "", "bp": bid / PRICE_SCALE,
            "bs": bid_size, "ax": EXCHANGE_CODE if ask else "", "ap": ask / PRICE_SCALE,
            "as": ask_size, "c": ["R"], "z": TAPE,
            "t": msgpack.Timestamp.from_unix_nano(self.epoch_ns()),
        }  # fmt: skip

    def _publish(self, channel: str, symbol: str, message: dict[str, Any]) -> None:
        for subscriber in self.subscribers:
            if subscriber.wants(channel, symbol):
                self.pending.setdefault(subscriber, []).append(message)
        if self.pending:
            self._schedule()

    def _schedule(self) -> None:
        if not self.flush_scheduled:
            self.flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self.flush_scheduled = False
        dirty, self.dirty = self.dirty, set()
        for locate in dirty:
            state = self.venue.by_locate.get(locate)
            if state is None:
                continue
            book = state.book
            top = (*book.best_bid(), *book.best_ask())
            if self.last_quote.get(state.name) == top:
                continue
            self.last_quote[state.name] = top
            if any(s.wants("quotes", state.name) for s in self.subscribers):
                self._publish("quotes", state.name, self.quote(state.name))
        pending, self.pending = self.pending, {}
        for subscriber, messages in pending.items():
            if subscriber in self.subscribers:
                subscriber.send(messages)

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
        self.pending.pop(subscriber, None)


def _midnight_epoch_ns(exchange: ExchangeServer) -> int:
    """Epoch nanoseconds of midnight, New York time, of the replayed day (else of today)."""
    from trading.exchange.server import EXCHANGE_TZ

    day = dt.datetime.now(EXCHANGE_TZ).date()
    replay = exchange.replay
    info = getattr(getattr(replay, "day", None), "info", None)
    if info is not None and isinstance(getattr(info, "date", None), dt.date):
        day = info.date
    midnight = dt.datetime.combine(day, dt.time(), EXCHANGE_TZ)
    return int(midnight.timestamp()) * NANOS_PER_SECOND
