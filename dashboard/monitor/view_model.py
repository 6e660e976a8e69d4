"""What the terminal monitor shows, worked out from the engine's published state.

Pure functions of plain dicts (the `status()` an engine publishes, and the one before it for
rates), so every figure on screen can be tested without a terminal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

LATENCY_HOPS = (
    "feed_to_signal",
    "signal_to_risk",
    "risk_to_wire",
    "tick_to_order",
    "order_to_ack",
    "control_step",
)
LATENCY_FIGURES = ("p50", "p95", "p99", "p999", "max")
RISK_LIMITS = (
    "position",
    "total_position",
    "order_rate",
    "daily_loss",
    "gross_exposure",
    "circuit_breaker",
)
AMBER_FROM = 0.7  # fraction of a limit used from which a bar turns amber
RED_FROM = 0.9
DASH = "—"


# -- numbers as text ---------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def money(value: Any) -> str:
    """Dollars with sign and thousands separators, e.g. "+1,234.50"."""
    number = _number(value)
    return DASH if number is None else f"{number:+,.2f}"


def price(value: Any) -> str:
    number = _number(value)
    return DASH if number is None else f"{number:,.2f}"


def shares(value: Any) -> str:
    number = _number(value)
    return DASH if number is None else f"{int(number):+,d}"


def micros(value: Any) -> str:
    """A latency given in microseconds, in the unit that keeps it readable."""
    number = _number(value)
    if number is None:
        return DASH
    if number < 1_000:
        return f"{number:.1f} µs"
    if number < 1_000_000:
        return f"{number / 1_000:.2f} ms"
    return f"{number / 1_000_000:.2f} s"


def per_second(value: float | None) -> str:
    return DASH if value is None else f"{value:,.1f}/s"


# -- health ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Health:
    """Whether what is on screen is live: a short marker and its severity."""

    marker: str
    level: str  # "ok", "warn" or "bad"

    @property
    def live(self) -> bool:
        return self.level == "ok"


def health(
    state: dict[str, Any] | None, age_s: float, stale_after_s: float, redis_error: str = ""
) -> Health:
    """LIVE, STALE (older than `stale_after_s`), ENGINE DOWN (nothing published) or Redis down."""
    if redis_error:
        return Health(f"REDIS UNREACHABLE: {redis_error}", "bad")
    if state is None:
        return Health("ENGINE DOWN: no state published", "bad")
    if age_s > stale_after_s:
        return Health(f"STALE: last state {age_s:,.1f} s old (engine down?)", "warn")
    return Health("LIVE", "ok")


# -- rates -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rates:
    """Events per second between two published states."""

    orders: float
    fills: float
    cancels: float
    rejects: float


def _counter(state: dict[str, Any], *names: str) -> float:
    counters = state.get("counters") or {}
    return sum(_number(counters.get(name)) or 0.0 for name in names)


def rates(
    current: dict[str, Any], previous: dict[str, Any] | None, elapsed_s: float
) -> Rates | None:
    """Counter deltas over `elapsed_s`; None without a previous state, a positive interval,
    or when a counter went backwards (the engine restarted, so the delta means nothing)."""
    if previous is None or elapsed_s <= 0:
        return None
    figures = []
    for names in (("orders",), ("fills",), ("cancels",), ("risk_rejects", "venue_rejects")):
        delta = _counter(current, *names) - _counter(previous, *names)
        if delta < 0:
            return None
        figures.append(delta / elapsed_s)
    return Rates(*figures)


# -- summary -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    state: str
    reason: str
    orders_per_s: str
    tick_to_order: str  # "p50 / p99"
    net_position: str
    total_pnl: str
    daily_pnl: str
    risk_state: str
    fills: str
    working_orders: str
    venue: str = DASH


def venue(state: dict[str, Any]) -> str:
    """Where the engine trades ("simulator", "alpaca-paper", ...), with what is wrong if
    something is: the order session down, or a broker gateway's state (RATE_LIMITED, ...)."""
    published = state.get("venue") or {}
    name = str(published.get("name") or DASH)
    if published and not published.get("order_connected", True):
        return f"{name} (disconnected)"
    order_state = str(published.get("order_state") or "")
    if order_state and order_state != "READY":
        return f"{name} ({order_state})"
    return name


def _latency(state: dict[str, Any], hop: str) -> dict[str, Any]:
    return (state.get("latency_us") or {}).get(hop) or {}


def net_position(state: dict[str, Any]) -> int:
    return sum(int(p.get("qty") or 0) for p in (state.get("positions") or {}).values())


def summary(state: dict[str, Any], rate: Rates | None) -> Summary:
    tick = _latency(state, "tick_to_order")
    counters = state.get("counters") or {}
    pnl = (_number(state.get("realised")) or 0.0) + (_number(state.get("unrealised")) or 0.0)
    fills = counters.get("fills")
    filled = counters.get("filled_shares")
    return Summary(
        state=str(state.get("state") or DASH),
        reason=str(state.get("risk_reason") or ""),
        orders_per_s=per_second(rate.orders if rate else None),
        tick_to_order=f"{micros(tick.get('p50'))} / {micros(tick.get('p99'))}",
        net_position=shares(net_position(state)),
        total_pnl=money(pnl),
        daily_pnl=money(state.get("daily_pnl")),
        risk_state=str(state.get("risk_state") or DASH),
        fills=DASH if fills is None else f"{fills:,d} ({filled or 0:,d} sh)",
        working_orders=str(state.get("working_orders", DASH)),
        venue=venue(state),
    )


# -- tables ------------------------------------------------------------------------------------

POSITION_COLUMNS = ("Symbol", "Qty", "Avg price", "Mark", "Unrealised", "Realised", "Total")


def position_rows(state: dict[str, Any]) -> list[tuple[str, ...]]:
    """One row per symbol (sorted), then the TOTAL row: net qty and summed P&L."""
    positions = state.get("positions") or {}
    rows = []
    totals = {"qty": 0, "unrealised": 0.0, "realised": 0.0, "total": 0.0}
    for symbol in sorted(positions):
        p = positions[symbol]
        rows.append(
            (
                symbol,
                shares(p.get("qty")),
                price(p.get("avg_price")),
                price(p.get("mark")),
                money(p.get("unrealised")),
                money(p.get("realised")),
                money(p.get("total")),
            )
        )
        for key in totals:
            totals[key] += _number(p.get(key)) or 0
    rows.append(
        (
            "TOTAL",
            shares(totals["qty"]),
            "",
            "",
            money(totals["unrealised"]),
            money(totals["realised"]),
            money(totals["total"]),
        )
    )
    return rows


LATENCY_COLUMNS = ("Hop", *LATENCY_FIGURES, "count")


def latency_rows(state: dict[str, Any]) -> list[tuple[str, ...]]:
    """The known hops in path order, then any other the engine publishes."""
    published = state.get("latency_us") or {}
    hops = [h for h in LATENCY_HOPS if h in published]
    hops += sorted(h for h in published if h not in LATENCY_HOPS)
    rows = []
    for hop in hops:
        figures = published.get(hop) or {}
        count = _number(figures.get("count"))
        rows.append(
            (
                hop,
                *(micros(figures.get(name)) for name in LATENCY_FIGURES),
                DASH if count is None else f"{int(count):,d}",
            )
        )
    return rows


TRADE_COLUMNS = ("Time", "Symbol", "Side", "Qty", "Price", "Strategy", "Latency")


def trade_rows(state: dict[str, Any], limit: int = 20, tz: Any = None) -> list[tuple[str, ...]]:
    """The latest fills, newest first, with their order-to-execution latency."""
    rows = []
    for fill in reversed((state.get("fills") or [])[-limit:]):
        ts = _number(fill.get("wall_ts"))
        when = DASH if ts is None else datetime.fromtimestamp(ts, tz).strftime("%H:%M:%S.%f")[:12]
        rows.append(
            (
                when,
                str(fill.get("symbol", "")),
                str(fill.get("side", "")),
                f"{int(_number(fill.get('qty')) or 0):,d}",
                price(fill.get("price")),
                str(fill.get("strategy") or ""),
                micros(fill.get("latency_us")),
            )
        )
    return rows


# -- risk --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RiskBar:
    name: str
    fraction: float  # of the limit used; may exceed 1.0
    level: str  # "green", "amber" or "red"

    @property
    def percent(self) -> str:
        return f"{self.fraction * 100:.0f}%"

    def filled_cells(self, width: int) -> int:
        """How many of `width` cells the bar fills (capped at full)."""
        return round(min(max(self.fraction, 0.0), 1.0) * width)


def risk_level(fraction: float) -> str:
    if fraction >= RED_FROM:
        return "red"
    if fraction >= AMBER_FROM:
        return "amber"
    return "green"


def risk_bars(state: dict[str, Any]) -> list[RiskBar]:
    usage = state.get("risk_usage") or {}
    bars = []
    for name in RISK_LIMITS:
        fraction = _number(usage.get(name))
        if fraction is None:
            continue
        bars.append(RiskBar(name, fraction, risk_level(fraction)))
    return bars
