"""Positions and P&L of the engine's own trading, FIFO by lots.

Units: prices are integers of 1e-4 dollars and quantities integer shares, so every P&L,
exposure, fee and cash figure here is an integer of price units x shares, which is
1e-4 dollars (10_000 units = $1.00). `to_dollars` / the `*_dollars` helpers convert.

A position's mark is the last mid price seen for its symbol; until a mid arrives the last
fill price stands in, so a fresh position is valued at cost rather than at zero.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from trading.model.market import BookTop
from trading.model.orders import Fill
from trading.prices import PRICE_SCALE


def to_dollars(amount: int) -> float:
    """An amount in 1e-4 $ (price units x shares) as dollars."""
    return amount / PRICE_SCALE


@dataclass(slots=True)
class Lot:
    """Shares opened by one fill and not yet closed: signed quantity at the fill price."""

    qty: int
    price: int


@dataclass(slots=True, frozen=True)
class PositionSnapshot:
    """Everything needed to rebuild one `Position` exactly."""

    symbol: str
    lots: tuple[tuple[int, int], ...]  # (signed qty, price), oldest first
    realised: int
    fees: int
    mark: int
    last_fill_price: int


SNAPSHOT_FILL_KEYS = 2_000


@dataclass(slots=True, frozen=True)
class PortfolioSnapshot:
    """Everything needed to rebuild a `Portfolio` exactly, plus derived totals for display.

    `totals` is informational (for the dashboard); `Portfolio.restore` ignores it.
    """

    starting_cash: int
    positions: tuple[PositionSnapshot, ...]
    applied_fills: tuple[tuple[int, int], ...]  # the latest (order_id, match_number), sorted
    duplicate_fills: int
    start_of_day_pnl: int
    totals: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly dict (lists instead of tuples)."""
        return {
            "starting_cash": self.starting_cash,
            "positions": [
                {
                    "symbol": p.symbol,
                    "lots": [list(lot) for lot in p.lots],
                    "realised": p.realised,
                    "fees": p.fees,
                    "mark": p.mark,
                    "last_fill_price": p.last_fill_price,
                }
                for p in self.positions
            ],
            "applied_fills": [list(key) for key in self.applied_fills],
            "duplicate_fills": self.duplicate_fills,
            "start_of_day_pnl": self.start_of_day_pnl,
            "totals": dict(self.totals),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PortfolioSnapshot:
        """The inverse of `as_dict` (also accepts what a JSON round trip gives back)."""
        positions = tuple(
            PositionSnapshot(
                symbol=p["symbol"],
                lots=tuple((int(q), int(px)) for q, px in p["lots"]),
                realised=int(p["realised"]),
                fees=int(p["fees"]),
                mark=int(p["mark"]),
                last_fill_price=int(p["last_fill_price"]),
            )
            for p in data["positions"]
        )
        return cls(
            starting_cash=int(data["starting_cash"]),
            positions=positions,
            applied_fills=tuple((int(o), int(m)) for o, m in data["applied_fills"]),
            duplicate_fills=int(data["duplicate_fills"]),
            start_of_day_pnl=int(data["start_of_day_pnl"]),
            totals=dict(data.get("totals", {})),
        )


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


class Position:
    """One symbol's signed position as FIFO lots, with realised and unrealised P&L.

    All lots share the sign of the position (long lots or short lots, never both).
    """

    __slots__ = ("symbol", "lots", "realised", "fees", "mark", "last_fill_price", "_qty", "_cost")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.lots: deque[Lot] = deque()
        # Running sums over the lots, so figures cost the same however many lots are open.
        self._qty = 0
        self._cost = 0
        self.realised = 0  # gross of fees, 1e-4 $
        self.fees = 0  # 1e-4 $
        self.mark = 0  # last mid, 0 until one arrives
        self.last_fill_price = 0

    # -- state changes -------------------------------------------------------------------

    def apply(self, side: int, qty: int, price: int, fee: int = 0) -> int:
        """Trade `qty` shares on `side` at `price`; returns the P&L this fill realised.

        The fill closes the oldest opposite lots first; whatever is left opens a new lot at
        the fill price (which is how a fill larger than the position flips it).
        """
        if side not in (1, -1) or qty <= 0 or price <= 0:
            raise ValueError(f"bad fill: side={side} qty={qty} price={price}")
        remaining = side * qty
        realised = 0
        while remaining and self.lots and _sign(self.lots[0].qty) != _sign(remaining):
            lot = self.lots[0]
            closed = min(abs(remaining), abs(lot.qty))
            lot_sign = _sign(lot.qty)
            realised += closed * (price - lot.price) * lot_sign
            self._cost -= lot_sign * closed * lot.price
            lot.qty -= lot_sign * closed
            remaining += lot_sign * closed
            if lot.qty == 0:
                self.lots.popleft()
        if remaining:
            self.lots.append(Lot(remaining, price))
            self._cost += remaining * price
        self._qty += side * qty
        self.realised += realised
        self.fees += fee
        self.last_fill_price = price
        return realised

    def set_mark(self, price: int) -> None:
        """Mark the position at `price` (normally the mid); non-positive prices are ignored."""
        if price > 0:
            self.mark = price

    # -- figures -------------------------------------------------------------------------

    @property
    def qty(self) -> int:
        """Signed quantity: positive long, negative short."""
        return self._qty

    @property
    def cost_basis(self) -> int:
        """Signed sum of lot quantity x lot price of the open quantity (1e-4 $)."""
        return self._cost

    @property
    def avg_price(self) -> float:
        """Average price of the open quantity in price units (0.0 when flat).

        A float because averaging integer prices need not give an integer.
        """
        qty = self.qty
        return self.cost_basis / qty if qty else 0.0

    @property
    def mark_price(self) -> int:
        """The price the position is valued at: the last mid, else the last fill price."""
        return self.mark or self.last_fill_price

    @property
    def unrealised(self) -> int:
        """P&L of the open lots at the mark (1e-4 $)."""
        return self.qty * self.mark_price - self.cost_basis

    @property
    def total_pnl(self) -> int:
        """Realised + unrealised - fees (1e-4 $)."""
        return self.realised + self.unrealised - self.fees

    @property
    def market_value(self) -> int:
        """Signed quantity x mark (1e-4 $)."""
        return self.qty * self.mark_price

    # -- persistence ---------------------------------------------------------------------

    def snapshot(self) -> PositionSnapshot:
        """An immutable copy of the full state, lots included."""
        return PositionSnapshot(
            symbol=self.symbol,
            lots=tuple((lot.qty, lot.price) for lot in self.lots),
            realised=self.realised,
            fees=self.fees,
            mark=self.mark,
            last_fill_price=self.last_fill_price,
        )

    @classmethod
    def restore(cls, snap: PositionSnapshot) -> Position:
        """Rebuild a position from `snapshot()`."""
        position = cls(snap.symbol)
        position.lots.extend(Lot(q, px) for q, px in snap.lots)
        position._qty = sum(q for q, _ in snap.lots)
        position._cost = sum(q * px for q, px in snap.lots)
        position.realised = snap.realised
        position.fees = snap.fees
        position.mark = snap.mark
        position.last_fill_price = snap.last_fill_price
        return position

    def __repr__(self) -> str:
        return (
            f"Position({self.symbol} qty={self.qty} avg={self.avg_price:.1f} "
            f"realised={self.realised} unrealised={self.unrealised})"
        )


class Portfolio:
    """Positions by symbol and their totals, fed by fills and book updates.

    Fills are deduplicated by (order_id, match_number) so that a gateway replaying its
    executions after a reconnect cannot count one twice. A match number of 0 means the
    venue gave none; such fills cannot be told apart from a new partial fill and are always
    applied. Only the last `remembered_fills` keys are kept (a replay only reaches back to the
    last checkpoint, never further), so memory stays flat however long the engine runs;
    snapshots carry the last `SNAPSHOT_FILL_KEYS` of them.
    """

    def __init__(self, starting_cash: int = 0, remembered_fills: int = 20_000) -> None:
        self.starting_cash = starting_cash  # 1e-4 $
        self.positions: dict[str, Position] = {}
        self.duplicate_fills = 0
        self._applied: set[tuple[int, int]] = set()
        self._applied_order: deque[tuple[int, int]] = deque()  # oldest first, to forget
        self._remembered = remembered_fills
        self._start_of_day_pnl = 0

    def position(self, symbol: str) -> Position:
        """The symbol's position, created flat on first use."""
        position = self.positions.get(symbol)
        if position is None:
            position = self.positions[symbol] = Position(symbol)
        return position

    def on_fill(self, fill: Fill, fee: int = 0) -> bool:
        """Apply a fill (fee in 1e-4 $); returns False when it is a duplicate and ignored."""
        key = (fill.order_id, fill.match_number)
        if fill.match_number and key in self._applied:
            self.duplicate_fills += 1
            return False
        self.position(fill.symbol).apply(fill.side, fill.qty, fill.price, fee)
        if fill.match_number:
            # Only once applied, so a rejected bad fill is not remembered.
            self._applied.add(key)
            order = self._applied_order
            order.append(key)
            if len(order) > self._remembered:
                self._applied.discard(order.popleft())
        return True

    def mark(self, symbol: str, price: int) -> None:
        """Mark a symbol at `price` (normally its mid)."""
        self.position(symbol).set_mark(price)

    def on_book(self, book: BookTop) -> None:
        """Mark the book's symbol at its mid; a one-sided book leaves the mark unchanged."""
        if book.mid:
            self.mark(book.symbol, book.mid)

    def start_of_day(self) -> None:
        """Start a new trading day: daily P&L counts from the current total P&L."""
        self._start_of_day_pnl = self.total_pnl

    # -- totals (all in 1e-4 $) ----------------------------------------------------------

    @property
    def realised(self) -> int:
        """Realised P&L of all positions, gross of fees."""
        return sum(p.realised for p in self.positions.values())

    @property
    def unrealised(self) -> int:
        """Unrealised P&L of all positions at their marks."""
        return sum(p.unrealised for p in self.positions.values())

    @property
    def fees(self) -> int:
        """Fees paid on all fills."""
        return sum(p.fees for p in self.positions.values())

    @property
    def total_pnl(self) -> int:
        """Realised + unrealised - fees."""
        return sum(p.total_pnl for p in self.positions.values())

    @property
    def daily_pnl(self) -> int:
        """Total P&L since the last `start_of_day()`."""
        return self.total_pnl - self._start_of_day_pnl

    @property
    def gross_exposure(self) -> int:
        """Sum of |qty| x mark over positions."""
        return sum(abs(p.market_value) for p in self.positions.values())

    @property
    def net_exposure(self) -> int:
        """Sum of signed qty x mark over positions."""
        return sum(p.market_value for p in self.positions.values())

    @property
    def equity(self) -> int:
        """Starting cash + total P&L."""
        return self.starting_cash + self.total_pnl

    def open_positions(self) -> list[Position]:
        """Positions that are not flat, by symbol."""
        return [p for _, p in sorted(self.positions.items()) if p.lots]

    def totals(self) -> dict[str, int]:
        """The portfolio totals by name (1e-4 $), for display."""
        return {
            "realised": self.realised,
            "unrealised": self.unrealised,
            "fees": self.fees,
            "total_pnl": self.total_pnl,
            "daily_pnl": self.daily_pnl,
            "gross_exposure": self.gross_exposure,
            "net_exposure": self.net_exposure,
            "equity": self.equity,
        }

    # -- persistence ---------------------------------------------------------------------

    def snapshot(self) -> PortfolioSnapshot:
        """An immutable copy of the full state (lots and applied fill keys included)."""
        return PortfolioSnapshot(
            starting_cash=self.starting_cash,
            positions=tuple(p.snapshot() for _, p in sorted(self.positions.items())),
            applied_fills=tuple(
                sorted(itertools.islice(reversed(self._applied_order), SNAPSHOT_FILL_KEYS))
            ),
            duplicate_fills=self.duplicate_fills,
            start_of_day_pnl=self._start_of_day_pnl,
            totals=self.totals(),
        )

    @classmethod
    def restore(cls, snap: PortfolioSnapshot | dict[str, Any]) -> Portfolio:
        """Rebuild a portfolio from `snapshot()` or its `as_dict()` form."""
        if isinstance(snap, dict):
            snap = PortfolioSnapshot.from_dict(snap)
        portfolio = cls(snap.starting_cash)
        for position_snap in snap.positions:
            portfolio.positions[position_snap.symbol] = Position.restore(position_snap)
        portfolio._applied = set(snap.applied_fills)
        portfolio._applied_order = deque(snap.applied_fills)
        portfolio.duplicate_fills = snap.duplicate_fills
        portfolio._start_of_day_pnl = snap.start_of_day_pnl
        return portfolio
