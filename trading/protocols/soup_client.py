"""A blocking SoupBinTCP client: for tools, benchmarks and tests that talk to a venue.

It logs in, sends Unsequenced Data, and hands back packets as they arrive, counting the
sequence numbers of Sequenced Data so that a caller can log in again from where it stopped.
"""

from __future__ import annotations

import socket
import time
from collections import deque

from trading.protocols import soupbintcp as soup


class LoginRejected(ConnectionError):
    """The server refused the login; `reason` is SoupBinTCP's code ('A' or 'S')."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"login rejected: {soup.LOGIN_REJECT_REASONS.get(reason, reason)}")


class SoupClient:
    """One SoupBinTCP session over a blocking TCP socket."""

    def __init__(self, host: str, port: int, timeout_s: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.decoder = soup.FrameDecoder()
        self.pending: deque[tuple[int, bytes]] = deque()
        self.session = ""
        self.next_sequence = 0
        self.closed = False

    def login(
        self, username: str, password: str, sequence: int = 1, session: str = ""
    ) -> tuple[str, int]:
        """Log in asking for sequenced messages from `sequence` (0: only new ones)."""
        self.sock.sendall(soup.encode_login_request(username, password, session, sequence))
        packet_type, payload = self.receive()
        if packet_type == soup.PacketType.LOGIN_REJECTED:
            raise LoginRejected(soup.parse_login_rejected(payload))
        if packet_type != soup.PacketType.LOGIN_ACCEPTED:
            raise ConnectionError(f"expected Login Accepted, got {chr(packet_type)!r}")
        accepted = soup.parse_login_accepted(payload)
        self.session = accepted.session
        self.next_sequence = accepted.sequence_number
        return self.session, self.next_sequence

    def send(self, payload: bytes) -> None:
        """Send one message as Unsequenced Data."""
        self.sock.sendall(soup.encode_unsequenced_data(payload))

    def send_raw(self, data: bytes) -> None:
        """Send bytes as they are (for tests of malformed input)."""
        self.sock.sendall(data)

    def heartbeat(self) -> None:
        self.sock.sendall(soup.encode_client_heartbeat())

    def logout(self) -> None:
        self.sock.sendall(soup.encode_logout_request())

    def receive(self, timeout_s: float | None = None) -> tuple[int, bytes]:
        """The next packet (type, payload); raises TimeoutError or ConnectionError."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self.pending:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no packet in time")
                self.sock.settimeout(left)
            try:
                data = self.sock.recv(1 << 16)
            except TimeoutError:
                raise
            except OSError as exc:
                raise ConnectionError(str(exc)) from exc
            if not data:
                self.closed = True
                raise ConnectionError("connection closed by the server")
            self.pending.extend(self.decoder.feed(data))
        packet = self.pending.popleft()
        if packet[0] == soup.PacketType.SEQUENCED_DATA:
            self.next_sequence += 1
        return packet

    def receive_sequenced(self, timeout_s: float = 5.0) -> bytes:
        """The next Sequenced Data payload, skipping heartbeats; raises on End of Session."""
        deadline = time.monotonic() + timeout_s
        while True:
            packet_type, payload = self.receive(max(0.001, deadline - time.monotonic()))
            if packet_type == soup.PacketType.SEQUENCED_DATA:
                return payload
            if packet_type == soup.PacketType.END_OF_SESSION:
                raise ConnectionError("end of session")
            if packet_type == soup.PacketType.DEBUG:
                continue

    def close(self) -> None:
        self.closed = True
        self.sock.close()

    def __enter__(self) -> SoupClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
