"""The engine endpoints: published state, and commands answered by a stand-in engine."""

from __future__ import annotations

import time

import pytest

from ledger.models import AuditEvent
from trading.engine.state_publisher import StatePublisher

pytestmark = pytest.mark.django_db


def test_a_never_published_engine_has_a_null_state(staff_client, desk):
    body = staff_client.get("/api/engine").json()
    assert body == {
        "account": desk.DESK_ACCOUNT, "state": None, "seq": 0, "published_at": None,
        "age_s": None, "stale": True,
    }  # fmt: skip


def test_a_publishing_engine_is_fresh(staff_client, desk):
    publisher = StatePublisher(desk.REDIS_URL, desk.DESK_ACCOUNT, min_interval_s=0.0)
    publisher.publish({"state": "ACTIVE", "equity": 1_000_000.0})
    deadline = time.monotonic() + 5
    while staff_client.get("/api/engine").json()["state"] is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    publisher.stop()
    body = staff_client.get("/api/engine").json()
    assert body["state"] == {"state": "ACTIVE", "equity": 1_000_000.0}
    assert body["stale"] is False and body["seq"] >= 1 and body["age_s"] >= 0


def test_a_command_returns_the_engines_ack_and_is_audited(staff_client, fake_engine):
    fake_engine(lambda command: (True, f"paused by {command.who}"), state="PAUSED")
    response = staff_client.post(
        "/api/engine/commands", {"kind": "pause", "args": {"note": "lunch"}},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is True and body["state"] == "PAUSED"
    assert body["reason"].startswith("paused by operator (key ")
    (command,) = fake_engine.seen
    assert command.kind == "pause" and command.args == {"note": "lunch"}
    event = AuditEvent.objects.get(action="pause")
    assert (
        event.result.startswith("ok: paused by operator")
        and event.detail["id"] == body["command_id"]
    )


def test_a_refused_command_is_still_a_200_carrying_ok_false(staff_client, fake_engine):
    fake_engine(lambda command: (False, "already stopped"), state="HALTED")
    body = staff_client.post(
        "/api/engine/commands", {"kind": "resume"}, content_type="application/json"
    ).json()
    assert body["ok"] is False and body["reason"] == "already stopped" and body["state"] == "HALTED"


def test_an_unanswered_command_is_504_with_its_id(staff_client):
    response = staff_client.post(
        "/api/engine/commands", {"kind": "flatten_all"}, content_type="application/json"
    )
    assert response.status_code == 504
    assert "did not answer within 0.2 s" in response.json()["detail"]
    assert (
        AuditEvent.objects.get(action="flatten_all").detail["id"] == response.json()["command_id"]
    )


def test_an_unknown_kind_is_422_naming_the_field(staff_client):
    response = staff_client.post(
        "/api/engine/commands", {"kind": "self_destruct"}, content_type="application/json"
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"][-1] == "kind" and "pause" in error["msg"]


def test_redis_down_is_503(staff_client, desk):
    desk.REDIS_URL = "redis://127.0.0.1:1/0"
    response = staff_client.post(
        "/api/engine/commands", {"kind": "pause"}, content_type="application/json"
    )
    assert response.status_code == 503 and "Redis" in response.json()["detail"]
    assert staff_client.get("/api/engine").status_code == 503


def test_commands_are_rate_limited_per_user_with_retry_after(desk, client_as):
    desk.DESK_COMMAND_RATE_PER_S = 0.01
    desk.DESK_COMMAND_BURST = 2
    desk.DESK_COMMAND_TIMEOUT_S = 0.01
    operator = client_as("staff_key")
    statuses = [operator.post("/api/orders/1/cancel").status_code for _ in range(3)]
    assert statuses == [504, 504, 429]
    refused = operator.post(
        "/api/engine/commands", {"kind": "pause"}, content_type="application/json"
    )
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    # Reads are not commands, and the bucket is the user's: a staff session is the same user.
    assert operator.get("/api/orders").status_code == 200
    assert client_as("staff_session").post("/api/orders/1/cancel").status_code == 429
