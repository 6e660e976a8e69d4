"""The engine's feed and order gateway without sockets, for running it inside a backtest.

They speak the same bytes as the real ones: the feed applies ITCH payloads through the feed
handler's own code, and the gateway encodes OUCH requests with the real gateway's `send_*` and
decodes answers with its own decoder. Only the transport is gone, so the engine, its
strategies, its risk checks and its order manager run exactly as they do live.
"""

from __future__ import annotations

from typing import Any

from trading.book_builder import BookBuilder
from trading.engine.engine import TradingEngine
from trading.engine.gateway import OuchGateway, VenueMessage, VenueReset
from trading.engine.lockstep import DataClock, LockstepFeedHandler
from trading.protocols import itch
from trading.protocols import soupbintcp as soup

_SEQUENCED = int(soup.PacketType.SEQUENCED_DATA)


class InProcessFeed(LockstepFeedHandler):
    """A feed handler fed by the caller: a snapshot, then each step's ITCH payloads."""

    @property
    def connected(self) -> bool:
        return True

    def poll(self, timeout_s: float = 0.0) -> int:
        return 0

    def close(self) -> None:
        pass

    def load_snapshot(self, payloads: list[bytes], next_sequence: int) -> None:
        """Start from a snapshot (ITCH payloads, as the snapshot port serves them)."""
        self.builder = BookBuilder(self.tick_size)
        for payload in payloads:
            self.builder.apply(itch.decode(payload))
        self.next_sequence = next_sequence
        if self.on_snapshot is not None:
            self.on_snapshot(self.clock_ns())

    def deliver(self, payloads: list[bytes]) -> int:
        """Apply one step's feed messages; returns how many were applied."""
        applied, _ = self.apply_batch([(_SEQUENCED, p) for p in payloads], self.clock_ns())
        return applied


class InProcessGateway(OuchGateway):
    """An order gateway whose requests are collected and whose answers are handed in."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outbox: list[bytes] = []
        self.sent = 0

    @property
    def connected(self) -> bool:
        return True

    def _send(self, payload: bytes) -> int:
        self.outbox.append(payload)
        self.sent += 1
        return self.clock_ns()

    def take_sent(self) -> list[bytes]:
        """The OUCH payloads sent since the last call, in order."""
        sent, self.outbox = self.outbox, []
        return sent

    def deliver(self, payload: bytes) -> list[VenueMessage | VenueReset]:
        """One answer from the venue, decoded as the real gateway decodes it."""
        self._packets(([(_SEQUENCED, payload)], None), self.clock_ns())
        return self._take()

    def poll(self, timeout_s: float = 0.0) -> list[VenueMessage | VenueReset]:
        return self._take()

    def close(self) -> None:
        pass


def attach_in_process(engine: TradingEngine, clock: DataClock, username: str) -> None:
    """Give `engine` (built with `clock`) an in-process feed and gateway."""
    engine.feed = InProcessFeed(
        "", 0, 0, username, "", tick_size=engine.config.exchange.tick_size,
        on_message=engine._on_market_data, on_snapshot=engine._on_snapshot, clock_ns=clock,
    )  # fmt: skip
    engine.gateway = InProcessGateway("", 0, username, "", clock_ns=clock)
