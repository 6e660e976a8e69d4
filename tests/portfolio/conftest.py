"""Fixtures for the public site: a clean page cache per test and a known owner profile."""

import pytest
from django.core.cache import caches

from portfolio.models import Profile
from portfolio.page_cache import CACHE_ALIAS


@pytest.fixture(autouse=True)
def _empty_page_cache():
    # The page cache lives in process memory and outlives each test's database transaction.
    caches[CACHE_ALIAS].clear()
    yield
    caches[CACHE_ALIAS].clear()


@pytest.fixture
def profile(db):
    return Profile.objects.create(
        name="Ada Example",
        headline="Builds trading systems",
        bio="I write **software**.",
        email="ada@example.com",
        location="Lisbon",
        links="Source | https://example.com/ada\nBroken line\nBad | javascript:alert(1)",
    )
