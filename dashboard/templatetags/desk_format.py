"""Number formats of the dashboard, the same as its script's (static/dashboard/format.js)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def money(value: Any) -> str:
    """Dollars with cents and thousands separators; a dash when unknown."""
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value):,.2f}"
    except (TypeError, ValueError):
        return "—"


@register.filter
def sign_class(value: Any) -> str:
    """`pos` for gains, `neg` for losses, `zero` otherwise: green good, red bad."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "zero"
    return "pos" if number > 0 else "neg" if number < 0 else "zero"


@register.filter
def usage_class(value: Any) -> str:
    """`ok` below 80% of a limit, `warn` from 80%, `bad` at or past it."""
    try:
        fraction = float(value)
    except (TypeError, ValueError):
        return "ok"
    return "bad" if fraction >= 1.0 else "warn" if fraction >= 0.8 else "ok"


@register.filter
def percent(value: Any) -> str:
    try:
        return f"{float(value):.0%}"
    except (TypeError, ValueError):
        return "—"


@register.filter
def micros(value: Any) -> str:
    """A latency in microseconds, in the unit that reads best."""
    try:
        us = float(value)
    except (TypeError, ValueError):
        return "—"
    if us >= 1_000_000:
        return f"{us / 1e6:.2f} s"
    if us >= 1_000:
        return f"{us / 1e3:.2f} ms"
    return f"{us:.0f} µs"


@register.filter
def megabytes(value: Any) -> str:
    try:
        return f"{int(value) / 2**20:.1f} MB"
    except (TypeError, ValueError):
        return "—"


@register.filter
def state_class(value: Any) -> str:
    """Colour of a trading state: green active, amber paused or reducing, red otherwise."""
    return {"ACTIVE": "ok", "PAUSED": "warn", "REDUCING": "warn"}.get(str(value), "bad")
