"""The limits pre-trade risk enforces: validated, immutable, swapped whole at runtime.

Money limits are dollars (floats, as the configuration and the database hold them); share
limits are integer shares; windows are integer nanoseconds. A limit of 0 means "nothing is
allowed" (not "unlimited"), so a zeroed row in the database stops trading instead of opening it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trading.config import RiskConfig

NANOS_PER_SECOND = 1_000_000_000

_INT_FIELDS = (
    "max_position_shares",
    "max_total_position_shares",
    "max_order_shares",
    "max_consecutive_rejects",
    "max_disconnects",
    "disconnect_window_ns",
    "duplicate_window_ns",
)
_FLOAT_FIELDS = (
    "max_order_notional",
    "max_gross_exposure",
    "max_orders_per_s",
    "daily_loss_limit",
    "price_collar_pct",
)
# Fields that must be at least 1: a zero here would make every order or event trip at once.
_AT_LEAST_ONE = ("max_order_shares", "max_consecutive_rejects", "max_disconnects")


class RiskLimitsError(ValueError):
    """A set of limits that cannot be used, naming the field and the reason."""

    def __init__(self, field_name: str, reason: str) -> None:
        self.field_name = field_name
        self.reason = reason
        super().__init__(f"{field_name}: {reason}")


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Every limit pre-trade risk checks; build with `from_config`, change with `replace`."""

    max_position_shares: int = 1_000  # per symbol, worst case including working orders
    max_total_position_shares: int = 5_000  # sum over symbols of the per-symbol worst case
    max_order_shares: int = 500
    max_order_notional: float = 250_000.0  # dollars
    max_gross_exposure: float = 1_000_000.0  # dollars, worst-case shares marked at the mid
    max_orders_per_s: float = 50.0  # token bucket rate; the burst is one second of orders
    daily_loss_limit: float = 10_000.0  # dollars of realised + unrealised loss
    price_collar_pct: float = 5.0  # limit prices further than this from the mid are rejected
    max_consecutive_rejects: int = 5  # venue rejects in a row that trip the circuit breaker
    max_disconnects: int = 3  # disconnects within `disconnect_window_ns` that trip it
    disconnect_window_ns: int = 60 * NANOS_PER_SECOND
    duplicate_window_ns: int = 50_000_000  # 50 ms

    def __post_init__(self) -> None:
        for name in _INT_FIELDS:
            _validate_int(name, getattr(self, name))
        for name in _FLOAT_FIELDS:
            # Ints are accepted for float fields (TOML and JSON write 10000 for 10000.0).
            object.__setattr__(self, name, _validate_float(name, getattr(self, name)))
        for name in _AT_LEAST_ONE:
            if getattr(self, name) < 1:
                raise RiskLimitsError(name, "must be at least 1")
        if self.disconnect_window_ns < 1:
            raise RiskLimitsError("disconnect_window_ns", "must be at least 1 ns")

    @classmethod
    def from_config(cls, config: RiskConfig, **overrides: Any) -> RiskLimits:
        """The limits of a `RiskConfig`, with the circuit-breaker settings defaulted or given."""
        values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
        values.update(overrides)
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], base: RiskLimits | None = None) -> RiskLimits:
        """Limits from a mapping (e.g. a database row) over `base`; unknown keys are errors."""
        known = {f.name for f in dataclasses.fields(cls)}
        for key in values:
            if key not in known:
                raise RiskLimitsError(str(key), "unknown limit")
        return dataclasses.replace(base if base is not None else cls(), **dict(values))

    def replace(self, **changes: Any) -> RiskLimits:
        """A copy with some limits changed, validated like a new one."""
        return self.from_mapping(changes, base=self)

    def as_dict(self) -> dict[str, int | float]:
        """The limits as a plain mapping (for storage and the dashboard)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def _validate_int(name: str, value: object) -> None:
    # bool is an int subclass; True as a share limit is always a mistake.
    if not isinstance(value, int) or isinstance(value, bool):
        raise RiskLimitsError(name, f"must be an integer, not {type(value).__name__}")
    if value < 0:
        raise RiskLimitsError(name, "must not be negative")


def _validate_float(name: str, value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise RiskLimitsError(name, f"must be a number, not {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise RiskLimitsError(name, "must be finite")
    if number < 0:
        raise RiskLimitsError(name, "must not be negative")
    return number
