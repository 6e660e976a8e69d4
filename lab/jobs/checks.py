"""Small checks of job parameters, each failing with the parameter's name and value."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from lab.runner import ParamsError

_Number = TypeVar("_Number", int, float)


def integer(
    params: dict[str, Any], name: str, *, low: int | None = None, high: int | None = None
) -> int:
    value = params[name]
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        else:
            raise ParamsError(f"{name}: expected an integer, got {value!r}")
    return _in_range(params, name, value, low, high)


def number(
    params: dict[str, Any], name: str, *, low: float | None = None, high: float | None = None
) -> float:
    value = params[name]
    try:
        if isinstance(value, bool):
            raise TypeError
        value = float(value)
    except (TypeError, ValueError):
        raise ParamsError(f"{name}: expected a number, got {params[name]!r}") from None
    if value != value:
        raise ParamsError(f"{name}: expected a number, got NaN")
    return _in_range(params, name, value, low, high)


def _in_range(
    params: dict[str, Any], name: str, value: _Number, low: _Number | None, high: _Number | None
) -> _Number:
    """`value` once it is within [low, high] (either bound optional), stored back in `params`."""
    if low is not None and value < low:
        raise ParamsError(f"{name}: must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ParamsError(f"{name}: must be <= {high}, got {value}")
    params[name] = value
    return value


def choice(params: dict[str, Any], name: str, options: tuple[str, ...]) -> str:
    value = params[name]
    if value not in options:
        raise ParamsError(f"{name}: expected one of {', '.join(options)}, got {value!r}")
    return value


def symbols(params: dict[str, Any], name: str, *, minimum: int = 1) -> list[str]:
    value = params[name]
    if isinstance(value, str):
        value = [s for s in value.replace(",", " ").split() if s]
    if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
        raise ParamsError(f"{name}: expected a list of ticker symbols, got {value!r}")
    value = [s.upper() for s in value]
    if len(value) < minimum:
        raise ParamsError(f"{name}: needs at least {minimum} symbol(s), got {len(value)}")
    if len(set(value)) != len(value):
        raise ParamsError(f"{name}: symbols repeat in {value}")
    params[name] = value
    return value


def window_range(params: dict[str, Any], name: str) -> list[int]:
    """A [first, last] (inclusive) range of window lengths, each >= 1."""
    value = params[name]
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise ParamsError(f"{name}: expected [first, last] integers, got {value!r}")
    first, last = value
    if first < 1 or last < first:
        raise ParamsError(f"{name}: expected 1 <= first <= last, got {value!r}")
    params[name] = [first, last]
    return [first, last]


def date_or_none(params: dict[str, Any], name: str) -> dt.date | None:
    value = params[name]
    if value in (None, ""):
        params[name] = None
        return None
    try:
        parsed = dt.date.fromisoformat(str(value))
    except ValueError:
        raise ParamsError(f"{name}: expected a date YYYY-MM-DD, got {value!r}") from None
    params[name] = parsed.isoformat()
    return parsed
