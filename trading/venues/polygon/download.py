"""A Polygon history download: planned per unit, fetched page by page, resumed after a stop.

The work is split into units, each committed to the store at once: a symbol's daily bars over
the whole range, or one weekday of a symbol's intraday bars, trades or quotes.  Aggregates come
first, then trades, then quotes, so a plan without tick data (HTTP 403 NOT_AUTHORIZED on the
first trades request) still lands every bar; the refusal is reported and the remaining units
of that kind are skipped.  Units the journal marks committed are skipped on the next run, and
the unit under way continues from the page after the last one kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trading.log_format import get_logger
from trading.research.store import MarketDataStore, NotInStoreError
from trading.venues.polygon import records
from trading.venues.polygon.client import Page, PolygonPages
from trading.venues.polygon.errors import PolygonNotAuthorized, PolygonPayloadError
from trading.venues.polygon.journal import DownloadJournal, UnitState

log = get_logger("MD")

SOURCE = "polygon"
TIMESPANS = ("day", "minute", "hour")
TICK_KINDS = ("trades", "quotes")
MAX_LIMIT = 50_000  # Polygon's largest page
MAX_SYMBOLS = 500
MAX_DAYS = 366 * 30

ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """What to download; :meth:`checked` refuses anything Polygon or the store could not take."""

    symbols: tuple[str, ...]
    start: dt.date
    end: dt.date
    timespan: str = "day"
    multiplier: int = 1
    adjusted: bool = True
    trades: bool = False
    quotes: bool = False
    limit: int = MAX_LIMIT

    def checked(self) -> FetchRequest:
        from trading.research.store import _normal_symbol  # the store's own symbol rule

        if not self.symbols:
            raise ValueError("symbols: give at least one ticker symbol")
        if len(self.symbols) > MAX_SYMBOLS:
            raise ValueError(f"symbols: at most {MAX_SYMBOLS} per download")
        symbols = tuple(_normal_symbol(s) for s in self.symbols)
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"symbols: {', '.join(symbols)} repeat a symbol")
        if self.end < self.start:
            raise ValueError(f"--to {self.end} is before --from {self.start}")
        if (self.end - self.start).days > MAX_DAYS:
            raise ValueError(f"the range {self.start}..{self.end} is longer than 30 years")
        if self.timespan not in TIMESPANS:
            raise ValueError(
                f"timespan must be one of {', '.join(TIMESPANS)}, got {self.timespan!r}"
            )
        if isinstance(self.multiplier, bool) or not 1 <= self.multiplier <= 1440:
            raise ValueError(f"multiplier must be 1..1440, got {self.multiplier!r}")
        if self.timespan == "day" and self.multiplier != 1:
            raise ValueError("daily bars are stored one per day: use --multiplier 1 with day")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_LIMIT}, got {self.limit}")
        return FetchRequest(
            symbols=symbols,
            start=self.start,
            end=self.end,
            timespan=self.timespan,
            multiplier=self.multiplier,
            adjusted=bool(self.adjusted),
            trades=bool(self.trades),
            quotes=bool(self.quotes),
            limit=self.limit,
        )


@dataclass(frozen=True, slots=True)
class Unit:
    """One piece committed to the store at once."""

    kind: str  # "daily", "minute", "hour", "trades" or "quotes"
    symbol: str
    day: dt.date | None  # None for daily bars (the whole range)
    identity: dict[str, Any]

    @property
    def id(self) -> str:
        digest = hashlib.sha256(json.dumps(self.identity, sort_keys=True).encode()).hexdigest()
        when = self.day.isoformat() if self.day else self.identity["from"]
        return f"{self.kind}-{self.symbol}-{when}-{digest[:12]}"

    @property
    def label(self) -> str:
        return f"{self.symbol} {self.kind}" + (f" {self.day}" if self.day else "")


def weekdays(start: dt.date, end: dt.date) -> list[dt.date]:
    """Monday to Friday from ``start`` to ``end`` inclusive (markets are shut at weekends)."""
    days = []
    day = start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def plan(request: FetchRequest) -> list[Unit]:
    """The units of a request: aggregates of every symbol first, then trades, then quotes."""
    units: list[Unit] = []
    days = weekdays(request.start, request.end)
    for symbol in request.symbols:
        if request.timespan == "day":
            identity = {
                "source": SOURCE,
                "kind": "daily",
                "symbol": symbol,
                "from": request.start.isoformat(),
                "to": request.end.isoformat(),
                "adjusted": request.adjusted,
            }
            units.append(Unit("daily", symbol, None, identity))
            continue
        for day in days:
            identity = {
                "source": SOURCE,
                "kind": request.timespan,
                "symbol": symbol,
                "day": day.isoformat(),
                "multiplier": request.multiplier,
                "adjusted": request.adjusted,
            }
            units.append(Unit(request.timespan, symbol, day, identity))
    for kind in TICK_KINDS:
        if getattr(request, kind):
            for symbol in request.symbols:
                for day in days:
                    identity = {
                        "source": SOURCE,
                        "kind": kind,
                        "symbol": symbol,
                        "day": day.isoformat(),
                    }
                    units.append(Unit(kind, symbol, day, identity))
    return units


@dataclass
class DownloadReport:
    """What a download did."""

    units: int = 0
    skipped: int = 0  # committed by an earlier run
    stored: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # kind -> Polygon's refusal
    pages: int = 0
    rows: int = 0  # bars, trades and quotes downloaded by this run
    bars: int = 0
    requests: int = 0
    retries: int = 0
    bytes: int = 0
    seconds: float = 0.0

    def figures(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "skipped": self.skipped,
            "stored": self.stored,
            "empty": self.empty,
            "refused": self.refused,
            "pages": self.pages,
            "rows": self.rows,
            "bars": self.bars,
            "requests": self.requests,
            "retries": self.retries,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "digest": {
                "units stored": f"{len(self.stored)} of {self.units} "
                f"({self.skipped} done earlier, {len(self.empty)} without data)",
                "pages fetched": self.pages,
                "rows fetched": self.rows,
                "HTTP requests": f"{self.requests} ({self.retries} retries)",
                **{f"{kind} refused": message for kind, message in self.refused.items()},
            },
        }


class Downloader:
    """Runs a request's units against ``pages`` into ``store``; see the module text."""

    def __init__(
        self,
        store: MarketDataStore,
        pages: PolygonPages,
        *,
        progress: ProgressFn | None = None,
        refresh: bool = False,
    ) -> None:
        self.store = store
        self.pages = pages
        self.journal = DownloadJournal.in_store(store.root)
        self.progress = progress or (lambda fraction, note: None)
        self.refresh = refresh

    def run(self, request: FetchRequest) -> DownloadReport:
        request = request.checked()
        units = plan(request)
        report = DownloadReport(units=len(units))
        started = time.perf_counter()
        requests0, retries0, bytes0 = self.pages.requests, self.pages.retries, self.pages.bytes
        try:
            for index, unit in enumerate(units):
                if unit.kind in report.refused:
                    continue

                def note(pages: int, unit: Unit = unit, index: int = index) -> None:
                    inner = pages / (pages + 1)
                    self.progress(
                        (index + inner) / len(units), f"{unit.label} page {pages}".strip()
                    )

                note(0)
                try:
                    self._unit(unit, request, report, note)
                except PolygonNotAuthorized as exc:
                    if unit.kind not in TICK_KINDS:
                        raise
                    report.refused[unit.kind] = str(exc)
                    log.warning("polygon: %s not downloaded: %s", unit.kind, exc)
            self.progress(1.0, f"{len(report.stored)} stored")
        finally:
            report.requests = self.pages.requests - requests0
            report.retries = self.pages.retries - retries0
            report.bytes = self.pages.bytes - bytes0
            report.seconds = time.perf_counter() - started
        return report

    def _done_earlier(self, unit: Unit, state: UnitState) -> bool:
        if not state.committed:
            return False
        if state.outcome != "stored":
            return True
        try:  # committed, but removed from the store since: fetch it again
            kind = "daily" if unit.kind == "daily" else unit.kind
            self.store.entry(kind, unit.symbol, unit.day)
        except NotInStoreError:
            return False
        return True

    def _unit(
        self, unit: Unit, request: FetchRequest, report: DownloadReport, note: Callable[[int], None]
    ) -> None:
        state = self.journal.state(unit.id, unit.identity)
        if state.committed and (self.refresh or not self._done_earlier(unit, state)):
            state = self.journal.reset(unit.id, unit.identity)
        if state.committed:
            report.skipped += 1
            return
        while not state.complete:
            page = self._next(unit, request, state)
            state = self.journal.add_page(unit.id, state, page.results, page.next_url)
            report.pages += 1
            report.rows += len(page.results)
            if unit.kind not in TICK_KINDS:
                report.bars += len(page.results)
            note(state.pages)
        try:
            results = self.journal.pages(unit.id, state)
        except (OSError, ValueError):  # a damaged journal: fetch the unit again next time
            self.journal.reset(unit.id, unit.identity)
            raise
        try:
            outcome = self._store(unit, request, results)
        except (PolygonPayloadError, ValueError):
            # The pages parse but do not make sound data: keep nothing, fetch afresh next time.
            self.journal.reset(unit.id, unit.identity)
            raise
        self.journal.commit(unit.id, state, outcome)
        (report.stored if outcome == "stored" else report.empty).append(unit.label)
        log.info("polygon: %s %s (%d rows)", unit.label, outcome, len(results))

    def _next(self, unit: Unit, request: FetchRequest, state: UnitState) -> Page:
        if state.pages and state.next_url:
            return self.pages.next_page(state.next_url)
        if unit.kind in TICK_KINDS:
            assert unit.day is not None
            return self.pages.first_ticks(
                unit.kind, unit.symbol, unit.day.isoformat(), limit=request.limit
            )
        start, end = (
            (unit.day.isoformat(), unit.day.isoformat())
            if unit.day is not None
            else (request.start.isoformat(), request.end.isoformat())
        )
        return self.pages.first_aggs(
            unit.symbol,
            request.multiplier,
            request.timespan,
            start,
            end,
            adjusted=request.adjusted,
            limit=request.limit,
        )

    def _store(self, unit: Unit, request: FetchRequest, results: list[dict[str, Any]]) -> str:
        if not results:
            return "empty"
        meta: dict[str, object] = (
            {"adjusted": request.adjusted} if unit.kind not in TICK_KINDS else {}
        )
        if unit.kind == "daily":
            self.store.put_daily_bars(
                unit.symbol,
                records.daily_bars(results, adjusted=request.adjusted),
                source=SOURCE,
                meta={
                    **meta,
                    "from": request.start.isoformat(),
                    "to": request.end.isoformat(),
                    # Polygon's adjusted bars are split-adjusted; they fill both series.
                    "prices": "split-adjusted" if request.adjusted else "as traded",
                },
            )
            return "stored"
        if unit.kind == "trades":
            columns = records.trade_columns(results)
        elif unit.kind == "quotes":
            columns = records.quote_columns(results)
        else:
            columns = records.agg_columns(results)
            meta["multiplier"] = request.multiplier
        self.store.put_day_columns(
            unit.kind, unit.symbol, unit.day, columns, source=SOURCE, meta=meta
        )
        return "stored"


def run_download(
    request: FetchRequest,
    store: MarketDataStore,
    pages: PolygonPages,
    *,
    progress: ProgressFn | None = None,
    refresh: bool = False,
) -> DownloadReport:
    """Download ``request`` into ``store``; see the module text."""
    return Downloader(store, pages, progress=progress, refresh=refresh).run(request)
