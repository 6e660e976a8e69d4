"""Lockstep replay: a LOBSTER day, the venue and fixed latencies as one discrete-event run.

The replayed day's time is the only clock. Three kinds of item wait in one queue:

- a **row** of the LOBSTER day, due at its own timestamp;
- an **arrival**: the OUCH messages a client sent while it handled one step, due at the data
  time of that step plus the entry latency;
- a **response**: the OUCH answers the venue produced while handling one item, due at that
  item's time plus the response latency.

Items are taken in the order (time, kind, sequence), with kinds ordered response < row <
arrival at equal times, and sequence the order in which items were queued:

- a response due at t reports something decided before t, so the client learns it before
  anything new at t;
- a client order arriving at the same nanosecond as replayed rows comes after all of them: it
  can neither jump ahead of history nor split a burst of rows that share one timestamp (a
  sweep through several levels is one LOBSTER timestamp).

Handling an item publishes feed messages (a row; an arrival, whose orders rest, trade or
cancel) or delivers answers (a response); an item that produced neither is skipped, and any
other is a *step* the client must see. `LockstepVenue` knows nothing of sockets: the exchange
server sends each step over SoupBinTCP and waits for the engine's ack
(`trading.protocols.lockstep`), the in-process backtest hands it to the engine directly, and
both go through exactly this code, so their runs agree message for message.
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import asdict, dataclass
from typing import Any

from trading.config import ExchangeConfig
from trading.exchange.replay_row import publish_replay_row
from trading.exchange.venue import Venue
from trading.protocols import ouch

RESPONSE = 0
ROW = 1
ARRIVAL = 2
KIND_NAMES = {RESPONSE: "response", ROW: "row", ARRIVAL: "arrival"}


class EventQueue:
    """The scheduler: items come out by (time, kind, sequence of queueing)."""

    __slots__ = ("_heap", "_sequence")

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, int, Any]] = []
        self._sequence = 0

    def push(self, time_ns: int, kind: int, item: Any) -> None:
        """Queue `item` of `kind` (RESPONSE, ROW or ARRIVAL) for `time_ns`."""
        if kind not in KIND_NAMES:
            raise ValueError(f"unknown item kind {kind!r}")
        self._sequence += 1
        heapq.heappush(self._heap, (time_ns, kind, self._sequence, item))

    def pop(self) -> tuple[int, int, Any]:
        """The next item as (time, kind, item); IndexError when empty."""
        time_ns, kind, _, item = heapq.heappop(self._heap)
        return time_ns, kind, item

    def __len__(self) -> int:
        return len(self._heap)


@dataclass(frozen=True, slots=True)
class SentOrder:
    """One OUCH message a client sent, as the venue received it."""

    sent_ns: int  # data time of the step the client was handling when it sent it
    arrival_ns: int  # sent_ns + entry latency: when the venue handles it
    username: str
    kind: str  # "enter", "cancel", "replace" or "modify"
    token: str
    symbol: str = ""
    side: str = ""
    qty: int = 0  # shares (enter), new total size (cancel, replace, modify)
    price: int = 0
    tif: int = 0
    new_token: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One OUCH answer handed to a client, at its delivery time."""

    time_ns: int  # decided at venue_ns, delivered response latency later
    venue_ns: int
    username: str
    kind: str  # the OUCH message class name: Accepted, Executed, Canceled, Rejected, ...
    token: str
    qty: int = 0  # accepted, executed or cancelled shares
    price: int = 0
    match_number: int = 0
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Step:
    """What one step delivers: feed messages or client answers, at one data time."""

    number: int
    time_ns: int
    kind: int
    feed: list[bytes]  # ITCH payloads, in publishing order
    responses: list[tuple[str, bytes]]  # (username, OUCH payload), in order


def sent_order(message: Any, username: str, sent_ns: int, arrival_ns: int) -> SentOrder:
    """The record of one decoded OUCH inbound message."""
    kind = type(message)
    if kind is ouch.EnterOrder:
        return SentOrder(
            sent_ns, arrival_ns, username, "enter", message.order_token, message.stock,
            message.side, message.shares, message.price, message.time_in_force_s,
        )  # fmt: skip
    if kind is ouch.CancelOrder:
        return SentOrder(
            sent_ns, arrival_ns, username, "cancel", message.order_token, qty=message.shares
        )
    if kind is ouch.ReplaceOrder:
        return SentOrder(
            sent_ns, arrival_ns, username, "replace", message.existing_order_token,
            qty=message.shares, price=message.price, tif=message.time_in_force_s,
            new_token=message.replacement_order_token,
        )  # fmt: skip
    if kind is ouch.ModifyOrder:
        return SentOrder(
            sent_ns, arrival_ns, username, "modify", message.order_token, side=message.side,
            qty=message.shares,
        )  # fmt: skip
    raise TypeError(f"not an OUCH inbound message: {kind.__name__}")


def delivery(payload: bytes, username: str, time_ns: int) -> Delivery:
    """The record of one OUCH answer delivered at `time_ns`."""
    message = ouch.decode_outbound(payload)
    name = type(message).__name__
    token = str(
        getattr(message, "order_token", None) or getattr(message, "replacement_order_token", "")
    )
    qty = _first_field(message, ("executed_shares", "decrement_shares", "shares"))
    price = _first_field(message, ("execution_price", "price"))
    return Delivery(
        time_ns, message.timestamp_ns, username, name, token, qty, price,
        _first_field(message, ("match_number",)), str(getattr(message, "reason", "")),
    )  # fmt: skip


def _first_field(message: Any, names: tuple[str, ...]) -> int:
    for name in names:
        value = getattr(message, name, None)
        if value is not None:
            return int(value)
    return 0


class LockstepVenue:
    """A replay and a venue stepped item by item on the replayed day's clock.

    Wire it up by giving the venue `on_client` and `publish` as its output callbacks (the
    venue must hold the replay's book, as `ExchangeServer` builds it). Call `step` for the
    next step the client must see (None at the end), and `submit` for every OUCH message the
    client sent while handling it.
    """

    def __init__(
        self,
        venue: Venue,
        replay: Any,
        *,
        entry_latency_ns: int,
        response_latency_ns: int,
    ) -> None:
        for name, value in (("entry", entry_latency_ns), ("response", response_latency_ns)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} latency must be a whole number of ns >= 0, not {value!r}")
        self.venue = venue
        self.replay = replay
        self.entry_latency_ns = entry_latency_ns
        self.response_latency_ns = response_latency_ns
        self.locate = venue.symbols[replay.symbol].locate
        self.queue = EventQueue()
        self.now_ns = 0
        self.steps = 0
        self.rows_done = 0
        self.feed_out: list[bytes] = []
        self.client_out: list[tuple[str, bytes]] = []
        self.batch: list[tuple[str, Any]] | None = None
        self.orders: list[SentOrder] = []
        self.deliveries: list[Delivery] = []
        if len(replay):
            self.queue.push(replay.timestamp(0), ROW, 0)

    @classmethod
    def for_replay(
        cls,
        config: ExchangeConfig,
        replay: Any,
        *,
        entry_latency_ns: int,
        response_latency_ns: int,
        logger: logging.Logger | None = None,
    ) -> LockstepVenue:
        """A venue for `replay` (a `ReplaySource`) built as the exchange server builds it,
        wired to a new lockstep schedule. Its start of day is already published."""
        venue = Venue(
            config, [replay.symbol], lambda username, message: None, lambda message: None,
            logger, books={replay.symbol: replay.book}, first_ref=replay.first_client_ref,
        )  # fmt: skip
        venue.on_house_fill = replay.note_execution
        core = cls(
            venue, replay, entry_latency_ns=entry_latency_ns,
            response_latency_ns=response_latency_ns,
        )  # fmt: skip
        venue.to_client = core.on_client
        venue.to_feed = core.publish
        venue.start_of_day(0)
        return core

    # -- the venue's outputs ------------------------------------------------------------------

    def on_feed(self, message: Any) -> bytes:
        """Venue callback: a feed message published now; returns its encoding."""
        payload = message if message.__class__ is bytes else message.encode()
        self.feed_out.append(payload)
        return payload

    def publish(self, message: Any) -> None:
        """`on_feed` as the venue's feed callback, which returns nothing."""
        self.on_feed(message)

    def on_client(self, username: str, message: Any) -> None:
        """Venue callback: an answer for a client, held back by the response latency."""
        payload = message if message.__class__ is bytes else message.encode()
        self.client_out.append((username, payload))

    # -- the client's orders ------------------------------------------------------------------

    def submit(self, username: str, payload: bytes) -> None:
        """An OUCH message the client sent while handling the current step.

        Everything sent during one step travels together: it reaches the venue at the step's
        time plus the entry latency, in the order sent. Raises `soup.MalformedMessage` for a
        payload that is not an OUCH inbound message.
        """
        message = ouch.decode_inbound(payload)
        arrival_ns = self.now_ns + self.entry_latency_ns
        if self.batch is None:
            self.batch = []
            self.queue.push(arrival_ns, ARRIVAL, self.batch)
        self.batch.append((username, message))
        self.orders.append(sent_order(message, username, self.now_ns, arrival_ns))

    # -- stepping -----------------------------------------------------------------------------

    def step(self) -> Step | None:
        """Handle queued items up to the next one the client must see; None when all is done."""
        self.batch = None  # what the client sends from now on belongs to the next step
        queue = self.queue
        while queue:
            time_ns, kind, item = queue.pop()
            self.now_ns = time_ns
            self.feed_out = []
            responses: list[tuple[str, bytes]] = []
            if kind == ROW:
                publish_replay_row(self.venue, self.replay, item, self.locate)
                self.rows_done += 1
                if item + 1 < len(self.replay):
                    queue.push(self.replay.timestamp(item + 1), ROW, item + 1)
            elif kind == ARRIVAL:
                for username, message in item:
                    self.venue.handle(username, message, time_ns)
            else:
                responses = item
                for username, payload in responses:
                    self.deliveries.append(delivery(payload, username, time_ns))
            if self.client_out:
                queue.push(time_ns + self.response_latency_ns, RESPONSE, self.client_out)
                self.client_out = []
            feed, self.feed_out = self.feed_out, []
            if feed or responses:
                self.steps += 1
                return Step(self.steps, time_ns, kind, feed, responses)
        return None

    @property
    def done(self) -> bool:
        """Every row replayed and every order and answer handled."""
        return not self.queue

    def journal(self) -> dict[str, Any]:
        """The run as the venue saw it: orders received and answers delivered, with times."""
        return {
            "symbol": self.replay.symbol,
            "entry_latency_ns": self.entry_latency_ns,
            "response_latency_ns": self.response_latency_ns,
            "rows": self.rows_done,
            "steps": self.steps,
            "orders": [o.as_dict() for o in self.orders],
            "deliveries": [d.as_dict() for d in self.deliveries],
        }
