"""The lockstep handshake between a replaying exchange and one engine, on the feed session.

In lockstep replay the exchange publishes one step at a time and waits for the engine to say it
has finished with it, so the run depends on the replayed day's clock alone, never on how fast
either process happens to be.

- Exchange to engine, before each step: a SoupBinTCP Debug packet (the only server packet free
  for text) carrying a *marker*: the step number, the step's data time (ns since midnight), and
  the feed and order-entry sequence numbers the engine will be at once it has applied
  everything the step delivers.
- Engine to exchange: an Unsequenced Data packet on the feed session (which carries no other
  client messages) with an *ack*: the step number it finished (0: connected and ready), its
  feed and order-entry sequence numbers, and how many OUCH messages it has sent in total, so
  the exchange knows when every order of the step has reached it.

Both are short ASCII lines, readable in a packet capture:
``LOCKSTEP 12 34200189607670 58 7`` and ``LOCKSTEP-ACK 12 58 7 5``.
"""

from __future__ import annotations

from typing import NamedTuple

MARKER_PREFIX = b"LOCKSTEP "
ACK_PREFIX = b"LOCKSTEP-ACK "


class Marker(NamedTuple):
    """The exchange's announcement of one step."""

    step: int
    time_ns: int
    feed_next: int  # the feed sequence the engine reaches with this step
    order_next: int  # the order-entry sequence the engine reaches with this step


class Ack(NamedTuple):
    """The engine's report that a step is done (step 0: ready to start)."""

    step: int
    feed_next: int
    order_next: int
    sent: int  # OUCH messages sent since login, in total


def encode_marker(marker: Marker) -> bytes:
    """The Debug packet text of a marker."""
    return MARKER_PREFIX + b"%d %d %d %d" % tuple(marker)


def parse_marker(payload: bytes) -> Marker | None:
    """The marker in a Debug packet's text, or None when the text is not a marker."""
    if not payload.startswith(MARKER_PREFIX):
        return None
    return Marker(*_four_ints(payload[len(MARKER_PREFIX) :], "marker"))


def encode_ack(ack: Ack) -> bytes:
    """The Unsequenced Data payload of an ack."""
    return ACK_PREFIX + b"%d %d %d %d" % tuple(ack)


def parse_ack(payload: bytes) -> Ack:
    """The ack in an Unsequenced Data payload; ValueError when it is not one."""
    if not payload.startswith(ACK_PREFIX):
        raise ValueError(f"not a lockstep ack: {payload[:40]!r}")
    return Ack(*_four_ints(payload[len(ACK_PREFIX) :], "ack"))


def _four_ints(text: bytes, what: str) -> tuple[int, int, int, int]:
    fields = text.split()
    if len(fields) != 4 or not all(f.isdigit() for f in fields):
        raise ValueError(f"malformed lockstep {what}: {text[:60]!r}")
    a, b, c, d = (int(f) for f in fields)
    return a, b, c, d
