"""TotalView-ITCH 5.0 / GLIMPSE 5.0 messages and the numba batch codec."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading.protocols import itch
from trading.protocols import soupbintcp as soup
from trading.protocols.soupbintcp import (
    MalformedPacket,
    MessageLengthError,
    ProtocolError,
    UnknownMessageType,
    UnknownPacketType,
)

T_NS = 34_200_000_000_123  # 09:30:00.000000123

BOOK_SAMPLES: list[Any] = [
    itch.AddOrder(13, 0, T_NS, 1_000_001, "B", 300, "AAPL", 1_912_500),
    itch.AddOrderMpid(13, 1, T_NS + 1, 1_000_002, "S", 200, "AAPL", 1_913_000, "GSCO"),
    itch.OrderExecuted(13, 0, T_NS + 2, 1_000_001, 100, 5_000_001),
    itch.OrderExecutedWithPrice(13, 0, T_NS + 3, 1_000_002, 50, 5_000_002, "Y", 1_912_900),
    itch.OrderCancel(13, 0, T_NS + 4, 1_000_001, 100),
    itch.OrderDelete(13, 0, T_NS + 5, 1_000_001),
    itch.OrderReplace(13, 0, T_NS + 6, 1_000_002, 1_000_003, 150, 1_913_100),
    itch.Trade(13, 0, T_NS + 7, 0, "B", 400, "AAPL", 1_913_200, 5_000_003),
    itch.CrossTrade(13, 0, T_NS + 8, 12_345_678_901, "AAPL", 1_913_300, 5_000_004, "O"),
    itch.BrokenTrade(13, 0, T_NS + 9, 5_000_003),
]
OTHER_SAMPLES: list[Any] = [
    itch.SystemEvent(0, 0, T_NS, itch.SYSTEM_EVENT_START_OF_MARKET_HOURS),
    itch.StockDirectory(
        13, 0, T_NS, "AAPL", "Q", "N", 100, "N", "C", "Z", "P", "N", "N", "1", "N", 0, "N"
    ),
    itch.StockTradingAction(13, 0, T_NS, "AAPL", "T", " ", ""),
    itch.EndOfSnapshot(123_456_789),
]
SAMPLES = BOOK_SAMPLES + OTHER_SAMPLES

# Total lengths from the TotalView-ITCH 5.0 / GLIMPSE 5.0 message tables.
SPEC_LENGTHS = {
    "SystemEvent": 12,
    "StockDirectory": 39,
    "StockTradingAction": 25,
    "AddOrder": 36,
    "AddOrderMpid": 40,
    "OrderExecuted": 31,
    "OrderExecutedWithPrice": 36,
    "OrderCancel": 23,
    "OrderDelete": 19,
    "OrderReplace": 35,
    "Trade": 44,
    "CrossTrade": 40,
    "BrokenTrade": 19,
    "EndOfSnapshot": 21,
}


def framed(messages: list[Any]) -> bytes:
    return b"".join(soup.encode_sequenced_data(m.encode()) for m in messages)


def test_every_message_type_has_a_sample() -> None:
    assert {c.__name__ for c in itch.MESSAGES} == {type(m).__name__ for m in SAMPLES}
    assert set(SPEC_LENGTHS) == {c.__name__ for c in itch.MESSAGES}


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda m: type(m).__name__)
def test_round_trip_with_exact_length(msg: Any) -> None:
    wire = msg.encode()
    assert len(wire) == SPEC_LENGTHS[type(msg).__name__] == type(msg).SIZE
    assert itch.decode(wire) == msg
    assert type(itch.decode(wire)) is type(msg)
    assert itch.encode(msg) == wire


def test_add_order_known_bytes() -> None:
    wire = (
        b"A"
        + (13).to_bytes(2, "big")
        + (0).to_bytes(2, "big")
        + T_NS.to_bytes(6, "big")
        + (1_000_001).to_bytes(8, "big")
        + b"B"
        + (300).to_bytes(4, "big")
        + b"AAPL    "
        + (1_912_500).to_bytes(4, "big")
    )
    assert len(wire) == 36
    msg = itch.decode(wire)
    assert msg == BOOK_SAMPLES[0]
    assert (msg.timestamp_ns, msg.price, msg.stock) == (T_NS, 1_912_500, "AAPL")


def test_spec_offsets_come_from_the_tables() -> None:
    offsets = itch.AddOrder.LAYOUT.offsets
    assert offsets == {
        "stock_locate": 1,
        "tracking_number": 3,
        "timestamp_ns": 5,
        "order_reference_number": 11,
        "side": 19,
        "shares": 20,
        "stock": 24,
        "price": 32,
    }
    assert itch.OrderReplace.LAYOUT.offsets["new_order_reference_number"] == 19
    assert itch.Trade.LAYOUT.offsets["match_number"] == 36
    assert itch.CrossTrade.LAYOUT.offsets["cross_type"] == 39
    assert (itch._A_PRICE, itch._U_NEW_REF, itch._Q_CROSS_TYPE) == (32, 19, 39)


def test_timestamp_is_six_bytes_big_endian() -> None:
    wire = itch.SystemEvent(0, 0, 0x0102_0304_0506, "O").encode()
    assert wire[5:11] == b"\x01\x02\x03\x04\x05\x06"
    with pytest.raises(ValueError):
        itch.SystemEvent(0, 0, 2**48, "O").encode()


def test_end_of_snapshot_known_bytes() -> None:
    wire = b"G" + b"123456789" + b" " * 11  # Alpha(20): left-justified
    assert itch.EndOfSnapshot(123_456_789).encode() == wire
    assert itch.decode(wire).sequence_number == 123_456_789
    # Be lenient on input: a right-justified number means the same thing.
    assert itch.decode(b"G" + b" " * 11 + b"123456789").sequence_number == 123_456_789


def test_decode_errors() -> None:
    with pytest.raises(MessageLengthError) as info:
        itch.decode(BOOK_SAMPLES[0].encode()[:-1])
    assert (info.value.message_type, info.value.expected, info.value.actual) == (b"A", 36, 35)
    with pytest.raises(UnknownMessageType):
        itch.decode(b"")
    with pytest.raises(UnknownMessageType):
        itch.decode(b"z" * 20)
    with pytest.raises(ProtocolError):
        itch.decode(b"G" + b"12x" + b" " * 17)


# ---- numba batch codec ----------------------------------------------------------------------


def decode_all(data: bytes, capacity: int = 64, record_other: bool = False) -> Any:
    out = np.zeros(capacity, dtype=itch.ITCH_RECORD_DTYPE)
    result = itch.decode_soup_itch(np.frombuffer(data, dtype=np.uint8), out, record_other)
    return out[: result[0]], result


def test_numba_decode_matches_struct_path() -> None:
    records, (written, consumed, packets, sequenced) = decode_all(framed(BOOK_SAMPLES))
    assert (written, consumed, packets, sequenced) == (10, len(framed(BOOK_SAMPLES)), 10, 10)
    assert [itch.record_to_message(r) for r in records] == BOOK_SAMPLES
    assert (records == itch.messages_to_records(BOOK_SAMPLES)).all()


def test_numba_record_fields() -> None:
    records, _ = decode_all(framed(BOOK_SAMPLES))
    add, mpid, _, with_price, _, _, replace, _, cross, _ = records
    assert add["msg_type"] == ord("A") and add["side"] == 1 and add["shares"] == 300
    assert add["price"] == 1_912_500 and add["timestamp_ns"] == T_NS
    assert itch.stock_from_code(add["stock"]) == "AAPL"
    assert mpid["side"] == -1 and mpid["attribution"] == int.from_bytes(b"GSCO", "big")
    assert with_price["printable"] == ord("Y") and with_price["price"] == 1_912_900
    assert replace["ref"] == 1_000_002 and replace["new_ref"] == 1_000_003
    assert cross["shares"] == 12_345_678_901 and cross["cross_type"] == ord("O")


def test_numba_skips_or_records_non_book_messages() -> None:
    stream = (
        soup.encode_login_accepted("SESS1", 1)
        + soup.encode_sequenced_data(OTHER_SAMPLES[0].encode())
        + soup.encode_server_heartbeat()
        + framed(BOOK_SAMPLES[:2])
        + soup.encode_sequenced_data(OTHER_SAMPLES[1].encode())
        + soup.encode_debug("note")
        + soup.encode_end_of_session()
    )
    records, result = decode_all(stream)
    assert result == (2, len(stream), 8, 4)
    assert [itch.record_to_message(r) for r in records] == BOOK_SAMPLES[:2]
    records, result = decode_all(stream, record_other=True)
    assert result == (4, len(stream), 8, 4)
    assert records["msg_type"].tobytes() == b"SAFR"
    assert records[0]["timestamp_ns"] == T_NS and records[3]["stock_locate"] == 13


def test_numba_leaves_partial_packets_unconsumed() -> None:
    data = framed(BOOK_SAMPLES)
    for cut in range(len(data) + 1):
        records, (written, consumed, _, _) = decode_all(data[:cut])
        complete = framed(BOOK_SAMPLES[:written])
        assert consumed == len(complete) and data[:consumed] == complete
        assert cut - consumed < 3 + 44  # less than one packet is left


def test_numba_stream_decoding_in_chunks_with_carry_over() -> None:
    data = framed(BOOK_SAMPLES * 5)
    carry = b""
    got: list[Any] = []
    for start in range(0, len(data), 17):
        pending = carry + data[start : start + 17]
        records, (_, consumed, _, _) = decode_all(pending)
        got.extend(itch.record_to_message(r) for r in records)
        carry = pending[consumed:]
    assert carry == b""
    assert got == BOOK_SAMPLES * 5


def test_numba_stops_when_the_output_is_full() -> None:
    data = framed(BOOK_SAMPLES)
    records, (written, consumed, packets, sequenced) = decode_all(data, capacity=3)
    assert (written, consumed, packets, sequenced) == (3, len(framed(BOOK_SAMPLES[:3])), 3, 3)


@pytest.mark.parametrize(
    ("stream", "error"),
    [
        (b"\x00\x00", MalformedPacket),
        (soup.encode_server_heartbeat() + b"\x00\x00S", MalformedPacket),
        (b"\x00\x01S", MalformedPacket),  # Sequenced Data with no ITCH message
        (soup.encode_login_request("bob", "pw"), UnknownPacketType),  # client-only type
        (b"\x00\x01?", UnknownPacketType),
        (soup.encode_sequenced_data(BOOK_SAMPLES[0].encode()[:-1]), MessageLengthError),
        (soup.encode_sequenced_data(BOOK_SAMPLES[0].encode() + b"x"), MessageLengthError),
        (soup.encode_sequenced_data(b"S" * 5), MalformedPacket),
    ],
)
def test_numba_decode_errors(stream: bytes, error: type[Exception]) -> None:
    out = np.zeros(4, dtype=itch.ITCH_RECORD_DTYPE)
    record_other = stream.endswith(b"S" * 5)
    with pytest.raises(error):
        itch.decode_soup_itch(np.frombuffer(stream, dtype=np.uint8), out, record_other)


def test_numba_encode_matches_struct_path() -> None:
    records = itch.messages_to_records(BOOK_SAMPLES)
    size = itch.encoded_size(records)
    assert size == len(framed(BOOK_SAMPLES))
    out = np.zeros(size, dtype=np.uint8)
    assert itch.encode_soup_itch(records, out) == (10, size)
    assert out.tobytes() == framed(BOOK_SAMPLES)
    decoded = [itch.decode(payload) for _, payload in soup.FrameDecoder().feed(out.tobytes())]
    assert decoded == BOOK_SAMPLES


def test_numba_encode_stops_when_the_buffer_is_full() -> None:
    records = itch.messages_to_records(BOOK_SAMPLES)
    room = len(framed(BOOK_SAMPLES[:4])) + 5
    out = np.zeros(room, dtype=np.uint8)
    assert itch.encode_soup_itch(records, out) == (4, room - 5)


def test_numba_encode_rejects_non_book_records() -> None:
    records = np.zeros(1, dtype=itch.ITCH_RECORD_DTYPE)
    records["msg_type"] = ord("S")
    with pytest.raises(ValueError):
        itch.encode_soup_itch(records, np.zeros(100, dtype=np.uint8))
    with pytest.raises(ValueError):
        itch.messages_to_records([OTHER_SAMPLES[0]])


def test_stock_code_round_trip() -> None:
    assert itch.stock_code("AAPL") == int.from_bytes(b"AAPL    ", "big")
    assert itch.stock_from_code(itch.stock_code("BRK.A")) == "BRK.A"
    with pytest.raises(ValueError):
        itch.stock_code("TOOLONGSYM")


# ---- properties ---------------------------------------------------------------------------

_u16 = st.integers(0, 2**16 - 1)
_ts = st.integers(0, 2**48 - 1)
_ref = st.integers(0, 2**63 - 1)  # record fields are int64
_u32 = st.integers(0, 2**32 - 1)
_side = st.sampled_from("BS")
_stock = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8)


def _head() -> Any:
    return st.tuples(_u16, _u16, _ts)


_book_message = st.one_of(
    st.builds(lambda h, *a: itch.AddOrder(*h, *a), _head(), _ref, _side, _u32, _stock, _u32),
    st.builds(
        lambda h, *a: itch.AddOrderMpid(*h, *a),
        _head(),
        _ref,
        _side,
        _u32,
        _stock,
        _u32,
        st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=4),
    ),
    st.builds(lambda h, *a: itch.OrderExecuted(*h, *a), _head(), _ref, _u32, _ref),
    st.builds(
        lambda h, *a: itch.OrderExecutedWithPrice(*h, *a),
        _head(),
        _ref,
        _u32,
        _ref,
        st.sampled_from("YN"),
        _u32,
    ),
    st.builds(lambda h, *a: itch.OrderCancel(*h, *a), _head(), _ref, _u32),
    st.builds(lambda h, *a: itch.OrderDelete(*h, *a), _head(), _ref),
    st.builds(lambda h, *a: itch.OrderReplace(*h, *a), _head(), _ref, _ref, _u32, _u32),
    st.builds(lambda h, *a: itch.Trade(*h, *a), _head(), _ref, _side, _u32, _stock, _u32, _ref),
    st.builds(
        lambda h, *a: itch.CrossTrade(*h, *a),
        _head(),
        _ref,
        _stock,
        _u32,
        _ref,
        st.sampled_from("OCHI"),
    ),
    st.builds(lambda h, *a: itch.BrokenTrade(*h, *a), _head(), _ref),
)


@settings(max_examples=200)
@given(messages=st.lists(_book_message, max_size=40))
def test_struct_and_numba_paths_agree(messages: list[Any]) -> None:
    data = framed(messages)
    records, (written, consumed, packets, sequenced) = decode_all(data, capacity=len(messages))
    count = len(messages)
    assert (written, consumed, packets, sequenced) == (count, len(data), count, count)
    assert [itch.record_to_message(r) for r in records] == messages
    out = np.zeros(itch.encoded_size(records), dtype=np.uint8)
    assert itch.encode_soup_itch(records, out) == (len(messages), len(data))
    assert out.tobytes() == data


@given(message=_book_message)
def test_struct_round_trip_property(message: Any) -> None:
    assert itch.decode(message.encode()) == message
