"""Cash and positions of each account, from its fills, in Alpaca's account and position shapes.

Every fill of the account counts, whether the order came in over OUCH or over the Alpaca API,
so both kinds of client see the same account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from trading.exchange.alpaca_api.orders import asset_id
from trading.exchange.alpaca_api.wire import money, stable_id, timestamp
from trading.prices import PRICE_SCALE

STARTING_CASH_DOLLARS = 100_000  # what a new Alpaca paper account starts with
MARGIN_MULTIPLIER = 2  # Reg T overnight buying power of a margin account


@dataclass(slots=True)
class Position:
    """A signed share count and its cost (1e-4 dollars * shares, signed like qty)."""

    qty: int = 0
    cost: int = 0

    def fill(self, signed_qty: int, price: int) -> None:
        if self.qty == 0 or (self.qty > 0) == (signed_qty > 0):
            self.qty += signed_qty
            self.cost += signed_qty * price
            return
        closing = min(abs(signed_qty), abs(self.qty))
        # Reducing keeps the average entry price; what goes beyond zero opens at `price`.
        self.cost -= self.cost * closing // abs(self.qty)
        self.qty += signed_qty
        rest = abs(signed_qty) - closing
        if self.qty == 0:
            self.cost = 0
        elif rest:
            self.cost = self.qty * price

    @property
    def avg_entry(self) -> Decimal:
        return Decimal(self.cost) / self.qty if self.qty else Decimal(0)


@dataclass
class AccountBook:
    """One account: cash and positions (prices in 1e-4 dollars)."""

    username: str
    created_ns: int
    cash: int = STARTING_CASH_DOLLARS * PRICE_SCALE
    positions: dict[str, Position] = field(default_factory=dict)

    def fill(self, symbol: str, buy: bool, shares: int, price: int) -> int:
        """Book a fill; returns the new signed position."""
        position = self.positions.setdefault(symbol, Position())
        signed = shares if buy else -shares
        position.fill(signed, price)
        self.cash -= signed * price
        if position.qty == 0:
            del self.positions[symbol]
        return position.qty

    def position_qty(self, symbol: str) -> int:
        position = self.positions.get(symbol)
        return position.qty if position else 0

    def market_values(self, marks: dict[str, int]) -> tuple[int, int]:
        """(long market value, short market value) at the given marks; short is <= 0."""
        long_value = short_value = 0
        for symbol, position in self.positions.items():
            value = position.qty * marks.get(symbol, 0)
            if value >= 0:
                long_value += value
            else:
                short_value += value
        return long_value, short_value

    def equity(self, marks: dict[str, int]) -> int:
        long_value, short_value = self.market_values(marks)
        return self.cash + long_value + short_value

    def buying_power(self, marks: dict[str, int], open_order_value: int) -> int:
        long_value, short_value = self.market_values(marks)
        gross = long_value - short_value
        return max(0, MARGIN_MULTIPLIER * self.equity(marks) - gross - open_order_value)

    def account_json(self, marks: dict[str, int], open_order_value: int) -> dict[str, Any]:
        """GET /v2/account: the fields of Alpaca's account object."""
        long_value, short_value = self.market_values(marks)
        equity = self.cash + long_value + short_value
        buying_power = money(self.buying_power(marks, open_order_value))
        margin = (long_value - short_value) // 2
        return {
            "id": stable_id("account", self.username),
            "account_number": "PA" + str(int(stable_id("number", self.username)[:8], 16)),
            "status": "ACTIVE",
            "crypto_status": "INACTIVE",
            "currency": "USD",
            "buying_power": buying_power,
            "regt_buying_power": buying_power,
            "daytrading_buying_power": "0",
            "non_marginable_buying_power": money(max(0, self.cash)),
            "options_buying_power": money(max(0, self.cash)),
            "cash": money(self.cash),
            "accrued_fees": "0",
            "pending_transfer_out": "0",
            "pending_transfer_in": "0",
            "portfolio_value": money(equity),
            "pattern_day_trader": False,
            "trading_blocked": False,
            "transfers_blocked": False,
            "account_blocked": False,
            "created_at": timestamp(self.created_ns),
            "trade_suspended_by_user": False,
            "multiplier": str(MARGIN_MULTIPLIER),
            "shorting_enabled": True,
            "equity": money(equity),
            "last_equity": money(STARTING_CASH_DOLLARS * PRICE_SCALE),
            "long_market_value": money(long_value),
            "short_market_value": money(short_value),
            "initial_margin": money(margin),
            "maintenance_margin": money(margin),
            "last_maintenance_margin": "0",
            "sma": "0",
            "daytrade_count": 0,
            "options_approved_level": 0,
            "options_trading_level": 0,
        }


def position_json(symbol: str, position: Position, mark: int, lastday: int) -> dict[str, Any]:
    """GET /v2/positions/{symbol}: the fields of Alpaca's position object."""
    qty = position.qty
    market_value = qty * mark
    cost = position.cost
    pl = market_value - cost
    plpc = Decimal(pl) / abs(cost) if cost else Decimal(0)
    intraday_pl = market_value - cost  # every position was opened today in the simulator
    change = Decimal(mark - lastday) / lastday if lastday else Decimal(0)
    return {
        "asset_id": asset_id(symbol),
        "symbol": symbol,
        "exchange": "NASDAQ",
        "asset_class": "us_equity",
        "asset_marginable": True,
        "avg_entry_price": money(position.avg_entry),
        "qty": str(qty),
        "qty_available": str(qty),
        "side": "long" if qty > 0 else "short",
        "market_value": money(market_value),
        "cost_basis": money(cost),
        "unrealized_pl": money(pl),
        "unrealized_plpc": _ratio(plpc),
        "unrealized_intraday_pl": money(intraday_pl),
        "unrealized_intraday_plpc": _ratio(
            Decimal(intraday_pl) / abs(cost) if cost else Decimal(0)
        ),
        "current_price": money(mark),
        "lastday_price": money(lastday),
        "change_today": _ratio(change),
        "swap_rate": None,
        "avg_entry_swap_rate": None,
        "usd": None,
    }


def _ratio(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.0000000001")).normalize(), "f")
