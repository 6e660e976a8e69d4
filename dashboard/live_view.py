"""What the dashboard shows, derived from the engine's published envelope.

One function builds the message for both the first page render and every WebSocket update, so
the page and the live stream never disagree about totals, rates or alerts.
"""

from __future__ import annotations

import time
from typing import Any

STALE_AFTER_S = 2.0
AMBER_USAGE = 0.8
RED_USAGE = 1.0

RISK_USAGE_LABELS = {
    "position": "Largest position",
    "total_position": "Total position",
    "order_rate": "Order rate",
    "daily_loss": "Daily loss",
    "gross_exposure": "Gross exposure",
    "circuit_breaker": "Circuit breaker",
}
LATENCY_HOPS = (
    "feed_to_signal",
    "signal_to_risk",
    "risk_to_wire",
    "tick_to_order",
    "order_to_ack",
    "control_step",
)
# Rates shown per second, each the delta of one or more engine counters.
RATE_COUNTERS = {
    "orders": ("orders",),
    "fills": ("fills",),
    "cancels": ("cancels",),
    "rejects": ("risk_rejects", "venue_rejects"),
}


def position_rows(state: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The positions table, sorted by symbol, and its TOTAL row."""
    rows = []
    for symbol, p in sorted((state.get("positions") or {}).items()):
        rows.append({"symbol": symbol, **p})
    total = {
        "symbol": "TOTAL",
        "qty": sum(abs(r.get("qty", 0)) for r in rows),
        "unrealised": sum(r.get("unrealised", 0.0) for r in rows),
        "realised": sum(r.get("realised", 0.0) for r in rows),
        "total": sum(r.get("total", 0.0) for r in rows),
    }
    return rows, total


def counter_rates(
    previous: dict[str, Any] | None, current: dict[str, Any] | None
) -> dict[str, float] | None:
    """Orders, fills, cancels and rejects per second between two envelopes of one engine run.

    None when there is nothing to compare (first message, engine restarted, no time passed).
    """
    if not previous or not current or previous.get("boot") != current.get("boot"):
        return None
    dt = float(current.get("ts", 0)) - float(previous.get("ts", 0))
    if dt <= 0:
        return None
    before = (previous.get("state") or {}).get("counters") or {}
    after = (current.get("state") or {}).get("counters") or {}
    rates = {}
    for name, counters in RATE_COUNTERS.items():
        delta = sum(after.get(c, 0) - before.get(c, 0) for c in counters)
        rates[name] = max(delta, 0) / dt
    feed_before = ((previous.get("state") or {}).get("feed") or {}).get("messages", 0)
    feed_after = ((current.get("state") or {}).get("feed") or {}).get("messages", 0)
    rates["feed"] = max(feed_after - feed_before, 0) / dt
    return rates


def alerts(state: dict[str, Any] | None, stale: bool) -> list[dict[str, str]]:
    """What needs the operator's attention, red before amber."""
    if state is None:
        return [{"level": "red", "text": "Engine absent: it has never published its state"}]
    found = []
    if stale:
        found.append({"level": "red", "text": "Engine silent: its last state is stale"})
    venue = state.get("venue") or {}
    if venue and not venue.get("order_connected", False):
        found.append({"level": "red", "text": "Venue order session disconnected"})
    if venue and not venue.get("feed_connected", False):
        found.append({"level": "red", "text": "Market data feed disconnected"})
    usage = state.get("risk_usage") or {}
    if "circuit_breaker" in str(state.get("risk_reason", "")) or (
        usage.get("circuit_breaker", 0) >= RED_USAGE
    ):
        found.append({"level": "red", "text": "Circuit breaker tripped"})
    for name, fraction in usage.items():
        if name == "circuit_breaker":
            continue
        label = RISK_USAGE_LABELS.get(name, name)
        if fraction >= RED_USAGE:
            found.append({"level": "red", "text": f"{label} limit reached ({fraction:.0%})"})
        elif fraction >= AMBER_USAGE:
            found.append({"level": "amber", "text": f"{label} limit at {fraction:.0%}"})
    found.sort(key=lambda a: a["level"] != "red")
    return found


def live_message(
    envelope: dict[str, Any] | None,
    previous: dict[str, Any] | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The full dashboard state for one envelope (None: no engine has ever published)."""
    now = time.time() if now is None else now
    if envelope is None:
        return {
            "type": "state",
            "engine": "absent",
            "seq": 0,
            "boot": "",
            "ts": 0.0,
            "age_s": None,
            "stale": True,
            "state": None,
            "trading_state": "ABSENT",
            "positions": [],
            "total": None,
            "rates": None,
            "alerts": alerts(None, True),
        }
    state = envelope.get("state") or {}
    ts = float(envelope.get("ts", 0))
    age = max(now - ts, 0.0)
    stale = age > STALE_AFTER_S
    rows, total = position_rows(state)
    return {
        "type": "state",
        "engine": "running",
        "account": envelope.get("account", ""),
        "seq": int(envelope.get("seq", 0)),
        "boot": envelope.get("boot", ""),
        "ts": ts,
        "age_s": round(age, 3),
        "stale": stale,
        "state": state,
        "trading_state": state.get("state", "UNKNOWN"),
        "positions": rows,
        "total": total,
        "rates": counter_rates(previous, envelope),
        "alerts": alerts(state, stale),
    }
