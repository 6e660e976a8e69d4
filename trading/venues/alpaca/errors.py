"""Every way a broker call can fail, as one named kind with what to do about it.

The REST worker never lets an exception escape: each failure becomes a `BrokerError` whose
kind says whether the request certainly did nothing (refused, rate limited, rejected, not
authorised) or may have done something (a timeout, a 5xx, a dropped connection), in which
case an order submit is resolved by looking the order up, never by sending it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import requests
from alpaca.common.exceptions import APIError

DEFAULT_RETRY_AFTER_S = 1.0
MAX_RETRY_AFTER_S = 60.0


class ErrorKind(StrEnum):
    """What a failed broker call means for the request and for the gateway."""

    RATE_LIMITED = "RATE_LIMITED"  # 429: not processed; wait Retry-After
    UNAVAILABLE = "UNAVAILABLE"  # 5xx: outcome unknown for writes
    TIMEOUT = "TIMEOUT"  # no answer in time: outcome unknown for writes
    CONNECTION = "CONNECTION"  # could not talk to the broker: outcome unknown for writes
    UNAUTHORISED = "UNAUTHORISED"  # 401/403 on credentials: nothing will work until fixed
    REJECTED = "REJECTED"  # 403/422 and other 4xx: the broker refused this request
    NOT_FOUND = "NOT_FOUND"  # 404: no such order or position
    MALFORMED = "MALFORMED"  # an answer we cannot read


# Kinds after which a write may or may not have happened at the broker.
# (An unreadable answer is one of them: the broker may have taken the order before saying so.)
UNCERTAIN = frozenset(
    {ErrorKind.UNAVAILABLE, ErrorKind.TIMEOUT, ErrorKind.CONNECTION, ErrorKind.MALFORMED}
)


@dataclass(slots=True, frozen=True)
class BrokerError:
    """One failed call: its kind, the HTTP status (0: none), the broker's message, and for a
    429 how long the broker asked us to wait."""

    kind: ErrorKind
    status: int
    message: str
    retry_after_s: float = 0.0

    @property
    def uncertain(self) -> bool:
        """Whether a write may have taken effect despite the error."""
        return self.kind in UNCERTAIN

    def __str__(self) -> str:
        status = f"HTTP {self.status} " if self.status else ""
        return f"{self.kind} ({status}{self.message})"


def retry_after(headers: Any) -> float:
    """Seconds from a Retry-After header (seconds form), clamped; the default when absent."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        seconds = float(str(value))
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_S
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _message(body: str) -> str:
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return body.strip()[:200] or "no message"
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])[:200]
    return body.strip()[:200] or "no message"


def classify(exc: BaseException) -> BrokerError:
    """The `BrokerError` for anything a TradingClient call raised."""
    if isinstance(exc, APIError):
        status = exc.status_code or 0
        message = _message(str(exc))
        response = exc.response
        if status == 429:
            headers = response.headers if response is not None else None
            return BrokerError(ErrorKind.RATE_LIMITED, status, message, retry_after(headers))
        if status >= 500:
            return BrokerError(ErrorKind.UNAVAILABLE, status, message)
        if status == 401:
            return BrokerError(ErrorKind.UNAUTHORISED, status, message)
        if status == 404:
            return BrokerError(ErrorKind.NOT_FOUND, status, message)
        return BrokerError(ErrorKind.REJECTED, status, message)
    if isinstance(exc, requests.Timeout):
        return BrokerError(ErrorKind.TIMEOUT, 0, type(exc).__name__)
    if isinstance(exc, requests.ConnectionError | ConnectionError | OSError):
        return BrokerError(ErrorKind.CONNECTION, 0, type(exc).__name__)
    # A response that does not fit alpaca-py's models (pydantic), or anything else unforeseen.
    return BrokerError(ErrorKind.MALFORMED, 0, f"{type(exc).__name__}: {str(exc)[:200]}")
