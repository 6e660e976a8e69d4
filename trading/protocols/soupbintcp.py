"""SoupBinTCP 4.0 framing, plus the fixed-width field tables shared by the protocols it carries.

Every SoupBinTCP packet is ``length(2, big-endian) | packet type(1) | payload``; ``length``
counts the type byte and the payload but not itself.  OUCH and ITCH messages travel inside
Sequenced Data ('S') and Unsequenced Data ('U') packets.

The second half of this module is the small "layout table" machinery: a message layout is a
tuple of :class:`Field` rows, and :class:`Layout` turns that table into a precompiled
``struct.Struct``, byte offsets and an immutable ``NamedTuple`` class.  SoupBinTCP's own login
packets, OUCH 4.2 and ITCH 5.0 all declare their messages this way, so every byte layout in
the package is written exactly once.

Sources: NASDAQ SoupBinTCP 4.0 specification; Wireshark ``packet-soupbintcp.c``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, NamedTuple

# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ProtocolError(ValueError):
    """Base class for malformed wire data; a server should drop the connection on it."""


class MalformedPacket(ProtocolError):
    """A SoupBinTCP packet that cannot be a valid packet (zero length, wrong size, bad text)."""


class FrameTooLong(ProtocolError):
    """A SoupBinTCP length header larger than the decoder's configured maximum."""


class UnknownPacketType(ProtocolError):
    """A SoupBinTCP packet whose type byte is not one of the ten the spec defines."""


class MalformedMessage(ProtocolError):
    """An OUCH/ITCH message payload that does not match its layout."""


class UnknownMessageType(MalformedMessage):
    """An OUCH/ITCH payload whose first byte names no known message type."""


class MessageLengthError(MalformedMessage):
    """An OUCH/ITCH payload whose length differs from the length its type requires."""

    def __init__(self, message_type: bytes | int, expected: str | int, actual: int) -> None:
        if isinstance(message_type, int):  # numba kernels can only pass the type byte as int
            message_type = bytes((message_type,))
        super().__init__(f"message type {message_type!r}: expected {expected} bytes, got {actual}")
        self.message_type = message_type
        self.expected = expected
        self.actual = actual


# --------------------------------------------------------------------------------------------
# Fixed-width field tables
# --------------------------------------------------------------------------------------------

LEFT = "left"  # left-justified, padded on the right with spaces
RIGHT = "right"  # right-justified, padded on the left with spaces

_UINT_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}


@dataclass(frozen=True, slots=True)
class Field:
    """One row of a layout table: attribute name, wire kind, width in bytes, justification.

    ``kind`` is ``"uint"`` (big-endian unsigned; width 1, 2, 4, 6 or 8), ``"alpha"`` (ASCII
    text padded with spaces, stripped on decode), ``"char"`` (one ASCII byte kept verbatim,
    because a space is a meaningful code in several fields) or ``"numeric"`` (an unsigned
    integer written as ASCII decimal digits, padded with spaces).
    """

    name: str
    kind: str
    width: int
    justify: str = LEFT


def uint(name: str, width: int) -> Field:
    """Return a big-endian unsigned integer field of ``width`` bytes (1, 2, 4, 6 or 8)."""
    if width not in (1, 2, 4, 6, 8):
        raise ValueError(f"unsupported integer width {width}")
    return Field(name, "uint", width)


def alpha(name: str, width: int, justify: str = LEFT) -> Field:
    """Return a space-padded ASCII text field; ``justify`` says which side holds the text."""
    return Field(name, "alpha", width, justify)


def char(name: str) -> Field:
    """Return a single ASCII byte field (a code letter such as a side or a reason)."""
    return Field(name, "char", 1)


def numeric(name: str, width: int, justify: str = RIGHT) -> Field:
    """Return an unsigned integer carried as space-padded ASCII decimal digits."""
    return Field(name, "numeric", width, justify)


def _field_struct_code(field: Field) -> str:
    if field.kind == "uint":
        # 48-bit ITCH timestamps have no struct code: read them as a 16-bit high part and a
        # 32-bit low part and recombine.
        return "HI" if field.width == 6 else _UINT_CODES[field.width]
    if field.kind == "char":
        return "B"
    return f"{field.width}s"


class Layout:
    """A compiled message layout: one type byte followed by the table's fields.

    Attributes: ``message_type`` (1 byte), ``name``, ``fields``, ``size`` (total bytes,
    type byte included), ``offsets`` (field name -> byte offset from the type byte) and
    ``cls`` (the immutable NamedTuple class built by :meth:`message_class`).
    """

    def __init__(self, message_type: bytes, name: str, fields: Sequence[Field]) -> None:
        if len(message_type) != 1:
            raise ValueError("message type must be exactly one byte")
        self.message_type = message_type
        self.name = name
        self.fields = tuple(fields)
        self._struct = struct.Struct(">c" + "".join(_field_struct_code(f) for f in self.fields))
        self.size = self._struct.size
        offsets: dict[str, int] = {}
        position = 1
        for f in self.fields:
            offsets[f.name] = position
            position += f.width
        if position != self.size:  # struct must not have inserted padding
            raise AssertionError(f"{name}: table sums to {position}, struct to {self.size}")
        self.offsets = offsets
        self._needs_conversion = any(f.kind != "uint" or f.width == 6 for f in self.fields)
        self.cls: Any = None
        self._fast_pack = _compile_pack(self)
        self._fast_unpack = _compile_unpack(self)

    # ---- decoding ---------------------------------------------------------------------------

    def unpack(self, data: bytes | bytearray | memoryview) -> tuple[Any, ...]:
        """Decode ``data`` (exactly one message, type byte included) into field values."""
        return self._fast_unpack(data)

    def _checked_unpack(self, data: bytes | bytearray | memoryview) -> tuple[Any, ...]:
        # The field-by-field path: slower, but it names the field that is wrong.
        if len(data) != self.size:
            raise MessageLengthError(self.message_type, self.size, len(data))
        raw = self._struct.unpack(data)
        if raw[0] != self.message_type:
            raise UnknownMessageType(f"{self.name}: type byte {raw[0]!r}")
        if not self._needs_conversion:
            return raw[1:]
        values = []
        i = 1
        for f in self.fields:
            item = raw[i]
            i += 1
            if f.kind == "uint":
                if f.width == 6:
                    item = (item << 32) | raw[i]
                    i += 1
            elif f.kind == "char":
                item = _ascii(bytes((item,)), self, f)
            elif f.kind == "alpha":
                text = _ascii(item, self, f)
                item = text.rstrip(" ") if f.justify == LEFT else text.lstrip(" ")
            else:
                item = _parse_numeric(item, self, f)
            values.append(item)
        return tuple(values)

    def decode(self, data: bytes | bytearray | memoryview) -> Any:
        """Decode ``data`` into an instance of this layout's message class."""
        return self.cls._make(self.unpack(data))

    # ---- encoding ---------------------------------------------------------------------------

    def pack(self, values: Iterable[Any]) -> bytes:
        """Encode field values (in table order) into the wire bytes, type byte included."""
        return self._fast_pack(values)

    def _checked_pack(self, values: Iterable[Any]) -> bytes:
        # The field-by-field path: slower, but it names the field that is wrong.
        raw: list[Any] = [self.message_type]
        for f, value in zip(self.fields, values, strict=True):
            if f.kind == "uint":
                if f.width == 6:
                    if not 0 <= value < 1 << 48:
                        raise ValueError(f"{self.name}.{f.name}={value} does not fit 6 bytes")
                    raw.append(value >> 32)
                    raw.append(value & 0xFFFFFFFF)
                else:
                    raw.append(value)
            elif f.kind == "char":
                encoded = _to_ascii(value, self, f)
                if len(encoded) != 1:
                    raise ValueError(f"{self.name}.{f.name} must be one character: {value!r}")
                raw.append(encoded[0])
            elif f.kind == "alpha":
                raw.append(_pad(_to_ascii(value, self, f), self, f))
            else:
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"{self.name}.{f.name} must be an int >= 0: {value!r}")
                raw.append(_pad(str(value).encode("ascii"), self, f))
        try:
            return self._struct.pack(*raw)
        except struct.error as exc:
            raise ValueError(f"{self.name}: {exc} (values {raw[1:]!r})") from exc

    def message_class(self, class_name: str, doc: str) -> Any:
        """Build (once) the immutable NamedTuple class whose attributes are this table's fields.

        The class gains ``MESSAGE_TYPE``, ``LAYOUT``, ``SIZE``, ``encode()`` and a
        ``decode(payload)`` classmethod.
        """
        annotations = [(f.name, int if f.kind in ("uint", "numeric") else str) for f in self.fields]
        base = NamedTuple(class_name, annotations)  # type: ignore[misc]

        fast_pack = self._fast_pack
        fast_unpack = self._fast_unpack
        new = tuple.__new__

        def encode(message: Any) -> bytes:
            """Encode this message into its wire bytes (type byte included)."""
            return fast_pack(message)

        def decode(cls: Any, data: bytes | bytearray | memoryview) -> Any:
            """Decode one message of exactly this type from ``data``."""
            return new(cls, fast_unpack(data))

        namespace = {
            "__slots__": (),
            "__doc__": doc,
            "__module__": base.__module__,
            "MESSAGE_TYPE": self.message_type,
            "LAYOUT": self,
            "SIZE": self.size,
            "encode": encode,
            "decode": classmethod(decode),
        }
        self.cls = type(class_name, (base,), namespace)
        return self.cls

    def __repr__(self) -> str:
        return f"Layout({self.message_type!r}, {self.name!r}, size={self.size})"


# One-character fields go through these tables instead of str.encode/bytes.decode: a lookup
# costs a fraction of a method call. Only ASCII maps; anything else takes the checked path.
_ASCII_CODES = {chr(code): code for code in range(128)}
_ASCII_CHARS = tuple(chr(code) for code in range(128))


def _compile_pack(layout: Layout) -> Any:
    """Generate a straight-line encoder for one layout (no per-field loop or dispatch).

    Per message this costs a few hundred nanoseconds instead of microseconds; anything the
    fast path cannot encode falls back to the checked path, which raises the precise error.
    """
    args = ["t"]
    checks = []
    for i, f in enumerate(layout.fields):
        if f.kind == "uint":
            if f.width == 6:
                checks.append(f"if not 0 <= m[{i}] < 281474976710656: raise ValueError")
                args += [f"m[{i}] >> 32", f"m[{i}] & 0xFFFFFFFF"]
            else:
                args.append(f"m[{i}]")
        elif f.kind == "char":
            args.append(f"ORD[m[{i}]]")
        elif f.kind == "alpha":
            just = "ljust" if f.justify == LEFT else "rjust"
            checks.append(f"if len(m[{i}]) > {f.width}: raise ValueError")
            args.append(f"m[{i}].encode('ascii').{just}({f.width})")
        else:
            return layout._checked_pack
    body = "\n        ".join(checks) or "pass"
    source = (
        "def pack(m):\n"
        "    try:\n"
        f"        {body}\n"
        f"        return s_pack({', '.join(args)})\n"
        "    except (ValueError, TypeError, AttributeError, IndexError, KeyError, UnicodeError,"
        " s_error):\n"
        "        return checked(m)\n"
    )
    namespace = {
        "ORD": _ASCII_CODES,
        "s_pack": layout._struct.pack,
        "s_error": struct.error,
        "t": layout.message_type,
        "checked": layout._checked_pack,
    }
    exec(source, namespace)  # noqa: S102 - source built above from the layout table only
    return namespace["pack"]


def _compile_unpack(layout: Layout) -> Any:
    """Generate a straight-line decoder for one layout; see `_compile_pack`."""
    values = []
    i = 1
    for f in layout.fields:
        if f.kind == "uint":
            if f.width == 6:
                values.append(f"(r[{i}] << 32) | r[{i + 1}]")
                i += 2
                continue
            values.append(f"r[{i}]")
        elif f.kind == "char":
            values.append(f"CHR[r[{i}]]")
        elif f.kind == "alpha":
            strip = "rstrip" if f.justify == LEFT else "lstrip"
            values.append(f"r[{i}].decode('ascii').{strip}(' ')")
        else:
            return layout._checked_unpack
        i += 1
    source = (
        "def unpack(data):\n"
        f"    if len(data) != {layout.size}:\n"
        "        return checked(data)\n"
        "    r = s_unpack(data)\n"
        "    if r[0] != t:\n"
        "        return checked(data)\n"
        "    try:\n"
        f"        return ({', '.join(values)},)\n"
        "    except (UnicodeDecodeError, IndexError):\n"
        "        return checked(data)\n"
    )
    namespace = {
        "CHR": _ASCII_CHARS,
        "s_unpack": layout._struct.unpack,
        "t": layout.message_type,
        "checked": layout._checked_unpack,
    }
    exec(source, namespace)  # noqa: S102 - source built above from the layout table only
    return namespace["unpack"]


def _ascii(raw: bytes, layout: Layout, f: Field) -> str:
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise MalformedMessage(f"{layout.name}.{f.name}: non-ASCII bytes {raw!r}") from exc


def _to_ascii(value: str | bytes, layout: Layout, f: Field) -> bytes:
    if isinstance(value, bytes):
        value.decode("ascii")  # validates
        return value
    try:
        return value.encode("ascii")
    except (UnicodeEncodeError, AttributeError) as exc:
        raise ValueError(f"{layout.name}.{f.name} must be ASCII text: {value!r}") from exc


def _pad(encoded: bytes, layout: Layout, f: Field) -> bytes:
    if len(encoded) > f.width:
        raise ValueError(f"{layout.name}.{f.name} longer than {f.width} bytes: {encoded!r}")
    return encoded.ljust(f.width) if f.justify == LEFT else encoded.rjust(f.width)


def _parse_numeric(raw: bytes, layout: Layout, f: Field) -> int:
    digits = raw.strip(b" ")
    if not digits:
        return 0  # an all-blank numeric field reads as zero
    if not digits.isdigit():
        raise MalformedMessage(f"{layout.name}.{f.name}: not a decimal number {raw!r}")
    return int(digits)


def message(message_type: bytes, class_name: str, doc: str, fields: Sequence[Field]) -> Any:
    """Declare one message: compile its layout table and return its NamedTuple class."""
    return Layout(message_type, class_name, fields).message_class(class_name, doc)


# --------------------------------------------------------------------------------------------
# SoupBinTCP packets
# --------------------------------------------------------------------------------------------


class PacketType(IntEnum):
    """SoupBinTCP packet type bytes (SoupBinTCP 4.0, sections 2.1-2.3)."""

    DEBUG = ord("+")
    LOGIN_ACCEPTED = ord("A")
    LOGIN_REJECTED = ord("J")
    SEQUENCED_DATA = ord("S")
    SERVER_HEARTBEAT = ord("H")
    END_OF_SESSION = ord("Z")
    LOGIN_REQUEST = ord("L")
    UNSEQUENCED_DATA = ord("U")
    CLIENT_HEARTBEAT = ord("R")
    LOGOUT_REQUEST = ord("O")


LOGIN_REJECT_NOT_AUTHORIZED = "A"  # "Not Authorized. There was an invalid username/password."
LOGIN_REJECT_SESSION_NOT_AVAILABLE = "S"  # "Session not available."
LOGIN_REJECT_REASONS = {
    LOGIN_REJECT_NOT_AUTHORIZED: "Not authorized (invalid username or password)",
    LOGIN_REJECT_SESSION_NOT_AVAILABLE: "Session not available",
}

HEADER_SIZE = 3  # length(2) + packet type(1)
MAX_PACKET_LENGTH = 0xFFFF  # the length field is 16 bits

LoginAccepted = message(
    b"A",
    "LoginAccepted",
    "Login Accepted packet body ('A', 31 bytes).",
    [
        alpha("session", 10, RIGHT),  # "padded on the left with spaces"
        numeric("sequence_number", 20),  # next sequence number the server will send
    ],
)
LoginRejected = message(
    b"J",
    "LoginRejected",
    "Login Rejected packet body ('J', 2 bytes).",
    [
        char("reject_reason_code"),
    ],
)
LoginRequest = message(
    b"L",
    "LoginRequest",
    """Login Request packet body ('L', 47 bytes).

``requested_sequence_number`` is the sequence number of the first Sequenced Data message the
client wants.  Per SoupBinTCP 4.0, **0 means "start with the most recently generated
message"**: no replay of history, the server streams only messages generated from now on.
Any value >= 1 asks the server to (re)send from that number (1 = everything of the session).
An all-blank ``requested_session`` means "the currently active session".
""",
    [
        alpha("username", 6, LEFT),  # "padded on the right with spaces"
        alpha("password", 10, LEFT),  # "padded on the right with spaces"
        alpha("requested_session", 10, RIGHT),  # "padded on the left"; blank = current session
        numeric("requested_sequence_number", 20),  # "padded on the left"; 0 = newest message
    ],
)

_HEADER = struct.Struct(">H")
_FRAME = struct.Struct(">HB")

# Byte-indexed table for the decoder: -1 = unknown type, 0 = variable length, n > 0 = the
# exact length (type byte included) the packet must have.
_LENGTH_RULE = [-1] * 256
for _ptype in PacketType:
    _LENGTH_RULE[_ptype] = 1
_LENGTH_RULE[PacketType.DEBUG] = 0
_LENGTH_RULE[PacketType.SEQUENCED_DATA] = 0
_LENGTH_RULE[PacketType.UNSEQUENCED_DATA] = 0
_LENGTH_RULE[PacketType.LOGIN_ACCEPTED] = LoginAccepted.SIZE
_LENGTH_RULE[PacketType.LOGIN_REJECTED] = LoginRejected.SIZE
_LENGTH_RULE[PacketType.LOGIN_REQUEST] = LoginRequest.SIZE
_LENGTH_RULE_TUPLE = tuple(_LENGTH_RULE)


def frame(packet_type: int, payload: bytes = b"") -> bytes:
    """Return one SoupBinTCP packet: the 2-byte length, the type byte, then ``payload``."""
    length = len(payload) + 1
    if length > MAX_PACKET_LENGTH:
        raise ValueError(f"payload of {len(payload)} bytes does not fit a SoupBinTCP packet")
    return _FRAME.pack(length, packet_type) + payload


def encode_debug(text: str) -> bytes:
    """Encode a Debug packet ('+') carrying free-form ASCII ``text``."""
    return frame(PacketType.DEBUG, text.encode("ascii"))


def encode_login_accepted(session: str, sequence_number: int) -> bytes:
    """Encode Login Accepted ('A'): ``sequence_number`` is the next one the server sends."""
    return _frame_body(LoginAccepted(session, sequence_number).encode())


def encode_login_rejected(reject_reason_code: str) -> bytes:
    """Encode Login Rejected ('J') with reason 'A' (not authorized) or 'S' (no session)."""
    if reject_reason_code not in LOGIN_REJECT_REASONS:
        raise ValueError(f"unknown login reject reason {reject_reason_code!r}")
    return _frame_body(LoginRejected(reject_reason_code).encode())


def encode_sequenced_data(payload: bytes) -> bytes:
    """Encode Sequenced Data ('S') carrying one higher-level message (OUCH/ITCH)."""
    return frame(PacketType.SEQUENCED_DATA, payload)


def encode_server_heartbeat() -> bytes:
    """Encode a Server Heartbeat ('H')."""
    return frame(PacketType.SERVER_HEARTBEAT)


def encode_end_of_session() -> bytes:
    """Encode End of Session ('Z')."""
    return frame(PacketType.END_OF_SESSION)


def encode_login_request(
    username: str, password: str, requested_session: str = "", requested_sequence_number: int = 0
) -> bytes:
    """Encode Login Request ('L').

    ``requested_session=""`` logs into the currently active session;
    ``requested_sequence_number=0`` starts with the most recently generated message (no
    replay), ``n >= 1`` asks for every Sequenced Data message from ``n`` on.
    """
    body = LoginRequest(username, password, requested_session, requested_sequence_number)
    return _frame_body(body.encode())


def encode_unsequenced_data(payload: bytes) -> bytes:
    """Encode Unsequenced Data ('U') carrying one higher-level message (OUCH inbound)."""
    return frame(PacketType.UNSEQUENCED_DATA, payload)


def encode_client_heartbeat() -> bytes:
    """Encode a Client Heartbeat ('R')."""
    return frame(PacketType.CLIENT_HEARTBEAT)


def encode_logout_request() -> bytes:
    """Encode a Logout Request ('O')."""
    return frame(PacketType.LOGOUT_REQUEST)


def _frame_body(body: bytes) -> bytes:
    # ``body`` already starts with its type byte, so only the length header is missing.
    return _HEADER.pack(len(body)) + body


def _parse_body(cls: Any, packet_type: int, payload: bytes | bytearray | memoryview) -> Any:
    # FrameDecoder hands out the payload without its type byte; layouts include it.
    if len(payload) != cls.SIZE - 1:
        raise MalformedPacket(
            f"{cls.__name__}: expected {cls.SIZE - 1} payload bytes, got {len(payload)}"
        )
    try:
        return cls.decode(bytes((packet_type,)) + bytes(payload))
    except MalformedMessage as exc:
        raise MalformedPacket(str(exc)) from exc


def parse_login_request(payload: bytes | bytearray | memoryview) -> Any:
    """Parse a Login Request payload (the 46 bytes after the type byte).

    Returns ``LoginRequest(username, password, requested_session, requested_sequence_number)``
    with the padding stripped and the sequence number as an int.  A requested sequence number
    of **0 means "begin with the most recently generated message"** (no replay); 1 means the
    whole session from its first message.  A blank session means the currently active one.
    """
    return _parse_body(LoginRequest, PacketType.LOGIN_REQUEST, payload)


def parse_login_accepted(payload: bytes | bytearray | memoryview) -> Any:
    """Parse a Login Accepted payload into ``LoginAccepted(session, sequence_number)``."""
    return _parse_body(LoginAccepted, PacketType.LOGIN_ACCEPTED, payload)


def parse_login_rejected(payload: bytes | bytearray | memoryview) -> str:
    """Parse a Login Rejected payload into its one-letter reason code ('A' or 'S')."""
    return str(_parse_body(LoginRejected, PacketType.LOGIN_REJECTED, payload).reject_reason_code)


def parse_debug(payload: bytes | bytearray | memoryview) -> str:
    """Parse a Debug packet payload into its text."""
    try:
        return bytes(payload).decode("ascii")
    except UnicodeDecodeError as exc:
        raise MalformedPacket("debug packet text is not ASCII") from exc


class FrameDecoder:
    """Incremental SoupBinTCP de-framer for a TCP byte stream.

    ``feed(data)`` appends ``data`` and returns an iterator of ``(packet_type, payload)``
    pairs, one per complete packet (``packet_type`` is the int type byte, comparable with
    :class:`PacketType`; ``payload`` is an independent ``bytes`` without the type byte).
    Incomplete trailing packets stay buffered for the next call, and so do complete packets
    the caller did not iterate over.  Raises :class:`MalformedPacket` for a zero-length or
    wrong-size packet, :class:`FrameTooLong` for a length above ``max_packet_length`` (checked
    on the header, before the body is buffered) and :class:`UnknownPacketType`.  After an
    error the stream is out of sync: drop the connection.
    """

    __slots__ = ("max_packet_length", "_buf", "_pos")

    # Consumed bytes are only removed from the front of the buffer when at least this many
    # have accumulated, so a packet costs no buffer copy.
    COMPACT_THRESHOLD = 1 << 16

    def __init__(self, max_packet_length: int = MAX_PACKET_LENGTH) -> None:
        if not 1 <= max_packet_length <= MAX_PACKET_LENGTH:
            raise ValueError(f"max_packet_length must be in 1..{MAX_PACKET_LENGTH}")
        self.max_packet_length = max_packet_length
        self._buf = bytearray()
        self._pos = 0

    @property
    def buffered(self) -> int:
        """Number of received bytes not yet returned as packets."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes | bytearray | memoryview) -> Iterator[tuple[int, bytes]]:
        """Append ``data`` and return an iterator over the complete packets now buffered."""
        buf = self._buf
        if self._pos and (self._pos >= self.COMPACT_THRESHOLD or self._pos == len(buf)):
            del buf[: self._pos]
            self._pos = 0
        buf += data
        return self._packets()

    def feed_all(
        self, data: bytes | bytearray | memoryview
    ) -> tuple[list[tuple[int, bytes]], ProtocolError | None]:
        """Append ``data`` and de-frame every complete packet at once (the server's fast path).

        Returns ``(packets, error)``: the packets before any error, in order, and the error
        (else None) instead of raising it, so the caller can act on the good packets that came
        before garbage and then drop the connection.  Do not mix with :meth:`feed`.
        """
        if self._pos < len(self._buf):
            self._buf += data
            work = bytes(self._buf[self._pos :])
        else:
            work = bytes(data)
        packets: list[tuple[int, bytes]] = []
        append = packets.append
        frame_from = _FRAME.unpack_from
        rules = _LENGTH_RULE_TUPLE
        max_length = self.max_packet_length
        pos = 0
        end = len(work)
        error: ProtocolError | None = None
        while end - pos >= 3:
            length, ptype = frame_from(work, pos)
            stop = pos + 2 + length
            rule = rules[ptype]
            if length > max_length:
                error = FrameTooLong(f"packet length {length} exceeds maximum {max_length}")
            elif length == 0:
                error = MalformedPacket("zero-length SoupBinTCP packet")
            elif rule < 0:
                error = UnknownPacketType(f"unknown SoupBinTCP packet type {ptype:#04x}")
            elif rule and length != rule:
                error = MalformedPacket(
                    f"packet type {chr(ptype)!r}: length {length}, spec requires {rule}"
                )
            elif stop > end:
                break
            if error is not None:
                break
            append((ptype, work[pos + 3 : stop]))
            pos = stop
        if error is None and end - pos == 2 and work[pos] == 0 and work[pos + 1] == 0:
            error = MalformedPacket("zero-length SoupBinTCP packet")
        self._buf = bytearray(work[pos:])
        self._pos = 0
        return packets, error

    def _packets(self) -> Iterator[tuple[int, bytes]]:
        buf = self._buf
        frame_from = _FRAME.unpack_from
        rules = _LENGTH_RULE_TUPLE
        max_length = self.max_packet_length
        pos = self._pos
        end = len(buf)
        while end - pos >= 3:
            length, ptype = frame_from(buf, pos)
            if length > max_length:
                raise FrameTooLong(f"packet length {length} exceeds maximum {max_length}")
            if length == 0:
                raise MalformedPacket("zero-length SoupBinTCP packet")
            stop = pos + 2 + length
            if stop > end:
                break
            rule = rules[ptype]
            if rule:
                if rule < 0:
                    raise UnknownPacketType(f"unknown SoupBinTCP packet type {ptype:#04x}")
                if length != rule:
                    raise MalformedPacket(
                        f"packet type {chr(ptype)!r}: length {length}, spec requires {rule}"
                    )
            payload = bytes(buf[pos + 3 : stop])
            self._pos = stop
            yield ptype, payload
            # Re-read both: the consumer may have fed (and so compacted) while suspended.
            pos = self._pos
            end = len(buf)
        if end - pos == 2 and _HEADER.unpack_from(buf, pos)[0] == 0:
            raise MalformedPacket("zero-length SoupBinTCP packet")
