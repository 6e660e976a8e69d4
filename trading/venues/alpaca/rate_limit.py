"""A token bucket for the broker's REST rate limit (Alpaca allows 200 requests a minute).

Each request takes a token; tokens come back at `rate_per_min / 60` a second up to `burst`.
A 429 from the broker pauses the bucket for the Retry-After it named: the broker's count is
the one that matters, whatever ours says.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """Thread-safe: the REST worker takes tokens, anyone may read the state."""

    def __init__(
        self,
        rate_per_min: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_min <= 0:
            raise ValueError("rate_per_min must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate_per_s = rate_per_min / 60.0
        self.burst = burst
        self.clock = clock
        self.sleep = sleep
        self.tokens = float(burst)
        self.updated = clock()
        self.paused_until = 0.0
        self.waits = 0
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate_per_s)
            self.updated = now

    def delay(self) -> float:
        """Seconds until a token could be taken (0: now)."""
        with self._lock:
            now = self.clock()
            self._refill(now)
            if now < self.paused_until:
                return self.paused_until - now  # a token waits at the end of the pause
            return max(0.0, 1.0 - self.tokens) / self.rate_per_s

    def try_take(self) -> bool:
        """Take a token if one is free now."""
        with self._lock:
            now = self.clock()
            self._refill(now)
            if now < self.paused_until or self.tokens < 1.0:
                return False
            self.tokens -= 1.0
            return True

    def take(self, timeout_s: float | None = None) -> bool:
        """Wait for a token (at most `timeout_s`); False if none came in time."""
        deadline = None if timeout_s is None else self.clock() + timeout_s
        while not self.try_take():
            wait = self.delay()
            if deadline is not None and self.clock() + wait > deadline:
                return False
            self.waits += 1
            self.sleep(max(wait, 0.001))
        return True

    def pause(self, seconds: float) -> None:
        """The broker said to wait: no token for `seconds`; then one request may go, and
        the rest follow at the rate (the bucket does not refill during the pause)."""
        with self._lock:
            now = self.clock()
            self.paused_until = max(self.paused_until, now + seconds)
            self.tokens = 1.0
            self.updated = self.paused_until

    @property
    def paused(self) -> bool:
        return self.clock() < self.paused_until
