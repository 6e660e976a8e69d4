"""Dashboard fixtures: a real Redis, a unique account, staff and non-staff users."""

# ruff: noqa: F811
import json
import threading
import time

import pytest
import redis
from django.contrib.auth import get_user_model

from tests.support.redis_server import account, redis_url  # noqa: F401
from trading.engine.control_bus import CommandBus
from trading.engine.state_publisher import state_key


@pytest.fixture
def desk(settings, redis_url, account):
    """Settings pointing the dashboard at the test Redis and a fresh account."""
    settings.REDIS_URL = redis_url
    settings.DESK_ACCOUNT = account
    return settings


@pytest.fixture
def staff_client(client, db):
    user = get_user_model().objects.create_user("boss", password="pw", is_staff=True)
    client.force_login(user)
    return client


@pytest.fixture
def viewer_client(client, db):
    user = get_user_model().objects.create_user("viewer", password="pw")
    client.force_login(user)
    return client


def engine_state(**overrides):
    """A plausible `TradingEngine.status()` for an engine holding AAPL."""
    state = {
        "positions": {
            "AAPL": {"qty": 100, "avg_price": 190.0, "mark": 191.0, "unrealised": 100.0,
                     "realised": 20.0, "total": 120.0},
        },
        "realised": 20.0, "unrealised": 100.0, "daily_pnl": 120.0, "equity": 1_000_120.0,
        "state": "ACTIVE", "risk_state": "ACTIVE", "risk_reason": "",
        "limits": {"max_order_shares": 500},
        "risk_usage": {"position": 0.1, "total_position": 0.05, "order_rate": 0.0,
                       "daily_loss": 0.0, "gross_exposure": 0.2, "circuit_breaker": 0.0},
        "working_orders": 0, "working": [], "fills": [],
        "counters": {"orders": 10, "fills": 5, "cancels": 2, "risk_rejects": 0,
                     "venue_rejects": 0},
        "latency_us": {"tick_to_order": {"p50": 12, "p95": 30, "p99": 45, "p999": 80,
                                         "max": 90, "count": 10}},
        "venue": {"name": "simulator", "order_connected": True, "order_reconnects": 0,
                  "feed_connected": True},
        "feed": {"messages": 1000, "next_sequence": 1001, "gaps": 0, "resyncs": 0,
                 "reconnects": 0, "malformed": 0},
        "strategies": ["mean_reversion"],
    }  # fmt: skip
    state.update(overrides)
    return state


def put_state(redis_url, account, state, seq=1, ts=None, boot="boot1"):
    """Store an envelope exactly as the engine's publisher does."""
    envelope = {"account": account, "seq": seq, "ts": time.time() if ts is None else ts,
                "boot": boot, "state": state}  # fmt: skip
    client = redis.Redis.from_url(redis_url)
    try:
        text = json.dumps(envelope)
        client.set(state_key(account), text)
        client.publish(state_key(account), text)
    finally:
        client.close()


class FakeEngine:
    """Answers the commands of one account like an engine would, from a thread."""

    def __init__(self, redis_url, account, answer):
        self.bus = CommandBus(redis_url, account)
        self.answer = answer
        self.received = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.bus.poll()  # places the cursor at the stream's end before anything is sent
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self.bus.close()

    def _run(self):
        while not self._stop.is_set():
            for command in self.bus.poll():
                self.received.append(command)
                ok, state, reason = self.answer(command)
                self.bus.ack(command, state, reason, ok=ok)
            time.sleep(0.01)
