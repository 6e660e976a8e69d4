"""Alpaca's wire conventions: decimal strings, RFC 3339 times, ids and the error shape."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from trading.prices import PRICE_SCALE

# Alpaca's error codes are the HTTP status followed by a sub-code.
CODE_INVALID = 40010001
CODE_UNAUTHORIZED = 40110000
CODE_FORBIDDEN = 40310000
CODE_NOT_FOUND = 40410000
CODE_UNPROCESSABLE = 42210000
CODE_RATE_LIMIT = 42910000
CODE_INTERNAL = 50010000
CODE_UNAVAILABLE = 50310000

_NAMESPACE = uuid.UUID("1b7c3f0e-52a4-4c5e-9f39-3d0b7a5e2c11")


class ApiError(Exception):
    """An answer in Alpaca's error shape: `{"code": ..., "message": ...}` and an HTTP status."""

    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


def invalid(message: str) -> ApiError:
    """422: the request is well formed but its values are not acceptable."""
    return ApiError(422, CODE_INVALID, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, CODE_NOT_FOUND, message)


def stable_id(*parts: str) -> str:
    """A UUID that is the same on every run for the same name (accounts, assets)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def new_id() -> str:
    return str(uuid.uuid4())


def decimal_of(value: Any, field: str) -> Decimal:
    """A JSON number or decimal string as a Decimal; 422 for anything else."""
    if isinstance(value, bool) or value is None:
        raise invalid(f"{field} is not a number")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise invalid(f"invalid {field}: {value!r}") from None
    if not number.is_finite():
        raise invalid(f"invalid {field}: {value!r}")
    return number


def price_units(value: Any, field: str, tick: int) -> int:
    """A decimal dollar price to integer 1e-4 dollars, on the tick grid; 422 otherwise."""
    number = decimal_of(value, field)
    units = number * PRICE_SCALE
    if units <= 0:
        raise invalid(f"{field} must be > 0")
    if units != units.to_integral_value():
        raise invalid(f"{field} {value} has more than 4 decimal places")
    price = int(units)
    if price % tick:
        raise invalid(
            f"{field} {value} is not a multiple of the tick size {money(tick, tick_decimals=4)}"
        )
    return price


def shares_of(value: Any, field: str = "qty") -> int:
    """A whole, positive number of shares; 422 otherwise."""
    number = decimal_of(value, field)
    if number <= 0:
        raise invalid(f"{field} must be > 0")
    if number != number.to_integral_value():
        raise invalid(f"fractional {field} {value} is not supported: whole shares only")
    return int(number)


def money(units: int | float | Decimal, tick_decimals: int | None = None) -> str:
    """Integer (or fractional) 1e-4 dollars as Alpaca writes money: a plain decimal string,
    to at most 8 decimals (averages), or exactly `tick_decimals`."""
    value = Decimal(units) / PRICE_SCALE
    value = value.quantize(Decimal(1).scaleb(-(8 if tick_decimals is None else tick_decimals)))
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def timestamp(epoch_ns: int) -> str:
    """Nanoseconds since the epoch as Alpaca's UTC RFC 3339 time with microseconds."""
    seconds, nanos = divmod(epoch_ns, 1_000_000_000)
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC).replace(microsecond=nanos // 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str, field: str) -> int:
    """An RFC 3339 time or date (as GET /v2/orders takes them) to epoch nanoseconds."""
    text = value.strip().replace("Z", "+00:00").replace(" ", "+")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise invalid(f"invalid {field}: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1_000_000) * 1000
