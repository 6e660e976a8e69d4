"""The sequenced message stream of one SoupBinTCP session, kept whole for re-login replay.

Messages are stored already framed as Sequenced Data packets, so serving a client from any
sequence number is a slice and a join. A connected client is a cursor into the log: new
messages reach it when its connection flushes, and a client that reads slowly simply lags
(the log is its buffer) instead of making the exchange buffer per connection.
"""

from __future__ import annotations

import struct

from trading.protocols.soupbintcp import PacketType

_SEQUENCED_HEADER = struct.Struct(">HB")
_SEQUENCED = int(PacketType.SEQUENCED_DATA)


class SequencedLog:
    """Append-only list of framed Sequenced Data packets; sequence numbers start at 1."""

    __slots__ = ("frames", "bytes_total")

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.bytes_total = 0

    def append(self, payload: bytes) -> int:
        """Add a message; returns its sequence number."""
        framed = _SEQUENCED_HEADER.pack(len(payload) + 1, _SEQUENCED) + payload
        self.frames.append(framed)
        self.bytes_total += len(framed)
        return len(self.frames)

    def append_framed(self, framed: bytes, count: int) -> None:
        """Add `count` messages that arrive already framed back to back (a batch encoder's)."""
        if count == 1:
            self.frames.append(framed)
        else:
            self.frames.extend(_split_frames(framed, count))
        self.bytes_total += len(framed)

    @property
    def next_sequence(self) -> int:
        """The sequence number the next message will get."""
        return len(self.frames) + 1

    def read(self, first_sequence: int, max_bytes: int) -> tuple[bytes, int]:
        """Frames from `first_sequence` on, at most about `max_bytes`; returns (data, next seq)."""
        frames = self.frames
        start = first_sequence - 1
        if start >= len(frames):
            return b"", first_sequence
        stop = start
        size = 0
        end = len(frames)
        while stop < end and size < max_bytes:
            size += len(frames[stop])
            stop += 1
        return b"".join(frames[start:stop]), stop + 1


def _split_frames(data: bytes, count: int) -> list[bytes]:
    frames = []
    pos = 0
    for _ in range(count):
        length = int.from_bytes(data[pos : pos + 2], "big")
        frames.append(data[pos : pos + 2 + length])
        pos += 2 + length
    return frames
