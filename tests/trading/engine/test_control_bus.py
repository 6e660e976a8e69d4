"""The control bus against a real Redis: round trips, ordering, restarts, bad payloads."""

# The Redis fixtures are imported by name, and pytest passes them back as parameters.
# ruff: noqa: F811

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any

import pytest
import redis

from tests.support.redis_server import (  # noqa: F401
    EmbeddedRedisServer,
    account,
    redis_url,
    restartable_redis,
)
from trading.engine.control_bus import (
    Ack,
    Command,
    CommandBus,
    CommandKind,
    MalformedCommand,
    ack_key,
    acks_key,
    commands_key,
)


def poll_until(bus: CommandBus, count: int, timeout_s: float = 5.0) -> list[Command]:
    """Poll like an engine loop until `count` commands arrived or time is up."""
    got: list[Command] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < count and time.monotonic() < deadline:
        got.extend(bus.poll())
        time.sleep(0.01)
    return got


def test_command_json_round_trip() -> None:
    command = Command.new("acct", CommandKind.RELOAD_LIMITS, "alice", {"max_position": 5})
    assert Command.from_json(command.to_json()) == command


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "not an object"),
        ("{}", "'id'"),
        ('{"id": "abc"}', "not a UUID"),
    ],
)
def test_command_from_json_rejects(payload: str, fragment: str) -> None:
    with pytest.raises(MalformedCommand, match=fragment):
        Command.from_json(payload)


def test_round_trip_with_ack_and_state(redis_url: str, account: str) -> None:
    engine = CommandBus(redis_url, account)
    operator = CommandBus(redis_url, account)
    command_id = operator.send(CommandKind.PAUSE, "alice", {"note": "lunch"})

    commands = poll_until(engine, 1)
    assert [c.id for c in commands] == [command_id]
    command = commands[0]
    assert command.kind is CommandKind.PAUSE
    assert command.who == "alice"
    assert command.account == account
    assert command.args == {"note": "lunch"}
    assert abs(command.issued_at - time.time()) < 5

    engine.ack(command, "REDUCING", "paused by alice")
    ack = operator.wait_ack(command_id, timeout_s=2)
    assert ack is not None
    assert (ack.ok, ack.state, ack.reason, ack.kind) == (
        True,
        "REDUCING",
        "paused by alice",
        "pause",
    )
    assert engine.healthy

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    assert client.ttl(ack_key(account, command_id)) > 0
    assert client.xlen(acks_key(account)) == 1


def test_wait_ack_blocks_until_the_engine_answers(redis_url: str, account: str) -> None:
    engine = CommandBus(redis_url, account)
    operator = CommandBus(redis_url, account)
    command_id = operator.send("kill", "bob")

    def engine_loop() -> None:
        time.sleep(0.3)
        for command in poll_until(engine, 1):
            engine.ack(command, "HALTED", "killed")

    thread = threading.Thread(target=engine_loop)
    thread.start()
    started = time.monotonic()
    ack = operator.wait_ack(command_id, timeout_s=5)
    thread.join()
    assert ack is not None and ack.state == "HALTED" and ack.ok
    assert 0.2 < time.monotonic() - started < 4


def test_wait_ack_times_out(redis_url: str, account: str) -> None:
    operator = CommandBus(redis_url, account)
    started = time.monotonic()
    assert operator.wait_ack(str(uuid.uuid4()), timeout_s=0.3) is None
    assert time.monotonic() - started < 2


def test_commands_arrive_in_order(redis_url: str, account: str) -> None:
    engine = CommandBus(redis_url, account, batch=7)
    operator = CommandBus(redis_url, account)
    kinds = list(CommandKind) * 5
    sent = [operator.send(kind, "alice", {"n": n}) for n, kind in enumerate(kinds)]
    received = poll_until(engine, len(sent))
    assert [c.id for c in received] == sent
    assert [c.args["n"] for c in received] == list(range(len(sent)))
    assert engine.poll() == []


def test_commands_sent_before_the_engine_existed_are_skipped(
    redis_url: str,
    account: str,
) -> None:
    operator = CommandBus(redis_url, account)
    operator.send(CommandKind.START, "alice")
    engine = CommandBus(redis_url, account)
    fresh = operator.send(CommandKind.STOP, "alice")
    assert [c.id for c in poll_until(engine, 1)] == [fresh]


def test_unknown_kind_is_refused_by_the_sender(redis_url: str, account: str) -> None:
    with pytest.raises(ValueError):
        CommandBus(redis_url, account).send("launch_missiles", "mallory")


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ("{{{", "not valid JSON"),
        ('"just a string"', "not an object"),
        (None, "no 'payload' field"),
    ],
)
def test_unparseable_payload_is_acked_as_error(
    redis_url: str,
    account: str,
    payload: str | None,
    fragment: str,
) -> None:
    engine = CommandBus(redis_url, account)
    engine.set_state("ACTIVE")
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    fields: dict[Any, Any] = {"payload": payload} if payload is not None else {"junk": "1"}
    entry_id = str(client.xadd(commands_key(account), fields))
    good = CommandBus(redis_url, account).send(CommandKind.RESUME, "alice")

    # The malformed entry is skipped, the engine keeps going and sees the next command.
    assert [c.id for c in poll_until(engine, 1)] == [good]
    ack = CommandBus(redis_url, account).wait_ack(entry_id, timeout_s=2)
    assert ack is not None
    assert not ack.ok
    assert fragment in ack.reason and "malformed" in ack.reason
    assert ack.state == "ACTIVE"


def test_bad_kind_is_acked_as_error_under_the_senders_id(
    redis_url: str,
    account: str,
) -> None:
    engine = CommandBus(redis_url, account)
    operator = CommandBus(redis_url, account)
    command = json.loads(Command.new(account, CommandKind.START, "eve").to_json())
    command["kind"] = "launch_missiles"
    operator.send_raw(json.dumps(command))
    other = dict(command, id=str(uuid.uuid4()), kind="start", account="someone-else")
    operator.send_raw(json.dumps(other))

    assert poll_until(engine, 1, timeout_s=0.5) == []
    ack = operator.wait_ack(command["id"], timeout_s=2)
    assert ack is not None and not ack.ok and "unknown kind 'launch_missiles'" in ack.reason
    ack = operator.wait_ack(other["id"], timeout_s=2)
    assert ack is not None and not ack.ok and "someone-else" in ack.reason


def test_duplicate_command_is_delivered_once(redis_url: str, account: str) -> None:
    engine = CommandBus(redis_url, account)
    operator = CommandBus(redis_url, account)
    payload = Command.new(account, CommandKind.FLATTEN_ALL, "alice").to_json()
    operator.send_raw(payload)
    operator.send_raw(payload)
    assert len(poll_until(engine, 2, timeout_s=0.5)) == 1


def test_poll_survives_a_redis_restart(
    restartable_redis: EmbeddedRedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = restartable_redis.url
    engine = CommandBus(url, "acct", backoff_initial_s=0.05, backoff_max_s=0.2)
    operator = CommandBus(url, "acct")
    first = operator.send(CommandKind.START, "alice")
    assert [c.id for c in poll_until(engine, 1)] == [first]

    restartable_redis.stop()
    caplog.set_level(logging.INFO, logger="SYSTEM")
    started = time.monotonic()
    for _ in range(20):
        assert engine.poll() == []
    # Polling a dead Redis must not stall the engine's loop.
    assert time.monotonic() - started < 2
    assert not engine.healthy
    assert any(r.name == "SYSTEM" and "lost Redis" in r.getMessage() for r in caplog.records)
    # An ack while Redis is down is kept and delivered after the reconnect.
    engine.ack(Command.new("acct", CommandKind.START, "alice"), "ACTIVE", "late")

    restartable_redis.start()
    second = operator.send(CommandKind.PAUSE, "alice")
    assert [c.id for c in poll_until(engine, 1)] == [second]
    assert engine.healthy
    assert any("reconnected" in r.getMessage() for r in caplog.records)
    client = redis.Redis.from_url(url, decode_responses=True)
    acks = [Ack.from_json(f["payload"]) for _id, f in client.xrange(acks_key("acct"))]
    assert [a.reason for a in acks] == ["late"]


def test_engine_built_while_redis_is_down(restartable_redis: EmbeddedRedisServer) -> None:
    restartable_redis.stop()
    engine = CommandBus(restartable_redis.url, "acct", backoff_initial_s=0.01, backoff_max_s=0.05)
    assert engine.poll() == []
    assert not engine.healthy
    restartable_redis.start()
    deadline = time.monotonic() + 3
    while not engine.healthy and time.monotonic() < deadline:
        engine.poll()
        time.sleep(0.01)
    assert engine.healthy
    command_id = CommandBus(restartable_redis.url, "acct").send(CommandKind.START, "alice")
    assert [c.id for c in poll_until(engine, 1)] == [command_id]
