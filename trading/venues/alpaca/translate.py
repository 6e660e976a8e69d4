"""Pure translation between the engine's records and Alpaca's (alpaca-py's) requests and models.

Prices in the engine are integers of 1e-4 dollars; Alpaca speaks dollars as strings or floats.
Order ids travel as client order ids (`<prefix><order id>`), so every broker message names the
engine order it is about. Executions become OUCH Executed messages whose match number is a
stable int64 derived from the broker's execution id, so the same execution seen twice (a
stream replay, a catch-up after a reconnect) is recognisably the same.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from alpaca.trading.enums import OrderSide
from alpaca.trading.enums import TimeInForce as AlpacaTif
from alpaca.trading.requests import (
    LimitOrderRequest,
    MarketOrderRequest,
    OrderRequest,
    ReplaceOrderRequest,
    StopLimitOrderRequest,
    StopOrderRequest,
)

from trading.model.orders import BUY, OrderIntent, TimeInForce
from trading.prices import PRICE_SCALE
from trading.protocols import ouch

DEFAULT_CLIENT_ID_PREFIX = "desk-"
_INT63 = (1 << 63) - 1

TIF_TO_ALPACA = {
    TimeInForce.IOC: AlpacaTif.IOC,
    TimeInForce.DAY: AlpacaTif.DAY,
    TimeInForce.GTC: AlpacaTif.GTC,
}
TIF_FROM_ALPACA = {value.value: key for key, value in TIF_TO_ALPACA.items()}
# The OUCH time-in-force codes the engine's own gateway would have sent for the same order.
TIF_TO_OUCH = {
    TimeInForce.IOC: ouch.TIF_IMMEDIATE_OR_CANCEL,
    TimeInForce.DAY: ouch.TIF_MARKET_HOURS,
    TimeInForce.GTC: ouch.TIF_SYSTEM_HOURS,
}


class TranslationError(ValueError):
    """A broker record the engine cannot represent (named field, reason)."""


# -- ids ---------------------------------------------------------------------------------------


def client_order_id(order_id: int, prefix: str = DEFAULT_CLIENT_ID_PREFIX) -> str:
    """The client order id under which the engine's order `order_id` goes to Alpaca."""
    return f"{prefix}{order_id}"


def order_id_from_client(client_id: str | None, prefix: str = DEFAULT_CLIENT_ID_PREFIX) -> int:
    """The engine order id behind a client order id, or 0 for an order the engine did not
    place (a manual order in the same account, another program's)."""
    if not client_id or not client_id.startswith(prefix):
        return 0
    rest = client_id[len(prefix) :]
    return int(rest) if rest.isdigit() else 0


def match_number(execution_id: uuid.UUID | str) -> int:
    """A stable positive int64 for a broker execution id (the same id, the same number)."""
    value = execution_id if isinstance(execution_id, uuid.UUID) else uuid.UUID(str(execution_id))
    return (value.int & _INT63) or 1


def synthetic_match_number(client_id: str, cumulative_qty: int) -> int:
    """The match number of an execution learnt from an order's state rather than from the
    stream (after a reconnect): stable for the same order and cumulative quantity."""
    digest = hashlib.blake2b(f"{client_id}:{cumulative_qty}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") & _INT63) or 1


# -- prices and quantities ---------------------------------------------------------------------


def to_price(value: Any, field: str = "price") -> int:
    """Dollars (a string, float or int from the broker) as integer 1e-4 dollars."""
    if value is None or value == "":
        return 0
    try:
        scaled = (Decimal(str(value)) * PRICE_SCALE).quantize(Decimal(1), ROUND_HALF_EVEN)
    except InvalidOperation:
        raise TranslationError(f"{field}: {value!r} is not a price") from None
    if scaled < 0:
        raise TranslationError(f"{field}: {value!r} is negative")
    return int(scaled)


def to_dollars(price: int) -> float:
    """Integer 1e-4 dollars as the float dollars alpaca-py's requests take."""
    return float(Decimal(price) / PRICE_SCALE)


def to_shares(value: Any, field: str = "qty") -> int:
    """A broker quantity (string or float) as whole shares; fractions are refused."""
    if value is None or value == "":
        return 0
    try:
        qty = Decimal(str(value))
    except InvalidOperation:
        raise TranslationError(f"{field}: {value!r} is not a quantity") from None
    if qty != qty.to_integral_value():
        raise TranslationError(f"{field}: {value!r} is a fractional quantity")
    return int(qty)


# -- orders out --------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class OrderSpec:
    """What kind of order an intent becomes: market (no prices), limit (limit price), stop
    (stop price only) or stop-limit (both); prices in 1e-4 dollars."""

    limit_price: int = 0
    stop_price: int = 0

    @property
    def kind(self) -> str:
        if self.stop_price:
            return "stop_limit" if self.limit_price else "stop"
        return "limit" if self.limit_price else "market"


def order_request(intent: OrderIntent, client_id: str, *, stop_price: int = 0) -> OrderRequest:
    """The alpaca-py request for an engine order (`intent.price` 0: market; with
    `stop_price`: stop or stop-limit)."""
    if intent.qty <= 0:
        raise TranslationError(f"qty: {intent.qty} is not a positive number of shares")
    if stop_price < 0 or intent.price < 0:
        raise TranslationError("price: negative prices cannot be sent")
    common: dict[str, Any] = {
        "symbol": intent.symbol,
        "qty": intent.qty,
        "side": OrderSide.BUY if intent.side == BUY else OrderSide.SELL,
        "time_in_force": TIF_TO_ALPACA[intent.tif],
        "client_order_id": client_id,
    }
    spec = OrderSpec(intent.price, stop_price)
    if spec.kind == "market":
        return MarketOrderRequest(**common)
    if spec.kind == "limit":
        return LimitOrderRequest(limit_price=to_dollars(intent.price), **common)
    if spec.kind == "stop":
        return StopOrderRequest(stop_price=to_dollars(stop_price), **common)
    return StopLimitOrderRequest(
        limit_price=to_dollars(intent.price), stop_price=to_dollars(stop_price), **common
    )


def replace_request(
    total_shares: int, price: int, tif: TimeInForce, new_client_id: str
) -> ReplaceOrderRequest:
    """The alpaca-py request replacing an order with `total_shares` at `price` (0: keep the
    price, as for a market order)."""
    if total_shares <= 0:
        raise TranslationError(f"qty: {total_shares} is not a positive number of shares")
    return ReplaceOrderRequest(
        qty=total_shares,
        time_in_force=TIF_TO_ALPACA[tif],
        limit_price=to_dollars(price) if price else None,
        client_order_id=new_client_id,
    )


# -- answers in --------------------------------------------------------------------------------


def accepted(
    order_id: int,
    client_id: str,
    *,
    side: int,
    shares: int,
    symbol: str,
    price: int,
    tif: TimeInForce,
    reference: int,
    timestamp_ns: int = 0,
) -> Any:
    """An OUCH Accepted for an order the broker took."""
    return ouch.Accepted(
        timestamp_ns, client_id, ouch.BUY if side == BUY else ouch.SELL, shares, symbol,
        price, TIF_TO_OUCH[tif], "", ouch.DISPLAY_VISIBLE, reference, ouch.CAPACITY_PRINCIPAL,
        ouch.ISO_NOT_ELIGIBLE, 0, ouch.CROSS_NONE, ouch.ORDER_STATE_LIVE,
        ouch.BBO_WEIGHT_UNSPECIFIED,
    )  # fmt: skip


def executed(client_id: str, shares: int, price: int, match: int, timestamp_ns: int = 0) -> Any:
    """An OUCH Executed. Alpaca does not say whether we added or removed liquidity."""
    return ouch.Executed(timestamp_ns, client_id, shares, price, " ", match)


def canceled(client_id: str, shares: int, reason: str, timestamp_ns: int = 0) -> Any:
    """An OUCH Canceled of `shares` (the whole remainder: Alpaca cancels whole orders)."""
    return ouch.Canceled(timestamp_ns, client_id, shares, reason)


def rejected(client_id: str, reason: str, timestamp_ns: int = 0) -> Any:
    """An OUCH Rejected with one of its reason codes."""
    return ouch.Rejected(timestamp_ns, client_id, reason)


def cancel_reason(event: str, tif: TimeInForce) -> str:
    """The OUCH cancel reason for an Alpaca terminal event."""
    if event in ("expired", "done_for_day"):
        return str(ouch.CancelReason.TIMEOUT)
    if tif == TimeInForce.IOC:
        return str(ouch.CancelReason.IMMEDIATE_OR_CANCEL)
    return str(ouch.CancelReason.USER_REQUESTED)


def reject_reason(message: str) -> str:
    """The OUCH reject reason that best names a broker's refusal (its text is logged)."""
    text = message.lower()
    if "asset" in text or "symbol" in text or "not found" in text:
        return str(ouch.RejectReason.INVALID_STOCK)
    if "price" in text:
        return str(ouch.RejectReason.INVALID_PRICE)
    if "buying power" in text or "insufficient" in text:
        return str(ouch.RejectReason.EXCEEDED_DOLLAR_VALUE_LIMIT)
    if "qty" in text or "quantity" in text:
        return str(ouch.RejectReason.SHARES_EXCEED_SAFETY_THRESHOLD)
    if "closed" in text or "market hours" in text:
        return str(ouch.RejectReason.CLOSED)
    if "halt" in text:
        return str(ouch.RejectReason.HALTED)
    return str(ouch.RejectReason.OTHER)


def order_reference(broker_id: Any) -> int:
    """An int64 reference for the broker's order id (for the Accepted message)."""
    try:
        return match_number(broker_id)
    except (ValueError, TypeError, AttributeError):
        return 0
