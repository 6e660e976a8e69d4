"""Reading the desk's state for the API: the ledger's rows and the engine's published state.

List selectors read with `.values()` (no model instances) in the order an existing index
gives: orders by (account, order_id) — ids only grow, so the highest id is the newest order —
fills, equity points and audit events by their indexed `ts`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import redis
from django.conf import settings
from django.db.models import F, QuerySet, Window
from django.db.models.functions import Mod, RowNumber

from api.schemas import (
    AuditFilters,
    EquityParams,
    OrderFilters,
    PageParams,
    SymbolFilters,
    TimeRange,
)
from ledger.engine_control import default_account, read_state
from ledger.models import (
    _RISK_FIELDS,
    AuditEvent,
    EquityPoint,
    Fill,
    Order,
    PositionSnapshot,
    RiskLimitSet,
)
from trading.portfolio.positions import Portfolio, to_dollars
from trading.prices import PRICE_SCALE

SIDE_NAMES = {1: "BUY", -1: "SELL"}
SIDE_CODES = {name: code for code, name in SIDE_NAMES.items()}

ORDER_FIELDS = (
    "order_id", "symbol", "side", "qty", "price", "tif", "strategy", "state", "filled_qty",
    "avg_fill_price", "reason", "created_at", "updated_at",
)  # fmt: skip
FILL_FIELDS = (
    "ts", "order_id", "symbol", "side", "qty", "price", "match_number", "liquidity", "strategy",
)  # fmt: skip
AUDIT_FIELDS = ("id", "ts", "who", "action", "detail", "result")
LIMIT_FIELDS = tuple(_RISK_FIELDS)


def desk_account() -> str:
    """The account the API speaks for: `DESK_ACCOUNT` when set, else the configured engine's."""
    return getattr(settings, "DESK_ACCOUNT", "") or default_account()


def _in_range(queryset: QuerySet, field: str, window: TimeRange) -> QuerySet:
    if window.since is not None:
        queryset = queryset.filter(**{f"{field}__gte": window.since})
    if window.until is not None:
        queryset = queryset.filter(**{f"{field}__lt": window.until})
    return queryset


def _page(queryset: QuerySet, page: PageParams, row: Any) -> dict[str, Any]:
    items = [row(values) for values in queryset[page.offset : page.offset + page.limit]]
    return {"total": queryset.count(), "limit": page.limit, "offset": page.offset, "items": items}


# -- engine ---------------------------------------------------------------------------------


def engine_state(account: str) -> dict[str, Any]:
    """The engine's last published state with its age (`state` None: never published)."""
    current = read_state(account)
    published = current.published_at > 0
    return {
        "account": account,
        "state": current.state,
        "seq": current.seq,
        "published_at": datetime.fromtimestamp(current.published_at, UTC) if published else None,
        "age_s": round(current.age_s, 3) if published else None,
        "stale": current.stale,
    }


def _fresh_engine_state(account: str) -> tuple[dict[str, Any] | None, datetime | None]:
    """The engine's state when it is live (and Redis reachable), else (None, None)."""
    try:
        current = read_state(account)
    except redis.RedisError:
        return None, None
    if current.state is None or current.stale:
        return None, None
    return current.state, datetime.fromtimestamp(current.published_at, UTC)


# -- orders and executions ------------------------------------------------------------------


def _order_row(values: dict[str, Any]) -> dict[str, Any]:
    return {
        **values,
        "side": SIDE_NAMES.get(values["side"], "BUY"),
        "price": values["price"] / PRICE_SCALE,
        "avg_fill_price": values["avg_fill_price"] / PRICE_SCALE,
    }


def order_rows(account: str, filters: OrderFilters) -> QuerySet:
    """The account's orders matching `filters`, newest first, as value dicts."""
    queryset = Order.objects.filter(account=account)
    if filters.symbol:
        queryset = queryset.filter(symbol=filters.symbol.upper())
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.side:
        queryset = queryset.filter(side=SIDE_CODES[filters.side])
    queryset = _in_range(queryset, "created_at", filters)
    return queryset.order_by("-order_id").values(*ORDER_FIELDS)


def order_page(account: str, filters: OrderFilters, page: PageParams) -> dict[str, Any]:
    return _page(order_rows(account, filters), page, _order_row)


def order_detail(account: str, order_id: int) -> dict[str, Any] | None:
    values = Order.objects.filter(account=account, order_id=order_id).values(*ORDER_FIELDS).first()
    return None if values is None else _order_row(values)


def _fill_row(values: dict[str, Any]) -> dict[str, Any]:
    return {
        **values,
        "side": SIDE_NAMES.get(values["side"], "BUY"),
        "price": values["price"] / PRICE_SCALE,
    }


def execution_rows(account: str, filters: SymbolFilters) -> QuerySet:
    """The account's fills matching `filters`, newest first, as value dicts."""
    queryset = Fill.objects.filter(account=account)
    if filters.symbol:
        queryset = queryset.filter(symbol=filters.symbol.upper())
    queryset = _in_range(queryset, "ts", filters)
    return queryset.order_by("-ts", "-id").values(*FILL_FIELDS)


def execution_page(account: str, filters: SymbolFilters, page: PageParams) -> dict[str, Any]:
    return _page(execution_rows(account, filters), page, _fill_row)


# -- portfolio ------------------------------------------------------------------------------


def _ledger_portfolio(account: str) -> tuple[Portfolio | None, datetime | None]:
    latest = (
        PositionSnapshot.objects.filter(account=account)
        .order_by("-ts")
        .values("ts", "snapshot")
        .first()
    )
    if latest is None:
        return None, None
    return Portfolio.restore(latest["snapshot"]), latest["ts"]


def _positions_of(portfolio: Portfolio) -> list[dict[str, Any]]:
    """The engine's own per-position view (`TradingEngine.status`), from a stored portfolio."""
    held = portfolio.open_positions() + [
        p for p in portfolio.positions.values() if not p.qty and p.realised
    ]
    return [
        {
            "symbol": p.symbol,
            "qty": p.qty,
            "avg_price": p.avg_price / PRICE_SCALE,
            "mark": p.mark_price / PRICE_SCALE,
            "unrealised": to_dollars(p.unrealised),
            "realised": to_dollars(p.realised),
            "total": to_dollars(p.total_pnl),
        }
        for p in held
    ]


def positions(account: str) -> dict[str, Any]:
    """Positions from the live engine when it is publishing, else from the ledger's last
    snapshot; `source` says which."""
    state, as_of = _fresh_engine_state(account)
    if state is not None:
        rows = [{"symbol": symbol, **row} for symbol, row in state.get("positions", {}).items()]
        return {"account": account, "source": "engine", "as_of": as_of, "positions": rows}
    portfolio, as_of = _ledger_portfolio(account)
    if portfolio is None:
        return {"account": account, "source": "none", "as_of": None, "positions": []}
    return {
        "account": account,
        "source": "ledger",
        "as_of": as_of,
        "positions": _positions_of(portfolio),
    }


def pnl(account: str) -> dict[str, Any]:
    """Realised, unrealised, daily P&L and equity (dollars), live or from the ledger."""
    state, as_of = _fresh_engine_state(account)
    if state is not None:
        return {
            "account": account,
            "source": "engine",
            "as_of": as_of,
            "realised": state.get("realised"),
            "unrealised": state.get("unrealised"),
            "daily": state.get("daily_pnl"),
            "equity": state.get("equity"),
        }
    portfolio, as_of = _ledger_portfolio(account)
    if portfolio is None:
        return {
            "account": account, "source": "none", "as_of": None,
            "realised": None, "unrealised": None, "daily": None, "equity": None,
        }  # fmt: skip
    return {
        "account": account,
        "source": "ledger",
        "as_of": as_of,
        "realised": to_dollars(portfolio.realised),
        "unrealised": to_dollars(portfolio.unrealised),
        "daily": to_dollars(portfolio.daily_pnl),
        "equity": to_dollars(portfolio.equity),
    }


def equity_series(account: str, params: EquityParams) -> dict[str, Any]:
    """Equity points in the range, oldest first, thinned in the database to at most
    `params.points` by keeping every `step`-th one."""
    queryset = _in_range(EquityPoint.objects.filter(account=account), "ts", params)
    total = queryset.count()
    step = max(1, math.ceil(total / params.points))
    if step > 1:
        queryset = queryset.annotate(
            row=Window(RowNumber(), order_by=[F("ts").asc(), F("id").asc()])
        ).annotate(slot=Mod(F("row") - 1, step))
        queryset = queryset.filter(slot=0)
    rows = queryset.order_by("ts", "id").values("ts", "equity", "realised", "unrealised")
    points = [
        {
            "ts": row["ts"],
            "equity": float(row["equity"]),
            "realised": float(row["realised"]),
            "unrealised": float(row["unrealised"]),
        }
        for row in rows
    ]
    return {"account": account, "total": total, "step": step, "points": points}


# -- limits and audit -----------------------------------------------------------------------


def limits(account: str) -> dict[str, Any] | None:
    """The account's stored risk limits, or None when the engine has not seeded them yet."""
    return (
        RiskLimitSet.objects.filter(account=account)
        .values("account", "updated_at", "updated_by", *LIMIT_FIELDS)
        .first()
    )


def audit_page(filters: AuditFilters, page: PageParams) -> dict[str, Any]:
    """Audit events matching `filters`, newest first."""
    queryset = AuditEvent.objects.all()
    if filters.action:
        queryset = queryset.filter(action=filters.action)
    if filters.who:
        queryset = queryset.filter(who=filters.who)
    queryset = _in_range(queryset, "ts", filters).order_by("-ts", "-id")
    return _page(queryset.values(*AUDIT_FIELDS), page, dict)
