"""Publishes an engine's state to Redis for dashboards, off the hot path and coalesced.

Each write sets the key `desk:{account}:state` to a JSON envelope
`{"account", "seq", "ts", "boot", "state"}` and PUBLISHes the same text on the channel
`desk:{account}:state`. `publish()` only stores the latest state and wakes a worker
thread; the worker writes at most once per `min_interval_s`, so a burst of updates costs
Redis one write carrying the last of them. Redis errors are counted and turn `healthy`
False; they never reach the caller, and the unsent state is retried until Redis is back.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from trading.log_format import get_logger

log = get_logger("SYSTEM")

_WAIT_FOREVER_S = 3_600.0
_SAMPLE = object()  # tells the worker to call get_state itself


def state_key(account: str) -> str:
    """The key (and the pub/sub channel) carrying one account's engine state."""
    return f"desk:{account}:state"


def _client(url: str, socket_timeout_s: float) -> redis.Redis:
    # One immediate retry covers the stale pooled connection after a Redis restart; the
    # worker has its own back-off, so redis-py's long default retries would only add lag.
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=socket_timeout_s,
        retry=Retry(NoBackoff(), 1),
    )


class StatePublisher:
    """Coalescing, never-raising publisher of one account's engine state."""

    def __init__(
        self,
        redis_url: str,
        account: str,
        min_interval_s: float = 0.2,
        *,
        socket_timeout_s: float = 1.0,
        backoff_max_s: float = 2.0,
    ) -> None:
        self.redis_url = redis_url
        self.account = account
        self.min_interval_s = min_interval_s
        self.backoff_max_s = backoff_max_s
        self.key = state_key(account)
        self.healthy = True
        self.errors = 0
        self.writes = 0
        self.seq = 0
        # Distinguishes publisher lifetimes, since `seq` restarts at 1 with each one.
        self.boot = uuid.uuid4().hex[:12]
        self._redis = _client(redis_url, socket_timeout_s)
        self._cond = threading.Condition()
        self._pending: dict[str, Any] | None = None
        self._get_state: Callable[[], dict[str, Any]] | None = None
        self._next_write_at = 0.0
        self._stopping = False
        self._worker: threading.Thread | None = None
        self._failures_in_row = 0

    def publish(self, state: dict[str, Any]) -> None:
        """Queue `state` for publication; returns at once and never raises.

        Only the most recent state queued before the next write is published.
        """
        with self._cond:
            if self._stopping:
                return
            self._pending = state
            self._ensure_worker()
            self._cond.notify()

    def start_thread(self, get_state: Callable[[], dict[str, Any]]) -> None:
        """Sample `get_state()` every `min_interval_s` and publish it, until `stop()`.

        `get_state` runs on the worker thread, so it must be safe to call from there; an
        exception from it is counted and logged, and sampling carries on.
        """
        with self._cond:
            self._get_state = get_state
            self._ensure_worker()
            self._cond.notify()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Write any queued state one last time (best effort) and join the worker."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
            worker = self._worker
        if worker is not None:
            worker.join(timeout_s)
        self._redis.close()

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until no queued state is left unwritten; False on timeout (e.g. Redis down)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._pending is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    # -- worker ------------------------------------------------------------------------------

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(
                target=self._run, name=f"state-publisher-{self.account}", daemon=True
            )
            self._worker.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                item = self._next_state()
            if item is None:
                return
            if item is _SAMPLE:
                # Sampled outside the lock so a slow get_state never blocks publish().
                state = self._sample()
                if state is None:
                    with self._cond:
                        self._next_write_at = time.monotonic() + self.min_interval_s
                    continue
            else:
                assert isinstance(item, dict)
                state = item
            ok = self._write(state)
            with self._cond:
                # On failure the queued state stays queued and is retried after back-off.
                if ok and self._pending is state:
                    self._pending = None
                self._cond.notify_all()

    def _next_state(self) -> dict[str, Any] | object | None:
        """Wait (holding the condition) for what to write next: a state, `_SAMPLE`, or None
        to exit."""
        while True:
            now = time.monotonic()
            due = now >= self._next_write_at
            if self._stopping:
                if self._pending is not None and self.healthy:
                    return self._pending
                return None
            if due and self._pending is not None:
                return self._pending
            if due and self._get_state is not None:
                return _SAMPLE
            if self._pending is None and self._get_state is None:
                self._cond.wait(_WAIT_FOREVER_S)
            else:
                self._cond.wait(max(self._next_write_at - now, 0.0))

    def _sample(self) -> dict[str, Any] | None:
        assert self._get_state is not None
        try:
            return self._get_state()
        except Exception:
            self.errors += 1
            log.exception("state publisher for %s: get_state failed", self.account)
            return None

    def _write(self, state: dict[str, Any]) -> bool:
        self.seq += 1
        envelope = {
            "account": self.account,
            "seq": self.seq,
            "ts": time.time(),
            "boot": self.boot,
            "state": state,
        }
        try:
            # default=str: a Decimal or an enum in the state must not cost the dashboard
            # its whole update.
            text = json.dumps(envelope, separators=(",", ":"), default=str)
            pipe = self._redis.pipeline(transaction=True)
            pipe.set(self.key, text)
            pipe.publish(self.key, text)
            pipe.execute()
        except (redis.RedisError, OSError, TypeError, ValueError) as exc:
            self.seq -= 1
            self._failed(exc)
            return False
        self.writes += 1
        if not self.healthy:
            log.info("state publisher for %s reconnected to Redis", self.account)
        self.healthy = True
        self._failures_in_row = 0
        with self._cond:
            self._next_write_at = time.monotonic() + self.min_interval_s
        return True

    def _failed(self, exc: BaseException) -> None:
        self.errors += 1
        self._failures_in_row += 1
        if self.healthy:
            log.warning("state publisher for %s cannot write to Redis: %s", self.account, exc)
        self.healthy = False
        backoff = min(self.min_interval_s * 2 ** (self._failures_in_row - 1), self.backoff_max_s)
        with self._cond:
            self._next_write_at = time.monotonic() + max(backoff, self.min_interval_s)


def read_state(redis_url: str, account: str) -> dict[str, Any] | None:
    """The latest published envelope of `account` (`seq`, `ts`, `state`...), or None.

    None when nothing was published or the stored value is unreadable; Redis errors
    propagate so the web tier can tell "no engine" from "no Redis".
    """
    client = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=2.0)
    try:
        raw = client.get(state_key(account))
    finally:
        client.close()
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
