"""A realistic engine `status()` for the monitor's tests, with the figures they check."""

from __future__ import annotations

import copy
from typing import Any

_STATUS: dict[str, Any] = {
    "positions": {
        "MSFT": {
            "qty": -50,
            "avg_price": 410.0,
            "mark": 409.0,
            "unrealised": 50.0,
            "realised": -10.0,
            "total": 40.0,
        },
        "AAPL": {
            "qty": 300,
            "avg_price": 190.25,
            "mark": 191.0,
            "unrealised": 225.0,
            "realised": 100.0,
            "total": 325.0,
        },
    },
    "realised": 90.0,
    "unrealised": 275.0,
    "daily_pnl": 365.0,
    "equity": 1_000_365.0,
    "state": "ACTIVE",
    "risk_state": "ACTIVE",
    "risk_reason": "",
    "limits": {
        "max_position_shares": 1_000,
        "max_total_position_shares": 2_000,
        "max_order_shares": 500,
        "max_order_notional": 250_000.0,
        "max_gross_exposure": 1_000_000.0,
        "max_orders_per_s": 100,
        "daily_loss_limit": 10_000.0,
        "price_collar_pct": 5.0,
    },
    "risk_usage": {
        "position": 0.3,
        "total_position": 0.175,
        "order_rate": 0.75,
        "daily_loss": 0.0,
        "gross_exposure": 0.077,
        "circuit_breaker": 0.95,
    },
    "working_orders": 2,
    "working": [
        {
            "order_id": 41,
            "symbol": "AAPL",
            "side": "BUY",
            "qty": 100,
            "working": 100,
            "price": 190.9,
            "state": "NEW",
            "strategy": "mm",
        }
    ],
    "fills": [
        {
            "order_id": 7,
            "symbol": "AAPL",
            "side": "BUY",
            "qty": 100,
            "price": 190.0,
            "match": 11,
            "strategy": "mm",
            "wall_ts": 1_700_000_000.0,
            "latency_us": 85.5,
        },
        {
            "order_id": 9,
            "symbol": "MSFT",
            "side": "SELL",
            "qty": 50,
            "price": 410.0,
            "match": 12,
            "strategy": "momentum",
            "wall_ts": 1_700_000_001.5,
            "latency_us": 1_250.0,
        },
    ],
    "counters": {
        "intents": 120,
        "orders": 100,
        "cancels": 30,
        "risk_rejects": 4,
        "risk_reduced": 1,
        "venue_rejects": 1,
        "fills": 40,
        "filled_shares": 3_500,
        "anomalies": 0,
        "venue_resets": 0,
        "reject_reasons": {"max_order_shares": 4},
    },
    "latency_us": {
        "feed_to_signal": {
            "p50": 3.2,
            "p95": 5.0,
            "p99": 8.0,
            "p999": 20.0,
            "max": 31.0,
            "count": 900,
        },
        "signal_to_risk": {
            "p50": 1.1,
            "p95": 1.8,
            "p99": 2.5,
            "p999": 6.0,
            "max": 9.0,
            "count": 120,
        },
        "risk_to_wire": {
            "p50": 4.0,
            "p95": 6.0,
            "p99": 9.0,
            "p999": 15.0,
            "max": 22.0,
            "count": 100,
        },
        "tick_to_order": {
            "p50": 12.5,
            "p95": 20.0,
            "p99": 48.0,
            "p999": 90.0,
            "max": 130.0,
            "count": 100,
        },
        "order_to_ack": {
            "p50": 80.0,
            "p95": 150.0,
            "p99": 400.0,
            "p999": 900.0,
            "max": 2_500.0,
            "count": 100,
        },
        "control_step": {"p50": 2.0, "p95": 3.0, "p99": 5.0, "p999": 8.0, "max": 12.0, "count": 50},
    },
    "venue": {
        "name": "sim",
        "order_connected": True,
        "order_reconnects": 0,
        "feed_connected": True,
    },
    "feed": {
        "messages": 9_000,
        "next_sequence": 9_001,
        "gaps": 0,
        "resyncs": 0,
        "reconnects": 0,
        "malformed": 0,
    },
    "strategies": ["mm", "momentum"],
}


def engine_status(**changes: Any) -> dict[str, Any]:
    """A fresh copy of the sample status; `counters={...}` updates counters, others replace."""
    status = copy.deepcopy(_STATUS)
    counters = changes.pop("counters", None)
    if counters:
        status["counters"].update(counters)
    status.update(changes)
    return status
