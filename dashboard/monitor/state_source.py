"""The monitor's reader of an engine's published state, on one Redis connection it keeps.

Unlike `ledger.engine_control.read_state`, which opens a client per call, the monitor reads
several times a second for hours, so it holds one client and never raises: a Redis failure
comes back as the reading's `error`, for the screen to show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis

from ledger.engine_control import EngineState
from trading.engine.state_publisher import state_key


@dataclass(frozen=True, slots=True)
class Reading:
    """One look at the engine's state: what was there, or why Redis could not say."""

    engine: EngineState
    error: str = ""  # non-empty when Redis was unreachable


class StateSource:
    def __init__(self, redis_url: str, account: str, socket_timeout_s: float = 1.0) -> None:
        self.account = account
        self.key = state_key(account)
        self._redis = redis.Redis.from_url(
            redis_url,
            decode_responses=True,
            socket_timeout=socket_timeout_s,
            socket_connect_timeout=socket_timeout_s,
        )

    def read(self) -> Reading:
        """The latest envelope, never raising; blocks at most about the socket timeout."""
        absent = EngineState(self.account, None, 0.0, 0)
        try:
            raw = self._redis.get(self.key)
        except (redis.RedisError, OSError) as exc:
            return Reading(absent, str(exc) or type(exc).__name__)
        if not raw:
            return Reading(absent)
        try:
            envelope = json.loads(raw)
            state = envelope.get("state")
            published_at = float(envelope.get("ts", 0))
            seq = int(envelope.get("seq", 0))
        except (ValueError, TypeError, AttributeError):
            return Reading(absent)
        if not isinstance(state, dict):
            return Reading(absent)
        return Reading(EngineState(self.account, state, published_at, seq))

    def close(self) -> None:
        self._redis.close()
