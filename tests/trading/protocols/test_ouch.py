"""OUCH 4.2 message layouts, codes and the dispatching decoders."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading.protocols import ouch
from trading.protocols.soupbintcp import MessageLengthError, ProtocolError, UnknownMessageType

T_NS = 34_200_123_456_789  # 09:30:00.123456789 in ns since midnight

SAMPLES: list[Any] = [
    ouch.EnterOrder(
        "ORD00000000001",
        ouch.BUY,
        300,
        "AAPL",
        1_912_500,
        ouch.TIF_MARKET_HOURS,
        "ACME",
        ouch.DISPLAY_VISIBLE,
        ouch.CAPACITY_AGENCY,
        ouch.ISO_NOT_ELIGIBLE,
        100,
        ouch.CROSS_NONE,
        ouch.CUSTOMER_TYPE_DEFAULT,
    ),
    ouch.ReplaceOrder("ORD00000000001", "ORD00000000002", 200, 1_913_000, 0, "Y", "N", 0),
    ouch.CancelOrder("ORD00000000002", 0),
    ouch.ModifyOrder("ORD00000000003", ouch.SELL_SHORT, 150),
    ouch.SystemEvent(T_NS, ouch.EVENT_START_OF_DAY),
    ouch.Accepted(
        T_NS,
        "ORD00000000001",
        "B",
        300,
        "AAPL",
        1_912_500,
        99_998,
        "ACME",
        "Y",
        987_654_321,
        "A",
        "N",
        100,
        "N",
        ouch.ORDER_STATE_LIVE,
        ouch.BBO_WEIGHT_UNSPECIFIED,
    ),
    ouch.Replaced(
        T_NS,
        "ORD00000000002",
        "B",
        200,
        "AAPL",
        1_913_000,
        0,
        "ACME",
        "Y",
        987_654_322,
        "A",
        "N",
        0,
        "N",
        "L",
        "ORD00000000001",
        "2",
    ),
    ouch.Canceled(T_NS, "ORD00000000002", 200, ouch.CancelReason.USER_REQUESTED),
    ouch.AiqCanceled(T_NS, "ORD00000000004", 50, "Q", 50, 1_912_400, "R"),
    ouch.Executed(T_NS, "ORD00000000001", 100, 1_912_500, "A", 123_456_789_012),
    ouch.ExecutedWithReferencePrice(T_NS, "ORD5", 10, 250_000, "R", 77, 249_900, "I"),
    ouch.BrokenTrade(T_NS, "ORD00000000001", 123_456_789_012, ouch.BrokenTradeReason.ERRONEOUS),
    ouch.TradeCorrection(T_NS, "ORD6", 10, 250_100, "A", 78, "N"),
    ouch.Rejected(T_NS, "ORD00000000009", ouch.RejectReason.INVALID_PRICE),
    ouch.CancelPending(T_NS, "ORD00000000001"),
    ouch.CancelReject(T_NS, "ORD00000000001"),
    ouch.OrderPriorityUpdate(T_NS, "ORD00000000001", 1_912_600, "Y", 987_654_323),
    ouch.OrderModified(T_NS, "ORD00000000003", "S", 150),
]

# Total message lengths (type byte included) from the OUCH 4.2 spec tables, cross-checked
# against the lengths Wireshark's packet-ouch.c heuristic accepts.
SPEC_LENGTHS = {
    "EnterOrder": 49,
    "ReplaceOrder": 47,
    "CancelOrder": 19,
    "ModifyOrder": 20,
    "SystemEvent": 10,
    "Accepted": 66,
    "Replaced": 80,
    "Canceled": 28,
    "AiqCanceled": 37,
    "Executed": 40,
    "ExecutedWithReferencePrice": 45,
    "BrokenTrade": 32,
    "TradeCorrection": 41,
    "Rejected": 24,
    "CancelPending": 23,
    "CancelReject": 23,
    "OrderPriorityUpdate": 36,
    "OrderModified": 28,
}


def test_every_message_type_has_a_sample() -> None:
    declared = {cls.__name__ for cls in ouch.INBOUND_MESSAGES + ouch.OUTBOUND_MESSAGES}
    assert declared == {type(m).__name__ for m in SAMPLES} == set(SPEC_LENGTHS)


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda m: type(m).__name__)
def test_round_trip_with_exact_length(msg: Any) -> None:
    wire = msg.encode()
    assert len(wire) == SPEC_LENGTHS[type(msg).__name__] == type(msg).SIZE
    assert wire[:1] == type(msg).MESSAGE_TYPE
    assert ouch.decode(wire) == msg
    assert type(ouch.decode(wire)) is type(msg)
    assert ouch.encode(msg) == wire
    assert type(msg).decode(wire) == msg
    inbound = type(msg) in ouch.INBOUND_MESSAGES
    directional = ouch.decode_inbound if inbound else ouch.decode_outbound
    assert directional(wire) == msg


def test_messages_are_immutable() -> None:
    with pytest.raises(AttributeError):
        SAMPLES[0].shares = 1


def test_enter_order_known_bytes() -> None:
    wire = (
        b"O"
        + b"ORD00000000001"
        + b"B"
        + (300).to_bytes(4, "big")
        + b"AAPL    "
        + (1_912_500).to_bytes(4, "big")
        + (99_998).to_bytes(4, "big")
        + b"ACME"
        + b"Y"
        + b"A"
        + b"N"
        + (100).to_bytes(4, "big")
        + b"N"
        + b" "
    )
    assert len(wire) == 49
    assert ouch.decode(wire) == SAMPLES[0]
    assert SAMPLES[0].encode() == wire


def test_executed_known_bytes() -> None:
    wire = (
        b"E"
        + T_NS.to_bytes(8, "big")
        + b"ORD1          "
        + (100).to_bytes(4, "big")
        + (1_912_500).to_bytes(4, "big")
        + b"A"
        + (123_456_789_012).to_bytes(8, "big")
    )
    msg = ouch.decode_outbound(wire)
    assert msg == ouch.Executed(T_NS, "ORD1", 100, 1_912_500, "A", 123_456_789_012)
    assert msg.timestamp_ns == T_NS
    assert msg.execution_price == 1_912_500  # $191.25 in 1e-4 dollars


def test_alpha_fields_are_left_justified_space_padded() -> None:
    wire = ouch.CancelOrder("AB", 5).encode()
    assert wire[1:15] == b"AB" + b" " * 12
    accepted = SAMPLES[5].encode()
    offset = ouch.Accepted.LAYOUT.offsets["stock"]
    assert accepted[offset : offset + 8] == b"AAPL    "


def test_char_fields_keep_spaces() -> None:
    # A space is a real code (customer type default, BBO weight unspecified): never stripped.
    assert ouch.decode(SAMPLES[0].encode()).customer_type == " "
    assert ouch.decode(SAMPLES[5].encode()).bbo_weight_indicator == " "


def test_shared_letters_are_told_apart_by_length() -> None:
    assert type(ouch.decode(SAMPLES[1].encode())) is ouch.ReplaceOrder  # 'U', 47 bytes
    assert type(ouch.decode(SAMPLES[6].encode())) is ouch.Replaced  # 'U', 80 bytes
    assert type(ouch.decode(SAMPLES[3].encode())) is ouch.ModifyOrder  # 'M', 20 bytes
    assert type(ouch.decode(SAMPLES[-1].encode())) is ouch.OrderModified  # 'M', 28 bytes


def test_wrong_length_error_names_type_and_lengths() -> None:
    wire = SAMPLES[9].encode()  # Executed, 40 bytes
    with pytest.raises(MessageLengthError) as info:
        ouch.decode_outbound(wire[:-1])
    assert (info.value.message_type, info.value.expected, info.value.actual) == (b"E", 40, 39)
    assert "b'E'" in str(info.value) and "40" in str(info.value) and "39" in str(info.value)
    with pytest.raises(MessageLengthError, match="47 or 80"):
        ouch.decode(b"U" + b" " * 50)
    with pytest.raises(MessageLengthError):
        ouch.decode(wire + b" ")


@pytest.mark.parametrize("payload", [b"", b"Z" * 10, b"\x00" * 19, b"o" * 49])
def test_unknown_type(payload: bytes) -> None:
    with pytest.raises(UnknownMessageType):
        ouch.decode(payload)


def test_direction_specific_decoders_refuse_the_other_direction() -> None:
    with pytest.raises(UnknownMessageType):
        ouch.decode_inbound(SAMPLES[5].encode())  # Accepted is outbound
    with pytest.raises(UnknownMessageType):
        ouch.decode_outbound(SAMPLES[0].encode())  # Enter Order is inbound
    with pytest.raises(MessageLengthError):
        ouch.decode_outbound(SAMPLES[1].encode())  # 'U' outbound must be 80 bytes


def test_decode_errors_are_protocol_errors() -> None:
    with pytest.raises(ProtocolError):
        ouch.decode(b"O\xff" + b" " * 47)  # non-ASCII order token


@pytest.mark.parametrize(
    "make",
    [
        lambda: ouch.CancelOrder("X" * 15, 1),  # token longer than 14
        lambda: ouch.CancelOrder("ORD1", -1),  # negative shares
        lambda: ouch.CancelOrder("ORD1", 2**32),  # shares beyond 4 bytes
        lambda: ouch.ModifyOrder("ORD1", "BS", 1),  # side is one character
        lambda: ouch.CancelOrder("ORDé", 1),  # non-ASCII
        lambda: ouch.SystemEvent(2**64, "S"),  # timestamp beyond 8 bytes
    ],
)
def test_encoding_rejects_values_that_do_not_fit(make: Any) -> None:
    with pytest.raises(ValueError):
        make().encode()


def test_time_in_force_special_values() -> None:
    assert ouch.TIF_IMMEDIATE_OR_CANCEL == 0
    assert ouch.TIF_MARKET_HOURS == 99_998
    assert ouch.TIF_SYSTEM_HOURS == 99_999


@pytest.mark.parametrize("codes", [ouch.RejectReason, ouch.CancelReason, ouch.BrokenTradeReason])
def test_reason_codes_are_single_letters_with_descriptions(codes: Any) -> None:
    letters = [member.value for member in codes]
    assert len(letters) == len(set(letters))
    for member in codes:
        assert len(member) == 1 and member == member.value
        assert member.description
        assert codes(member.value) is member


def test_nasdaq_reason_letters() -> None:
    assert ouch.RejectReason("T") is ouch.RejectReason.TEST_MODE
    assert ouch.RejectReason("H") is ouch.RejectReason.HALTED
    assert ouch.RejectReason("Z") is ouch.RejectReason.SHARES_EXCEED_SAFETY_THRESHOLD
    assert ouch.RejectReason("S") is ouch.RejectReason.INVALID_STOCK
    assert ouch.RejectReason("C") is ouch.RejectReason.CLOSED
    assert ouch.RejectReason("X") is ouch.RejectReason.INVALID_PRICE
    assert ouch.RejectReason("O") is ouch.RejectReason.OTHER
    assert ouch.CancelReason("U") is ouch.CancelReason.USER_REQUESTED
    assert ouch.CancelReason("I") is ouch.CancelReason.IMMEDIATE_OR_CANCEL
    assert ouch.CancelReason("T") is ouch.CancelReason.TIMEOUT
    assert ouch.CancelReason("S") is ouch.CancelReason.SUPERVISORY
    assert ouch.CancelReason("D") is ouch.CancelReason.REGULATORY_RESTRICTION
    assert ouch.CancelReason("Q") is ouch.CancelReason.SELF_MATCH_PREVENTION
    assert ouch.CancelReason("Z") is ouch.CancelReason.SYSTEM_CANCEL


def test_decoded_reason_letters_map_to_codes() -> None:
    rejected = ouch.decode(SAMPLES[13].encode())
    assert ouch.RejectReason(rejected.reason).description == "Invalid price"


# ---- properties ---------------------------------------------------------------------------

_token = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=14)
_stock = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ.", min_size=1, max_size=8)
_u32 = st.integers(0, 2**32 - 1)
_u64 = st.integers(0, 2**64 - 1)
_letter = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ ")


@given(
    token=_token,
    side=st.sampled_from("BSTE"),
    shares=_u32,
    stock=_stock,
    price=_u32,
    tif=_u32,
    firm=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=4),
    display=_letter,
    capacity=_letter,
    iso=_letter,
    minimum=_u32,
    cross=_letter,
    customer=_letter,
)
def test_enter_order_round_trip_property(
    token: str,
    side: str,
    shares: int,
    stock: str,
    price: int,
    tif: int,
    firm: str,
    display: str,
    capacity: str,
    iso: str,
    minimum: int,
    cross: str,
    customer: str,
) -> None:
    msg = ouch.EnterOrder(
        token,
        side,
        shares,
        stock,
        price,
        tif,
        firm,
        display,
        capacity,
        iso,
        minimum,
        cross,
        customer,
    )
    wire = msg.encode()
    assert len(wire) == 49
    assert ouch.decode_inbound(wire) == msg


@given(ts=_u64, token=_token, shares=_u32, price=_u32, flag=_letter, match=_u64)
def test_executed_round_trip_property(
    ts: int, token: str, shares: int, price: int, flag: str, match: int
) -> None:
    msg = ouch.Executed(ts, token, shares, price, flag, match)
    assert ouch.decode_outbound(msg.encode()) == msg


@given(ts=_u64, old=_token, new=_token, shares=_u32, stock=_stock, ref=_u64, prev=_token)
def test_replaced_round_trip_property(
    ts: int, old: str, new: str, shares: int, stock: str, ref: int, prev: str
) -> None:
    msg = ouch.Replaced(
        ts,
        new,
        "S",
        shares,
        stock,
        10_000,
        99_999,
        "",
        "N",
        ref,
        "P",
        "Y",
        0,
        "N",
        "D",
        prev,
        "S",
    )
    wire = msg.encode()
    assert len(wire) == 80
    assert ouch.decode(wire) == msg
