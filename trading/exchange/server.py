"""The exchange simulator process: venue, order-entry, feed, snapshot and metrics ports.

One asyncio event loop runs everything, so the venue needs no locks and every client sees
events in one global order:

- order entry: OUCH 4.2 over SoupBinTCP; each account has its own sequenced stream, kept for
  the run, so a gateway that logs in again with a sequence number gets everything it missed;
- feed: TotalView-ITCH 5.0 over SoupBinTCP, one sequenced stream for all symbols;
- snapshot: GLIMPSE-style, the current book as ITCH Add Orders then End of Snapshot with the
  feed sequence number to resume from;
- metrics: Prometheus text at /metrics, JSON at /status, and operator actions
  (POST /halt/SYMBOL, POST /resume/SYMBOL).

The background flow is either synthetic (seeded agents) or a LOBSTER day replayed as ITCH; the
engine's own orders are matched against the same books either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import ipaddress
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from trading.config import Account, SystemConfig
from trading.exchange.metrics_http import MetricsHttpServer
from trading.exchange.replay_row import publish_replay_row
from trading.exchange.sequenced_log import SequencedLog
from trading.exchange.soup_server import SoupConnection, SoupServer, SoupSettings
from trading.exchange.synthetic_flow import SyntheticFlow
from trading.exchange.venue import Venue
from trading.log_format import get_logger
from trading.order_book import warm_up
from trading.prices import NANOS_PER_SECOND
from trading.protocols import itch, ouch
from trading.protocols import soupbintcp as soup

EXCHANGE_TZ = ZoneInfo("America/New_York")
DEFAULT_DEMO_PASSWORD = "demo"
HOUSEKEEPING_S = 0.05


def nanos_since_midnight(tz: dt.tzinfo = EXCHANGE_TZ) -> Callable[[], int]:
    """A clock of nanoseconds since the exchange's local midnight (ITCH and OUCH timestamps)."""
    now = dt.datetime.now(tz)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    offset_ns = int(midnight.timestamp()) * NANOS_PER_SECOND

    def clock() -> int:
        return time.time_ns() - offset_ns

    return clock


@dataclass(frozen=True)
class BoundPorts:
    order: int
    feed: int
    snapshot: int
    metrics: int
    alpaca: int = 0  # the Alpaca-compatible API (0: not served)


class _DelayLine:
    """Holds actions back by a fixed latency, in order (the configurable latency injection)."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.pending: deque[tuple[float, Callable[[], None]]] = deque()
        self.timer: asyncio.TimerHandle | None = None

    def submit(self, action: Callable[[], None]) -> None:
        if self.delay_s <= 0:
            action()
            return
        self.pending.append((time.monotonic() + self.delay_s, action))
        if self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(self.delay_s, self._run)

    def drain(self) -> None:
        """Run everything still held back, now, in order."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        while self.pending:
            self.pending.popleft()[1]()

    def _run(self) -> None:
        self.timer = None
        now = time.monotonic()
        while self.pending and self.pending[0][0] <= now:
            self.pending.popleft()[1]()
        if self.pending:
            wait = max(0.0, self.pending[0][0] - now)
            self.timer = asyncio.get_running_loop().call_later(wait, self._run)


class OrderEntryService:
    """OUCH over SoupBinTCP: per-account sequenced streams into the venue."""

    def __init__(self, exchange: ExchangeServer) -> None:
        self.exchange = exchange
        self.logs: dict[str, SequencedLog] = {}

    def account_log(self, username: str) -> SequencedLog:
        log = self.logs.get(username)
        if log is None:
            log = self.logs[username] = SequencedLog()
            log.append(ouch.SystemEvent(self.exchange.clock(), ouch.EVENT_START_OF_DAY).encode())
        return log

    def log_for(self, connection: SoupConnection) -> SequencedLog:
        return self.account_log(connection.username)

    def horizon(self, log: SequencedLog) -> int:
        return log.next_sequence

    def on_login(self, connection: SoupConnection) -> None:
        pass

    def on_unsequenced(self, connection: SoupConnection, payload: bytes) -> None:
        try:
            self.accept(connection.username, payload)
        except soup.MalformedMessage as exc:
            raise soup.MalformedPacket(f"OUCH: {exc}") from exc

    def accept(self, username: str, payload: bytes) -> None:
        """An OUCH message from `username`, to the venue after the order latency. Raises
        `soup.MalformedMessage` for a payload that is not an OUCH inbound message."""
        message = ouch.decode_inbound(payload)
        exchange = self.exchange
        if exchange.order_delay.delay_s:
            exchange.order_delay.submit(
                lambda: exchange.venue.handle(username, message, exchange.clock())
            )
        else:
            exchange.venue.handle(username, message, exchange.clock())

    def on_close(self, connection: SoupConnection) -> None:
        pass


class FeedService:
    """ITCH over SoupBinTCP: one stream for every subscriber."""

    def __init__(self, log: SequencedLog, delay: _DelayLine) -> None:
        self.log = log
        self.delay = delay

    def log_for(self, connection: SoupConnection) -> SequencedLog:
        return self.log

    def horizon(self, log: SequencedLog) -> int:
        return log.next_sequence + len(self.delay.pending)

    def on_login(self, connection: SoupConnection) -> None:
        pass

    def on_unsequenced(self, connection: SoupConnection, payload: bytes) -> None:
        raise soup.MalformedPacket("the market-data feed takes no client messages")

    def on_close(self, connection: SoupConnection) -> None:
        pass


class SnapshotService:
    """GLIMPSE-style snapshot: each login gets the book as of now, then End of Snapshot."""

    def __init__(self, exchange: ExchangeServer) -> None:
        self.exchange = exchange

    def log_for(self, connection: SoupConnection) -> SequencedLog:
        exchange = self.exchange
        now = exchange.clock()
        log = SequencedLog()
        for message in exchange.venue.snapshot_messages(now):
            log.append(message.encode())
        # The book already holds what the feed's latency still holds back: resume after it.
        resume = exchange.feed_log.next_sequence + len(exchange.feed_delay.pending)
        log.append(itch.EndOfSnapshot(resume).encode())
        return log

    def horizon(self, log: SequencedLog) -> int:
        return log.next_sequence

    def on_login(self, connection: SoupConnection) -> None:
        self.exchange.logger.info("snapshot for %s", connection)

    def on_unsequenced(self, connection: SoupConnection, payload: bytes) -> None:
        raise soup.MalformedPacket("the snapshot port takes no client messages")

    def on_close(self, connection: SoupConnection) -> None:
        pass


class ExchangeServer:
    """Wires the venue to its ports and drives the background flow."""

    def __init__(
        self,
        config: SystemConfig,
        *,
        replay: Any = None,
        replay_speed: float = 1.0,
        clock: Callable[[], int] | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.config = config
        self.ex = config.exchange
        self.logger = logger or get_logger("EXCH")
        self.replay = replay
        self.replay_speed = replay_speed
        self.replay_clock_ns = 0
        self.wall_clock = clock or nanos_since_midnight()
        self.counts: dict[str, int] = {}
        self.feed_log = SequencedLog()
        self.order_delay = _DelayLine(self.ex.order_latency_us / 1e6)
        self.feed_delay = _DelayLine(self.ex.feed_latency_us / 1e6)
        symbols = [replay.symbol] if replay is not None else list(config.symbols)
        self.venue = Venue(
            self.ex,
            symbols,
            self._to_client,
            self._to_feed,
            self.logger,
            books={replay.symbol: replay.book} if replay is not None else None,
            first_ref=replay.first_client_ref if replay is not None else 1,
        )
        if replay is not None:
            self.venue.on_house_fill = replay.note_execution
        self.flow: SyntheticFlow | None = None
        if replay is None and self.ex.flow.enabled:
            self.flow = SyntheticFlow(
                {s: self.ex.symbols[s] for s in symbols}, self.ex.flow, self.ex.tick_size,
                self.ex.seed,
            )  # fmt: skip
            self.venue.on_agent_done = self.flow.order_done
            self.venue.on_agent_rested = self.flow.order_rested
        accounts = {a.username: a for a in self.ex.accounts}
        # A new session name per run (month, day, time to the second): a gateway that comes
        # back after the exchange restarted asks for the old session and is told it is gone,
        # instead of silently resuming a sequence that began again at 1.
        session = dt.datetime.now(EXCHANGE_TZ).strftime("%m%d%H%M%S")

        def settings(single: bool, zero_means_first: bool = False) -> SoupSettings:
            return SoupSettings(
                session, self.ex.heartbeat_interval_s, self.ex.idle_timeout_s, single,
                zero_means_first,
            )  # fmt: skip

        self.order_entry = OrderEntryService(self)
        self.order_server = SoupServer(
            "order", self.order_entry, accounts, settings(True), self.logger, self.count
        )
        self.feed_server = SoupServer(
            "feed",
            FeedService(self.feed_log, self.feed_delay),
            accounts,
            settings(False),
            self.logger,
            self.count,
        )
        self.snapshot_server = SoupServer(
            "snapshot",
            SnapshotService(self),
            accounts,
            settings(False, zero_means_first=True),
            self.logger,
            self.count,
        )
        self.metrics = MetricsHttpServer(self)
        self.alpaca: Any = None  # the Alpaca-compatible endpoint, when served
        self.ports: BoundPorts | None = None
        self._tasks: list[asyncio.Task] = []
        self.started_monotonic = time.monotonic()
        self.replay_done = asyncio.Event() if replay is not None else None

    # -- clock and outputs --------------------------------------------------------------------

    def clock(self) -> int:
        """Nanoseconds since midnight: the replayed day's time in replay mode, else wall time."""
        if self.replay is not None:
            return self.replay_clock_ns
        return self.wall_clock()

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def _to_client(self, username: str, message: Any) -> None:
        payload = message if message.__class__ is bytes else message.encode()
        alpaca = self.alpaca
        if alpaca is not None and alpaca.on_client_message(username, payload):
            return  # an answer to an order entered through the Alpaca API
        self.order_entry.account_log(username).append(payload)
        self.order_server.schedule_flush()

    def _to_feed(self, message: Any) -> None:
        if self.alpaca is not None:
            self.alpaca.on_feed(message)
        payload = message if message.__class__ is bytes else message.encode()
        if self.feed_delay.delay_s:
            self.feed_delay.submit(lambda: self._publish(payload))
        else:
            self.feed_log.append(payload)
            self.feed_server.schedule_flush()

    def _publish(self, payload: bytes) -> None:
        self.feed_log.append(payload)
        self.feed_server.schedule_flush()

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(
        self, *, host: str | None = None, order_port: int | None = None,
        feed_port: int | None = None, snapshot_port: int | None = None,
        metrics_port: int | None = None, alpaca_port: int | None = None,
    ) -> BoundPorts:  # fmt: skip
        """Bind every port (0 picks a free one) and start the background tasks.

        The Alpaca-compatible API is served on `alpaca_port` when given (0: any free port,
        negative: not served), else on the configured `alpaca_port` unless that is 0.
        """
        host = host or self.ex.host
        check_exposure(host, self.ex.accounts)
        warm_up()  # the first order must not wait for the compiler
        self.venue.start_of_day(self.clock())
        ports = BoundPorts(
            await self.order_server.start(host, _pick(order_port, self.ex.order_port)),
            await self.feed_server.start(host, _pick(feed_port, self.ex.feed_port)),
            await self.snapshot_server.start(host, _pick(snapshot_port, self.ex.snapshot_port)),
            await self.metrics.start(host, _pick(metrics_port, self.ex.metrics_port)),
        )
        wanted_alpaca = (self.ex.alpaca_port or -1) if alpaca_port is None else alpaca_port
        if wanted_alpaca >= 0:
            from trading.exchange.alpaca_api.endpoint import AlpacaEndpoint

            self.alpaca = AlpacaEndpoint(self, faults_enabled=self.ex.alpaca_faults)
            ports = dataclasses.replace(ports, alpaca=await self.alpaca.start(host, wanted_alpaca))
        self.ports = ports
        self._tasks.append(asyncio.create_task(self._housekeeping(), name="housekeeping"))
        if self.flow is not None:
            self._tasks.append(asyncio.create_task(self._run_flow(), name="flow"))
        if self.replay is not None:
            self._tasks.append(asyncio.create_task(self._run_replay(), name="replay"))
        if self.ex.status_interval_s > 0:
            self._tasks.append(asyncio.create_task(self._status_log(), name="status"))
        self.logger.info(
            "listening on %s: order(OUCH 4.2)=%d feed(ITCH 5.0)=%d snapshot=%d metrics=%d "
            "alpaca(REST+WebSocket)=%s%s",
            host, ports.order, ports.feed, ports.snapshot, ports.metrics,
            ports.alpaca or "off", " with fault injection" if self.ex.alpaca_faults else "",
        )  # fmt: skip
        return ports

    async def stop(self) -> None:
        """End of session for every client, then close every port."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        now = self.clock()
        self.venue.end_of_day(now)
        for username in self.order_entry.logs:
            self.venue.system_event_for_client(username, ouch.EVENT_END_OF_DAY, now)
        for code in (itch.SYSTEM_EVENT_END_OF_SYSTEM_HOURS, itch.SYSTEM_EVENT_END_OF_MESSAGES):
            self.venue.to_feed(itch.SystemEvent(0, 0, now, code))
        # What latency injection still holds goes out before the doors close.
        self.order_delay.drain()
        self.feed_delay.drain()
        for server in (self.order_server, self.feed_server, self.snapshot_server):
            await server.stop()
        await self.metrics.stop()
        if self.alpaca is not None:
            await self.alpaca.stop()
        self.logger.info("exchange stopped: %s", self.summary())

    # -- background tasks ---------------------------------------------------------------------

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_S)
            now = time.monotonic()
            try:
                for server in (self.order_server, self.feed_server, self.snapshot_server):
                    server.housekeeping(now)
                self._expire_orders()
            except Exception:
                # Heartbeats and timeouts must outlive any one failure; it is logged loudly.
                self.logger.exception("housekeeping failed")

    def _expire_orders(self) -> None:
        """Cancel timed orders whose life ran out (between events, on the wall clock)."""
        self.venue.expire(self.clock())

    async def _run_flow(self) -> None:
        """Step the agents on a fixed grid of simulated time that follows the wall clock."""
        assert self.flow is not None
        step_s = self.ex.flow.step_ms / 1000
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            next_at += step_s
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -1.0:
                # Far behind (a stall): skip ahead instead of bursting a backlog of steps.
                next_at = loop.time()
            now = self.clock()
            try:
                for action in self.flow.step(self.venue.quotes()):
                    self.venue.apply_flow(action, now)
            except Exception:
                # A bug in one step must not silence the market; it is logged loudly instead.
                self.logger.exception("synthetic flow step failed")

    async def _run_replay(self) -> None:
        """Publish the LOBSTER day at `replay_speed` times real time (<= 0: as fast as possible)."""
        replay = self.replay
        loop = asyncio.get_running_loop()
        started = loop.time()
        first_ts = replay.timestamp(0)
        locate = self.venue.symbols[replay.symbol].locate
        published = 0
        try:
            for row in range(len(replay)):
                ts_ns = replay.timestamp(row)
                if self.replay_speed > 0:
                    due = started + (ts_ns - first_ts) / NANOS_PER_SECOND / self.replay_speed
                    delay = due - loop.time()
                    if delay > 0.0005:
                        await asyncio.sleep(delay)
                elif row % 512 == 0:
                    await asyncio.sleep(0)  # let clients in between batches
                published += self.replay_row(row, locate)
        except Exception:
            self.logger.exception("replay of %s stopped", replay.symbol)
        else:
            self.logger.info(
                "replay of %s finished: %d LOBSTER events, %d ITCH messages (%s synthetic)",
                replay.symbol, len(replay), published, replay.synthetic_summary(),
            )  # fmt: skip
        finally:
            assert self.replay_done is not None
            self.replay_done.set()

    def replay_row(self, row: int, locate: int) -> int:
        """Publish one LOBSTER row; returns how many ITCH messages it took."""
        self.replay_clock_ns = self.replay.timestamp(row)
        return publish_replay_row(self.venue, self.replay, row, locate)

    async def _status_log(self) -> None:
        last = (time.monotonic(), self.venue.counters.orders, self.feed_log.next_sequence)
        while True:
            await asyncio.sleep(self.ex.status_interval_s)
            now = time.monotonic()
            orders, feed = self.venue.counters.orders, self.feed_log.next_sequence
            elapsed = max(1e-9, now - last[0])
            self.logger.info(
                "sessions order=%d feed=%d snapshot=%d | orders %.0f/s itch %.0f msg/s",
                len(self.order_server.active), len(self.feed_server.active),
                len(self.snapshot_server.active), (orders - last[1]) / elapsed,
                (feed - last[2]) / elapsed,
            )  # fmt: skip
            for state in self.venue.symbols.values():
                self.logger.info("  %s", self.venue.top_of_book_line(state))
            last = (now, orders, feed)

    def summary(self) -> str:
        c = self.venue.counters
        return (
            f"{c.orders} orders, {c.rejects} rejects, {c.executions} executions "
            f"({c.shares_traded:,} shares), {c.cancels} cancels, {c.replaces} replaces, "
            f"{self.feed_log.next_sequence - 1} ITCH messages"
        )


class UnsafeExposure(ValueError):
    """The simulator would accept its well-known demo login from beyond this machine."""


def check_exposure(host: str, accounts: list[Account]) -> None:
    """Refuse to bind beyond loopback while an account still has the default demo password."""
    if _is_loopback(host):
        return
    weak = [a.username for a in accounts if a.password == DEFAULT_DEMO_PASSWORD]
    if weak:
        raise UnsafeExposure(
            f"refusing to listen on {host} with the default password for {', '.join(weak)}: "
            "set private passwords in [[exchange.accounts]] before binding beyond loopback"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pick(override: int | None, configured: int) -> int:
    return configured if override is None else override
