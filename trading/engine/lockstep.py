"""The engine in lockstep with a replaying exchange (`runengine --lockstep`).

The exchange announces each step with a marker on the feed (`trading.protocols.lockstep`):
its data time and the feed and order-entry sequence numbers the step brings the engine to.
The engine takes the step's messages as they come, whatever TCP does to them, and once it has
them all it finishes the step exactly as the in-process backtest does (`EngineStepper`):
strategies see each changed book once, housekeeping runs when its data-time period is due,
and an ack tells the exchange the step is done and how many orders went out.

Time, for everything the strategies and risk see, is the replayed day's: the engine is built
with a `DataClock` that the steps set, so rate limits, duplicate windows, timers and order
timeouts follow the data, not the machine.
"""

from __future__ import annotations

import dataclasses
import logging
import select
import time
from typing import Any

from trading.engine.engine import HOUSEKEEPING_NS, TradingEngine
from trading.engine.feed_handler import FeedHandler
from trading.engine.gateway import OuchGateway, VenueMessage, VenueReset
from trading.protocols import lockstep
from trading.protocols import soupbintcp as soup


class DataClock:
    """Nanoseconds since midnight of the replayed day, as far as the engine has got."""

    __slots__ = ("now_ns",)

    def __init__(self, now_ns: int = 0) -> None:
        self.now_ns = now_ns

    def __call__(self) -> int:
        return self.now_ns


class EngineStepper:
    """One step of the engine, the same over sockets and in process.

    `begin` sets the data clock; the step's feed messages are applied and its venue answers
    handled (in the order they come); `finish` shows strategies the books the step changed,
    once each, and keeps house when the data-time period is due.
    """

    def __init__(self, engine: TradingEngine, clock: DataClock) -> None:
        if engine.clock_ns is not clock:
            raise ValueError("the engine must be built with the stepper's DataClock")
        self.engine = engine
        self.clock = clock

    def begin(self, time_ns: int) -> None:
        if time_ns < self.clock.now_ns:
            raise ValueError(f"step at {time_ns} ns goes back from {self.clock.now_ns} ns")
        self.clock.now_ns = time_ns

    def venue_event(self, event: VenueMessage | VenueReset) -> None:
        if event.t5_ns != self.clock.now_ns:
            # An answer read before its step's marker: it belongs to the step, and so does
            # its time.
            event = dataclasses.replace(event, t5_ns=self.clock.now_ns)
        self.engine._on_venue(event)

    def finish(self) -> None:
        engine = self.engine
        now = self.clock.now_ns
        engine._on_feed_batch(now)
        if now >= engine.next_housekeeping_ns:
            engine.next_housekeeping_ns = now + HOUSEKEEPING_NS
            engine._housekeeping(now)


class LockstepFeedHandler(FeedHandler):
    """A feed handler that reads markers in the stream and leaves batching to the step.

    Messages are applied as they arrive, but the strategies' look at the books waits for the
    end of the step (`EngineStepper.finish`): how TCP cut the step into reads must not matter.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.markers: list[lockstep.Marker] = []

    def apply_batch(self, packets: list[tuple[int, bytes]], t1: int) -> tuple[int, bool]:
        return self._apply_packets(packets, t1)  # no `on_batch`: the step's end is the batch

    def _on_debug(self, payload: bytes) -> None:
        marker = lockstep.parse_marker(payload)
        if marker is None:
            super()._on_debug(payload)
        else:
            self.markers.append(marker)

    def send_ack(self, ack: lockstep.Ack) -> None:
        """Send an ack on the feed session; ConnectionError when that is impossible."""
        if self.sock is None:
            raise ConnectionError("the feed is not connected")
        try:
            self.sock.sendall(soup.encode_unsequenced_data(lockstep.encode_ack(ack)))
        except OSError as exc:
            raise ConnectionError(f"lockstep ack not sent: {exc}") from exc
        self.last_sent = time.monotonic()


class CountingGateway(OuchGateway):
    """An order gateway that counts the OUCH messages it has sent (for the acks)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent = 0

    def _send(self, payload: bytes) -> int:
        t4 = super()._send(payload)
        self.sent += 1
        return t4


class LockstepEngine:
    """Drives a `TradingEngine` in lockstep with the exchange: call `run_once` in a loop."""

    def __init__(
        self,
        engine: TradingEngine,
        clock: DataClock,
        *,
        logger: logging.Logger | None = None,
        **address: Any,
    ) -> None:
        """`address`: the venue's host, ports, username and password, as `TradingEngine`
        takes them."""
        self.engine = engine
        self.stepper = EngineStepper(engine, clock)
        self.log = logger or logging.getLogger("LOCKSTEP")
        self.feed, self.gateway = engine.open_sessions(
            LockstepFeedHandler, CountingGateway, **address
        )
        self.step: lockstep.Marker | None = None
        self.held: list[VenueMessage | VenueReset] = []
        self.ready = False
        self.steps_done = 0

    def run_once(self, timeout_s: float = 0.001) -> None:
        """Wait up to `timeout_s` for either session, take in what came, finish a step if it
        is complete."""
        feed, gateway = self.feed, self.gateway
        sockets = [s for s in (feed.sock, gateway.sock) if s is not None]
        if sockets and timeout_s > 0 and not feed.markers:
            select.select(sockets, [], [], timeout_s)
        feed.poll(0.0)
        self.held.extend(gateway.poll(0.0))
        if self.step is None:
            if feed.markers:
                self._begin(feed.markers.pop(0))
            elif not self.ready:
                self._say_ready()
                return
            else:
                return
        step = self.step
        assert step is not None
        if self.held:
            held, self.held = self.held, []
            for event in held:
                self.stepper.venue_event(event)
        if feed.next_sequence >= step.feed_next and gateway.next_sequence >= step.order_next:
            self.stepper.finish()
            self.step = None
            self.steps_done += 1
            self._ack(step.step)

    def _begin(self, marker: lockstep.Marker) -> None:
        self.stepper.begin(marker.time_ns)
        self.step = marker

    def _say_ready(self) -> None:
        if self.feed.connected and self.gateway.connected and self.feed.next_sequence:
            self._ack(0)
            self.ready = True
            self.log.info("lockstep: ready for the first step")

    def _ack(self, step: int) -> None:
        ack = lockstep.Ack(
            step, self.feed.next_sequence, self.gateway.next_sequence, self.gateway.sent
        )
        try:
            self.feed.send_ack(ack)
        except ConnectionError as exc:
            self.log.error("lockstep: %s", exc)
