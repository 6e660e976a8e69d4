"""When to try a lost connection again: at once the first time, then less and less often."""

from __future__ import annotations

import time

BACKOFF_START_S = 0.1
BACKOFF_MAX_S = 5.0


class Backoff:
    """Doubling delays between reconnect attempts (0.1 s to 5 s by default), reset by a
    success."""

    __slots__ = ("start_s", "max_s", "delay_s", "retry_at", "failures")

    def __init__(self, start_s: float = BACKOFF_START_S, max_s: float = BACKOFF_MAX_S) -> None:
        self.start_s = start_s
        self.max_s = max_s
        self.delay_s = start_s
        self.retry_at = 0.0
        self.failures = 0

    def ready(self) -> bool:
        """Whether the next attempt may be made now."""
        return time.monotonic() >= self.retry_at

    def failed(self) -> float:
        """Note a lost connection or a failed attempt; returns the wait before the next one."""
        delay = self.delay_s
        self.failures += 1
        self.retry_at = time.monotonic() + delay
        self.delay_s = min(self.max_s, delay * 2)
        return delay

    def succeeded(self) -> None:
        """A connection is up: the next loss is retried quickly again."""
        self.delay_s = self.start_s
