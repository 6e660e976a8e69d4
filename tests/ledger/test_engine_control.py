"""The web tier reads the engine's published state and sends it audited commands over a real
Redis."""

# ruff: noqa: F811
import threading
import time

import pytest

from ledger.engine_control import read_state, send_command
from ledger.models import AuditEvent
from tests.support.redis_server import account, redis_url  # noqa: F401
from trading.engine.control_bus import CommandBus
from trading.engine.state_publisher import StatePublisher

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_settings(settings, redis_url):
    settings.REDIS_URL = redis_url
    return settings


def test_a_never_published_engine_reads_as_absent_and_a_publishing_one_as_fresh(
    redis_settings, account
):
    assert read_state(account).state is None and read_state(account).stale
    publisher = StatePublisher(redis_settings.REDIS_URL, account, min_interval_s=0.0)
    publisher.publish({"state": "ACTIVE", "equity": 1_000_000.0})
    deadline = time.monotonic() + 5
    while read_state(account).state is None and time.monotonic() < deadline:
        time.sleep(0.02)
    publisher.stop()
    state = read_state(account)
    assert state.state == {"state": "ACTIVE", "equity": 1_000_000.0}
    assert not state.stale and state.seq >= 1


def test_a_command_nobody_answers_is_audited_as_unanswered(redis_settings, account):
    outcome = send_command(account, "pause", "ops", timeout_s=0.3)
    assert not outcome.acknowledged
    (event,) = AuditEvent.objects.filter(who="ops")
    assert event.action == "pause" and event.result.startswith("sent; no answer within 0.3 s")


def test_an_answered_command_carries_the_engines_reason_and_state(redis_settings, account):
    engine_side = CommandBus(redis_settings.REDIS_URL, account)

    def engine():
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for command in engine_side.poll():
                engine_side.ack(command, "PAUSED", f"paused by {command.who}", ok=True)
                return
            time.sleep(0.01)

    thread = threading.Thread(target=engine)
    thread.start()
    outcome = send_command(account, "pause", "ops", {"note": "lunch"}, timeout_s=5)
    thread.join()
    engine_side.close()
    assert outcome.ok and outcome.ack.state == "PAUSED" and outcome.ack.reason == "paused by ops"
    (event,) = AuditEvent.objects.filter(who="ops")
    assert event.result == "ok: paused by ops; PAUSED"
    assert event.detail["args"] == {"note": "lunch"} and event.detail["account"] == account


def test_an_unknown_command_is_refused_and_audited(redis_settings, account):
    with pytest.raises(ValueError):
        send_command(account, "self_destruct", "ops")
    assert AuditEvent.objects.get(who="ops").result == "refused: unknown command"
