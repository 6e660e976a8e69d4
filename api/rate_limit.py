"""A per-user token bucket for the command endpoints.

In-process on purpose: it guards the engine's command stream against a runaway script or a
stuck button, not against a distributed attack (the login and the keys do that), so one
bucket per web process is enough and costs no round trip.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

DEFAULT_RATE_PER_S = 10.0
DEFAULT_BURST = 20


@dataclass(slots=True)
class TokenBucket:
    """`burst` tokens, refilled at `rate_per_s`; each request takes one."""

    rate_per_s: float
    burst: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take a token; returns 0.0 when taken, else the seconds until one is available."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate_per_s)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate_per_s


class CommandRateLimit(BaseThrottle):
    """Ninja throttle: one bucket per authenticated user, shared by every command endpoint.

    Rate and burst come from `DESK_COMMAND_RATE_PER_S` / `DESK_COMMAND_BURST` when set.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[object, TokenBucket] = {}
        self._last_wait = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        rate = float(getattr(settings, "DESK_COMMAND_RATE_PER_S", DEFAULT_RATE_PER_S))
        burst = float(getattr(settings, "DESK_COMMAND_BURST", DEFAULT_BURST))
        user = getattr(request, "auth", None)
        ident = getattr(user, "pk", None) or self.get_ident(request)
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(ident)
            if bucket is None or (bucket.rate_per_s, bucket.burst) != (rate, burst):
                bucket = self._buckets[ident] = TokenBucket(rate, burst, burst, now)
            wait = bucket.take(now)
        self._last_wait.seconds = wait
        return wait == 0.0

    def wait(self) -> float | None:
        # Retry-After is whole seconds; never tell a client to retry "in 0 s" and spin.
        return max(1, math.ceil(getattr(self._last_wait, "seconds", 1.0)))

    def reset(self) -> None:
        """Forget every bucket (tests)."""
        with self._lock:
            self._buckets.clear()


command_rate_limit = CommandRateLimit()
