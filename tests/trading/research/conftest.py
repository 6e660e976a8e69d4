"""Research tests share one market data store built from the shared real data."""

from tests.support.research_store import research_store  # noqa: F401
