"""A token bucket that spaces requests to a plan's rate limit.

Polygon's plans count requests per minute (five on the free plan).  A bucket holding
``burst`` tokens and refilled at ``rate_per_minute / 60`` tokens a second lets at most
``burst + rate * window`` requests through any window; the default burst of one spaces
requests evenly, which never trips a per-minute counter however the minute is aligned.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """``acquire()`` blocks until a request may go; ``rate_per_minute <= 0`` means no pacing."""

    def __init__(
        self,
        rate_per_minute: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self.rate_per_s = max(float(rate_per_minute), 0.0) / 60.0
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    @property
    def paced(self) -> bool:
        return self.rate_per_s > 0

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate_per_s)
        self._stamp = now

    def acquire(self) -> float:
        """Take a token, waiting for one if need be; returns the seconds waited."""
        if not self.paced:
            return 0.0
        waited = 0.0
        with self._lock:
            while True:
                self._refill(self._clock())
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return waited
                gap = (1.0 - self._tokens) / self.rate_per_s
                self._sleep(gap)
                waited += gap

    def drain(self, hold_s: float = 0.0) -> None:
        """Empty the bucket (and keep it empty ``hold_s`` longer): the server said slow down."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens = -hold_s * self.rate_per_s if self.paced else 0.0
