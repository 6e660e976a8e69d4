"""The engine's market-data handler: ITCH 5.0 over SoupBinTCP into per-symbol books.

It starts from a snapshot (the GLIMPSE-style port: the book as Add Orders, then the feed
sequence to resume from), then follows the feed from exactly that sequence. Every packet is
stamped with its receive time (T1) on arrival. When the connection drops it logs in again
from the next sequence it expects, which SoupBinTCP serves in full, so nothing is missed. When
the venue can no longer serve that sequence (a new session after a restart, or a login answer
that starts elsewhere: a gap) it throws its books away and resynchronises from a snapshot. A
malformed frame is a broken stream: it is logged, the connection dropped, and the same
recovery runs. Reconnects back off (0.1 s doubling to 5 s).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from trading.book_builder import BookBuilder
from trading.engine.reconnect import Backoff
from trading.protocols import itch
from trading.protocols import soupbintcp as soup

HEARTBEAT_INTERVAL_S = 1.0
_SEQUENCED = int(soup.PacketType.SEQUENCED_DATA)
_HEARTBEAT = int(soup.PacketType.SERVER_HEARTBEAT)
_END_OF_SESSION = int(soup.PacketType.END_OF_SESSION)
_DEBUG = int(soup.PacketType.DEBUG)


@dataclass
class FeedStats:
    """What the handler has seen, for the dashboard and the log."""

    messages: int = 0
    reconnects: int = 0
    resyncs: int = 0
    gaps: int = 0
    malformed: int = 0
    last_receive_ns: int = 0
    notes: list[str] = field(default_factory=list)


class FeedHandler:
    """Keeps `books` equal to the venue's, whatever happens to the connection."""

    def __init__(
        self,
        host: str,
        feed_port: int,
        snapshot_port: int,
        username: str,
        password: str,
        *,
        tick_size: int = 100,
        on_message: Callable[[object, int], None] | None = None,
        on_snapshot: Callable[[int], None] | None = None,
        on_batch: Callable[[int], None] | None = None,
        logger: logging.Logger | None = None,
        clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.host = host
        self.feed_port = feed_port
        self.snapshot_port = snapshot_port
        self.username = username
        self.password = password
        self.tick_size = tick_size
        self.on_message = on_message
        self.on_snapshot = on_snapshot  # after a (re)synchronisation: every book is new
        # After each batch of messages that arrived together: the books are now as the venue
        # left them, so this is where strategies should look (not at every message between).
        self.on_batch = on_batch
        self.log = logger or logging.getLogger("MD")
        self.clock_ns = clock_ns
        self.builder = BookBuilder(tick_size)
        self.stats = FeedStats()
        self.session = ""
        self.next_sequence = 0  # the feed sequence the books are up to (0: need a snapshot)
        self.sock: socket.socket | None = None
        self.decoder = soup.FrameDecoder()
        self.last_sent = 0.0
        self.backoff = Backoff()
        self.requeued: list[tuple[int, bytes]] = []  # packets that came with the login answer

    # -- public -------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.sock is not None

    def poll(self, timeout_s: float = 0.0) -> int:
        """Connect if needed, then apply whatever has arrived; returns messages applied."""
        if self.sock is None:
            if not self.backoff.ready():
                return 0
            try:
                self._connect()
            except (OSError, ConnectionError, soup.ProtocolError) as exc:
                self._lost(f"cannot connect: {exc}")
                return 0
        applied = 0
        try:
            self._keep_alive()
            self.sock.settimeout(timeout_s if timeout_s > 0 else 0.0)  # type: ignore[union-attr]
            data = self.sock.recv(1 << 16)  # type: ignore[union-attr]
        except (BlockingIOError, TimeoutError):
            return 0
        except OSError as exc:
            self._lost(f"connection error: {exc}")
            return 0
        if not data:
            self._lost("the venue closed the feed")
            return 0
        t1 = self.clock_ns()
        self.stats.last_receive_ns = t1
        packets, error = self.decoder.feed_all(data)
        applied, ended = self.apply_batch(packets, t1)
        if ended:
            self._lost("end of session")
            return applied
        if error is not None:
            self.stats.malformed += 1
            self._lost(f"malformed feed data ({error})", resync=True)
        return applied

    def close(self) -> None:
        """Log out and close."""
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.sendall(soup.encode_logout_request())
            self.sock.close()
            self.sock = None

    def apply_batch(self, packets: list[tuple[int, bytes]], t1: int) -> tuple[int, bool]:
        """Apply packets that arrived together (all stamped `t1`), then report the batch.

        Returns how many messages were applied and whether the venue ended the session.
        """
        applied, ended = self._apply_packets(packets, t1)
        if applied and self.on_batch is not None:
            self.on_batch(t1)
        return applied, ended

    # -- internals ----------------------------------------------------------------------------

    def _apply_packets(self, packets: list[tuple[int, bytes]], t1: int) -> tuple[int, bool]:
        """Apply the packets in order up to an End of Session: (messages applied, ended)."""
        applied = 0
        ended = False
        for packet_type, payload in packets:
            if packet_type == _SEQUENCED:
                applied += self._apply(payload, t1)
            elif packet_type == _END_OF_SESSION:
                ended = True
                break
            elif packet_type == _DEBUG:
                self._on_debug(payload)
        return applied, ended

    def _on_debug(self, payload: bytes) -> None:
        """A Debug packet: free text from the venue, logged."""
        self.log.warning("feed says: %s", payload.decode("ascii", "replace"))

    def _apply(self, payload: bytes, t1: int) -> int:
        try:
            message = itch.decode(payload)
        except soup.MalformedMessage as exc:
            self.stats.malformed += 1
            self.log.warning("feed message %d unreadable (%s); skipped", self.next_sequence, exc)
            self.next_sequence += 1
            return 0
        self.next_sequence += 1
        self.builder.apply(message)
        self.stats.messages += 1
        if self.on_message is not None:
            self.on_message(message, t1)
        return 1

    def _connect(self) -> None:
        if self.next_sequence == 0:
            self._load_snapshot()
        sock = self._open(self.feed_port)
        sock.sendall(
            soup.encode_login_request(
                self.username, self.password, self.session, self.next_sequence
            )
        )
        packet_type, payload = self._first_packet(sock)
        if packet_type == soup.PacketType.LOGIN_REJECTED:
            sock.close()
            reason = soup.parse_login_rejected(payload)
            if reason == soup.LOGIN_REJECT_SESSION_NOT_AVAILABLE and self.session:
                # The venue restarted: a new session, a new sequence. Start over.
                self.stats.resyncs += 1
                self.log.warning("feed session %s is gone: resynchronising", self.session)
                self._reset()
                return self._connect()
            raise ConnectionError(f"feed login rejected ({reason})")
        accepted = soup.parse_login_accepted(payload)
        if accepted.sequence_number != self.next_sequence:
            sock.close()
            self.stats.gaps += 1
            self.log.warning(
                "feed starts at %d, not %d: a gap; resynchronising from a snapshot",
                accepted.sequence_number, self.next_sequence,
            )  # fmt: skip
            self._reset()
            return self._connect()
        self.session = accepted.session
        sock.setblocking(False)
        self.sock = sock
        self.last_sent = time.monotonic()
        self.backoff.succeeded()
        self.log.info(
            "feed connected: session %s from sequence %d", self.session, self.next_sequence
        )

    def _load_snapshot(self) -> None:
        self.builder = BookBuilder(self.tick_size)
        sock = self._open(self.snapshot_port)
        try:
            sock.sendall(soup.encode_login_request(self.username, self.password, "", 1))
            decoder = soup.FrameDecoder()
            pending: list[tuple[int, bytes]] = []
            while True:
                while not pending:
                    data = sock.recv(1 << 16)
                    if not data:
                        raise ConnectionError("the snapshot port closed before the end")
                    pending.extend(decoder.feed(data))
                packet_type, payload = pending.pop(0)
                if packet_type == soup.PacketType.LOGIN_REJECTED:
                    raise ConnectionError("snapshot login rejected")
                if packet_type == soup.PacketType.LOGIN_ACCEPTED:
                    self.session = soup.parse_login_accepted(payload).session
                    continue
                if packet_type != _SEQUENCED:
                    continue
                message = itch.decode(payload)
                if isinstance(message, itch.EndOfSnapshot):
                    self.next_sequence = message.sequence_number
                    break
                self.builder.apply(message)
            sock.sendall(soup.encode_logout_request())
        finally:
            sock.close()
        if self.on_snapshot is not None:
            self.on_snapshot(self.clock_ns())
        self.log.info(
            "snapshot loaded: %d orders in %d books, feed resumes at %d",
            sum(len(b) for b in self.builder.books.values()), len(self.builder.books),
            self.next_sequence,
        )  # fmt: skip

    def _open(self, port: int) -> socket.socket:
        sock = socket.create_connection((self.host, port), timeout=5.0)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _first_packet(self, sock: socket.socket) -> tuple[int, bytes]:
        self.decoder = soup.FrameDecoder()
        while True:
            data = sock.recv(1 << 16)
            if not data:
                raise ConnectionError("the feed closed during login")
            packets, error = self.decoder.feed_all(data)
            if error is not None:
                raise error
            if packets:
                first, rest = packets[0], packets[1:]
                # Anything that came with the answer is applied on the next poll.
                self.requeued = rest
                return first

    def _keep_alive(self) -> None:
        if self.requeued:
            requeued, self.requeued = self.requeued, []
            self.apply_batch([p for p in requeued if p[0] == _SEQUENCED], self.clock_ns())
        now = time.monotonic()
        if now - self.last_sent >= HEARTBEAT_INTERVAL_S and self.sock is not None:
            self.sock.sendall(soup.encode_client_heartbeat())
            self.last_sent = now

    def _reset(self) -> None:
        self.session = ""
        self.next_sequence = 0

    def _lost(self, why: str, resync: bool = False) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if resync:
            self._reset()
        self.stats.reconnects += 1
        self.log.warning("feed lost (%s); reconnecting in %.1f s", why, self.backoff.failed())
