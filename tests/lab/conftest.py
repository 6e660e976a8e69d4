"""Lab fixtures: the shared data in a research store, and Celery running tasks in-process."""

# ruff: noqa: F811
import pytest

from desk.celery import app
from tests.support.research_store import DAILY_DIR, research_store  # noqa: F401


@pytest.fixture
def lab_store(research_store, monkeypatch):
    """Jobs read the session's store of shared data."""
    monkeypatch.setenv("DESK_MARKET_DATA", str(research_store.root))
    return research_store


@pytest.fixture
def eager_celery():
    """Queued tasks run at once in this process (the real-worker path has its own test)."""
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager = False
    app.conf.task_eager_propagates = False


def daily_csv(symbol: str) -> str:
    return str(DAILY_DIR / f"{symbol}.csv.gz")
