"""NASDAQ TotalView-ITCH 5.0 market-data messages, GLIMPSE 5.0 End of Snapshot, and the
numba batch codec the feed handler uses.

Message objects: every message is declared once as a layout table (see
``soupbintcp.Layout``).  Integers are big-endian unsigned; alpha fields are left-justified
and padded on the right with spaces; prices are Price(4) integers in 1e-4 dollars;
``timestamp_ns`` is the 6-byte nanoseconds-since-midnight timestamp.

Batch path: :data:`ITCH_RECORD_DTYPE` is a fixed-layout numpy record for order-book
messages; :func:`decode_soup_itch` turns a buffer of SoupBinTCP-framed ITCH packets into such
records and :func:`encode_soup_itch` does the reverse.  Their byte offsets are module
constants computed from the same layout tables.

Sources: NASDAQ TotalView-ITCH 5.0 and GLIMPSE 5.0 specifications.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from trading.protocols.soupbintcp import (
    LEFT,
    MalformedPacket,
    MessageLengthError,
    PacketType,
    UnknownMessageType,
    UnknownPacketType,
    alpha,
    char,
    message,
    numeric,
    uint,
)

# --------------------------------------------------------------------------------------------
# Message tables
# --------------------------------------------------------------------------------------------

# Every ITCH 5.0 message starts with these three fields, right after the type byte.
_HEADER = [uint("stock_locate", 2), uint("tracking_number", 2), uint("timestamp_ns", 6)]

SystemEvent = message(
    b"S",
    "SystemEvent",
    "System Event ('S', 12 bytes).",
    [
        *_HEADER,
        char("event_code"),
    ],
)
StockDirectory = message(
    b"R",
    "StockDirectory",
    "Stock Directory ('R', 39 bytes).",
    [
        *_HEADER,
        alpha("stock", 8),
        char("market_category"),
        char("financial_status_indicator"),
        uint("round_lot_size", 4),
        char("round_lots_only"),
        char("issue_classification"),
        alpha("issue_sub_type", 2),
        char("authenticity"),
        char("short_sale_threshold_indicator"),
        char("ipo_flag"),
        char("luld_reference_price_tier"),
        char("etp_flag"),
        uint("etp_leverage_factor", 4),
        char("inverse_indicator"),
    ],
)
StockTradingAction = message(
    b"H",
    "StockTradingAction",
    "Stock Trading Action ('H', 25 bytes).",
    [
        *_HEADER,
        alpha("stock", 8),
        char("trading_state"),
        char("reserved"),
        alpha("reason", 4),
    ],
)
AddOrder = message(
    b"A",
    "AddOrder",
    "Add Order, no MPID attribution ('A', 36 bytes).",
    [
        *_HEADER,
        uint("order_reference_number", 8),
        char("side"),
        uint("shares", 4),
        alpha("stock", 8),
        uint("price", 4),
    ],
)
AddOrderMpid = message(
    b"F",
    "AddOrderMpid",
    "Add Order with MPID attribution ('F', 40 bytes).",
    [
        *_HEADER,
        uint("order_reference_number", 8),
        char("side"),
        uint("shares", 4),
        alpha("stock", 8),
        uint("price", 4),
        alpha("attribution", 4),
    ],
)
OrderExecuted = message(
    b"E",
    "OrderExecuted",
    "Order Executed ('E', 31 bytes).",
    [
        *_HEADER,
        uint("order_reference_number", 8),
        uint("executed_shares", 4),
        uint("match_number", 8),
    ],
)
OrderExecutedWithPrice = message(
    b"C",
    "OrderExecutedWithPrice",
    "Order Executed With Price ('C', 36 bytes).",
    [
        *_HEADER,
        uint("order_reference_number", 8),
        uint("executed_shares", 4),
        uint("match_number", 8),
        char("printable"),
        uint("execution_price", 4),
    ],
)
OrderCancel = message(
    b"X",
    "OrderCancel",
    "Order Cancel ('X', 23 bytes).",
    [
        *_HEADER,
        uint("order_reference_number", 8),
        uint("cancelled_shares", 4),
    ],
)
OrderDelete = message(
    b"D",
    "OrderDelete",
    "Order Delete ('D', 19 bytes).",
    [
        *_HEADER,
        uint("order_reference_number", 8),
    ],
)
OrderReplace = message(
    b"U",
    "OrderReplace",
    "Order Replace ('U', 35 bytes).",
    [
        *_HEADER,
        uint("original_order_reference_number", 8),
        uint("new_order_reference_number", 8),
        uint("shares", 4),
        uint("price", 4),
    ],
)
Trade = message(
    b"P",
    "Trade",
    "Trade, non-cross ('P', 44 bytes).",
    [
        *_HEADER,
        uint("order_reference_number", 8),
        char("side"),
        uint("shares", 4),
        alpha("stock", 8),
        uint("price", 4),
        uint("match_number", 8),
    ],
)
CrossTrade = message(
    b"Q",
    "CrossTrade",
    "Cross Trade ('Q', 40 bytes).",
    [
        *_HEADER,
        uint("shares", 8),  # 8 bytes here, unlike every other ITCH 5.0 share count
        alpha("stock", 8),
        uint("cross_price", 4),
        uint("match_number", 8),
        char("cross_type"),
    ],
)
BrokenTrade = message(
    b"B",
    "BrokenTrade",
    "Broken Trade ('B', 19 bytes).",
    [
        *_HEADER,
        uint("match_number", 8),
    ],
)
EndOfSnapshot = message(
    b"G",
    "EndOfSnapshot",
    """GLIMPSE 5.0 End of Snapshot ('G', 21 bytes).

``sequence_number`` is the TotalView-ITCH sequence number to start the real-time feed from.
The spec types it Alpha(20), and GLIMPSE alpha fields are left-justified, space padded.""",
    [
        numeric("sequence_number", 20, LEFT),
    ],
)

MESSAGES = (
    SystemEvent,
    StockDirectory,
    StockTradingAction,
    AddOrder,
    AddOrderMpid,
    OrderExecuted,
    OrderExecutedWithPrice,
    OrderCancel,
    OrderDelete,
    OrderReplace,
    Trade,
    CrossTrade,
    BrokenTrade,
    EndOfSnapshot,
)
_BY_TYPE = {cls.MESSAGE_TYPE[0]: cls for cls in MESSAGES}

SYSTEM_EVENT_START_OF_MESSAGES = "O"
SYSTEM_EVENT_START_OF_SYSTEM_HOURS = "S"
SYSTEM_EVENT_START_OF_MARKET_HOURS = "Q"
SYSTEM_EVENT_END_OF_MARKET_HOURS = "M"
SYSTEM_EVENT_END_OF_SYSTEM_HOURS = "E"
SYSTEM_EVENT_END_OF_MESSAGES = "C"


def decode(payload: bytes | bytearray | memoryview) -> Any:
    """Decode one ITCH 5.0 (or GLIMPSE 'G') message into its message object.

    Raises ``UnknownMessageType`` for a type this module does not define and
    ``MessageLengthError`` (naming the type, the expected and the actual length).
    """
    if not payload:
        raise UnknownMessageType("empty ITCH payload")
    cls = _BY_TYPE.get(payload[0])
    if cls is None:
        raise UnknownMessageType(f"unknown ITCH message type {bytes(payload[:1])!r}")
    if len(payload) != cls.SIZE:
        raise MessageLengthError(cls.MESSAGE_TYPE, cls.SIZE, len(payload))
    return cls.decode(payload)


def encode(msg: Any) -> bytes:
    """Encode any ITCH message object into its wire bytes (same as ``msg.encode()``)."""
    return bytes(msg.encode())


# --------------------------------------------------------------------------------------------
# Batch records
# --------------------------------------------------------------------------------------------

ITCH_RECORD_DTYPE = np.dtype(
    [
        ("msg_type", np.uint8),  # ITCH type byte, e.g. ord("A")
        ("side", np.int8),  # +1 buy, -1 sell, 0 not applicable
        ("printable", np.uint8),  # 'C': ord("Y") / ord("N"); 0 elsewhere
        ("cross_type", np.uint8),  # 'Q': ASCII cross type; 0 elsewhere
        ("stock_locate", np.uint16),
        ("tracking", np.uint16),
        ("attribution", np.uint32),  # 'F': the 4 MPID bytes, big-endian; 0 elsewhere
        ("timestamp_ns", np.int64),
        ("ref", np.int64),  # order reference number ('U': the original one)
        ("new_ref", np.int64),  # 'U': the new order reference number
        ("shares", np.int64),  # shares added / executed / cancelled / traded
        ("price", np.int64),  # 1e-4 dollars: limit, execution or cross price
        ("match_number", np.int64),
        ("stock", np.uint64),  # the 8 stock bytes, big-endian (see stock_code())
    ],
    align=True,
)

BOOK_MESSAGE_TYPES = b"AFECXDUPQB"


def _off(cls: Any, name: str) -> int:
    return int(cls.LAYOUT.offsets[name])


# Offsets from the message's type byte, all read from the tables above.
_LOCATE = _off(AddOrder, "stock_locate")
_TRACKING = _off(AddOrder, "tracking_number")
_TIMESTAMP = _off(AddOrder, "timestamp_ns")
for _cls in MESSAGES:
    if _cls is not EndOfSnapshot:
        assert (_off(_cls, "stock_locate"), _off(_cls, "timestamp_ns")) == (_LOCATE, _TIMESTAMP)

_A_REF = _off(AddOrder, "order_reference_number")
_A_SIDE = _off(AddOrder, "side")
_A_SHARES = _off(AddOrder, "shares")
_A_STOCK = _off(AddOrder, "stock")
_A_PRICE = _off(AddOrder, "price")
_F_ATTRIBUTION = _off(AddOrderMpid, "attribution")
_E_REF = _off(OrderExecuted, "order_reference_number")
_E_SHARES = _off(OrderExecuted, "executed_shares")
_E_MATCH = _off(OrderExecuted, "match_number")
_C_PRINTABLE = _off(OrderExecutedWithPrice, "printable")
_C_PRICE = _off(OrderExecutedWithPrice, "execution_price")
_X_REF = _off(OrderCancel, "order_reference_number")
_X_SHARES = _off(OrderCancel, "cancelled_shares")
_D_REF = _off(OrderDelete, "order_reference_number")
_U_REF = _off(OrderReplace, "original_order_reference_number")
_U_NEW_REF = _off(OrderReplace, "new_order_reference_number")
_U_SHARES = _off(OrderReplace, "shares")
_U_PRICE = _off(OrderReplace, "price")
_P_REF = _off(Trade, "order_reference_number")
_P_SIDE = _off(Trade, "side")
_P_SHARES = _off(Trade, "shares")
_P_STOCK = _off(Trade, "stock")
_P_PRICE = _off(Trade, "price")
_P_MATCH = _off(Trade, "match_number")
_Q_SHARES = _off(CrossTrade, "shares")
_Q_STOCK = _off(CrossTrade, "stock")
_Q_PRICE = _off(CrossTrade, "cross_price")
_Q_MATCH = _off(CrossTrade, "match_number")
_Q_CROSS_TYPE = _off(CrossTrade, "cross_type")
_B_MATCH = _off(BrokenTrade, "match_number")

# 'F' extends 'A' and 'C' extends 'E', so the kernels share their offsets.
for _name in ("order_reference_number", "side", "shares", "stock", "price"):
    assert _off(AddOrderMpid, _name) == _off(AddOrder, _name)
for _name in ("order_reference_number", "executed_shares", "match_number"):
    assert _off(OrderExecutedWithPrice, _name) == _off(OrderExecuted, _name)

# Message size by type byte; 0 = not an ITCH message this module knows.
_SIZE_BY_TYPE = np.zeros(256, dtype=np.int64)
_IS_BOOK = np.zeros(256, dtype=np.bool_)
for _cls in MESSAGES:
    if _cls is not EndOfSnapshot:
        _SIZE_BY_TYPE[_cls.MESSAGE_TYPE[0]] = _cls.SIZE
for _code in BOOK_MESSAGE_TYPES:
    _IS_BOOK[_code] = True

_T_A, _T_F, _T_E, _T_C, _T_X, _T_D, _T_U, _T_P, _T_Q, _T_B = BOOK_MESSAGE_TYPES
_BUY = ord("B")
_SELL = ord("S")
_SEQUENCED = int(PacketType.SEQUENCED_DATA)
_SERVER_TYPES = np.zeros(256, dtype=np.bool_)
for _ptype in (
    PacketType.DEBUG,
    PacketType.LOGIN_ACCEPTED,
    PacketType.LOGIN_REJECTED,
    PacketType.SEQUENCED_DATA,
    PacketType.SERVER_HEARTBEAT,
    PacketType.END_OF_SESSION,
):
    _SERVER_TYPES[_ptype] = True


@njit(cache=True, inline="always")
def _get(buf: np.ndarray, at: int, width: int) -> int:
    value = np.int64(0)
    for k in range(width):
        value = (value << 8) | np.int64(buf[at + k])
    return int(value)


@njit(cache=True, inline="always")
def _put(buf: np.ndarray, at: int, width: int, value: int) -> None:
    v = np.int64(value)
    for k in range(width - 1, -1, -1):
        buf[at + k] = v & 0xFF
        v >>= 8


@njit(cache=True, inline="always")
def _side_from_byte(code: int) -> int:
    if code == _BUY:
        return 1
    if code == _SELL:
        return -1
    return 0


@njit(cache=True)
def decode_soup_itch(
    buf: np.ndarray, out: np.ndarray, record_other: bool = False
) -> tuple[int, int, int, int]:
    """Decode SoupBinTCP-framed ITCH packets from ``buf`` (uint8) into ``out`` records.

    Returns ``(records_written, bytes_consumed, packets_seen, sequenced_count)``.  Decoding
    stops at a partial trailing packet (left unconsumed) or when ``out`` is full.  Sequenced
    Data packets with book messages (A F E C X D U P Q B) become full records; other ITCH
    types are counted and skipped, or, with ``record_other``, recorded with their type,
    locate, tracking and timestamp only.  Heartbeats and other server packets are counted in
    ``packets_seen`` only.  Raises ``MalformedPacket`` for a zero-length or empty Sequenced
    Data packet, ``UnknownPacketType`` for a client-only or unknown packet type and
    ``MessageLengthError`` for a book message whose length is not the spec's.
    """
    end = buf.shape[0]
    capacity = out.shape[0]
    pos = 0
    written = 0
    packets = 0
    sequenced = 0
    while end - pos >= 2:
        length = _get(buf, pos, 2)
        if length == 0:
            raise MalformedPacket("zero-length SoupBinTCP packet")
        stop = pos + 2 + length
        if stop > end:
            break
        ptype = buf[pos + 2]
        if ptype == _SEQUENCED:
            if length < 2:
                raise MalformedPacket("Sequenced Data packet without an ITCH message")
            m = pos + 3  # the ITCH type byte
            mtype = buf[m]
            book = _IS_BOOK[mtype]
            if book or record_other:
                if written == capacity:
                    break  # no room: leave this packet for the next call
                size = _SIZE_BY_TYPE[mtype]
                if book and length - 1 != size:
                    raise MessageLengthError(mtype, size, length - 1)
                if length - 1 < _TIMESTAMP + 6:
                    raise MalformedPacket("ITCH message shorter than the common header")
                r = out[written]
                r.msg_type = mtype
                r.stock_locate = _get(buf, m + _LOCATE, 2)
                r.tracking = _get(buf, m + _TRACKING, 2)
                r.timestamp_ns = _get(buf, m + _TIMESTAMP, 6)
                r.side = 0
                r.printable = 0
                r.cross_type = 0
                r.attribution = 0
                r.ref = 0
                r.new_ref = 0
                r.shares = 0
                r.price = 0
                r.match_number = 0
                r.stock = 0
                if mtype in (_T_A, _T_F):
                    r.ref = _get(buf, m + _A_REF, 8)
                    r.side = _side_from_byte(buf[m + _A_SIDE])
                    r.shares = _get(buf, m + _A_SHARES, 4)
                    r.stock = _get(buf, m + _A_STOCK, 8)
                    r.price = _get(buf, m + _A_PRICE, 4)
                    if mtype == _T_F:
                        r.attribution = _get(buf, m + _F_ATTRIBUTION, 4)
                elif mtype in (_T_E, _T_C):
                    r.ref = _get(buf, m + _E_REF, 8)
                    r.shares = _get(buf, m + _E_SHARES, 4)
                    r.match_number = _get(buf, m + _E_MATCH, 8)
                    if mtype == _T_C:
                        r.printable = buf[m + _C_PRINTABLE]
                        r.price = _get(buf, m + _C_PRICE, 4)
                elif mtype == _T_X:
                    r.ref = _get(buf, m + _X_REF, 8)
                    r.shares = _get(buf, m + _X_SHARES, 4)
                elif mtype == _T_D:
                    r.ref = _get(buf, m + _D_REF, 8)
                elif mtype == _T_U:
                    r.ref = _get(buf, m + _U_REF, 8)
                    r.new_ref = _get(buf, m + _U_NEW_REF, 8)
                    r.shares = _get(buf, m + _U_SHARES, 4)
                    r.price = _get(buf, m + _U_PRICE, 4)
                elif mtype == _T_P:
                    r.ref = _get(buf, m + _P_REF, 8)
                    r.side = _side_from_byte(buf[m + _P_SIDE])
                    r.shares = _get(buf, m + _P_SHARES, 4)
                    r.stock = _get(buf, m + _P_STOCK, 8)
                    r.price = _get(buf, m + _P_PRICE, 4)
                    r.match_number = _get(buf, m + _P_MATCH, 8)
                elif mtype == _T_Q:
                    r.shares = _get(buf, m + _Q_SHARES, 8)
                    r.stock = _get(buf, m + _Q_STOCK, 8)
                    r.price = _get(buf, m + _Q_PRICE, 4)
                    r.match_number = _get(buf, m + _Q_MATCH, 8)
                    r.cross_type = buf[m + _Q_CROSS_TYPE]
                elif mtype == _T_B:
                    r.match_number = _get(buf, m + _B_MATCH, 8)
                written += 1
            sequenced += 1
        elif not _SERVER_TYPES[ptype]:
            raise UnknownPacketType("packet type not sent by a SoupBinTCP server")
        packets += 1
        pos = stop
    return written, pos, packets, sequenced


@njit(cache=True)
def encoded_size(records: np.ndarray) -> int:
    """Return the bytes :func:`encode_soup_itch` needs for ``records`` (framing included)."""
    total = 0
    for i in range(records.shape[0]):
        total += 3 + _SIZE_BY_TYPE[records[i].msg_type]
    return total


@njit(cache=True)
def encode_soup_itch(records: np.ndarray, out: np.ndarray) -> tuple[int, int]:
    """Encode book ``records`` as SoupBinTCP Sequenced Data packets into ``out`` (uint8).

    Returns ``(records_encoded, bytes_written)``; stops early when the next packet does not
    fit.  Raises ``ValueError`` for a record whose type is not a book message type.
    """
    end = out.shape[0]
    pos = 0
    for i in range(records.shape[0]):
        r = records[i]
        mtype = r.msg_type
        if not _IS_BOOK[mtype]:
            raise ValueError("record type is not an ITCH book message (AFECXDUPQB)")
        size = _SIZE_BY_TYPE[mtype]
        if pos + 3 + size > end:
            return i, pos
        _put(out, pos, 2, size + 1)
        out[pos + 2] = _SEQUENCED
        m = pos + 3
        out[m] = mtype
        _put(out, m + _LOCATE, 2, r.stock_locate)
        _put(out, m + _TRACKING, 2, r.tracking)
        _put(out, m + _TIMESTAMP, 6, r.timestamp_ns)
        if mtype in (_T_A, _T_F):
            _put(out, m + _A_REF, 8, r.ref)
            out[m + _A_SIDE] = _BUY if r.side > 0 else _SELL
            _put(out, m + _A_SHARES, 4, r.shares)
            _put(out, m + _A_STOCK, 8, r.stock)
            _put(out, m + _A_PRICE, 4, r.price)
            if mtype == _T_F:
                _put(out, m + _F_ATTRIBUTION, 4, r.attribution)
        elif mtype in (_T_E, _T_C):
            _put(out, m + _E_REF, 8, r.ref)
            _put(out, m + _E_SHARES, 4, r.shares)
            _put(out, m + _E_MATCH, 8, r.match_number)
            if mtype == _T_C:
                out[m + _C_PRINTABLE] = r.printable
                _put(out, m + _C_PRICE, 4, r.price)
        elif mtype == _T_X:
            _put(out, m + _X_REF, 8, r.ref)
            _put(out, m + _X_SHARES, 4, r.shares)
        elif mtype == _T_D:
            _put(out, m + _D_REF, 8, r.ref)
        elif mtype == _T_U:
            _put(out, m + _U_REF, 8, r.ref)
            _put(out, m + _U_NEW_REF, 8, r.new_ref)
            _put(out, m + _U_SHARES, 4, r.shares)
            _put(out, m + _U_PRICE, 4, r.price)
        elif mtype == _T_P:
            _put(out, m + _P_REF, 8, r.ref)
            out[m + _P_SIDE] = _BUY if r.side > 0 else _SELL
            _put(out, m + _P_SHARES, 4, r.shares)
            _put(out, m + _P_STOCK, 8, r.stock)
            _put(out, m + _P_PRICE, 4, r.price)
            _put(out, m + _P_MATCH, 8, r.match_number)
        elif mtype == _T_Q:
            _put(out, m + _Q_SHARES, 8, r.shares)
            _put(out, m + _Q_STOCK, 8, r.stock)
            _put(out, m + _Q_PRICE, 4, r.price)
            _put(out, m + _Q_MATCH, 8, r.match_number)
            out[m + _Q_CROSS_TYPE] = r.cross_type
        else:  # _T_B
            _put(out, m + _B_MATCH, 8, r.match_number)
        pos += 3 + size
    return records.shape[0], pos


# --------------------------------------------------------------------------------------------
# Conversions between message objects and records
# --------------------------------------------------------------------------------------------


def stock_code(stock: str) -> int:
    """Pack a stock symbol (<= 8 ASCII chars) into the uint64 the ``stock`` record field holds."""
    raw = stock.encode("ascii")
    if len(raw) > 8:
        raise ValueError(f"stock symbol longer than 8 characters: {stock!r}")
    return int.from_bytes(raw.ljust(8), "big")


def stock_from_code(code: int) -> str:
    """Unpack a ``stock`` record field back into the space-stripped symbol."""
    return int(code).to_bytes(8, "big").decode("ascii").rstrip(" ")


def _code4(text: str) -> int:
    return int.from_bytes(text.encode("ascii").ljust(4), "big")


def messages_to_records(messages: list[Any]) -> np.ndarray:
    """Convert book message objects (A F E C X D U P Q B) into an ``ITCH_RECORD_DTYPE`` array."""
    out = np.zeros(len(messages), dtype=ITCH_RECORD_DTYPE)
    for i, msg in enumerate(messages):
        r = out[i]
        r["msg_type"] = msg.MESSAGE_TYPE[0]
        r["stock_locate"] = msg.stock_locate
        r["tracking"] = msg.tracking_number
        r["timestamp_ns"] = msg.timestamp_ns
        kind = type(msg)
        if kind in (AddOrder, AddOrderMpid, Trade):
            r["ref"] = msg.order_reference_number
            r["side"] = {"B": 1, "S": -1}.get(msg.side, 0)
            r["shares"] = msg.shares
            r["stock"] = stock_code(msg.stock)
            r["price"] = msg.price
            if kind is AddOrderMpid:
                r["attribution"] = _code4(msg.attribution)
            if kind is Trade:
                r["match_number"] = msg.match_number
        elif kind in (OrderExecuted, OrderExecutedWithPrice):
            r["ref"] = msg.order_reference_number
            r["shares"] = msg.executed_shares
            r["match_number"] = msg.match_number
            if kind is OrderExecutedWithPrice:
                r["printable"] = ord(msg.printable)
                r["price"] = msg.execution_price
        elif kind is OrderCancel:
            r["ref"] = msg.order_reference_number
            r["shares"] = msg.cancelled_shares
        elif kind is OrderDelete:
            r["ref"] = msg.order_reference_number
        elif kind is OrderReplace:
            r["ref"] = msg.original_order_reference_number
            r["new_ref"] = msg.new_order_reference_number
            r["shares"] = msg.shares
            r["price"] = msg.price
        elif kind is CrossTrade:
            r["shares"] = msg.shares
            r["stock"] = stock_code(msg.stock)
            r["price"] = msg.cross_price
            r["match_number"] = msg.match_number
            r["cross_type"] = ord(msg.cross_type)
        elif kind is BrokenTrade:
            r["match_number"] = msg.match_number
        else:
            raise ValueError(f"{kind.__name__} is not an ITCH book message")
    return out


def record_to_message(r: Any) -> Any:
    """Convert one book record back into its message object."""
    mtype = bytes([int(r["msg_type"])])
    head = (int(r["stock_locate"]), int(r["tracking"]), int(r["timestamp_ns"]))
    side = {1: "B", -1: "S"}.get(int(r["side"]), " ")
    ref, shares, price = int(r["ref"]), int(r["shares"]), int(r["price"])
    match = int(r["match_number"])
    stock = stock_from_code(int(r["stock"]))
    if mtype == b"A":
        return AddOrder(*head, ref, side, shares, stock, price)
    if mtype == b"F":
        mpid = int(r["attribution"]).to_bytes(4, "big").decode("ascii").rstrip(" ")
        return AddOrderMpid(*head, ref, side, shares, stock, price, mpid)
    if mtype == b"E":
        return OrderExecuted(*head, ref, shares, match)
    if mtype == b"C":
        return OrderExecutedWithPrice(*head, ref, shares, match, chr(int(r["printable"])), price)
    if mtype == b"X":
        return OrderCancel(*head, ref, shares)
    if mtype == b"D":
        return OrderDelete(*head, ref)
    if mtype == b"U":
        return OrderReplace(*head, ref, int(r["new_ref"]), shares, price)
    if mtype == b"P":
        return Trade(*head, ref, side, shares, stock, price, match)
    if mtype == b"Q":
        return CrossTrade(*head, shares, stock, price, match, chr(int(r["cross_type"])))
    if mtype == b"B":
        return BrokenTrade(*head, match)
    raise ValueError(f"record type {mtype!r} is not an ITCH book message")
