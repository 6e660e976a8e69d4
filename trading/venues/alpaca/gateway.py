"""The engine's order gateway for Alpaca: the OuchGateway interface over alpaca-py.

`send_enter`, `send_cancel` and `send_replace` only queue a request and return at once: a REST
worker thread sends them through alpaca-py's TradingClient (paced by a token bucket), so the
engine's thread never waits on HTTP. Fills, cancels and rejects arrive on alpaca-py's
TradingStream (trade_updates) in a thread of its own. Everything the broker says comes back
from `poll` as OUCH messages (Accepted, Executed, Canceled, Rejected, Replaced, CancelReject)
in `VenueMessage`s, so the engine, its risk checks and its order manager run unchanged.

No fill is lost or doubled: each order's cumulative filled quantity is tracked, so an
execution is reported once whether it comes from the stream, from the submit's answer or from
the catch-up that looks every open order up after the stream reconnects (the stream does not
replay what happened while it was down). A submit is never sent twice: one whose outcome is
unknown (timeout, 5xx, unreadable answer) is resolved by looking the order up by its client
order id. A 429 pauses every request for the broker's Retry-After.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import requests
from alpaca.trading.client import TradingClient
from alpaca.trading.models import Order, TradeUpdate
from alpaca.trading.stream import TradingStream

from trading.engine.gateway import VenueMessage, VenueReset
from trading.model.orders import OrderIntent, TimeInForce
from trading.prices import PRICE_SCALE
from trading.protocols import ouch
from trading.venues.alpaca import translate as tr
from trading.venues.alpaca.errors import BrokerError, ErrorKind, classify
from trading.venues.alpaca.rate_limit import TokenBucket
from trading.venues.alpaca.settings import AlpacaSettings, websocket_params
from trading.venues.alpaca.stream_control import STOP_TIMEOUT_S, stop_stream

_ACK_EVENTS = frozenset({"new", "accepted", "pending_new", "accepted_for_bidding"})
_FILL_EVENTS = frozenset({"fill", "partial_fill"})
_CANCEL_EVENTS = frozenset({"canceled", "expired", "done_for_day"})
_OPEN_STATUSES = frozenset(
    {"new", "accepted", "pending_new", "partially_filled", "accepted_for_bidding",
     "pending_cancel", "pending_replace", "held", "calculated", "stopped", "suspended"}
)  # fmt: skip
_CANCELLED_STATUSES = frozenset({"canceled", "expired", "done_for_day"})
# Finished orders are kept for late broker messages (a fill racing a cancel) up to this many;
# beyond it the oldest finished ones are forgotten, so a long session's memory stays flat.
RETAINED_FINISHED = 10_000


class GatewayState:
    """What the gateway is doing, for the dashboard and the log."""

    STARTING = "STARTING"
    READY = "READY"
    STREAM_DOWN = "STREAM_DOWN"  # fills arrive late (the catch-up recovers them)
    RATE_LIMITED = "RATE_LIMITED"
    UNAVAILABLE = "UNAVAILABLE"  # the broker answered 5xx or not at all
    UNAUTHORISED = "UNAUTHORISED"  # the keys were refused: nothing will work
    CLOSED = "CLOSED"


@dataclass(slots=True)
class TrackedOrder:
    """What the gateway knows of one engine order at the broker."""

    order_id: int
    client_id: str
    symbol: str
    side: int
    qty: int
    price: int
    tif: TimeInForce
    broker_id: str = ""
    acked: bool = False
    filled_qty: int = 0
    filled_notional: int = 0  # shares x 1e-4 dollars, as reported to the engine
    done: bool = False
    unresolved: bool = False  # a submit whose outcome is not known yet
    cancel_wanted: bool = False  # a cancel asked for while the submit was unresolved
    replaces: int = 0  # the engine order id this one replaces
    matches: set[int] = field(default_factory=set)


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    kind: str = field(compare=False)
    order_id: int = field(compare=False, default=0)
    request: Any = field(compare=False, default=None)
    attempt: int = field(compare=False, default=0)


class _TradeUpdates(TradingStream):
    """alpaca-py's TradingStream, telling the gateway when it is (re)connected or lost."""

    def __init__(
        self,
        settings: AlpacaSettings,
        on_up: Callable[[], None],
        on_down: Callable[[], None],
        on_refused: Callable[[], None],
    ) -> None:
        super().__init__(
            settings.api_key, settings.secret_key, paper=settings.paper,
            url_override=settings.trade_stream_url, websocket_params=websocket_params(),
        )  # fmt: skip
        self._reconnect_min_backoff = settings.reconnect_min_s
        self._reconnect_max_backoff = settings.reconnect_max_s
        self._on_up = on_up
        self._on_down = on_down
        self._on_refused = on_refused

    async def _auth(self) -> None:
        try:
            await super()._auth()
        except ValueError:
            self._on_refused()
            raise

    async def _start_ws(self) -> None:
        await super()._start_ws()
        self._on_up()

    async def close(self) -> None:
        was_open = self._ws is not None
        await super().close()
        if was_open:
            self._on_down()


class _TimeoutSession(requests.Session):
    """A requests session whose every request has a timeout (alpaca-py sets none)."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self.timeout_s = timeout_s

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout_s)
        return super().request(method, url, *args, **kwargs)


def trading_client(settings: AlpacaSettings) -> TradingClient:
    """alpaca-py's TradingClient for these settings, with timeouts and without its own
    retries (it would resend a rate-limited submit after a fixed wait, ignoring Retry-After;
    the gateway paces and resolves instead)."""
    client = TradingClient(
        settings.api_key, settings.secret_key, paper=settings.paper,
        url_override=settings.trading_url,
    )  # fmt: skip
    client._retry = 0
    client._session = _TimeoutSession(settings.http_timeout_s)
    return client


class AlpacaGateway:
    """Orders to Alpaca and its answers back, as the engine's OUCH gateway does it."""

    def __init__(
        self,
        settings: AlpacaSettings,
        *,
        logger: logging.Logger | None = None,
        clock_ns: Callable[[], int] = time.monotonic_ns,
        client: Any = None,
        stream_factory: Callable[..., Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.log = logger or logging.getLogger("GW")
        self.clock_ns = clock_ns
        self.clock = clock
        self.client = client if client is not None else trading_client(settings)
        self.stream_factory = stream_factory or _TradeUpdates
        self.bucket = TokenBucket(settings.rate_limit_per_min, settings.rate_limit_burst)
        # The engine checkpoints these; for Alpaca they only count answers.
        self.session = settings.venue
        self.next_sequence = 1
        self.reconnects = 0
        self.state = GatewayState.STARTING
        self.last_error = ""
        self.errors: dict[str, int] = {}
        self.orders: dict[int, TrackedOrder] = {}
        self.by_client_id: dict[str, int] = {}
        self._lock = threading.RLock()
        self._answers: queue.SimpleQueue[tuple[int, Any, int]] = queue.SimpleQueue()
        self._jobs: list[_Job] = []
        self._jobs_ready = threading.Condition()
        self._seq = itertools.count()
        self._stream: Any = None
        self._stream_up = False
        self._stream_seen = False
        self._threads: list[threading.Thread] = []
        self._started = False
        self._closing = False
        self._resolve_backoff_s = (0.2, 5.0)

    # -- engine interface ---------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """The trade-updates stream is up (fills flow) and the keys were accepted."""
        return self._stream_up and self.state != GatewayState.UNAUTHORISED

    def start(self) -> None:
        """Start the REST worker and the trade-updates stream (done by the first poll)."""
        if self._started:
            return
        self._started = True
        worker = threading.Thread(target=self._work, name="alpaca-rest", daemon=True)
        self._stream = self.stream_factory(
            self.settings, self._stream_connected, self._stream_lost, self._stream_refused
        )
        self._stream.subscribe_trade_updates(self._on_trade_update)
        stream = threading.Thread(target=self._stream.run, name="alpaca-trades", daemon=True)
        self._threads = [worker, stream]
        for thread in self._threads:
            thread.start()
        self.log.info("Alpaca order gateway: %s", self.settings.describe())

    def send_enter(self, order_id: int, intent: OrderIntent, *, stop_price: int = 0) -> int:
        """Queue a new order (market, limit; with `stop_price`: stop or stop-limit); returns
        T4, when it was handed to the REST worker. Raises ConnectionError when down."""
        self._check_ready()
        client_id = tr.client_order_id(order_id, self.settings.client_id_prefix)
        request = tr.order_request(intent, client_id, stop_price=stop_price)
        track = TrackedOrder(
            order_id, client_id, intent.symbol, intent.side, intent.qty, intent.price, intent.tif
        )
        with self._lock:
            self.orders[order_id] = track
            self.by_client_id[client_id] = order_id
            if len(self.orders) > 2 * RETAINED_FINISHED:
                self._forget_finished()
        self._schedule("submit", order_id, request)
        return self.clock_ns()

    def _forget_finished(self) -> None:
        """Drop the oldest finished orders beyond RETAINED_FINISHED (under the lock)."""
        finished = [t for t in self.orders.values() if t.done]
        for track in finished[: max(len(finished) - RETAINED_FINISHED, 0)]:
            del self.orders[track.order_id]
            self.by_client_id.pop(track.client_id, None)

    def send_cancel(self, order_id: int, total_shares: int = 0) -> int:
        """Queue a cancel of the whole order; returns T4. Alpaca cannot shrink an order in
        place, so a partial cancel is answered with a Cancel Reject."""
        self._check_ready()
        if total_shares:
            self.log.warning(
                "order %d: partial cancel to %d shares is not supported by Alpaca; use replace",
                order_id, total_shares,
            )  # fmt: skip
            track = self.orders.get(order_id)
            if track is not None:
                self._emit(order_id, ouch.CancelReject(0, track.client_id))
            return self.clock_ns()
        self._schedule("cancel", order_id)
        return self.clock_ns()

    def send_replace(
        self, order_id: int, new_order_id: int, total_shares: int, price: int, tif: TimeInForce
    ) -> int:
        """Queue a replace of `order_id` by `new_order_id`; returns T4."""
        self._check_ready()
        old = self.orders.get(order_id)
        if old is None:
            raise KeyError(f"order {order_id} is not one this gateway sent")
        client_id = tr.client_order_id(new_order_id, self.settings.client_id_prefix)
        request = tr.replace_request(total_shares, price, tif, client_id)
        track = TrackedOrder(
            new_order_id, client_id, old.symbol, old.side, total_shares, price, tif,
            replaces=order_id,
        )  # fmt: skip
        with self._lock:
            self.orders[new_order_id] = track
            self.by_client_id[client_id] = new_order_id
        self._schedule("replace", new_order_id, request)
        return self.clock_ns()

    def poll(self, timeout_s: float = 0.0) -> list[VenueMessage | VenueReset]:
        """Start if needed, then every answer that has arrived, in order."""
        if not self._started:
            self.start()
        out: list[VenueMessage | VenueReset] = []
        try:
            item = self._answers.get(timeout=timeout_s) if timeout_s > 0 else None
        except queue.Empty:
            return out
        while True:
            if item is not None:
                order_id, message, t5 = item
                out.append(VenueMessage(order_id, message, self.next_sequence, t5))
                self.next_sequence += 1
            try:
                item = self._answers.get_nowait()
            except queue.Empty:
                return out

    def adopt(self, order_id: int, client_id: str, broker_id: str, **known: Any) -> None:
        """Track an order placed before a restart (from reconciliation): its later fills and
        cancels then reach the engine. `known` gives symbol, side, qty, price, tif, filled."""
        track = TrackedOrder(
            order_id, client_id, known["symbol"], known["side"], known["qty"],
            known.get("price", 0), known.get("tif", TimeInForce.DAY), broker_id=broker_id,
            acked=True, filled_qty=known.get("filled_qty", 0),
            filled_notional=known.get("filled_notional", 0),
        )  # fmt: skip
        with self._lock:
            self.orders[order_id] = track
            self.by_client_id[client_id] = order_id

    def close(self) -> None:
        """Stop the stream and the worker (orders at the broker stay as they are)."""
        if self._closing:
            return
        self._closing = True
        self.state = GatewayState.CLOSED
        with self._jobs_ready:
            self._jobs_ready.notify_all()
        stop_stream(self._stream, self.log, "trade stream")
        for thread in self._threads:
            thread.join(STOP_TIMEOUT_S)
        self._stream_up = False

    # -- stream -------------------------------------------------------------------------------

    def _stream_connected(self) -> None:
        first = not self._stream_seen
        self._stream_seen = True
        self._stream_up = True
        if self.state not in (GatewayState.RATE_LIMITED, GatewayState.UNAVAILABLE):
            self.state = GatewayState.READY
        self.log.info("trade updates stream %s", "connected" if first else "reconnected")
        # Whatever happened while the stream was down is learnt from the orders themselves.
        self._schedule("catch_up")

    def _stream_lost(self) -> None:
        if self._closing or not self._stream_up:
            return  # closing, or a connection that never came up (counted when refused)
        self._stream_up = False
        self.reconnects += 1
        self.state = GatewayState.STREAM_DOWN
        self.log.warning("trade updates stream lost: reconnecting with back-off")

    def _stream_refused(self) -> None:
        self.state = GatewayState.UNAUTHORISED
        self._count("stream_auth")
        self.log.error(
            "trade updates stream refused the keys: check ALPACA_API_KEY / ALPACA_API_SECRET"
        )

    async def _on_trade_update(self, update: TradeUpdate) -> None:
        try:
            self.apply_trade_update(update)
        except Exception as exc:  # one unreadable update must not stop the stream
            self._count("malformed_update")
            self.log.error("trade update skipped (%s: %s)", type(exc).__name__, exc)

    def apply_trade_update(self, update: TradeUpdate) -> None:
        """One trade_updates event, as OUCH answers for the engine."""
        order = update.order
        event = str(getattr(update.event, "value", update.event))
        with self._lock:
            track = self._track_of(order)
            if track is None:
                self.log.info(
                    "trade update %s for order %s not placed by this engine",
                    event, order.client_order_id,
                )  # fmt: skip
                return
            if not track.broker_id:
                track.broker_id = str(order.id)
            if event in _ACK_EVENTS:
                self._ack(track, order)
            elif event in _FILL_EVENTS:
                self._ack(track, order)
                self._fills(track, order, update.execution_id, update.price, update.qty)
            elif event in _CANCEL_EVENTS:
                self._fills(track, order)
                self._cancelled(track, event)
            elif event == "rejected":
                self._reject(track, "rejected by the broker")
            elif event == "replaced":
                self._fills(track, order)
                track.done = True
            else:
                self.log.debug("order %d: %s", track.order_id, event)

    # -- applying broker state (under the lock) -------------------------------------------------

    def _track_of(self, order: Order) -> TrackedOrder | None:
        order_id = self.by_client_id.get(order.client_order_id, 0)
        if not order_id:
            order_id = tr.order_id_from_client(
                order.client_order_id, self.settings.client_id_prefix
            )
        return self.orders.get(order_id)

    def _ack(self, track: TrackedOrder, order: Order) -> None:
        if track.acked:
            return
        track.acked = True
        track.unresolved = False
        if track.replaces:
            old = self.orders.get(track.replaces)
            if old is not None:
                old.done = True
            message = ouch.Replaced(
                0, track.client_id, ouch.BUY if track.side > 0 else ouch.SELL, track.qty,
                track.symbol, track.price, tr.TIF_TO_OUCH[track.tif], "", ouch.DISPLAY_VISIBLE,
                tr.order_reference(order.id), ouch.CAPACITY_PRINCIPAL, ouch.ISO_NOT_ELIGIBLE, 0,
                ouch.CROSS_NONE, ouch.ORDER_STATE_LIVE,
                old.client_id if old is not None else "", ouch.BBO_WEIGHT_UNSPECIFIED,
            )  # fmt: skip
            self._emit(track.order_id, message)
            return
        message = tr.accepted(
            track.order_id, track.client_id, side=track.side, shares=track.qty,
            symbol=track.symbol, price=track.price, tif=track.tif,
            reference=tr.order_reference(order.id),
        )  # fmt: skip
        self._emit(track.order_id, message)

    def _fills(
        self,
        track: TrackedOrder,
        order: Order,
        execution_id: Any = None,
        price: Any = None,
        qty: Any = None,
    ) -> None:
        """Report the shares the broker filled beyond those already reported."""
        cumulative = tr.to_shares(order.filled_qty, "filled_qty")
        new_shares = cumulative - track.filled_qty
        match = tr.match_number(execution_id) if execution_id is not None else 0
        if match and match in track.matches:
            return  # the same execution again
        if new_shares <= 0:
            return  # already reported (from the stream or a catch-up)
        if not track.acked:
            self._ack(track, order)
        if execution_id is not None and price is not None and tr.to_shares(qty) == new_shares:
            fill_price = tr.to_price(price)
        else:
            # Shares learnt from the order's totals: their price is what the average says.
            average = Decimal(str(order.filled_avg_price or 0))
            total = (average * cumulative * PRICE_SCALE).quantize(Decimal(1), ROUND_HALF_EVEN)
            fill_price = int(
                ((total - track.filled_notional) / new_shares).quantize(Decimal(1), ROUND_HALF_EVEN)
            )
        if not match:
            match = tr.synthetic_match_number(track.client_id, cumulative)
        track.matches.add(match)
        track.filled_qty = cumulative
        track.filled_notional += fill_price * new_shares
        self._emit(track.order_id, tr.executed(track.client_id, new_shares, fill_price, match))
        if cumulative >= track.qty:
            track.done = True

    def _cancelled(self, track: TrackedOrder, event: str) -> None:
        if track.done:
            return
        track.done = True
        remaining = max(track.qty - track.filled_qty, 0)
        reason = tr.cancel_reason(event, track.tif)
        self._emit(track.order_id, tr.canceled(track.client_id, remaining, reason))

    def _reject(self, track: TrackedOrder, why: str) -> None:
        if track.done:
            return
        track.done = True
        track.unresolved = False
        self.log.warning("order %d (%s) rejected: %s", track.order_id, track.client_id, why)
        self._emit(track.order_id, tr.rejected(track.client_id, tr.reject_reason(why)))

    def apply_order(self, track: TrackedOrder, order: Order) -> None:
        """Bring `track` up to the broker's view of the order (a REST answer or lookup)."""
        status = str(getattr(order.status, "value", order.status))
        with self._lock:
            if not track.broker_id:
                track.broker_id = str(order.id)
            track.unresolved = False
            if status == "rejected":
                self._reject(track, "rejected by the broker")
                return
            if status in _OPEN_STATUSES or status in ("filled", "partially_filled"):
                self._ack(track, order)
            self._fills(track, order)
            if status in _CANCELLED_STATUSES:
                self._ack(track, order)
                self._cancelled(track, status)
            elif status == "replaced":
                track.done = True

    def _emit(self, order_id: int, message: Any) -> None:
        self._answers.put((order_id, message, self.clock_ns()))

    # -- the REST worker ----------------------------------------------------------------------

    def _check_ready(self) -> None:
        if self._closing:
            raise ConnectionError("the Alpaca gateway is closed")
        if not self.connected:
            raise ConnectionError(f"the Alpaca gateway is not ready ({self.state})")

    def _schedule(
        self, kind: str, order_id: int = 0, request: Any = None, *, delay_s: float = 0.0,
        attempt: int = 0,
    ) -> None:  # fmt: skip
        job = _Job(self.clock() + delay_s, next(self._seq), kind, order_id, request, attempt)
        with self._jobs_ready:
            heapq.heappush(self._jobs, job)
            self._jobs_ready.notify()

    def _next_job(self) -> _Job | None:
        with self._jobs_ready:
            while not self._closing:
                if self._jobs:
                    wait = self._jobs[0].due - self.clock()
                    if wait <= 0:
                        return heapq.heappop(self._jobs)
                    self._jobs_ready.wait(min(wait, 1.0))
                else:
                    self._jobs_ready.wait(1.0)
        return None

    def _work(self) -> None:
        while True:
            job = self._next_job()
            if job is None:
                return
            try:
                getattr(self, f"_do_{job.kind}")(job)
            except Exception as exc:  # the worker must outlive any single request
                self._count("internal")
                self.log.exception("Alpaca %s for order %d failed: %s", job.kind, job.order_id, exc)

    def _call(self, what: str, fn: Callable[[], Any]) -> tuple[Any, BrokerError | None]:
        """One REST call, paced; returns (result, None) or (None, the error), never raises."""
        while not self.bucket.take(timeout_s=1.0):
            if self._closing:
                return None, BrokerError(ErrorKind.CONNECTION, 0, "gateway closing")
        try:
            result = fn()
        except Exception as exc:
            error = classify(exc)
            self._note_error(what, error)
            return None, error
        if self.state in (GatewayState.RATE_LIMITED, GatewayState.UNAVAILABLE):
            self.state = GatewayState.READY if self._stream_up else GatewayState.STREAM_DOWN
            self.log.info("broker answering again (%s)", what)
        return result, None

    def _note_error(self, what: str, error: BrokerError) -> None:
        self._count(str(error.kind))
        self.last_error = f"{what}: {error}"
        if error.kind == ErrorKind.RATE_LIMITED:
            self.bucket.pause(error.retry_after_s)
            self.state = GatewayState.RATE_LIMITED
            self.log.warning(
                "%s rate limited by the broker: pausing requests for %.1f s",
                what, error.retry_after_s,
            )  # fmt: skip
        elif error.uncertain:
            self.state = GatewayState.UNAVAILABLE
            self.log.warning("%s: broker unavailable: %s", what, error)
        elif error.kind == ErrorKind.UNAUTHORISED:
            self.state = GatewayState.UNAUTHORISED
            self.log.error("%s: the broker refused the keys: %s", what, error)
        else:
            self.log.warning("%s: %s", what, error)

    def _count(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def _do_submit(self, job: _Job) -> None:
        track = self.orders[job.order_id]
        if track.done:
            return  # cancelled before it went out
        order, error = self._call(
            f"submit {track.client_id}", lambda: self.client.submit_order(job.request)
        )
        self._settle_new_order(track, order, error, cancel_pending=True)

    def _settle_new_order(
        self, track: Any, order: Any, error: Any, *, cancel_pending: bool
    ) -> None:
        """The outcome of a call that creates an order (submit, replace): applied, looked up
        when the outcome is unknown (the order may exist: never send it again), or rejected."""
        if error is None:
            self.apply_order(track, order)
            if cancel_pending and track.cancel_wanted and not track.done:
                self._schedule("cancel", track.order_id)
            return
        if error.uncertain:
            with self._lock:
                track.unresolved = True
            self._schedule("resolve", track.order_id, delay_s=self._resolve_backoff_s[0])
            return
        with self._lock:
            self._reject(track, str(error))

    def _do_resolve(self, job: _Job) -> None:
        track = self.orders[job.order_id]
        if not track.unresolved:
            return
        order, error = self._call(
            f"look up {track.client_id}",
            lambda: self.client.get_order_by_client_id(track.client_id),
        )
        if error is None:
            self.log.info("order %d was placed after all (%s)", track.order_id, order.status)
            self.apply_order(track, order)
            if track.cancel_wanted and not track.done:
                self._schedule("cancel", track.order_id)
            return
        if error.kind == ErrorKind.NOT_FOUND:
            with self._lock:
                self._reject(track, "not placed: the broker has no such order")
            return
        low, high = self._resolve_backoff_s
        delay = min(high, low * 2 ** min(job.attempt + 1, 10))
        self.log.warning(
            "order %d still unresolved (%s); looking again in %.1f s", track.order_id, error, delay
        )
        self._schedule("resolve", track.order_id, delay_s=delay, attempt=job.attempt + 1)

    def _do_cancel(self, job: _Job) -> None:
        track = self.orders.get(job.order_id)
        if track is None or track.done:
            return
        if track.unresolved:
            # Sent once the lookup finds the order (if it exists at all).
            with self._lock:
                track.cancel_wanted = True
            return
        if not track.broker_id:
            self.log.warning("order %d: nothing at the broker to cancel", track.order_id)
            return
        _, error = self._call(
            f"cancel {track.client_id}", lambda: self.client.cancel_order_by_id(track.broker_id)
        )
        if error is None:
            return  # the stream (or the next catch-up) reports the cancel
        if error.kind == ErrorKind.RATE_LIMITED or error.uncertain:
            # Cancelling the same order again is harmless: retry after the pause.
            delay = max(error.retry_after_s, 0.5)
            self._schedule("cancel", track.order_id, delay_s=delay, attempt=job.attempt + 1)
            return
        # Not cancelable (filled or already cancelled) or unknown: say so, then learn why.
        with self._lock:
            if not track.done:
                self._emit(track.order_id, ouch.CancelReject(0, track.client_id))
        self._schedule("refresh", track.order_id)

    def _do_replace(self, job: _Job) -> None:
        track = self.orders[job.order_id]
        old = self.orders.get(track.replaces)
        if old is None or old.done or not old.broker_id:
            with self._lock:
                self._reject(track, "the order to replace is not live at the broker")
            return
        order, error = self._call(
            f"replace {old.client_id}",
            lambda: self.client.replace_order_by_id(old.broker_id, job.request),
        )
        self._settle_new_order(track, order, error, cancel_pending=False)

    def _do_refresh(self, job: _Job) -> None:
        track = self.orders.get(job.order_id)
        if track is None or track.done or not track.client_id:
            return
        order, error = self._call(
            f"look up {track.client_id}",
            lambda: self.client.get_order_by_client_id(track.client_id),
        )
        if error is None:
            self.apply_order(track, order)

    def _do_catch_up(self, job: _Job) -> None:
        with self._lock:
            open_orders = [
                t for t in self.orders.values() if not t.done and (t.broker_id or t.acked)
            ]
        for track in open_orders:
            if self._closing:
                return
            self._do_refresh(_Job(0.0, 0, "refresh", track.order_id))
        if open_orders:
            self.log.info("caught up with %d open orders at the broker", len(open_orders))
