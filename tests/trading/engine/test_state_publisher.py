"""The state publisher against a real Redis: coalescing, pub/sub, reads, outages."""

# The Redis fixtures are imported by name, and pytest passes them back as parameters.
# ruff: noqa: F811

from __future__ import annotations

import json
import threading
import time
from typing import Any

import redis

from tests.support.redis_server import (  # noqa: F401
    EmbeddedRedisServer,
    account,
    redis_url,
    restartable_redis,
)
from trading.engine.state_publisher import StatePublisher, read_state, state_key


def wait_for(predicate: Any, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def test_burst_is_coalesced_and_last_state_wins(redis_url: str, account: str) -> None:
    publisher = StatePublisher(redis_url, account, min_interval_s=0.5)
    try:
        started = time.monotonic()
        for n in range(1_000):
            publisher.publish({"n": n, "state": "ACTIVE"})
        assert time.monotonic() - started < 0.5, "the burst must fit in one interval"
        assert publisher.flush(timeout_s=3)
        assert publisher.writes <= 2
        envelope = read_state(redis_url, account)
        assert envelope is not None
        assert envelope["state"] == {"n": 999, "state": "ACTIVE"}
        assert envelope["seq"] == publisher.writes
        assert envelope["account"] == account
        assert abs(envelope["ts"] - time.time()) < 5
        assert publisher.healthy and publisher.errors == 0
    finally:
        publisher.stop()


def test_publish_is_cheap_for_the_caller(redis_url: str, account: str) -> None:
    publisher = StatePublisher(redis_url, account)
    try:
        started = time.perf_counter()
        for n in range(10_000):
            publisher.publish({"n": n})
        assert time.perf_counter() - started < 1.0
    finally:
        publisher.stop()
    envelope = read_state(redis_url, account)
    assert envelope is not None and envelope["state"] == {"n": 9_999}


def test_writes_are_spaced_by_min_interval(redis_url: str, account: str) -> None:
    publisher = StatePublisher(redis_url, account, min_interval_s=0.1)
    try:
        started = time.monotonic()
        while time.monotonic() - started < 0.55:
            publisher.publish({"t": time.monotonic()})
            time.sleep(0.001)
        publisher.flush()
        # 0.55 s at one write per 0.1 s: the first write is immediate, so at most 7.
        assert 3 <= publisher.writes <= 7
    finally:
        publisher.stop()


def test_subscribers_receive_the_state(redis_url: str, account: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    pubsub = client.pubsub()
    pubsub.subscribe(state_key(account))
    subscribed = pubsub.get_message(timeout=2)
    assert subscribed is not None and subscribed["type"] == "subscribe"
    publisher = StatePublisher(redis_url, account, min_interval_s=0.05)
    try:
        publisher.publish({"state": "HALTED", "pnl": "12.5"})
        message = pubsub.get_message(timeout=3)
        assert message is not None and message["type"] == "message"
        envelope = json.loads(message["data"])
        assert envelope["state"] == {"state": "HALTED", "pnl": "12.5"}
        assert envelope == read_state(redis_url, account)
    finally:
        publisher.stop()
        pubsub.close()


def test_read_state_returns_the_latest(redis_url: str, account: str) -> None:
    assert read_state(redis_url, account) is None
    publisher = StatePublisher(redis_url, account, min_interval_s=0.05)
    try:
        for state in ("ACTIVE", "REDUCING", "HALTED"):
            publisher.publish({"state": state})
            assert publisher.flush()
            envelope = read_state(redis_url, account)
            assert envelope is not None and envelope["state"] == {"state": state}
        assert envelope is not None and envelope["seq"] == 3
    finally:
        publisher.stop()


def test_unserialisable_values_are_stringified(redis_url: str, account: str) -> None:
    from decimal import Decimal

    publisher = StatePublisher(redis_url, account, min_interval_s=0.05)
    try:
        publisher.publish({"pnl": Decimal("1.25")})
        assert publisher.flush()
    finally:
        publisher.stop()
    envelope = read_state(redis_url, account)
    assert envelope is not None and envelope["state"] == {"pnl": "1.25"}


def test_sampling_thread(redis_url: str, account: str) -> None:
    calls = 0
    lock = threading.Lock()

    def get_state() -> dict[str, Any]:
        nonlocal calls
        with lock:
            calls += 1
            if calls == 2:
                raise RuntimeError("a bug in get_state must not kill the thread")
            return {"calls": calls}

    publisher = StatePublisher(redis_url, account, min_interval_s=0.05)
    publisher.start_thread(get_state)
    try:
        assert wait_for(lambda: publisher.writes >= 4)
    finally:
        publisher.stop()
    assert publisher.errors == 1
    envelope = read_state(redis_url, account)
    assert envelope is not None and envelope["state"]["calls"] >= 4
    worker = publisher._worker
    assert worker is not None and not worker.is_alive()


def test_redis_down_never_raises_and_recovers(
    restartable_redis: EmbeddedRedisServer,
) -> None:
    url = restartable_redis.url
    publisher = StatePublisher(url, "acct", min_interval_s=0.05, backoff_max_s=0.2)
    try:
        publisher.publish({"state": "ACTIVE"})
        assert publisher.flush()
        assert publisher.healthy

        restartable_redis.stop()
        for n in range(100):
            publisher.publish({"state": "HALTED", "n": n})
        assert wait_for(lambda: not publisher.healthy)
        assert publisher.errors >= 1
        assert not publisher.flush(timeout_s=0.3)

        restartable_redis.start()
        assert wait_for(lambda: publisher.healthy)
        assert publisher.flush()
        # The state queued during the outage reaches the new server.
        envelope = read_state(url, "acct")
        assert envelope is not None and envelope["state"] == {"state": "HALTED", "n": 99}
    finally:
        publisher.stop()
