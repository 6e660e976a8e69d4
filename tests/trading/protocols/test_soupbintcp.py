"""SoupBinTCP 4.0 packets and the streaming FrameDecoder."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading.protocols import soupbintcp as soup
from trading.protocols.soupbintcp import (
    FrameDecoder,
    FrameTooLong,
    MalformedPacket,
    PacketType,
    ProtocolError,
    UnknownPacketType,
)

# Hand-built packets, written byte by byte from the SoupBinTCP 4.0 tables.
KNOWN_PACKETS = [
    (soup.encode_debug("hello"), b"\x00\x06+hello"),
    (soup.encode_login_accepted("SESS1", 42), b"\x00\x1fA" + b"     SESS1" + b" " * 18 + b"42"),
    (soup.encode_login_rejected("A"), b"\x00\x02JA"),
    (soup.encode_login_rejected("S"), b"\x00\x02JS"),
    (soup.encode_sequenced_data(b"abc"), b"\x00\x04Sabc"),
    (soup.encode_server_heartbeat(), b"\x00\x01H"),
    (soup.encode_end_of_session(), b"\x00\x01Z"),
    (
        soup.encode_login_request("bob", "secret", "", 0),
        b"\x00\x2fL" + b"bob   " + b"secret    " + b" " * 10 + b" " * 19 + b"0",
    ),
    (
        soup.encode_login_request("TRADER", "pw", "SESS1", 1234),
        b"\x00\x2fL" + b"TRADER" + b"pw        " + b"     SESS1" + b" " * 16 + b"1234",
    ),
    (soup.encode_unsequenced_data(b"xyz"), b"\x00\x04Uxyz"),
    (soup.encode_client_heartbeat(), b"\x00\x01R"),
    (soup.encode_logout_request(), b"\x00\x01O"),
]


@pytest.mark.parametrize(("encoded", "expected"), KNOWN_PACKETS)
def test_encoders_produce_the_spec_bytes(encoded: bytes, expected: bytes) -> None:
    assert encoded == expected


def test_fixed_packet_lengths_match_the_spec() -> None:
    # Length header + type + body: Login Request 2+1+46, Login Accepted 2+1+30, Rejected 2+1+1.
    assert len(soup.encode_login_request("u", "p")) == 49
    assert len(soup.encode_login_accepted("S", 1)) == 33
    assert len(soup.encode_login_rejected("A")) == 4
    assert soup.LoginRequest.SIZE == 47
    assert soup.LoginAccepted.SIZE == 31


def test_login_request_justification() -> None:
    body = soup.encode_login_request("ab", "cd", "S1", 7)[3:]
    assert body[0:6] == b"ab    "  # username: left-justified
    assert body[6:16] == b"cd        "  # password: left-justified
    assert body[16:26] == b"        S1"  # requested session: right-justified
    assert body[26:46] == b" " * 19 + b"7"  # requested sequence number: right-justified


def test_parse_login_request_strips_padding_and_returns_int_sequence() -> None:
    payload = soup.encode_login_request("bob", "secret", "SESS1", 1234)[3:]
    request = soup.parse_login_request(payload)
    assert request == ("bob", "secret", "SESS1", 1234)
    assert request.requested_sequence_number == 1234
    assert isinstance(request.requested_sequence_number, int)


def test_parse_login_request_blank_session_and_sequence_zero() -> None:
    request = soup.parse_login_request(soup.encode_login_request("bob", "pw")[3:])
    assert request.requested_session == ""
    assert request.requested_sequence_number == 0
    assert "most recently generated" in (soup.parse_login_request.__doc__ or "")


def test_parse_login_request_accepts_zero_padded_and_blank_numbers() -> None:
    payload = b"bob   pw        " + b" " * 10 + b"00000000000000000005"
    assert soup.parse_login_request(payload).requested_sequence_number == 5
    blank = b"bob   pw        " + b" " * 10 + b" " * 20
    assert soup.parse_login_request(blank).requested_sequence_number == 0


@pytest.mark.parametrize(
    "payload",
    [
        b"bob   pw        " + b" " * 10 + b" " * 19 + b"x",  # non-digit sequence number
        b"bob   pw        " + b" " * 10 + b" " * 19,  # one byte short
        b"b\xffb   pw        " + b" " * 10 + b" " * 19 + b"1",  # non-ASCII username
    ],
)
def test_parse_login_request_rejects_garbage(payload: bytes) -> None:
    with pytest.raises(MalformedPacket):
        soup.parse_login_request(payload)


def test_parse_login_accepted_and_rejected() -> None:
    accepted = soup.parse_login_accepted(soup.encode_login_accepted("SESS1", 42)[3:])
    assert accepted == ("SESS1", 42)
    assert soup.parse_login_rejected(b"S") == soup.LOGIN_REJECT_SESSION_NOT_AVAILABLE
    assert soup.parse_login_rejected(b"A") == soup.LOGIN_REJECT_NOT_AUTHORIZED
    assert soup.parse_debug(b"hi there") == "hi there"


@pytest.mark.parametrize(
    "call",
    [
        lambda: soup.encode_login_request("toolong", "pw"),
        lambda: soup.encode_login_request("bob", "p" * 11),
        lambda: soup.encode_login_request("bob", "pw", "S" * 11),
        lambda: soup.encode_login_request("bob", "pw", "", -1),
        lambda: soup.encode_login_request("bob", "pw", "", 10**20),
        lambda: soup.encode_login_request("böb", "pw"),
        lambda: soup.encode_login_rejected("X"),
        lambda: soup.encode_sequenced_data(b"x" * 65535),
    ],
)
def test_encoders_reject_values_that_do_not_fit(call: Any) -> None:
    with pytest.raises(ValueError):
        call()


# ---- FrameDecoder -------------------------------------------------------------------------

STREAM_PACKETS = [
    (PacketType.LOGIN_REQUEST, soup.encode_login_request("bob", "pw", "", 1)),
    (PacketType.LOGIN_ACCEPTED, soup.encode_login_accepted("SESS1", 1)),
    (PacketType.SEQUENCED_DATA, soup.encode_sequenced_data(b"A" * 36)),
    (PacketType.SERVER_HEARTBEAT, soup.encode_server_heartbeat()),
    (PacketType.UNSEQUENCED_DATA, soup.encode_unsequenced_data(b"O" * 49)),
    (PacketType.DEBUG, soup.encode_debug("")),
    (PacketType.CLIENT_HEARTBEAT, soup.encode_client_heartbeat()),
    (PacketType.END_OF_SESSION, soup.encode_end_of_session()),
]
STREAM = b"".join(packet for _, packet in STREAM_PACKETS)
EXPECTED = [(int(ptype), packet[3:]) for ptype, packet in STREAM_PACKETS]


def test_decoder_yields_type_and_payload() -> None:
    packets = list(FrameDecoder().feed(STREAM))
    assert packets == EXPECTED
    assert all(isinstance(payload, bytes) for _, payload in packets)
    assert packets[0][0] == PacketType.LOGIN_REQUEST


@pytest.mark.parametrize("split", range(len(STREAM) + 1))
def test_decoder_two_chunks_split_at_every_byte(split: int) -> None:
    decoder = FrameDecoder()
    packets = list(decoder.feed(STREAM[:split])) + list(decoder.feed(STREAM[split:]))
    assert packets == EXPECTED
    assert decoder.buffered == 0


def test_decoder_one_byte_at_a_time() -> None:
    decoder = FrameDecoder()
    packets: list[tuple[int, bytes]] = []
    for i in range(len(STREAM)):
        packets.extend(decoder.feed(STREAM[i : i + 1]))
    assert packets == EXPECTED


def test_decoder_keeps_partial_packets_buffered() -> None:
    decoder = FrameDecoder()
    assert list(decoder.feed(STREAM_PACKETS[2][1][:10])) == []
    assert decoder.buffered == 10
    assert list(decoder.feed(STREAM_PACKETS[2][1][10:])) == [EXPECTED[2]]


def test_decoder_keeps_packets_the_caller_did_not_iterate() -> None:
    decoder = FrameDecoder()
    packets = decoder.feed(STREAM)
    first = next(packets)
    assert first == EXPECTED[0]
    # Abandon the iterator: the rest must come out of the next feed.
    assert list(decoder.feed(b"")) == EXPECTED[1:]


def test_decoder_accepts_memoryview_and_bytearray() -> None:
    decoder = FrameDecoder()
    assert (
        list(decoder.feed(memoryview(STREAM)[:40])) + list(decoder.feed(bytearray(STREAM[40:])))
        == EXPECTED
    )


def test_decoder_compacts_its_buffer() -> None:
    decoder = FrameDecoder()
    packet = soup.encode_sequenced_data(b"x" * 100)
    for _ in range(5000):
        assert len(list(decoder.feed(packet + packet[:50]))) >= 1
        assert len(list(decoder.feed(packet[50:]))) == 1
    assert len(decoder._buf) < 2 * FrameDecoder.COMPACT_THRESHOLD


def test_zero_length_packet_is_malformed() -> None:
    with pytest.raises(MalformedPacket, match="zero-length"):
        list(FrameDecoder().feed(b"\x00\x00"))
    with pytest.raises(MalformedPacket, match="zero-length"):
        list(FrameDecoder().feed(b"\x00\x00H\x00\x01H"))


def test_oversized_packet_raises_on_the_header_alone() -> None:
    decoder = FrameDecoder(max_packet_length=100)
    with pytest.raises(FrameTooLong):
        list(decoder.feed(b"\x00\x65S"))  # 101 > 100, body not yet received
    assert list(FrameDecoder(max_packet_length=100).feed(b"\x00\x64S" + b"x" * 99))


@pytest.mark.parametrize("ptype", [b"Q", b"a", b"\x00", b"\xff", b"s"])
def test_unknown_packet_type(ptype: bytes) -> None:
    with pytest.raises(UnknownPacketType):
        list(FrameDecoder().feed(b"\x00\x01" + ptype))


@pytest.mark.parametrize(
    "packet",
    [
        b"\x00\x02Hx",  # heartbeat with a body
        b"\x00\x01L",  # login request without a body
        b"\x00\x03JAS",  # login rejected with two reasons
        b"\x00\x1eA" + b" " * 29,  # login accepted one byte short
    ],
)
def test_fixed_size_packets_with_the_wrong_length_are_malformed(packet: bytes) -> None:
    with pytest.raises(MalformedPacket):
        list(FrameDecoder().feed(packet))


def test_packets_before_garbage_are_still_delivered() -> None:
    decoder = FrameDecoder()
    received: list[tuple[int, bytes]] = []
    with pytest.raises(ProtocolError):
        for packet in decoder.feed(STREAM + b"\x00\x01?"):
            received.append(packet)
    assert received == EXPECTED


def test_protocol_errors_are_value_errors() -> None:
    assert issubclass(ProtocolError, ValueError)
    for cls in (FrameTooLong, MalformedPacket, UnknownPacketType):
        assert issubclass(cls, ProtocolError)


def test_max_packet_length_is_validated() -> None:
    with pytest.raises(ValueError):
        FrameDecoder(max_packet_length=0)
    with pytest.raises(ValueError):
        FrameDecoder(max_packet_length=70000)


# ---- properties ---------------------------------------------------------------------------

_DATA_TYPES = [PacketType.SEQUENCED_DATA, PacketType.UNSEQUENCED_DATA, PacketType.DEBUG]
_EMPTY_TYPES = [
    PacketType.SERVER_HEARTBEAT,
    PacketType.CLIENT_HEARTBEAT,
    PacketType.END_OF_SESSION,
    PacketType.LOGOUT_REQUEST,
]
_packet = st.one_of(
    st.tuples(st.sampled_from(_DATA_TYPES), st.binary(max_size=300)),
    st.tuples(st.sampled_from(_EMPTY_TYPES), st.just(b"")),
)


@given(packets=st.lists(_packet, max_size=30), cuts=st.lists(st.integers(0, 10_000), max_size=8))
def test_any_packets_any_chunking_round_trip(
    packets: list[tuple[PacketType, bytes]], cuts: list[int]
) -> None:
    stream = b"".join(soup.frame(ptype, payload) for ptype, payload in packets)
    bounds = sorted({0, len(stream), *(c % (len(stream) + 1) for c in cuts)})
    decoder = FrameDecoder()
    received: list[tuple[int, bytes]] = []
    for start, stop in zip(bounds, bounds[1:], strict=False):
        received.extend(decoder.feed(stream[start:stop]))
    assert received == [(int(ptype), payload) for ptype, payload in packets]
    assert decoder.buffered == 0


_alnum = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", max_size=6)


@given(
    username=_alnum,
    password=st.text("abcdefXYZ0123456789!#", max_size=10),
    session=st.text("ABCDEFGHIJ0123456789", max_size=10),
    sequence=st.integers(0, 10**20 - 1),
)
def test_login_request_round_trip(
    username: str, password: str, session: str, sequence: int
) -> None:
    packet = soup.encode_login_request(username, password, session, sequence)
    assert len(packet) == 49
    [(ptype, payload)] = list(FrameDecoder().feed(packet))
    assert ptype == PacketType.LOGIN_REQUEST
    assert soup.parse_login_request(payload) == (username, password, session, sequence)
