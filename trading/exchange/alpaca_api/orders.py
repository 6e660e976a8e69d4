"""Alpaca orders: the request rules and the order record in Alpaca's published JSON shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from trading.exchange.alpaca_api.wire import (
    ApiError,
    invalid,
    money,
    price_units,
    shares_of,
    stable_id,
    timestamp,
)

ORDER_TYPES = ("market", "limit", "stop", "stop_limit")
TIME_IN_FORCE = ("day", "gtc", "ioc", "fok")
SIDES = ("buy", "sell")
# An order in one of these states is done: GET /v2/orders?status=closed lists it.
CLOSED = frozenset({"filled", "canceled", "expired", "replaced", "rejected", "done_for_day"})
# Alpaca refuses to replace or cancel an order that is still on its way in.
NOT_YET_LIVE = frozenset({"accepted", "pending_new", "pending_cancel", "pending_replace"})
CLIENT_ORDER_ID_MAX = 128


@dataclass(slots=True)
class OrderSpec:
    """A validated order request (prices in 1e-4 dollars)."""

    symbol: str
    qty: int
    side: str
    type: str
    time_in_force: str
    limit_price: int | None
    stop_price: int | None
    client_order_id: str | None
    extended_hours: bool


@dataclass(slots=True)
class AlpacaOrder:
    """One Alpaca order of one account, as GET /v2/orders reports it."""

    id: str
    account: str
    client_order_id: str
    symbol: str
    qty: int
    side: str
    type: str
    time_in_force: str
    limit_price: int | None
    stop_price: int | None
    extended_hours: bool
    created_ns: int
    status: str = "pending_new"
    updated_ns: int = 0
    filled_qty: int = 0
    filled_value: int = 0  # sum of price * shares, for the average fill price
    filled_ns: int | None = None
    expired_ns: int | None = None
    canceled_ns: int | None = None
    failed_ns: int | None = None
    replaced_ns: int | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    token: str = ""  # the venue's order token while the order is at the venue
    triggered: bool = False  # a stop order sent on to the venue
    events: list[str] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.status not in CLOSED

    @property
    def leaves_qty(self) -> int:
        return 0 if not self.open else self.qty - self.filled_qty

    def to_json(self) -> dict[str, Any]:
        """The order object exactly as Alpaca's REST API and trade_updates stream publish it."""
        avg = None
        if self.filled_qty:
            avg = money(Decimal(self.filled_value) / self.filled_qty)
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": timestamp(self.created_ns),
            "updated_at": timestamp(self.updated_ns or self.created_ns),
            "submitted_at": timestamp(self.created_ns),
            "filled_at": _time(self.filled_ns),
            "expired_at": _time(self.expired_ns),
            "expires_at": None,
            "canceled_at": _time(self.canceled_ns),
            "failed_at": _time(self.failed_ns),
            "replaced_at": _time(self.replaced_ns),
            "replaced_by": self.replaced_by,
            "replaces": self.replaces,
            "asset_id": asset_id(self.symbol),
            "symbol": self.symbol,
            "asset_class": "us_equity",
            "notional": None,
            "qty": str(self.qty),
            "filled_qty": str(self.filled_qty),
            "filled_avg_price": avg,
            "order_class": "",
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "position_intent": _intent(self.side),
            "time_in_force": self.time_in_force,
            "limit_price": None if self.limit_price is None else money(self.limit_price),
            "stop_price": None if self.stop_price is None else money(self.stop_price),
            "status": self.status,
            "extended_hours": self.extended_hours,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
            "ratio_qty": None,
        }


def asset_id(symbol: str) -> str:
    return stable_id("asset", symbol)


def parse_order_request(body: Any, tick: int, symbols: dict[str, Any]) -> OrderSpec:
    """POST /v2/orders' JSON body to an `OrderSpec`; `ApiError` 422 for what is not accepted."""
    if not isinstance(body, dict):
        raise invalid("request body must be a JSON object")
    symbol = body.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise invalid("symbol is required")
    symbol = symbol.upper()
    if symbol not in symbols:
        raise invalid(f"asset {symbol} not found")
    if body.get("notional") is not None:
        raise invalid("notional orders are not supported: give qty in whole shares")
    if body.get("qty") is None:
        raise invalid("qty is required")
    qty = shares_of(body["qty"])
    side = _choice(body, "side", SIDES)
    kind = _choice(body, "type", ORDER_TYPES + ("trailing_stop",), default=body.get("order_type"))
    if kind == "trailing_stop":
        raise invalid("trailing_stop orders are not supported")
    tif = _choice(body, "time_in_force", TIME_IN_FORCE + ("opg", "cls"))
    if tif in ("opg", "cls"):
        raise invalid(f"time_in_force {tif} is not supported: the simulator has no auctions")
    order_class = body.get("order_class") or "simple"
    if order_class != "simple":
        raise invalid(f"order_class {order_class} is not supported")
    limit = _price(body, "limit_price", tick, required=kind in ("limit", "stop_limit"))
    stop = _price(body, "stop_price", tick, required=kind in ("stop", "stop_limit"))
    if kind in ("market", "stop") and limit is not None:
        raise invalid(f"limit_price must not be given for a {kind} order")
    if kind in ("market", "limit") and stop is not None:
        raise invalid(f"stop_price must not be given for a {kind} order")
    if kind in ("market", "stop") and tif == "gtc":
        # The venue trades a market order at once and cancels the rest: nothing would rest.
        raise invalid(f"time_in_force gtc is not supported for {kind} orders")
    client_order_id = body.get("client_order_id")
    if client_order_id is not None:
        if not isinstance(client_order_id, str) or not client_order_id:
            raise invalid("client_order_id must be a non-empty string")
        if len(client_order_id) > CLIENT_ORDER_ID_MAX:
            raise invalid(f"client_order_id must be at most {CLIENT_ORDER_ID_MAX} characters")
    extended = body.get("extended_hours") or False
    if not isinstance(extended, bool):
        raise invalid("extended_hours must be true or false")
    return OrderSpec(symbol, qty, side, kind, tif, limit, stop, client_order_id, extended)


def parse_replace_request(body: Any, order: AlpacaOrder, tick: int) -> dict[str, Any]:
    """PATCH /v2/orders/{id}'s body: the attributes that change (qty, prices, tif, id)."""
    if not isinstance(body, dict) or not body:
        raise invalid("request body must be a JSON object with at least one field")
    changes: dict[str, Any] = {}
    if body.get("qty") is not None:
        changes["qty"] = shares_of(body["qty"])
        if changes["qty"] <= order.filled_qty:
            raise invalid(f"qty must be more than the {order.filled_qty} shares already filled")
    if body.get("time_in_force") is not None:
        changes["time_in_force"] = _choice(body, "time_in_force", TIME_IN_FORCE)
    if body.get("limit_price") is not None:
        if order.type not in ("limit", "stop_limit"):
            raise invalid(f"limit_price cannot be set on a {order.type} order")
        changes["limit_price"] = _price(body, "limit_price", tick, required=True)
    if body.get("stop_price") is not None:
        if order.type not in ("stop", "stop_limit"):
            raise invalid(f"stop_price cannot be set on a {order.type} order")
        changes["stop_price"] = _price(body, "stop_price", tick, required=True)
    if body.get("trail") is not None:
        raise invalid("trail is only for trailing_stop orders, which are not supported")
    client_order_id = body.get("client_order_id")
    if client_order_id is not None:
        if not isinstance(client_order_id, str) or not client_order_id:
            raise invalid("client_order_id must be a non-empty string")
        changes["client_order_id"] = client_order_id
    return changes


def _choice(body: dict, key: str, allowed: tuple[str, ...], default: Any = None) -> str:
    value = body.get(key, default)
    if value is None:
        raise invalid(f"{key} is required")
    if value not in allowed:
        raise invalid(f"invalid {key} {value!r}: one of {', '.join(allowed)}")
    return str(value)


def _price(body: dict, key: str, tick: int, required: bool) -> int | None:
    value = body.get(key)
    if value is None:
        if required:
            raise invalid(f"{key} is required")
        return None
    return price_units(value, key, tick)


def _time(epoch_ns: int | None) -> str | None:
    return None if epoch_ns is None else timestamp(epoch_ns)


def _intent(side: str) -> str:
    # The simulator does not split opening from closing trades; Alpaca's default intent.
    return "buy_to_open" if side == "buy" else "sell_to_close"


__all__ = ["ApiError", "AlpacaOrder", "OrderSpec", "parse_order_request"]
