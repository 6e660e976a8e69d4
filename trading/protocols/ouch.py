"""NASDAQ OUCH 4.2 order-entry messages.

Each message is declared once as a layout table (see ``soupbintcp.Layout``); the table yields
the immutable NamedTuple class, its encoder, its decoder and its exact byte length.  All
integers are big-endian unsigned, alpha fields are left-justified and padded on the right
with spaces, prices are Price(4) integers in units of 1e-4 dollars (``price=1_234_500`` is
$123.45), timestamps are 8-byte nanoseconds since midnight, time in force is in seconds.

Clients send the inbound messages inside SoupBinTCP Unsequenced Data packets; NASDAQ answers
with the outbound messages inside Sequenced Data packets.  Two type letters are reused across
directions ('U' Replace Order / Replaced, 'M' Modify Order / Order Modified); their lengths
differ, so :func:`decode` can still tell them apart.

Sources: NASDAQ OUCH 4.2 specification; Wireshark ``packet-ouch.c`` (message lengths and the
reason-code letters of the later 4.2 revisions).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from trading.protocols.soupbintcp import (
    MessageLengthError,
    UnknownMessageType,
    alpha,
    char,
    message,
    uint,
)

# --------------------------------------------------------------------------------------------
# Field values
# --------------------------------------------------------------------------------------------

BUY = "B"
SELL = "S"
SELL_SHORT = "T"
SELL_SHORT_EXEMPT = "E"

# Time in force is a number of seconds, except for three reserved values.
TIF_IMMEDIATE_OR_CANCEL = 0  # execute what is possible now, cancel the rest
TIF_MARKET_HOURS = 99_998  # live until the end of the market hours
TIF_SYSTEM_HOURS = 99_999  # live until the end of the system hours (pre/post market too)

PRICE_MARKET_CROSS = 0x7FFF_FFFF  # $214,748.3647: "market" price for cross-only orders

EVENT_START_OF_DAY = "S"
EVENT_END_OF_DAY = "E"

ORDER_STATE_LIVE = "L"
ORDER_STATE_DEAD = "D"

CROSS_NONE = "N"
CAPACITY_AGENCY = "A"
CAPACITY_PRINCIPAL = "P"
DISPLAY_VISIBLE = "Y"
ISO_NOT_ELIGIBLE = "N"
CUSTOMER_TYPE_DEFAULT = " "  # the port's configured default
BBO_WEIGHT_UNSPECIFIED = " "


class _Code(StrEnum):
    """A one-letter protocol code (compares equal to the letter) with a description."""

    description: str

    # The default only exists so that type checkers accept lookups such as RejectReason("X").
    def __new__(cls, code: str, description: str = "") -> _Code:
        member = str.__new__(cls, code)
        member._value_ = code
        member.description = description
        return member


class RejectReason(_Code):
    """Rejected message ('J') reason codes."""

    TEST_MODE = "T", "Test mode"
    HALTED = "H", "Halted"
    SHARES_EXCEED_SAFETY_THRESHOLD = "Z", "Shares exceeds configured safety threshold"
    INVALID_STOCK = "S", "Invalid stock"
    INVALID_DISPLAY_TYPE = "D", "Invalid display type"
    CLOSED = "C", "NASDAQ is closed"
    FIRM_NOT_AUTHORIZED_FOR_CLEARING = (
        "L",
        ("Requested firm not authorized for requested clearing type on this account"),
    )
    OUTSIDE_CLEARING_TIMES = "M", "Outside of permitted times for requested clearing type"
    NOT_ALLOWED_IN_CROSS = "R", "This order is not allowed in this type of cross"
    INVALID_PRICE = "X", "Invalid price"
    INVALID_MINIMUM_QUANTITY = "N", "Invalid minimum quantity"
    OTHER = "O", "Other"
    INVALID_MIDPOINT_POST_ONLY_PRICE = "W", "Invalid mid-point post only price"
    REJECT_ALL_ENABLED = "a", "Reject All enabled"
    EASY_TO_BORROW = "b", "Easy to Borrow (ETB) reject"
    RESTRICTED_SYMBOL_LIST = "c", "Restricted symbol list reject"
    ISO_ORDER_RESTRICTION = "d", "ISO order restriction"
    ODD_LOT_ORDER_RESTRICTION = "e", "Odd lot order restriction"
    MIDPOINT_ORDER_RESTRICTION = "f", "Mid-Point order restriction"
    PRE_MARKET_ORDER_RESTRICTION = "g", "Pre-market order restriction"
    POST_MARKET_ORDER_RESTRICTION = "h", "Post-market order restriction"
    SHORT_SALE_ORDER_RESTRICTION = "i", "Short sale order restriction"
    ON_OPEN_ORDER_RESTRICTION = "j", "On Open order restriction"
    ON_CLOSE_ORDER_RESTRICTION = "k", "On Close order restriction"
    TWO_SIDED_QUOTE = "l", "Two sided quote reject"
    EXCEEDED_SHARES_LIMIT = "m", "Exceeded shares limit"
    EXCEEDED_DOLLAR_VALUE_LIMIT = "n", "Exceeded dollar value limit"


class CancelReason(_Code):
    """Canceled ('C') and AIQ Canceled ('D') reason codes."""

    USER_REQUESTED = "U", "User requested cancel (response to a Cancel Order)"
    IMMEDIATE_OR_CANCEL = "I", "Immediate or Cancel order"
    TIMEOUT = "T", "Timeout: the order's time in force expired"
    SUPERVISORY = "S", "Supervisory: canceled from a NASDAQ supervisory terminal"
    REGULATORY_RESTRICTION = "D", "Regulatory restriction (e.g. trade-through)"
    SELF_MATCH_PREVENTION = "Q", "Self-match prevention"
    SYSTEM_CANCEL = "Z", "System cancel"
    CROSS_CANCEL = "C", "Cross cancel"
    CLOSED = "E", "Closed: DAY order received after the closing cross"
    HALTED = "H", "Halted: symbol still halted after the opening cross"
    MARKET_COLLARS = "K", "Market collars"
    OPEN_PROTECTION = "X", "Open protection"


class BrokenTradeReason(_Code):
    """Broken Trade ('B') reason codes."""

    ERRONEOUS = "E", "Erroneous"
    CONSENT = "C", "Consent"
    SUPERVISORY = "S", "Supervisory"
    EXTERNAL = "X", "External"


# --------------------------------------------------------------------------------------------
# Message tables
# --------------------------------------------------------------------------------------------

# Inbound (client -> NASDAQ)

EnterOrder = message(
    b"O",
    "EnterOrder",
    "Enter Order (inbound 'O', 49 bytes).",
    [
        alpha("order_token", 14),
        char("side"),
        uint("shares", 4),
        alpha("stock", 8),
        uint("price", 4),
        uint("time_in_force_s", 4),
        alpha("firm", 4),
        char("display"),
        char("capacity"),
        char("intermarket_sweep_eligibility"),
        uint("minimum_quantity", 4),
        char("cross_type"),
        char("customer_type"),
    ],
)
ReplaceOrder = message(
    b"U",
    "ReplaceOrder",
    "Replace Order (inbound 'U', 47 bytes).",
    [
        alpha("existing_order_token", 14),
        alpha("replacement_order_token", 14),
        uint("shares", 4),
        uint("price", 4),
        uint("time_in_force_s", 4),
        char("display"),
        char("intermarket_sweep_eligibility"),
        uint("minimum_quantity", 4),
    ],
)
CancelOrder = message(
    b"X",
    "CancelOrder",
    """Cancel Order (inbound 'X', 19 bytes).

``shares`` is the new intended order size: 0 cancels the whole order.""",
    [
        alpha("order_token", 14),
        uint("shares", 4),
    ],
)
ModifyOrder = message(
    b"M",
    "ModifyOrder",
    "Modify Order (inbound 'M', 20 bytes).",
    [
        alpha("order_token", 14),
        char("side"),
        uint("shares", 4),
    ],
)

# Outbound (NASDAQ -> client)

SystemEvent = message(
    b"S",
    "SystemEvent",
    "System Event (outbound 'S', 10 bytes).",
    [
        uint("timestamp_ns", 8),
        char("event_code"),
    ],
)
Accepted = message(
    b"A",
    "Accepted",
    "Accepted (outbound 'A', 66 bytes).",
    [
        uint("timestamp_ns", 8),
        alpha("order_token", 14),
        char("side"),
        uint("shares", 4),
        alpha("stock", 8),
        uint("price", 4),
        uint("time_in_force_s", 4),
        alpha("firm", 4),
        char("display"),
        uint("order_reference_number", 8),
        char("capacity"),
        char("intermarket_sweep_eligibility"),
        uint("minimum_quantity", 4),
        char("cross_type"),
        char("order_state"),
        char("bbo_weight_indicator"),
    ],
)
Replaced = message(
    b"U",
    "Replaced",
    "Replaced (outbound 'U', 80 bytes).",
    [
        uint("timestamp_ns", 8),
        alpha("replacement_order_token", 14),
        char("side"),
        uint("shares", 4),
        alpha("stock", 8),
        uint("price", 4),
        uint("time_in_force_s", 4),
        alpha("firm", 4),
        char("display"),
        uint("order_reference_number", 8),
        char("capacity"),
        char("intermarket_sweep_eligibility"),
        uint("minimum_quantity", 4),
        char("cross_type"),
        char("order_state"),
        alpha("previous_order_token", 14),
        char("bbo_weight_indicator"),
    ],
)
Canceled = message(
    b"C",
    "Canceled",
    "Canceled (outbound 'C', 28 bytes).",
    [
        uint("timestamp_ns", 8),
        alpha("order_token", 14),
        uint("decrement_shares", 4),
        char("reason"),
    ],
)
AiqCanceled = message(
    b"D",
    "AiqCanceled",
    "AIQ Canceled (outbound 'D', 37 bytes).",
    [
        uint("timestamp_ns", 8),
        alpha("order_token", 14),
        uint("decrement_shares", 4),
        char("reason"),
        uint("quantity_prevented_from_trading", 4),
        uint("execution_price", 4),
        char("liquidity_flag"),
    ],
)
Executed = message(
    b"E",
    "Executed",
    "Executed (outbound 'E', 40 bytes).",
    [
        uint("timestamp_ns", 8),
        alpha("order_token", 14),
        uint("executed_shares", 4),
        uint("execution_price", 4),
        char("liquidity_flag"),
        uint("match_number", 8),
    ],
)
ExecutedWithReferencePrice = message(
    b"G",
    "ExecutedWithReferencePrice",
    "Executed with Reference Price (outbound 'G', 45 bytes).",
    [
        uint("timestamp_ns", 8),
        alpha("order_token", 14),
        uint("executed_shares", 4),
        uint("execution_price", 4),
        char("liquidity_flag"),
        uint("match_number", 8),
        uint("reference_price", 4),
        char("reference_price_type"),
    ],
)
BrokenTrade = message(
    b"B",
    "BrokenTrade",
    "Broken Trade (outbound 'B', 32 bytes).",
    [
        uint("timestamp_ns", 8),
        alpha("order_token", 14),
        uint("match_number", 8),
        char("reason"),
    ],
)
TradeCorrection = message(
    b"F",
    "TradeCorrection",
    "Trade Correction (outbound 'F', 41 bytes).",
    [
        uint("timestamp_ns", 8),
        alpha("order_token", 14),
        uint("executed_shares", 4),
        uint("execution_price", 4),
        char("liquidity_flag"),
        uint("match_number", 8),
        char("trade_correction_reason"),
    ],
)
Rejected = message(
    b"J",
    "Rejected",
    "Rejected (outbound 'J', 24 bytes).",
    [
        uint("timestamp_ns", 8),
        alpha("order_token", 14),
        char("reason"),
    ],
)
CancelPending = message(
    b"P",
    "CancelPending",
    "Cancel Pending (outbound 'P', 23 bytes).",
    [
        uint("timestamp_ns", 8),
        alpha("order_token", 14),
    ],
)
CancelReject = message(
    b"I",
    "CancelReject",
    "Cancel Reject (outbound 'I', 23 bytes).",
    [
        uint("timestamp_ns", 8),
        alpha("order_token", 14),
    ],
)
OrderPriorityUpdate = message(
    b"T",
    "OrderPriorityUpdate",
    "Order Priority Update (outbound 'T', 36 bytes).",
    [
        uint("timestamp_ns", 8),
        alpha("order_token", 14),
        uint("price", 4),
        char("display"),
        uint("order_reference_number", 8),
    ],
)
OrderModified = message(
    b"M",
    "OrderModified",
    "Order Modified (outbound 'M', 28 bytes).",
    [
        uint("timestamp_ns", 8),
        alpha("order_token", 14),
        char("side"),
        uint("shares", 4),
    ],
)

INBOUND_MESSAGES = (EnterOrder, ReplaceOrder, CancelOrder, ModifyOrder)
OUTBOUND_MESSAGES = (
    SystemEvent,
    Accepted,
    Replaced,
    Canceled,
    AiqCanceled,
    Executed,
    ExecutedWithReferencePrice,
    BrokenTrade,
    TradeCorrection,
    Rejected,
    CancelPending,
    CancelReject,
    OrderPriorityUpdate,
    OrderModified,
)

_INBOUND = {cls.MESSAGE_TYPE[0]: cls for cls in INBOUND_MESSAGES}
_OUTBOUND = {cls.MESSAGE_TYPE[0]: cls for cls in OUTBOUND_MESSAGES}
# Either direction: (type byte, length) is unique even where the letter is shared.
_ANY = {(cls.MESSAGE_TYPE[0], cls.SIZE): cls for cls in INBOUND_MESSAGES + OUTBOUND_MESSAGES}
_SIZES_BY_TYPE: dict[int, list[int]] = {}
for _type, _size in _ANY:
    _SIZES_BY_TYPE.setdefault(_type, []).append(_size)


def _dispatch(table: dict[int, Any], payload: bytes | bytearray | memoryview, side: str) -> Any:
    if not payload:
        raise UnknownMessageType(f"empty {side} OUCH payload")
    cls = table.get(payload[0])
    if cls is None:
        raise UnknownMessageType(f"unknown {side} OUCH message type {bytes(payload[:1])!r}")
    if len(payload) != cls.SIZE:
        raise MessageLengthError(cls.MESSAGE_TYPE, cls.SIZE, len(payload))
    return cls.decode(payload)


def decode_inbound(payload: bytes | bytearray | memoryview) -> Any:
    """Decode a client-to-NASDAQ message (Enter/Replace/Cancel/Modify Order).

    Raises ``UnknownMessageType`` or ``MessageLengthError`` (which names the type, the
    expected and the actual length).
    """
    return _dispatch(_INBOUND, payload, "inbound")


def decode_outbound(payload: bytes | bytearray | memoryview) -> Any:
    """Decode a NASDAQ-to-client message (System Event, Accepted, Executed, ...)."""
    return _dispatch(_OUTBOUND, payload, "outbound")


def decode(payload: bytes | bytearray | memoryview) -> Any:
    """Decode an OUCH 4.2 message of either direction, dispatching on type byte and length."""
    if not payload:
        raise UnknownMessageType("empty OUCH payload")
    cls = _ANY.get((payload[0], len(payload)))
    if cls is None:
        sizes = _SIZES_BY_TYPE.get(payload[0])
        if sizes is None:
            raise UnknownMessageType(f"unknown OUCH message type {bytes(payload[:1])!r}")
        expected = " or ".join(str(s) for s in sorted(sizes))
        raise MessageLengthError(bytes(payload[:1]), expected, len(payload))
    return cls.decode(payload)


def encode(msg: Any) -> bytes:
    """Encode any OUCH message object into its wire bytes (same as ``msg.encode()``)."""
    return bytes(msg.encode())
