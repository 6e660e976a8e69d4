"""Alpaca records in the broker's published JSON format, for building alpaca-py models."""

from __future__ import annotations

import uuid
from typing import Any

from alpaca.trading.models import Order, TradeUpdate

from trading.venues.alpaca.settings import AlpacaSettings

NOW = "2026-11-23T14:30:00.123456Z"


def settings(**overrides: Any) -> AlpacaSettings:
    values: dict[str, Any] = {
        "venue": "alpaca-paper",
        "api_key": "PKTESTKEY0123456789",
        "secret_key": "sEcReT-never-in-logs-0123456789",
        "trading_url": "http://127.0.0.1:9",
        "trade_stream_url": "ws://127.0.0.1:9/stream",
        "data_stream_url": "ws://127.0.0.1:9/v2/iex",
        "reconnect_min_s": 0.05,
        "reconnect_max_s": 0.5,
    }
    values.update(overrides)
    return AlpacaSettings(**values)


def order_json(
    client_order_id: str,
    *,
    order_id: str | None = None,
    symbol: str = "AAPL",
    qty: int = 100,
    filled_qty: int = 0,
    filled_avg_price: str | None = None,
    side: str = "buy",
    order_type: str = "limit",
    limit_price: str | None = "190.5",
    stop_price: str | None = None,
    time_in_force: str = "day",
    status: str = "new",
) -> dict[str, Any]:
    """An order as Alpaca's REST API and trade_updates stream send it."""
    return {
        "id": order_id or str(uuid.uuid4()),
        "client_order_id": client_order_id,
        "created_at": NOW,
        "updated_at": NOW,
        "submitted_at": NOW,
        "filled_at": None,
        "expired_at": None,
        "canceled_at": None,
        "failed_at": None,
        "replaced_at": None,
        "replaced_by": None,
        "replaces": None,
        "asset_id": "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415",
        "symbol": symbol,
        "asset_class": "us_equity",
        "notional": None,
        "qty": str(qty),
        "filled_qty": str(filled_qty),
        "filled_avg_price": filled_avg_price,
        "order_class": "simple",
        "order_type": order_type,
        "type": order_type,
        "side": side,
        "time_in_force": time_in_force,
        "limit_price": limit_price,
        "stop_price": stop_price,
        "status": status,
        "extended_hours": False,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
    }


def order(client_order_id: str, **kwargs: Any) -> Order:
    return Order(**order_json(client_order_id, **kwargs))


def trade_update(
    event: str,
    order_data: dict[str, Any],
    *,
    execution_id: str | None = None,
    price: str | None = None,
    qty: str | None = None,
    position_qty: str | None = None,
) -> TradeUpdate:
    """A trade_updates event's `data` as alpaca-py's TradingStream casts it."""
    data: dict[str, Any] = {"event": event, "order": order_data, "timestamp": NOW}
    if execution_id is not None:
        data.update(execution_id=execution_id, price=price, qty=qty, position_qty=position_qty)
    return TradeUpdate(**data)
