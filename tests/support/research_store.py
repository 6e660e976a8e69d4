"""A market data store filled with the shared real data, for research tests.

``build_store(root)`` imports the AMZN level-5 and AAPL level-1 LOBSTER days and all 28 daily
files; the session fixture ``research_store`` builds one per test session.  Use it from a
conftest with ``from tests.support.research_store import research_store  # noqa: F401``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trading.research.importers import import_daily_csv, import_lobster
from trading.research.store import MarketDataStore
from trading.shared_data import shared_data_dir

DATA = shared_data_dir()
LOBSTER_DIR = DATA / "lobster"
DAILY_DIR = DATA / "daily"
AMZN_MESSAGES = LOBSTER_DIR / "AMZN_2012-06-21_34200000_57600000_message_5.csv.gz"
AAPL_MESSAGES = LOBSTER_DIR / "AAPL_2012-06-21_34200000_57600000_message_1.csv.gz"


def daily_files() -> list[Path]:
    """The shared daily CSV files, by ticker."""
    return sorted(DAILY_DIR.glob("*.csv.gz"))


def shared_data_missing() -> str | None:
    """Why the shared data cannot be used, or None when it is all there."""
    missing = [p for p in (AMZN_MESSAGES, AAPL_MESSAGES) if not p.exists()]
    if missing or len(daily_files()) != 28:
        return f"shared market data incomplete in {DATA}"
    return None


def build_store(root: str | Path) -> MarketDataStore:
    """A store at ``root`` holding the two LOBSTER days and the 28 daily files."""
    store = MarketDataStore(Path(root))
    import_lobster(store, AMZN_MESSAGES)
    import_lobster(store, AAPL_MESSAGES)
    for path in daily_files():
        import_daily_csv(store, path)
    return store


@pytest.fixture(scope="session")
def research_store(tmp_path_factory) -> MarketDataStore:
    """The shared data imported once per session into a temporary store (read it only)."""
    reason = shared_data_missing()
    if reason is not None:
        pytest.skip(reason)
    return build_store(tmp_path_factory.mktemp("market_data"))
