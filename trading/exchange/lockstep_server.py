"""The exchange in lockstep replay (`runexchange --replay FILE --lockstep`).

The same server, ports and venue as any replay, but paced by one engine instead of a clock:
`LockstepVenue` decides every step on the replayed day's time, and after each one the server
waits until the engine has acknowledged it (`trading.protocols.lockstep`) and every order the
engine sent meanwhile has arrived. Orders are stamped with the data time of the step during
which they were sent, so where they land in the day follows from the data and the configured
latencies alone; a busy machine only makes the run slower, never different.

One engine drives the run: the first feed session that says it is ready. Other sessions may
watch the feed and trade, but nobody waits for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

from trading.config import SystemConfig
from trading.exchange.lockstep import LockstepVenue
from trading.exchange.sequenced_log import SequencedLog
from trading.exchange.server import ExchangeServer, OrderEntryService
from trading.exchange.soup_server import ACTIVE, SoupConnection
from trading.protocols import lockstep
from trading.protocols import soupbintcp as soup

ACK_TIMEOUT_S = 120.0  # an engine silent this long (wall time) is gone: the replay stops


class LockstepError(RuntimeError):
    """The engine broke the lockstep protocol or went away; the replay cannot go on."""


class LockstepOrderEntry(OrderEntryService):
    """Order entry that hands each message to the lockstep schedule instead of the venue."""

    def __init__(self, exchange: LockstepExchangeServer) -> None:
        super().__init__(exchange)
        self.lockstep_exchange = exchange
        self.received: dict[str, int] = {}

    def accept(self, username: str, payload: bytes) -> None:
        exchange = self.lockstep_exchange
        if exchange.finished:
            super().accept(username, payload)  # after the day: answered at once
            return
        exchange.lockstep.submit(username, payload)
        self.received[username] = self.received.get(username, 0) + 1
        exchange.wake.set()


class LockstepFeedService:
    """The feed, which in lockstep also takes the engine's acks."""

    def __init__(self, exchange: LockstepExchangeServer) -> None:
        self.exchange = exchange

    def log_for(self, connection: SoupConnection) -> SequencedLog:
        return self.exchange.feed_log

    def horizon(self, log: SequencedLog) -> int:
        return log.next_sequence

    def on_login(self, connection: SoupConnection) -> None:
        pass

    def on_unsequenced(self, connection: SoupConnection, payload: bytes) -> None:
        try:
            ack = lockstep.parse_ack(payload)
        except ValueError as exc:
            raise soup.MalformedPacket(str(exc)) from None
        self.exchange.on_ack(connection, ack)

    def on_close(self, connection: SoupConnection) -> None:
        if connection is self.exchange.driver and not self.exchange.finished:
            self.exchange.logger.error("the lockstep engine's feed session closed")
            self.exchange.wake.set()


class LockstepExchangeServer(ExchangeServer):
    """An `ExchangeServer` whose replay advances one acknowledged step at a time."""

    order_entry: LockstepOrderEntry

    def __init__(
        self,
        config: SystemConfig,
        *,
        replay: Any,
        entry_latency_ns: int,
        response_latency_ns: int,
        journal_path: str | Path | None = None,
        ack_timeout_s: float = ACK_TIMEOUT_S,
        **options: Any,
    ) -> None:
        if replay is None:
            raise ValueError("lockstep needs a replay")
        ex = config.exchange
        if ex.order_latency_us or ex.feed_latency_us:
            raise ValueError(
                "lockstep sets latency itself: exchange.order_latency_us and feed_latency_us "
                f"must be 0, not {ex.order_latency_us} and {ex.feed_latency_us}"
            )
        super().__init__(config, replay=replay, replay_speed=0.0, **options)
        self.lockstep = LockstepVenue(
            self.venue, replay, entry_latency_ns=entry_latency_ns,
            response_latency_ns=response_latency_ns,
        )  # fmt: skip
        self.journal_path = Path(journal_path) if journal_path else None
        self.ack_timeout_s = ack_timeout_s
        self.order_entry = LockstepOrderEntry(self)
        self.order_server.service = self.order_entry
        self.feed_server.service = LockstepFeedService(self)
        self.driver: SoupConnection | None = None  # the engine's feed session
        self.last_ack: lockstep.Ack | None = None
        self.wake = asyncio.Event()
        self.finished = False
        self.error = ""

    # -- the venue's outputs go through the schedule ------------------------------------------

    def _to_client(self, username: str, message: Any) -> None:
        if self.finished:
            super()._to_client(username, message)
        else:
            self.lockstep.on_client(username, message)

    def _to_feed(self, message: Any) -> None:
        if self.finished:
            super()._to_feed(message)
        else:
            self.feed_log.append(self.lockstep.on_feed(message))
            self.feed_server.schedule_flush()

    def _expire_orders(self) -> None:
        pass  # timed orders expire on the replayed clock, row by row, never on the wall's

    # -- the engine's acks --------------------------------------------------------------------

    def on_ack(self, connection: SoupConnection, ack: lockstep.Ack) -> None:
        if self.driver is None:
            if ack.step != 0:
                raise soup.MalformedPacket(f"lockstep ack of step {ack.step} before any step")
            self.driver = connection
            self.logger.info("lockstep driven by %s", connection)
        elif connection is not self.driver:
            raise soup.MalformedPacket("another session already drives the lockstep replay")
        self.last_ack = ack
        self.wake.set()

    async def _wait_for(self, done: Any, what: str) -> None:
        deadline = time.monotonic() + self.ack_timeout_s
        while not done():
            driver = self.driver
            if driver is not None and driver.state != ACTIVE:
                raise LockstepError(f"the engine left while {what}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise LockstepError(f"no answer from the engine for {self.ack_timeout_s:g} s "
                                    f"while {what}")  # fmt: skip
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), left)

    # -- the replay ---------------------------------------------------------------------------

    async def _run_replay(self) -> None:
        """Step through the day, each step acknowledged by the engine before the next."""
        core = self.lockstep
        replay = self.replay
        try:
            self.logger.info("lockstep replay of %s waiting for its engine", replay.symbol)
            await self._wait_for(lambda: self.driver is not None, "waiting to start")
            username = self.driver.username  # type: ignore[union-attr]
            account_log = self.order_entry.account_log(username)
            started = time.monotonic()
            while (step := core.step()) is not None:
                self.replay_clock_ns = step.time_ns
                for user, payload in step.responses:
                    self.order_entry.account_log(user).append(payload)
                if step.responses:
                    self.order_server.schedule_flush()
                marker = lockstep.Marker(
                    step.number, step.time_ns, self.feed_log.next_sequence,
                    account_log.next_sequence,
                )  # fmt: skip
                driver = self.driver
                assert driver is not None
                # The marker goes out ahead of the step's messages, on the same connection.
                driver._write(soup.encode_debug(lockstep.encode_marker(marker).decode("ascii")))
                driver.flush()
                await self._wait_for(
                    lambda n=step.number, u=username: self._step_done(n, u),
                    f"waiting for step {step.number}",
                )
                ack = self.last_ack
                assert ack is not None
                if (ack.feed_next, ack.order_next) != (marker.feed_next, marker.order_next):
                    raise LockstepError(
                        f"step {step.number}: the engine is at feed {ack.feed_next} and order "
                        f"entry {ack.order_next}, not {marker.feed_next} and {marker.order_next}"
                    )
        except LockstepError as exc:
            self.error = str(exc)
            self.logger.error("lockstep replay of %s stopped: %s", replay.symbol, exc)
        except Exception:
            self.error = "internal error"
            self.logger.exception("lockstep replay of %s stopped", replay.symbol)
        else:
            elapsed = time.monotonic() - started
            self.logger.info(
                "lockstep replay of %s finished: %d rows, %d steps in %.1f s, %d orders "
                "received, %d answers delivered",
                replay.symbol, core.rows_done, core.steps, elapsed, len(core.orders),
                len(core.deliveries),
            )  # fmt: skip
        finally:
            self.finished = True
            self.write_journal()
            assert self.replay_done is not None
            self.replay_done.set()

    def _step_done(self, number: int, username: str) -> bool:
        ack = self.last_ack
        return (
            ack is not None
            and ack.step == number
            and self.order_entry.received.get(username, 0) >= ack.sent
        )

    def write_journal(self) -> None:
        """Write what the venue received and delivered to the journal file, if one was asked."""
        if self.journal_path is None:
            return
        journal = self.lockstep.journal()
        journal["error"] = self.error
        self.journal_path.write_text(json.dumps(journal))
        self.logger.info("lockstep journal written to %s", self.journal_path)
