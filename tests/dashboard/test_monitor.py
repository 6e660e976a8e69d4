"""The terminal monitor against a real Redis: what it shows of a published state, its
staleness markers, and the commands its keys send (driven through Textual's pilot)."""

# ruff: noqa: F811
from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import redis
from textual.widgets import DataTable, Static

from dashboard.monitor.app import ConfirmFlatten, MonitorApp, outcome_text
from ledger.engine_control import CommandOutcome
from ledger.models import AuditEvent
from tests.dashboard.monitor_states import engine_status
from tests.support.redis_server import account, redis_url  # noqa: F401
from trading.engine.control_bus import Ack, CommandBus, commands_key
from trading.engine.state_publisher import StatePublisher, state_key

WAIT_S = 10.0


@pytest.fixture
def redis_settings(settings, redis_url):
    settings.REDIS_URL = redis_url
    return settings


@pytest.fixture
def publisher(redis_settings, account):
    publisher = StatePublisher(redis_settings.REDIS_URL, account, min_interval_s=0)
    yield publisher
    publisher.stop()


class FakeEngine:
    """Answers the monitor's commands the way an engine would, on a thread of its own."""

    def __init__(self, url: str, account: str) -> None:
        self.bus = CommandBus(url, account)
        self.bus.poll()  # places the cursor before anything the test sends
        self.received: list[Any] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        states = {"pause": "PAUSED", "resume": "ACTIVE", "flatten_all": "REDUCING"}
        while not self._stop.is_set():
            for command in self.bus.poll():
                self.received.append(command)
                kind = command.kind.value
                self.bus.ack(command, states.get(kind, "ACTIVE"), f"{kind} done for {command.who}")
            time.sleep(0.01)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.bus.close()


@pytest.fixture
def engine(redis_settings, account):
    fake = FakeEngine(redis_settings.REDIS_URL, account)
    yield fake
    fake.close()


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coroutine)


async def until(pilot: Any, condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw: {what}")
        await pilot.pause(0.02)


def text_of(app: MonitorApp, widget_id: str) -> str:
    return str(app.query_one(widget_id, Static).content)


def row_of(app: MonitorApp, table_id: str, key: str) -> list[str]:
    return [str(cell) for cell in app.query_one(table_id, DataTable).get_row(key)]


def monitor(account: str) -> MonitorApp:
    return MonitorApp(account, interval_s=0.05, who="monitor:tester")


@pytest.mark.django_db
def test_it_shows_the_published_state_then_rates_from_the_next_one(publisher, account):
    publisher.publish(engine_status())

    async def scenario() -> None:
        app = monitor(account)
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: "ACTIVE" in text_of(app, "#summary"), "the summary")
            summary = text_of(app, "#summary")
            assert "net +250" in summary and "P&L +365.00" in summary
            assert "12.5 µs / 48.0 µs" in summary and "fills 40 (3,500 sh)" in summary
            assert "LIVE" in text_of(app, "#health")
            assert row_of(app, "#positions", "TOTAL") == [
                "TOTAL", "+250", "", "", "+275.00", "+90.00", "+365.00"
            ]  # fmt: skip
            assert row_of(app, "#positions", "AAPL")[1] == "+300"
            assert app.query_one("#latency", DataTable).row_count == 6
            assert app.query_one("#trades", DataTable).row_count == 2
            assert "circuit_breaker" in text_of(app, "#risk") and "95%" in text_of(app, "#risk")
            assert "orders —" in text_of(app, "#throughput")

            publisher.publish(engine_status(counters={"orders": 160, "fills": 52, "cancels": 30}))
            await until(pilot, lambda: "orders —" not in text_of(app, "#throughput"), "a rate")
            throughput = text_of(app, "#throughput")
            assert "cancels 0.0/s" in throughput and "rejects 0.0/s" in throughput
            assert "orders —" not in text_of(app, "#summary")
            assert "fills 52" in text_of(app, "#summary")

    run(scenario())


@pytest.mark.django_db(transaction=True)
def test_p_pauses_and_shows_the_engines_answer(engine, publisher, account):
    publisher.publish(engine_status())

    async def scenario() -> None:
        app = monitor(account)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.press("p")
            await until(pilot, lambda: "pause: ok" in text_of(app, "#status"), "the ack")
            assert "pause done for monitor:tester" in text_of(app, "#status")
            assert "[PAUSED]" in text_of(app, "#status")

    run(scenario())
    assert [c.kind.value for c in engine.received] == ["pause"]
    assert AuditEvent.objects.get(who="monitor:tester", action="pause").result.startswith("ok:")


@pytest.mark.django_db(transaction=True)
def test_flatten_asks_first_and_sends_only_when_confirmed(engine, redis_settings, account):
    client = redis.Redis.from_url(redis_settings.REDIS_URL)

    async def scenario() -> None:
        app = monitor(account)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.press("f")
            await until(pilot, lambda: isinstance(app.screen, ConfirmFlatten), "the question")
            await pilot.press("n")
            await until(pilot, lambda: "cancelled" in text_of(app, "#status"), "cancelled")
            assert not isinstance(app.screen, ConfirmFlatten)
            await pilot.press("f")
            await until(pilot, lambda: isinstance(app.screen, ConfirmFlatten), "the question")
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, ConfirmFlatten), "closed")
            assert client.xlen(commands_key(account)) == 0

            await pilot.press("f")
            await until(pilot, lambda: isinstance(app.screen, ConfirmFlatten), "the question")
            await pilot.press("y")
            await until(pilot, lambda: "flatten_all: ok" in text_of(app, "#status"), "the ack")

    try:
        run(scenario())
    finally:
        client.close()
    assert [c.kind.value for c in engine.received] == ["flatten_all"]
    assert AuditEvent.objects.filter(action="flatten_all").count() == 1


@pytest.mark.django_db
def test_an_old_state_is_marked_stale_and_a_missing_one_engine_down(redis_settings, account):
    client = redis.Redis.from_url(redis_settings.REDIS_URL)
    envelope = {"account": account, "seq": 7, "ts": time.time() - 60, "boot": "b",
                "state": engine_status()}  # fmt: skip

    async def scenario() -> None:
        app = monitor(account)
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: "ENGINE DOWN" in text_of(app, "#health"), "engine down")
            client.set(state_key(account), json.dumps(envelope))
            await until(pilot, lambda: "STALE" in text_of(app, "#health"), "stale")
            assert "ACTIVE" in text_of(app, "#summary")  # the last state stays readable
            client.delete(state_key(account))
            await until(pilot, lambda: "ENGINE DOWN" in text_of(app, "#health"), "engine down")

    try:
        run(scenario())
    finally:
        client.close()


@pytest.mark.django_db(transaction=True)
def test_without_redis_it_says_so_and_keeps_running(settings, account):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    async def scenario() -> None:
        app = monitor(account)
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: "REDIS UNREACHABLE" in text_of(app, "#health"), "redis down")
            await pilot.press("r")
            await until(pilot, lambda: "not sent" in text_of(app, "#status"), "not sent")
            assert app.is_running

    run(scenario())
    assert AuditEvent.objects.get(action="resume").result.startswith("not sent")


def test_command_outcomes_read_as_ok_refused_or_no_answer():
    refused = Ack("c1", "demo", False, "HALTED", "halted: daily loss", 0.0)
    assert outcome_text("resume", CommandOutcome("c1", refused)) == (
        "resume: refused — halted: daily loss [HALTED]",
        "warning",
    )
    assert outcome_text("pause", CommandOutcome("c2", None)) == (
        "pause: no answer (is the engine running?)",
        "error",
    )
