"""Market data events the engine hands to strategies."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class BookTop:
    """The top of one symbol's book after an update (0 for an empty side)."""

    symbol: str
    bid: int
    bid_qty: int
    ask: int
    ask_qty: int
    ts_ns: int

    @property
    def mid(self) -> int:
        """The mid price, or 0 unless both sides are present."""
        return (self.bid + self.ask) // 2 if self.bid and self.ask else 0

    @property
    def spread(self) -> int:
        return self.ask - self.bid if self.bid and self.ask else 0


@dataclass(slots=True, frozen=True)
class TradePrint:
    """A trade on the venue (anyone's), at a price and size, with the aggressor's side."""

    symbol: str
    price: int
    qty: int
    aggressor_side: int
    ts_ns: int
