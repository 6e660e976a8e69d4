"""The lockstep marker and ack: readable lines that survive a round trip and refuse garbage."""

import pytest

from trading.protocols import lockstep
from trading.protocols import soupbintcp as soup


def test_a_marker_survives_the_debug_packet_it_travels_in():
    marker = lockstep.Marker(12, 34_200_189_607_670, 58, 7)
    text = lockstep.encode_marker(marker)
    assert text == b"LOCKSTEP 12 34200189607670 58 7"
    ((packet_type, payload),) = soup.FrameDecoder().feed(soup.encode_debug(text.decode()))
    assert packet_type == soup.PacketType.DEBUG
    assert lockstep.parse_marker(payload) == marker


def test_other_debug_text_is_not_a_marker_and_a_broken_marker_is_an_error():
    assert lockstep.parse_marker(b"protocol error: idle timeout") is None
    with pytest.raises(ValueError, match="malformed lockstep marker"):
        lockstep.parse_marker(b"LOCKSTEP 12 34200189607670 58")


def test_an_ack_round_trips_and_anything_else_is_refused():
    ack = lockstep.Ack(3, 100, 9, 4)
    assert lockstep.encode_ack(ack) == b"LOCKSTEP-ACK 3 100 9 4"
    assert lockstep.parse_ack(lockstep.encode_ack(ack)) == ack
    with pytest.raises(ValueError, match="not a lockstep ack"):
        lockstep.parse_ack(b"O" + b" " * 48)
    with pytest.raises(ValueError, match="malformed lockstep ack"):
        lockstep.parse_ack(b"LOCKSTEP-ACK 3 100 -9 4")
