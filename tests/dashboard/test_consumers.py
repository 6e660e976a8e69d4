"""The live stream: authenticated only, full state on connect, coalesced, stale-aware."""

# ruff: noqa: F811
import asyncio
import time

from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from dashboard.consumers import MIN_GAP_S, DashboardConsumer
from desk.asgi import application
from tests.dashboard.conftest import engine_state, put_state


class Operator:
    is_authenticated = True
    is_staff = True
    username = "ops"


def _communicator(user=None):
    communicator = WebsocketCommunicator(DashboardConsumer.as_asgi(), "/ws/dashboard/")
    communicator.scope["user"] = user or Operator()
    return communicator


async def _messages_until(communicator, predicate, timeout_s=10.0):
    received = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        message = await communicator.receive_json_from(timeout=timeout_s)
        received.append(message)
        if predicate(message):
            return received
    raise AssertionError(f"no matching message in {received!r}")


def test_an_anonymous_visitor_is_refused_with_4401(desk):
    async def scenario():
        communicator = WebsocketCommunicator(
            application, "/ws/dashboard/", headers=[(b"origin", b"http://localhost")]
        )
        connected, code = await communicator.connect()
        return connected, code

    assert asyncio.run(scenario()) == (False, 4401)


def test_a_consumer_without_a_user_in_scope_refuses_too(desk):
    async def scenario():
        connected, code = await _communicator(AnonymousUser()).connect()
        return connected, code

    assert asyncio.run(scenario()) == (False, 4401)


def test_a_foreign_origin_is_refused(desk):
    async def scenario():
        communicator = WebsocketCommunicator(
            application, "/ws/dashboard/", headers=[(b"origin", b"http://evil.example")]
        )
        connected, _ = await communicator.connect()
        return connected

    assert asyncio.run(scenario()) is False


def test_the_full_state_is_sent_on_connect(desk):
    put_state(desk.REDIS_URL, desk.DESK_ACCOUNT, engine_state(), seq=41)

    async def scenario():
        communicator = _communicator()
        connected, _ = await communicator.connect()
        assert connected
        first = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return first

    first = asyncio.run(scenario())
    assert first["type"] == "state" and first["engine"] == "running"
    assert first["seq"] == 41 and not first["stale"]
    assert first["state"]["equity"] == 1_000_120.0
    assert first["positions"][0]["symbol"] == "AAPL" and first["total"]["total"] == 120.0


def test_a_burst_of_publishes_arrives_as_a_few_messages_carrying_the_latest(desk):
    put_state(desk.REDIS_URL, desk.DESK_ACCOUNT, engine_state(), seq=1)
    burst = 10_000

    async def scenario():
        communicator = _communicator()
        await communicator.connect()
        first = await communicator.receive_json_from(timeout=5)
        assert first["seq"] == 1

        def publish_burst():
            import redis

            from trading.engine.state_publisher import state_key

            client = redis.Redis.from_url(desk.REDIS_URL)
            pipe = client.pipeline(transaction=False)
            for seq in range(2, burst + 2):
                counters = {"orders": seq, "fills": seq, "cancels": 0, "risk_rejects": 0,
                            "venue_rejects": 0}  # fmt: skip
                envelope = {"account": desk.DESK_ACCOUNT, "seq": seq, "ts": time.time(),
                            "boot": "boot1", "state": engine_state(counters=counters)}  # fmt: skip
                import json

                text = json.dumps(envelope)
                pipe.set(state_key(desk.DESK_ACCOUNT), text)
                pipe.publish(state_key(desk.DESK_ACCOUNT), text)
                if seq % 500 == 0:
                    pipe.execute()
            pipe.execute()
            client.close()

        started = time.monotonic()
        await asyncio.to_thread(publish_burst)
        received = await _messages_until(communicator, lambda m: m["seq"] == burst + 1)
        elapsed = time.monotonic() - started
        await communicator.disconnect()
        return received, elapsed

    received, elapsed = asyncio.run(scenario())
    assert received[-1]["seq"] == burst + 1
    assert received[-1]["state"]["counters"]["orders"] == burst + 1
    # At most one message per tick (plus one for rounding), whatever the burst's size.
    assert len(received) <= elapsed / MIN_GAP_S + 2
    assert len(received) < burst / 100
    seqs = [m["seq"] for m in received]
    assert seqs == sorted(seqs)
    assert received[-1]["rates"] is None or received[-1]["rates"]["orders"] >= 0


def test_updates_keep_coming_while_the_engine_publishes(desk):
    async def scenario():
        put_state(desk.REDIS_URL, desk.DESK_ACCOUNT, engine_state(), seq=1)
        communicator = _communicator()
        await communicator.connect()
        await communicator.receive_json_from(timeout=5)
        received = []
        for seq in range(2, 6):
            feed = {**engine_state()["feed"], "messages": 1000 + seq}
            put_state(desk.REDIS_URL, desk.DESK_ACCOUNT, engine_state(feed=feed), seq=seq)
            received.append(await communicator.receive_json_from(timeout=5))
        await communicator.disconnect()
        return received

    received = asyncio.run(scenario())
    assert [m["seq"] for m in received] == [2, 3, 4, 5]
    assert received[-1]["state"]["feed"]["messages"] == 1005
    assert received[-1]["rates"]["feed"] > 0


def test_an_old_state_is_flagged_stale(desk):
    put_state(desk.REDIS_URL, desk.DESK_ACCOUNT, engine_state(), seq=9, ts=time.time() - 30)

    async def scenario():
        communicator = _communicator()
        await communicator.connect()
        first = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return first

    first = asyncio.run(scenario())
    assert first["stale"] is True and first["engine"] == "running" and first["age_s"] >= 29
    assert {"level": "red", "text": "Engine silent: its last state is stale"} in first["alerts"]


def test_a_state_that_goes_quiet_turns_stale_without_a_new_publish(desk):
    put_state(desk.REDIS_URL, desk.DESK_ACCOUNT, engine_state(), seq=3, ts=time.time() - 1.5)

    async def scenario():
        communicator = _communicator()
        await communicator.connect()
        first = await communicator.receive_json_from(timeout=5)
        second = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return first, second

    first, second = asyncio.run(scenario())
    assert first["stale"] is False and second["stale"] is True and second["seq"] == 3


def test_no_engine_reads_as_absent_and_a_starting_engine_appears(desk):
    async def scenario():
        communicator = _communicator()
        await communicator.connect()
        first = await communicator.receive_json_from(timeout=5)
        put_state(desk.REDIS_URL, desk.DESK_ACCOUNT, engine_state(), seq=1)
        second = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return first, second

    first, second = asyncio.run(scenario())
    assert first["engine"] == "absent" and first["state"] is None and first["stale"] is True
    assert second["engine"] == "running" and second["seq"] == 1
