"""A SoupBinTCP 4.0 server on asyncio: logins, heartbeats, sequenced replay, back-pressure.

The order-entry, feed and snapshot ports differ only in what a login reads and what the
client's Unsequenced Data means; both are supplied by a `SoupService`. Everything here runs on
one event-loop thread, so a service's state needs no locks.

Faults get the protocol's answer: a bad login is Login Rejected then a close; a malformed,
oversized or out-of-place packet is a Debug packet naming the problem then a close; a client
that goes silent past the idle timeout is dropped; a client that stops reading is not fed more
than the socket buffers hold (its cursor into the sequenced log simply waits), so it can never
grow the exchange's memory or slow another session.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from trading.config import Account
from trading.exchange.sequenced_log import SequencedLog
from trading.protocols import soupbintcp as soup

# Plain ints: comparing against IntEnum members costs several times more per packet.
_LOGIN_REQUEST = int(soup.PacketType.LOGIN_REQUEST)
_UNSEQUENCED_DATA = int(soup.PacketType.UNSEQUENCED_DATA)
_CLIENT_HEARTBEAT = int(soup.PacketType.CLIENT_HEARTBEAT)
_LOGOUT_REQUEST = int(soup.PacketType.LOGOUT_REQUEST)

AWAITING_LOGIN = 0
ACTIVE = 1
CLOSED = 2

FLUSH_CHUNK_BYTES = 256 * 1024
# SoupBinTCP packets from a client are small (the largest is a 47-byte login); anything near
# the 16-bit maximum is garbage or an attack, refused before it is buffered.
MAX_CLIENT_PACKET = 1024
CLOSE_GRACE_S = 2.0


class SoupService(Protocol):
    """What a port does with its logged-in clients."""

    def log_for(self, connection: SoupConnection) -> SequencedLog:
        """The sequenced stream this client reads (its account's, or the shared feed)."""
        ...

    def on_login(self, connection: SoupConnection) -> None:
        """Called once the client is accepted, before any replay is flushed."""
        ...

    def horizon(self, log: SequencedLog) -> int:
        """The sequence number the next message will get, counting messages already decided
        but held back by injected latency (a client may ask to resume from there)."""
        ...

    def on_unsequenced(self, connection: SoupConnection, payload: bytes) -> None:
        """A client message (Unsequenced Data). Raise `soup.ProtocolError` to drop the client."""
        ...

    def on_close(self, connection: SoupConnection) -> None:
        """The connection ended, for whatever reason."""
        ...


@dataclass(frozen=True)
class SoupSettings:
    session: str
    heartbeat_interval_s: float
    idle_timeout_s: float
    single_login_per_account: bool
    # A snapshot is always served whole: sequence 0 ("only new messages") means from 1 there.
    zero_means_first: bool = False


class SoupConnection(asyncio.Protocol):
    """One client connection."""

    def __init__(self, server: SoupServer) -> None:
        self.server = server
        self.state = AWAITING_LOGIN
        self.decoder = soup.FrameDecoder(MAX_CLIENT_PACKET)
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.username = ""
        self.account: Account | None = None
        self.log: SequencedLog | None = None
        self.cursor = 1
        self.write_paused = False
        now = time.monotonic()
        self.last_received = now
        self.last_sent = now
        self.connected_at = now
        self.messages_received = 0

    # asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        stream = typing.cast(asyncio.Transport, transport)
        self.transport = stream
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        # Small high-water mark: a client that does not read is noticed early, and the rest
        # of its stream waits in the sequenced log instead of in a socket buffer.
        stream.set_write_buffer_limits(high=512 * 1024, low=128 * 1024)
        self.server.connections.add(self)

    def data_received(self, data: bytes) -> None:
        self.last_received = time.monotonic()
        packets, error = self.decoder.feed_all(data)
        try:
            on_unsequenced = self.server.service.on_unsequenced
            for packet_type, payload in packets:
                if self.state != ACTIVE or packet_type != _UNSEQUENCED_DATA:
                    if self.state == CLOSED:
                        return
                    self._dispatch(packet_type, payload)
                else:
                    self.messages_received += 1
                    try:
                        on_unsequenced(self, payload)
                    except soup.ProtocolError:
                        raise
                    except Exception:
                        # A fault of ours must not cost the client its session: log it with
                        # the message that caused it and go on with the next one.
                        self.server.count("internal_errors")
                        self.server.logger.exception(
                            "%s %s: failed on message %r", self.server.name, self, payload[:64]
                        )
            if error is not None:
                raise error
            if self.server._flush_scheduled:
                # Answer now rather than on the loop's next turn: it saves a turn of latency.
                self.server._flush_all()
        except soup.ProtocolError as exc:
            self.server.logger.warning("%s %s: %s; disconnecting", self.server.name, self, exc)
            self.server.count("protocol_errors")
            self.close(debug=f"protocol error: {exc}")

    def connection_lost(self, exc: Exception | None) -> None:
        if self.decoder.buffered:
            # A client that vanished mid-message: the partial packet is simply dropped.
            self.server.count("partial_packets_dropped")
        was_active = self.state == ACTIVE
        self.state = CLOSED
        self.server.connections.discard(self)
        if was_active:
            self.server.service.on_close(self)
            self.server.logger.info("%s %s disconnected", self.server.name, self)

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self.server.schedule_flush()

    # SoupBinTCP ------------------------------------------------------------------------------

    def _dispatch(self, packet_type: int, payload: bytes) -> None:
        if self.state == AWAITING_LOGIN:
            if packet_type != _LOGIN_REQUEST:
                raise soup.MalformedPacket(
                    f"expected a Login Request first, got packet type {chr(packet_type)!r}"
                )
            self._login(soup.parse_login_request(payload))
            return
        self.messages_received += 1
        if packet_type == _UNSEQUENCED_DATA:
            self.server.service.on_unsequenced(self, payload)
        elif packet_type == _CLIENT_HEARTBEAT:
            pass
        elif packet_type == _LOGOUT_REQUEST:
            self.server.logger.info("%s %s logged out", self.server.name, self)
            self.close()
        elif packet_type == _LOGIN_REQUEST:
            raise soup.MalformedPacket("Login Request on a session already logged in")
        else:
            raise soup.MalformedPacket(
                f"packet type {chr(packet_type)!r} is not one a client may send"
            )

    def _login(self, request) -> None:
        server = self.server
        account = server.accounts.get(request.username)
        if account is None or account.password != request.password:
            server.logger.warning(
                "%s login refused for %r from %s: bad username or password",
                server.name, request.username, self.peer,
            )  # fmt: skip
            server.count("logins_rejected")
            self._reject(soup.LOGIN_REJECT_NOT_AUTHORIZED)
            return
        settings = server.settings
        if request.requested_session and request.requested_session != settings.session:
            server.logger.warning(
                "%s login refused for %r: session %r is not today's %r",
                server.name, request.username, request.requested_session, settings.session,
            )  # fmt: skip
            server.count("logins_rejected")
            self._reject(soup.LOGIN_REJECT_SESSION_NOT_AVAILABLE)
            return
        if settings.single_login_per_account and any(
            c.state == ACTIVE and c.username == request.username for c in server.connections
        ):
            server.logger.warning(
                "%s login refused for %r: the account is already logged in",
                server.name, request.username,
            )  # fmt: skip
            server.count("logins_rejected")
            self._reject(soup.LOGIN_REJECT_SESSION_NOT_AVAILABLE)
            return
        self.username = request.username
        self.account = account
        self.log = server.service.log_for(self)
        next_sequence = self.log.next_sequence
        requested = request.requested_sequence_number
        # 0 asks for "from the most recent message on"; a number past the end is served from
        # the end, as the client has seen everything there is.
        if requested == 0:
            self.cursor = 1 if settings.zero_means_first else next_sequence
        else:
            # A number past the end is served from the end: the client has seen it all.
            self.cursor = min(requested, server.service.horizon(self.log))
        self.state = ACTIVE
        self._write(soup.encode_login_accepted(settings.session, self.cursor))
        server.count("logins_accepted")
        server.logger.info(
            "%s %s logged in as %r from sequence %d (log at %d)",
            server.name, self.peer, self.username, self.cursor, next_sequence - 1,
        )  # fmt: skip
        server.service.on_login(self)
        self.flush()

    def _reject(self, reason: str) -> None:
        self._write(soup.encode_login_rejected(reason))
        self.close()

    # Output ----------------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)
            self.last_sent = time.monotonic()

    def flush(self) -> None:
        """Send whatever of the log this client has not had yet, as far as it is reading."""
        log = self.log
        if self.state != ACTIVE or log is None or self.write_paused:
            return
        while self.cursor < log.next_sequence and not self.write_paused:
            data, self.cursor = log.read(self.cursor, FLUSH_CHUNK_BYTES)
            self._write(data)
            if self.transport is None or self.transport.is_closing():
                return

    @property
    def lag(self) -> int:
        """Messages of its log the client has not been sent yet."""
        return 0 if self.log is None else self.log.next_sequence - self.cursor

    def send_end_of_session(self) -> None:
        """Tell the client the session is over (it may still log out)."""
        self._write(soup.encode_end_of_session())

    def heartbeat_due(self, now: float) -> None:
        """Send a heartbeat if nothing went out for a heartbeat interval."""
        if (
            self.state == ACTIVE
            and now - self.last_sent >= self.server.settings.heartbeat_interval_s
        ):
            self._write(soup.encode_server_heartbeat())

    def close(self, debug: str = "") -> None:
        """End the connection (after a Debug packet with `debug`, if given)."""
        if self.transport is None or self.transport.is_closing():
            return
        if debug:
            self._write(soup.encode_debug(debug[:200]))
        was_active = self.state == ACTIVE
        self.state = CLOSED
        self.server.connections.discard(self)
        if was_active:
            self.server.service.on_close(self)
        transport = self.transport
        transport.close()
        # A client that does not read would hold a closing connection open for ever.
        asyncio.get_running_loop().call_later(CLOSE_GRACE_S, transport.abort)

    def __str__(self) -> str:
        who = f"{self.username}@" if self.username else ""
        return f"{who}{self.peer}"


class SoupServer:
    """Accepts SoupBinTCP clients on one port for one service."""

    def __init__(
        self,
        name: str,
        service: SoupService,
        accounts: dict[str, Account],
        settings: SoupSettings,
        logger: logging.Logger,
        counter: Callable[[str], None],
    ) -> None:
        self.name = name
        self.service = service
        self.accounts = accounts
        self.settings = settings
        self.logger = logger
        self._count = counter
        self.connections: set[SoupConnection] = set()
        self.server: asyncio.AbstractServer | None = None
        self._flush_scheduled = False
        self.port = 0

    def count(self, what: str) -> None:
        self._count(f"{self.name}_{what}")

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the bound port (useful when `port` is 0)."""
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: SoupConnection(self), host, port, reuse_address=True
        )
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    def schedule_flush(self) -> None:
        """Flush every client once the current burst of work is done (one write per burst)."""
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_all)

    def _flush_all(self) -> None:
        self._flush_scheduled = False
        for connection in tuple(self.connections):
            connection.flush()

    def housekeeping(self, now: float) -> None:
        """Heartbeats, and dropping clients silent past the idle timeout."""
        timeout = self.settings.idle_timeout_s
        for connection in tuple(self.connections):
            if now - connection.last_received > timeout:
                self.logger.warning(
                    "%s %s silent for %.1f s; disconnecting", self.name, connection, timeout
                )
                self.count("idle_disconnects")
                connection.close(debug="idle timeout")
            else:
                connection.heartbeat_due(now)

    @property
    def active(self) -> list[SoupConnection]:
        return [c for c in self.connections if c.state == ACTIVE]

    async def stop(self) -> None:
        """Send End of Session to every client, close them, stop listening."""
        for connection in tuple(self.connections):
            if connection.state == ACTIVE:
                connection.flush()
                connection.send_end_of_session()
            connection.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
