"""What strategies ask for, and what venues report back.

Prices are integers of 1e-4 dollars, quantities integer shares, times int64 nanoseconds.
Sides are BUY = 1 and SELL = -1, so a signed quantity is `side * qty`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

BUY = 1
SELL = -1


class TimeInForce(StrEnum):
    """How long an order may rest."""

    IOC = "IOC"  # trade what is possible now, cancel the rest
    DAY = "DAY"  # rest until the end of the trading day
    GTC = "GTC"  # rest until cancelled


@dataclass(slots=True, frozen=True)
class OrderIntent:
    """A strategy's wish to trade: a limit order (or a market order when `price` is 0)."""

    symbol: str
    side: int
    qty: int
    price: int
    tif: TimeInForce = TimeInForce.DAY
    strategy: str = ""
    reduce_only: bool = False  # may only shrink the position (flatten, stop-outs)

    @property
    def signed_qty(self) -> int:
        return self.side * self.qty

    @property
    def is_market(self) -> bool:
        return self.price == 0


@dataclass(slots=True, frozen=True)
class CancelIntent:
    """A strategy's wish to cancel one of its working orders (by the engine's order id)."""

    order_id: int
    strategy: str = ""


@dataclass(slots=True, frozen=True)
class Fill:
    """An execution of one of our orders, as the venue reported it."""

    order_id: int
    symbol: str
    side: int
    qty: int
    price: int
    ts_ns: int
    match_number: int = 0
    liquidity: str = ""  # "A" added (maker), "R" removed (taker)
    strategy: str = ""
