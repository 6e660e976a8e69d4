"""How public pages are cached, and how an edit in the admin reaches visitors at once.

Rendered pages live in their own cache alias, so invalidating them is a `clear()` that cannot
touch anything else the project caches. Clients and shared proxies may keep a page for a minute.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import caches
from django.views.decorators.cache import cache_control, cache_page

CACHE_ALIAS = "portfolio"
MAX_AGE_SECONDS = 60


def public_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Cache the view's response server-side and mark it `Cache-Control: public, max-age=60`.

    `cache_page` takes its timeout from the max-age the inner decorator sets, so the server copy
    and the browser copy expire together; content edits clear the server copy earlier.
    """
    return cache_page(MAX_AGE_SECONDS, cache=CACHE_ALIAS)(
        cache_control(public=True, max_age=MAX_AGE_SECONDS)(view)
    )


def clear_public_pages(**_: Any) -> None:
    """Forget every cached public page (a signal receiver: it ignores the signal's arguments)."""
    caches[CACHE_ALIAS].clear()
