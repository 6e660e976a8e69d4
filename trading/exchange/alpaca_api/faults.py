"""Fault injection for tests: error answers, dropped streams and rejected orders on demand.

Only served when the simulator runs with `exchange.alpaca_faults = true` (or
`runexchange --alpaca-faults`); `POST /_sim/faults` takes a JSON object such as
`{"http_status": 429, "count": 2, "retry_after_s": 1}`, `{"http_status": 503}`,
`{"drop_streams": true}` or `{"reject_next_orders": 1}` (keys may be combined).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trading.exchange.alpaca_api.wire import invalid

MAX_COUNT = 1_000_000


@dataclass
class Faults:
    """What is still to be injected."""

    http_status: int = 0
    remaining: int = 0
    retry_after_s: float = 1.0

    def take(self) -> tuple[int, float] | None:
        """The status the next REST call must answer with, if a fault is pending."""
        if self.remaining <= 0:
            return None
        self.remaining -= 1
        return self.http_status, self.retry_after_s

    def state(self) -> dict[str, Any]:
        return {
            "http_status": self.http_status if self.remaining else None,
            "count": self.remaining,
            "retry_after_s": self.retry_after_s,
        }


@dataclass(frozen=True)
class FaultRequest:
    """A validated `POST /_sim/faults` body."""

    http_status: int | None
    count: int
    retry_after_s: float
    drop_streams: bool
    reject_next_orders: int


def parse_fault_request(body: Any) -> FaultRequest:
    """Check a fault request; `ApiError` 422 names what is wrong."""
    if not isinstance(body, dict) or not body:
        raise invalid("a JSON object with http_status, drop_streams or reject_next_orders")
    known = {"http_status", "count", "retry_after_s", "drop_streams", "reject_next_orders"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise invalid(f"unknown fault keys: {', '.join(unknown)}")
    status = body.get("http_status")
    if status is not None and (not _is_int(status) or not 400 <= status <= 599):
        raise invalid("http_status must be an integer from 400 to 599")
    count = body.get("count", 1)
    if not _is_int(count) or not 1 <= count <= MAX_COUNT:
        raise invalid(f"count must be an integer from 1 to {MAX_COUNT}")
    retry = body.get("retry_after_s", 1)
    if isinstance(retry, bool) or not isinstance(retry, int | float) or not 0 <= retry <= 3600:
        raise invalid("retry_after_s must be a number of seconds from 0 to 3600")
    drop = body.get("drop_streams", False)
    if not isinstance(drop, bool):
        raise invalid("drop_streams must be true or false")
    reject = body.get("reject_next_orders", 0)
    if not _is_int(reject) or not 0 <= reject <= MAX_COUNT:
        raise invalid(f"reject_next_orders must be an integer from 0 to {MAX_COUNT}")
    return FaultRequest(status, count, float(retry), drop, reject)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
