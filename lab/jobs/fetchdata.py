"""Market data download: Polygon history (aggregates, trades, quotes) into the research store.

The API key is read from ``POLYGON_API_KEY`` in the environment of the process that runs the
job (a worker, or the command itself) and never becomes a parameter, so it is never stored
with the run; the server's address comes from ``POLYGON_BASE_URL`` for the same reason (a
stored address would let a run send the key elsewhere).  A cancelled or failed download keeps
its journal in the store, so running the same request again resumes it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from lab.jobs import checks
from lab.runner import JobOutput, ParamsError, ProgressFn

SOURCES = ("polygon",)
TIMESPANS = ("day", "minute", "hour")

DEFAULTS: dict[str, Any] = {
    "source": "polygon",
    "symbols": [],
    "start": None,
    "end": None,
    "timespan": "day",
    "multiplier": 1,
    "adjusted": True,
    "trades": False,
    "quotes": False,
    "rate_per_minute": 5.0,  # Polygon's free plan; 0 turns pacing off
    "limit": 50000,  # results per page
    "max_retries": 5,
    "store": None,  # a store folder; None for the configured store
    "refresh": False,  # fetch again what an earlier run already stored
}


def _flag(params: dict[str, Any], name: str) -> bool:
    value = params[name]
    if not isinstance(value, bool):
        raise ParamsError(f"{name}: expected true or false, got {value!r}")
    return value


def _request(params: dict[str, Any]) -> Any:
    from trading.venues.polygon.download import FetchRequest

    return FetchRequest(
        symbols=tuple(params["symbols"]),
        start=dt.date.fromisoformat(params["start"]),
        end=dt.date.fromisoformat(params["end"]),
        timespan=params["timespan"],
        multiplier=params["multiplier"],
        adjusted=params["adjusted"],
        trades=params["trades"],
        quotes=params["quotes"],
        limit=params["limit"],
    )


def clean(params: dict[str, Any]) -> dict[str, Any]:
    checks.choice(params, "source", SOURCES)
    checks.symbols(params, "symbols")
    for name in ("start", "end"):
        if checks.date_or_none(params, name) is None:
            raise ParamsError(f"{name}: a date YYYY-MM-DD is required")
    checks.choice(params, "timespan", TIMESPANS)
    checks.integer(params, "multiplier", low=1, high=1440)
    for name in ("adjusted", "trades", "quotes", "refresh"):
        _flag(params, name)
    checks.number(params, "rate_per_minute", low=0.0, high=100_000.0)
    checks.integer(params, "limit", low=1, high=50000)
    checks.integer(params, "max_retries", low=0, high=20)
    store = params["store"]
    if store is not None:
        if not isinstance(store, str) or not store.strip():
            raise ParamsError(f"store: expected a folder path, got {store!r}")
        params["store"] = str(Path(store).expanduser().resolve())
    try:
        _request(params).checked()
    except ValueError as exc:
        raise ParamsError(str(exc)) from None
    return params


def run(params: dict[str, Any], progress: ProgressFn) -> JobOutput:
    from lab.jobs.data import store as configured_store
    from trading.research.store import MarketDataStore
    from trading.venues.polygon.client import PolygonPages, RetryPolicy
    from trading.venues.polygon.download import run_download
    from trading.venues.polygon.errors import PolygonError

    request = _request(params)
    store = MarketDataStore(params["store"]) if params["store"] else configured_store()
    progress(0.0, f"{len(request.symbols)} symbols into {store.root}")
    try:
        pages = PolygonPages.from_environment(
            rate_per_minute=params["rate_per_minute"],
            retry=RetryPolicy(max_retries=params["max_retries"]),
        )
        report = run_download(request, store, pages, progress=progress, refresh=params["refresh"])
    except PolygonError as exc:
        # The runner records a ValueError's message as the run's error, without a traceback:
        # these messages say all there is to say (and never hold the key).
        raise ValueError(str(exc)) from None
    figures = {**report.figures(), "store": str(store.root), "source": params["source"]}
    summary = f"{len(report.stored)} stored, {report.pages} pages, {report.requests} requests"
    if report.refused:
        summary += "; refused: " + ", ".join(sorted(report.refused))
    return JobOutput(figures=figures, summary=summary)
