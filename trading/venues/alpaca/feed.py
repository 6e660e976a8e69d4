"""The engine's market data from Alpaca: alpaca-py's StockDataStream as ITCH records.

Alpaca sends quotes (best bid and offer) and trades, not an order-by-order book. Each quote
becomes synthetic ITCH at the top of the book: the previous best bid or offer is deleted and
the new one added as one order, so the book builder's top of book is the quote and strategies
see `BookTop` exactly as they do from the simulator's feed. Trades become ITCH Trade
messages (trade prints). Records go through the same `on_message` / `on_batch` /
`on_snapshot` callbacks as the ITCH feed handler's, on the engine's thread (`poll`), stamped
T1 when the stream thread received them. A reconnect starts the books afresh (a resync):
quotes missed while down are not replayed, the next ones rebuild the top.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from alpaca.data.enums import DataFeed
from alpaca.data.live.stock import StockDataStream

from trading.book_builder import BookBuilder
from trading.engine.feed_handler import FeedStats
from trading.protocols import itch
from trading.venues.alpaca import translate as tr
from trading.venues.alpaca.settings import AlpacaSettings, websocket_params
from trading.venues.alpaca.stream_control import STOP_TIMEOUT_S, stop_stream

_NS_PER_DAY = 86_400 * 1_000_000_000


def itch_timestamp(ts: datetime | None) -> int:
    """Nanoseconds since midnight (UTC), as ITCH timestamps count."""
    if ts is None:
        return 0
    midnight = ts.replace(hour=0, minute=0, second=0, microsecond=0)
    delta = ts - midnight
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 % _NS_PER_DAY + (
        delta.microseconds * 1_000
    )


class QuoteBook:
    """Turns one symbol's quotes into ITCH Add/Delete at the top of the book."""

    __slots__ = ("locate", "symbol", "bid", "ask", "next_ref")

    def __init__(self, locate: int, symbol: str, first_ref: int) -> None:
        self.locate = locate
        self.symbol = symbol
        self.bid: tuple[int, int, int] = (0, 0, 0)  # (reference, price, shares)
        self.ask: tuple[int, int, int] = (0, 0, 0)
        self.next_ref = first_ref

    def quote(self, bid: int, bid_qty: int, ask: int, ask_qty: int, ts: int) -> list[Any]:
        """The ITCH messages that move the book's top to this quote (none if unchanged)."""
        out: list[Any] = []
        self.bid = self._side("B", self.bid, bid, bid_qty, ts, out)
        self.ask = self._side("S", self.ask, ask, ask_qty, ts, out)
        return out

    def _side(
        self, side: str, held: tuple[int, int, int], price: int, qty: int, ts: int, out: list
    ) -> tuple[int, int, int]:
        ref, old_price, old_qty = held
        if price <= 0 or qty <= 0:
            price, qty = 0, 0
        if (price, qty) == (old_price, old_qty):
            return held
        if ref:
            out.append(itch.OrderDelete(self.locate, 0, ts, ref))
        if not price:
            return (0, 0, 0)
        ref = self.next_ref
        self.next_ref += 1
        out.append(itch.AddOrder(self.locate, 0, ts, ref, side, qty, self.symbol, price))
        return (ref, price, qty)


class _DataStream(StockDataStream):
    """alpaca-py's StockDataStream, telling the feed when it is (re)connected or lost."""

    def __init__(
        self,
        settings: AlpacaSettings,
        on_up: Callable[[], None],
        on_down: Callable[[], None],
        on_refused: Callable[[str], None],
    ) -> None:
        super().__init__(
            settings.api_key, settings.secret_key, feed=DataFeed(settings.data_feed),
            url_override=settings.data_stream_url, websocket_params=websocket_params(),
        )  # fmt: skip
        self._reconnect_min_backoff = settings.reconnect_min_s
        self._reconnect_max_backoff = settings.reconnect_max_s
        self._on_up = on_up
        self._on_down = on_down
        self._on_refused = on_refused

    async def _auth(self) -> None:
        try:
            await super()._auth()
        except ValueError as exc:
            self._on_refused(str(exc))
            raise

    async def _dispatch(self, msg: dict) -> None:
        await super()._dispatch(msg)
        # Up means subscribed (the server confirmed): quotes of what changed before that
        # never come, so the books start from here.
        if msg.get("T") == "subscription":
            self._on_up()

    async def close(self) -> None:
        was_open = self._ws is not None
        await super().close()
        if was_open:
            self._on_down()


class AlpacaFeed:
    """The feed-handler interface (`poll`, `builder`, `stats`, `next_sequence`, `connected`,
    `close`) over Alpaca's stock data stream."""

    def __init__(
        self,
        settings: AlpacaSettings,
        symbols: Sequence[str],
        *,
        tick_size: int = 100,
        on_message: Callable[[object, int], None] | None = None,
        on_snapshot: Callable[[int], None] | None = None,
        on_batch: Callable[[int], None] | None = None,
        logger: logging.Logger | None = None,
        clock_ns: Callable[[], int] = time.monotonic_ns,
        stream_factory: Callable[..., Any] | None = None,
    ) -> None:
        self.settings = settings
        self.symbols = list(symbols)
        self.tick_size = tick_size
        self.on_message = on_message
        self.on_snapshot = on_snapshot
        self.on_batch = on_batch
        self.log = logger or logging.getLogger("MD")
        self.clock_ns = clock_ns
        self.stream_factory = stream_factory or _DataStream
        self.stats = FeedStats()
        self.session = settings.venue
        self.next_sequence = 0  # 0 until the stream is up; then counts the records applied
        self.locates = {symbol: i + 1 for i, symbol in enumerate(self.symbols)}
        self.builder = BookBuilder(tick_size)
        self.quotes: dict[str, QuoteBook] = {}
        self.state = "STARTING"
        self._inbox: queue.SimpleQueue[tuple[str, Any, int]] = queue.SimpleQueue()
        self._up = False
        self._ever_up = False
        self._stream: Any = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self._reset_books()

    # -- public -------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._up

    def start(self) -> None:
        """Subscribe to quotes and trades of the configured symbols (done by the first poll)."""
        if self._stream is not None:
            return
        self._stream = self.stream_factory(
            self.settings, self._stream_up, self._stream_down, self._stream_refused
        )
        self._stream.subscribe_quotes(self._on_quote, *self.symbols)
        self._stream.subscribe_trades(self._on_trade, *self.symbols)
        self._thread = threading.Thread(target=self._stream.run, name="alpaca-data", daemon=True)
        self._thread.start()
        self.log.info(
            "Alpaca %s data for %s from %s", self.settings.data_feed.upper(),
            ", ".join(self.symbols), self.settings.data_stream_url,
        )  # fmt: skip

    def poll(self, timeout_s: float = 0.0) -> int:
        """Start if needed, then apply whatever has arrived; returns records applied."""
        if self._stream is None:
            self.start()
        try:
            item = self._inbox.get(timeout=timeout_s) if timeout_s > 0 else self._inbox.get_nowait()
        except queue.Empty:
            return 0
        applied = 0
        last_t1 = 0
        while True:
            kind, payload, t1 = item
            if kind == "quote":
                applied += self.apply_quote(payload, t1)
                last_t1 = t1
            elif kind == "trade":
                applied += self.apply_trade(payload, t1)
                last_t1 = t1
            elif kind == "up":
                self._on_up(t1)
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                break
        if applied and self.on_batch is not None:
            self.on_batch(last_t1)
        return applied

    def apply_quote(self, quote: Any, t1: int) -> int:
        """One alpaca-py Quote as ITCH at the top of its symbol's book; records applied."""
        book = self.quotes.get(quote.symbol)
        if book is None:
            self.stats.malformed += 1
            return 0
        try:
            messages = book.quote(
                tr.to_price(quote.bid_price, "bid_price"), int(quote.bid_size or 0),
                tr.to_price(quote.ask_price, "ask_price"), int(quote.ask_size or 0),
                itch_timestamp(quote.timestamp),
            )  # fmt: skip
        except (tr.TranslationError, TypeError, ValueError) as exc:
            self.stats.malformed += 1
            self.log.warning("quote for %s skipped: %s", quote.symbol, exc)
            return 0
        for message in messages:
            self._deliver(message, t1)
        return len(messages)

    def apply_trade(self, trade: Any, t1: int) -> int:
        """One alpaca-py Trade as an ITCH Trade (a trade print); records applied."""
        locate = self.locates.get(trade.symbol)
        if locate is None:
            self.stats.malformed += 1
            return 0
        try:
            price = tr.to_price(trade.price, "price")
            shares = int(trade.size or 0)
        except (tr.TranslationError, TypeError, ValueError) as exc:
            self.stats.malformed += 1
            self.log.warning("trade for %s skipped: %s", trade.symbol, exc)
            return 0
        message = itch.Trade(
            locate, 0, itch_timestamp(trade.timestamp), 0, " ", shares, trade.symbol, price,
            int(trade.id or 0) & ((1 << 63) - 1),
        )  # fmt: skip
        self._deliver(message, t1)
        return 1

    def close(self) -> None:
        """Stop the stream."""
        if self._closing:
            return
        self._closing = True
        stop_stream(self._stream, self.log, "data stream")
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)
        self._up = False

    # -- internals ----------------------------------------------------------------------------

    def _deliver(self, message: Any, t1: int) -> None:
        self.builder.apply(message)
        self.stats.messages += 1
        self.stats.last_receive_ns = t1
        self.next_sequence += 1
        if self.on_message is not None:
            self.on_message(message, t1)

    def _reset_books(self) -> None:
        """Empty books with the symbols' directory, as after a snapshot of nothing."""
        self.builder = BookBuilder(self.tick_size)
        first_ref = 1
        for symbol, locate in self.locates.items():
            self.builder.apply(
                itch.StockDirectory(
                    locate,
                    0,
                    0,
                    symbol,
                    " ",
                    " ",
                    100,
                    "N",
                    " ",
                    "  ",
                    " ",
                    " ",
                    " ",
                    " ",
                    " ",
                    0,
                    " ",
                )  # fmt: skip
            )
            # Each symbol's synthetic references live in their own range, never reused.
            self.quotes[symbol] = QuoteBook(locate, symbol, first_ref)
            first_ref += 1 << 40

    def _on_up(self, t1: int) -> None:
        if self._ever_up:
            self.stats.resyncs += 1
            self.log.info("market data reconnected: books start afresh")
        self._ever_up = True
        # Keep the reference ranges moving on so no old reference is ever reused.
        next_refs = {symbol: book.next_ref for symbol, book in self.quotes.items()}
        self._reset_books()
        for symbol, ref in next_refs.items():
            self.quotes[symbol].next_ref = ref
        self.next_sequence = max(self.next_sequence, 1)
        if self.on_snapshot is not None:
            self.on_snapshot(t1)

    def _stream_up(self) -> None:
        self._up = True
        self.state = "READY"
        self._inbox.put(("up", None, self.clock_ns()))

    def _stream_down(self) -> None:
        if self._closing or not self._up:
            return
        self._up = False
        self.state = "STREAM_DOWN"
        self.stats.reconnects += 1
        self.log.warning("market data stream lost: reconnecting with back-off")

    def _stream_refused(self, why: str) -> None:
        self.state = "UNAUTHORISED"
        self.log.error("market data stream refused the keys (%s)", why)

    async def _on_quote(self, quote: Any) -> None:
        self._inbox.put(("quote", quote, self.clock_ns()))

    async def _on_trade(self, trade: Any) -> None:
        self._inbox.put(("trade", trade, self.clock_ns()))
