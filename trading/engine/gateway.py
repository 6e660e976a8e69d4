"""The engine's order gateway: OUCH 4.2 over SoupBinTCP to the venue.

Orders go out as Enter/Replace/Cancel Order with the engine's order id as the OUCH token
(ids are never reused, so tokens stay day-unique across restarts). Everything the venue says
comes back as a sequenced stream: the gateway counts it, so that after a dropped connection it
logs in again from the next message it has not seen and the venue replays exactly what was
missed, no fill lost and none seen twice. The caller may persist `next_sequence` and pass it
back after a restart for the same guarantee across a crash. A login refused for the session
means the venue itself restarted: every order it held is gone, which the gateway reports as a
`VenueReset` for the engine to act on. Reconnects back off from 0.1 s to 5 s.

`poll` stamps T5 (receive) on each answer; `send_*` return T4 (written to the socket).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trading.engine.reconnect import Backoff
from trading.model.orders import BUY, OrderIntent, TimeInForce
from trading.protocols import ouch
from trading.protocols import soupbintcp as soup

HEARTBEAT_INTERVAL_S = 1.0
_SEQUENCED = int(soup.PacketType.SEQUENCED_DATA)
_END_OF_SESSION = int(soup.PacketType.END_OF_SESSION)
_DEBUG = int(soup.PacketType.DEBUG)

_TIF = {
    TimeInForce.IOC: ouch.TIF_IMMEDIATE_OR_CANCEL,
    TimeInForce.DAY: ouch.TIF_MARKET_HOURS,
    TimeInForce.GTC: ouch.TIF_SYSTEM_HOURS,
}


@dataclass(slots=True, frozen=True)
class VenueMessage:
    """One OUCH answer with the engine's order id (0 when the token is not one of ours)."""

    order_id: int
    message: Any
    sequence: int
    t5_ns: int


@dataclass(slots=True, frozen=True)
class VenueReset:
    """The venue's session is gone (it restarted): none of our orders are live any more."""

    old_session: str
    t5_ns: int


def token_for(order_id: int) -> str:
    """The OUCH token of an engine order id."""
    return str(order_id)


def order_id_of(token: str) -> int:
    """The engine order id behind a token, or 0 for a token the engine did not issue."""
    return int(token) if token.isdigit() else 0


class OuchGateway:
    """One OUCH session, kept alive and in sequence."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        password: str,
        *,
        next_sequence: int = 1,
        session: str = "",
        logger: logging.Logger | None = None,
        clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.next_sequence = next_sequence
        self.session = session
        self.log = logger or logging.getLogger("GW")
        self.clock_ns = clock_ns
        self.sock: socket.socket | None = None
        self.decoder = soup.FrameDecoder()
        self.last_sent = 0.0
        self.backoff = Backoff()
        self.reconnects = 0
        self.pending: list[VenueMessage | VenueReset] = []

    @property
    def connected(self) -> bool:
        return self.sock is not None

    # -- orders -------------------------------------------------------------------------------

    def send_enter(self, order_id: int, intent: OrderIntent) -> int:
        """Send Enter Order; returns T4. Raises ConnectionError when not connected."""
        price = ouch.PRICE_MARKET_CROSS if intent.is_market else intent.price
        message = ouch.EnterOrder(
            token_for(order_id), "B" if intent.side == BUY else "S", intent.qty, intent.symbol,
            price, _TIF[intent.tif], "", "Y", "P", "N", 0, "N", " ",
        )  # fmt: skip
        return self._send(message.encode())

    def send_cancel(self, order_id: int, total_shares: int = 0) -> int:
        """Send Cancel Order (to a new total size; 0 cancels all); returns T4."""
        return self._send(ouch.CancelOrder(token_for(order_id), total_shares).encode())

    def send_replace(
        self, order_id: int, new_order_id: int, total_shares: int, price: int, tif: TimeInForce
    ) -> int:
        """Send Replace Order under a new id; returns T4."""
        message = ouch.ReplaceOrder(
            token_for(order_id), token_for(new_order_id), total_shares, price, _TIF[tif], "Y",
            "N", 0,
        )  # fmt: skip
        return self._send(message.encode())

    def _send(self, payload: bytes) -> int:
        if self.sock is None:
            raise ConnectionError("the order gateway is not connected")
        try:
            self.sock.sendall(soup.encode_unsequenced_data(payload))
        except OSError as exc:
            self._lost(f"send failed: {exc}")
            raise ConnectionError(str(exc)) from exc
        self.last_sent = time.monotonic()
        return self.clock_ns()

    # -- answers ------------------------------------------------------------------------------

    def poll(self, timeout_s: float = 0.0) -> list[VenueMessage | VenueReset]:
        """Connect if needed, then return every answer that has arrived, in sequence."""
        if self.sock is None:
            if not self.backoff.ready():
                return self._take()
            try:
                self._connect()
            except (OSError, ConnectionError, soup.ProtocolError) as exc:
                self._lost(f"cannot connect: {exc}")
                return self._take()
        try:
            self._keep_alive()
            self.sock.settimeout(timeout_s if timeout_s > 0 else 0.0)  # type: ignore[union-attr]
            data = self.sock.recv(1 << 16)  # type: ignore[union-attr]
        except (BlockingIOError, TimeoutError):
            return self._take()
        except OSError as exc:
            self._lost(f"connection error: {exc}")
            return self._take()
        if not data:
            self._lost("the venue closed the session")
            return self._take()
        self._packets(self.decoder.feed_all(data), self.clock_ns())
        return self._take()

    def _packets(self, batch: tuple[list[tuple[int, bytes]], Any], t5: int) -> None:
        packets, error = batch
        for packet_type, payload in packets:
            if packet_type == _SEQUENCED:
                message = ouch.decode_outbound(payload)
                token = str(
                    getattr(message, "order_token", None)
                    or getattr(message, "replacement_order_token", "")
                )
                self.pending.append(
                    VenueMessage(order_id_of(token), message, self.next_sequence, t5)
                )
                self.next_sequence += 1
            elif packet_type == _END_OF_SESSION:
                self._lost("end of session")
                return
            elif packet_type == _DEBUG:
                self.log.warning("venue says: %s", payload.decode("ascii", "replace"))
        if error is not None:
            self._lost(f"malformed data from the venue ({error})")

    def _take(self) -> list[VenueMessage | VenueReset]:
        taken, self.pending = self.pending, []
        return taken

    def close(self) -> None:
        """Log out and close (the venue keeps our stream for a later login)."""
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.sendall(soup.encode_logout_request())
            self.sock.close()
            self.sock = None

    # -- session ------------------------------------------------------------------------------

    def _connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=5.0)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(
            soup.encode_login_request(
                self.username, self.password, self.session, self.next_sequence
            )
        )
        self.decoder = soup.FrameDecoder()
        packets: list[tuple[int, bytes]] = []
        while not packets:
            data = sock.recv(1 << 16)
            if not data:
                sock.close()
                raise ConnectionError("the venue closed during login")
            packets, error = self.decoder.feed_all(data)
            if error is not None:
                sock.close()
                raise error
        (packet_type, payload), rest = packets[0], packets[1:]
        if packet_type == soup.PacketType.LOGIN_REJECTED:
            sock.close()
            reason = soup.parse_login_rejected(payload)
            if reason == soup.LOGIN_REJECT_SESSION_NOT_AVAILABLE and self.session:
                self.log.error(
                    "venue session %s is gone (the venue restarted): our orders with it",
                    self.session,
                )
                self.pending.append(VenueReset(self.session, self.clock_ns()))
                self.session = ""
                self.next_sequence = 1
                return self._connect()
            raise ConnectionError(f"login rejected ({reason})")
        accepted = soup.parse_login_accepted(payload)
        self.session = accepted.session
        if accepted.sequence_number != self.next_sequence:
            self.log.warning(
                "venue resumes at %d, we asked for %d", accepted.sequence_number, self.next_sequence
            )
            self.next_sequence = accepted.sequence_number
        sock.setblocking(False)
        self.sock = sock
        self.last_sent = time.monotonic()
        self.backoff.succeeded()
        self.log.info("order session %s from sequence %d", self.session, self.next_sequence)
        if rest:
            self._packets((rest, None), self.clock_ns())

    def _keep_alive(self) -> None:
        now = time.monotonic()
        if self.sock is not None and now - self.last_sent >= HEARTBEAT_INTERVAL_S:
            self.sock.sendall(soup.encode_client_heartbeat())
            self.last_sent = now

    def _lost(self, why: str) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.reconnects += 1
        self.log.warning(
            "order session lost (%s); reconnecting in %.1f s", why, self.backoff.failed()
        )
