"""Polygon history download throughput against the local Polygon server, pacing off.

Each run downloads the recorded daily bars of four symbols and the minute bars of two LOBSTER
days through polygon-api-client's ``RESTClient`` into a fresh store, in small pages so the
figure covers the whole path per page: HTTP request, JSON decoding, the journal's fsynced page
and state files, and the store's commit.  The server is ``tests/support/polygon_server.py``
(recorded responses), so the figures measure this side of the wire, not Polygon's.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

from workers.benchmarks.figures import Figure

DAILY_SYMBOLS = ("AAPL", "KO", "PEP", "SPY")
MINUTE_SYMBOLS = ("AAPL", "AMZN")
PAGE = 20  # results per page: many pages, so per-page costs show


def _download(base_url: str, key: str, root: Path, quick: bool) -> tuple[int, int, float]:
    """(bars stored, pages fetched, seconds) of one download into a fresh store at ``root``."""
    from trading.research.store import MarketDataStore
    from trading.venues.polygon.client import PolygonPages
    from trading.venues.polygon.download import FetchRequest, run_download

    store = MarketDataStore(root)
    pages = PolygonPages(key, base_url=base_url, rate_per_minute=0)
    requests = [
        FetchRequest(
            DAILY_SYMBOLS[:2] if quick else DAILY_SYMBOLS,
            dt.date(2020, 6, 1),
            dt.date(2020, 12, 11),
            limit=PAGE,
        )
    ]
    if not quick:
        day = dt.date(2012, 6, 21)
        requests.append(FetchRequest(MINUTE_SYMBOLS, day, day, timespan="minute", limit=PAGE))
    bars = fetched = 0
    started = time.perf_counter()
    for request in requests:
        report = run_download(request, store, pages)
        bars += report.bars
        fetched += report.pages
    return bars, fetched, time.perf_counter() - started


def measure(runs: int, quick: bool) -> list[Figure]:
    # The local server lives with the tests; the benchmark runs from a source checkout.
    from tests.support.polygon_server import API_KEY, PolygonServer

    bars_per_s = Figure(
        "polygon_bars_per_s", "Polygon download, bars stored (local server)", "bar/s"
    )
    pages_per_s = Figure("polygon_pages_per_s", "Polygon download, pages (local server)", "page/s")
    with PolygonServer() as server, tempfile.TemporaryDirectory() as scratch:
        _download(server.base_url, API_KEY, Path(scratch) / "warm-up", quick)
        for run in range(max(1, runs)):
            bars, fetched, seconds = _download(
                server.base_url, API_KEY, Path(scratch) / f"run-{run}", quick
            )
            bars_per_s.samples.append(bars / seconds)
            pages_per_s.samples.append(fetched / seconds)
    note = f"{PAGE} results a page, pacing off, fresh store each run"
    bars_per_s.note = pages_per_s.note = note + (
        " (quick: daily bars of 2 symbols)" if quick else ""
    )
    return [bars_per_s, pages_per_s]
