"""What the API accepts and returns. Money is dollars; quantities are shares."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from django.utils import timezone
from ninja import Field, Schema
from pydantic import field_validator

from ledger.models import STATE_CHOICES
from trading.prices import PRICE_SCALE

SYMBOL_PATTERN = r"^[A-Za-z0-9.\-]{1,12}$"
MAX_BIGINT = 2**63 - 1
MAX_OFFSET = 1_000_000_000

OrderStateName = Literal[tuple(value for value, _ in STATE_CHOICES)]  # type: ignore[valid-type]
Side = Literal["BUY", "SELL"]
TimeInForce = Literal["DAY", "IOC", "GTC"]
ControlKind = Literal["start", "pause", "resume", "stop", "flatten_all", "kill", "reload_limits"]


def _utc(value: datetime | None) -> datetime | None:
    """An aware UTC time (a naive one is read in the desk's time zone)."""
    if value is None:
        return None
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("is outside the representable range of times") from None


class TimeRange(Schema):
    since: datetime | None = Field(None, description="inclusive lower bound (ISO 8601)")
    until: datetime | None = Field(None, description="exclusive upper bound (ISO 8601)")

    @field_validator("since", "until")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class OrderFilters(TimeRange):
    symbol: str | None = Field(None, pattern=SYMBOL_PATTERN)
    state: OrderStateName | None = None
    side: Side | None = None


class SymbolFilters(TimeRange):
    symbol: str | None = Field(None, pattern=SYMBOL_PATTERN)


class AuditFilters(TimeRange):
    action: str | None = Field(None, max_length=100, pattern=r"^[\w.\-]+$")
    who: str | None = Field(None, max_length=150, pattern=r"^[\w.@+\- ()]+$")


class EquityParams(TimeRange):
    points: int = Field(500, ge=2, le=5000, description="at most this many points")


# -- engine ---------------------------------------------------------------------------------


class EngineStateOut(Schema):
    account: str
    state: dict[str, Any] | None
    seq: int
    published_at: datetime | None
    age_s: float | None
    stale: bool


class CommandIn(Schema):
    kind: ControlKind
    args: dict[str, Any] | None = None

    @field_validator("args")
    @classmethod
    def _plain_json(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            text = json.dumps(value)
            if "\\u0000" in text:
                raise ValueError("must not contain NUL characters")
            if len(text) > 4096:
                raise ValueError("must be at most 4096 characters as JSON")
        return value


class CommandAckOut(Schema):
    command_id: str
    ok: bool
    state: str
    reason: str


class ErrorOut(Schema):
    detail: Any


class UnansweredOut(Schema):
    detail: str
    command_id: str


class RefusedOut(Schema):
    detail: str
    state: str
    command_id: str


# -- orders and executions --------------------------------------------------------------------


class OrderOut(Schema):
    order_id: int
    symbol: str
    side: Side
    qty: int
    price: float = Field(description="dollars; 0 for a market order")
    tif: str
    strategy: str
    state: str
    filled_qty: int
    avg_fill_price: float = Field(description="dollars")
    reason: str
    created_at: datetime
    updated_at: datetime


class OrderPage(Schema):
    total: int
    limit: int
    offset: int
    items: list[OrderOut]


class ManualOrderIn(Schema):
    symbol: str = Field(pattern=SYMBOL_PATTERN)
    side: Side
    qty: int = Field(ge=1, le=10_000_000)
    price: float = Field(0.0, ge=0, le=1_000_000, allow_inf_nan=False, description="0: market")
    tif: TimeInForce = "DAY"

    @field_validator("symbol")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("price")
    @classmethod
    def _ticks(cls, value: float) -> float:
        if abs(round(value * PRICE_SCALE) - value * PRICE_SCALE) > 1e-6:
            raise ValueError("must have at most 4 decimal places")
        return value


class ManualOrderOut(Schema):
    order_id: int
    command_id: str
    state: str
    reason: str


class ExecutionOut(Schema):
    ts: datetime
    order_id: int
    symbol: str
    side: Side
    qty: int
    price: float = Field(description="dollars")
    match_number: int
    liquidity: str
    strategy: str


class ExecutionPage(Schema):
    total: int
    limit: int
    offset: int
    items: list[ExecutionOut]


# -- portfolio ------------------------------------------------------------------------------

Source = Literal["engine", "ledger", "none"]


class PositionOut(Schema):
    symbol: str
    qty: int
    avg_price: float
    mark: float
    unrealised: float
    realised: float
    total: float


class PositionsOut(Schema):
    account: str
    source: Source
    as_of: datetime | None
    positions: list[PositionOut]


class PnlOut(Schema):
    account: str
    source: Source
    as_of: datetime | None
    realised: float | None
    unrealised: float | None
    daily: float | None
    equity: float | None


class EquityPointOut(Schema):
    ts: datetime
    equity: float
    realised: float
    unrealised: float


class EquityOut(Schema):
    account: str
    total: int = Field(description="points stored in the range before downsampling")
    step: int = Field(description="one stored point kept in every `step`")
    points: list[EquityPointOut]


# -- limits and audit -----------------------------------------------------------------------


def _int_limit() -> Any:
    return Field(ge=-MAX_BIGINT, le=MAX_BIGINT)


def _float_limit() -> Any:
    return Field(allow_inf_nan=False, ge=-1e300, le=1e300)


class LimitsIn(Schema):
    max_position_shares: int = _int_limit()
    max_total_position_shares: int = _int_limit()
    max_order_shares: int = _int_limit()
    max_order_notional: float = _float_limit()
    max_gross_exposure: float = _float_limit()
    max_orders_per_s: float = _float_limit()
    daily_loss_limit: float = _float_limit()
    price_collar_pct: float = _float_limit()


class LimitsOut(LimitsIn):
    account: str
    updated_at: datetime | None
    updated_by: str


class AuditOut(Schema):
    id: int
    ts: datetime
    who: str
    action: str
    detail: Any
    result: str


class AuditPage(Schema):
    total: int
    limit: int
    offset: int
    items: list[AuditOut]
