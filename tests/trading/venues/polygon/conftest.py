"""A local Polygon server per test, a fresh store, and a client of the real RESTClient."""

from __future__ import annotations

import pytest

from tests.support.polygon_server import API_KEY, PolygonServer
from trading.research.store import MarketDataStore
from trading.venues.polygon.client import PolygonPages, RetryPolicy


@pytest.fixture
def server():
    with PolygonServer() as running:
        yield running


@pytest.fixture
def store(tmp_path) -> MarketDataStore:
    return MarketDataStore(tmp_path / "store")


@pytest.fixture
def make_pages(server):
    """Pages against the local server; no pacing and short back-offs unless asked."""

    def make(rate_per_minute: float = 0, max_retries: int = 3, key: str = API_KEY) -> PolygonPages:
        return PolygonPages(
            key,
            base_url=server.base_url,
            rate_per_minute=rate_per_minute,
            retry=RetryPolicy(max_retries=max_retries, backoff_s=0.01),
        )

    return make
