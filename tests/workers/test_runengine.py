# ruff: noqa: F811
"""`manage.py runengine` as a real process: it trades the simulator, keeps every order and
fill in the database, and after `kill -9` carries on from where it was, with positions and
fills equal to the simulator's own record: nothing lost, nothing counted twice."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.support.configs import make_config
from tests.support.redis_server import restartable_redis  # noqa: F401
from trading.config import DEFAULT_CONFIG_PATH
from trading.engine.control_bus import CommandBus
from trading.exchange.embedded import ExchangeThread
from trading.protocols import ouch
from workers.managed_process import ROOT, ManagedProcess

pytestmark = [pytest.mark.tcp, pytest.mark.slow]


def venue_record(exchange, username="demo"):
    """Positions and executions of the account as the simulator recorded them."""

    def read():
        sides, positions, executions = {}, {}, set()
        for frame in exchange.server.order_entry.account_log(username).frames:
            message = ouch.decode_outbound(bytes(frame[3:]))
            if isinstance(message, ouch.Accepted):
                sides[message.order_token] = (message.stock, 1 if message.side == "B" else -1)
            elif isinstance(message, ouch.Executed):
                stock, side = sides[message.order_token]
                positions[stock] = positions.get(stock, 0) + side * message.executed_shares
                executions.add((int(message.order_token), message.match_number))
        return {s: q for s, q in positions.items() if q}, executions

    return exchange.call(read)


def test_the_engine_survives_kill_9_with_no_fill_lost_or_counted_twice(tmp_path):
    config_text = (
        DEFAULT_CONFIG_PATH.read_text()
        .replace('strategies = ["mean_reversion", "pairs"]', 'strategies = ["market_maker"]')
        .replace("metrics_port = 15104", "metrics_port = 0")
    )
    config_path = tmp_path / "desk.toml"
    config_path.write_text(config_text)
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
        "DESK_VAR_DIR": str(tmp_path / "var"),
    }
    migrate = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v", "0"],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr
    with ExchangeThread(make_config(flow=True)) as exchange:
        ports = exchange.ports
        args = (
            "runengine", "--config", str(config_path), "--order-port", str(ports.order),
            "--feed-port", str(ports.feed), "--snapshot-port", str(ports.snapshot),
            "--status-interval", "1",
        )  # fmt: skip
        first = ManagedProcess(*args, env=env, unset=("REDIS_URL",))
        try:
            first.wait_for(r"\[STRAT\] FILL", timeout_s=60)
            time.sleep(1.0)
            first.popen.send_signal(signal.SIGKILL)  # mid-trading, no goodbye
            first.popen.wait(10)
        finally:
            first.kill()
        second = ManagedProcess(*args, env=env, unset=("REDIS_URL",))
        try:
            second.wait_for(r"recovered: \d+ positions, \d+ open orders, venue session \d+",
                            timeout_s=60)  # fmt: skip
            time.sleep(3.0)
            assert second.stop(signal.SIGINT, timeout_s=60) == 0
            second.wait_for(r"engine stopped")
        finally:
            second.kill()
        time.sleep(0.5)
        positions, executions = venue_record(exchange)

    database = sqlite3.connect(tmp_path / "ledger.sqlite3")
    stored = set(database.execute("SELECT order_id, match_number FROM ledger_fill").fetchall())
    rows = database.execute("SELECT COUNT(*) FROM ledger_fill").fetchone()[0]
    assert stored == executions and rows == len(executions)  # none lost, none twice
    (snapshot,) = database.execute(
        "SELECT snapshot FROM ledger_positionsnapshot ORDER BY ts DESC, id DESC LIMIT 1"
    ).fetchone()
    saved = {
        p["symbol"]: sum(qty for qty, _ in p["lots"])
        for p in json.loads(snapshot)["positions"]
        if p["lots"]
    }
    assert saved == positions


def test_limits_edited_in_the_database_and_commands_over_redis_reach_the_running_engine(
    tmp_path, restartable_redis
):
    """No venue is needed: the engine keeps trying to connect while it obeys its operator."""
    config_path = tmp_path / "desk.toml"
    config_path.write_text(DEFAULT_CONFIG_PATH.read_text())
    database_path = tmp_path / "ledger.sqlite3"
    env = {
        "DATABASE_URL": f"sqlite:///{database_path}",
        "DESK_VAR_DIR": str(tmp_path / "var"),
        "REDIS_URL": restartable_redis.url,
    }
    migrate = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v", "0"],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
    engine = ManagedProcess(
        "runengine", "--config", str(config_path), "--order-port", "1", "--feed-port", "1",
        "--snapshot-port", "1", "--metrics-port", str(metrics_port), env=env,
    )  # fmt: skip
    try:
        engine.wait_for(r"\[RISK\] risk limits seeded from the config file")
        engine.wait_for(r"engine metrics on http://127\.0\.0\.1:\d+/metrics")
        database = sqlite3.connect(database_path)
        with database:
            database.execute(
                "UPDATE ledger_risklimitset SET max_order_shares = 123, updated_by = 'ops', "
                "updated_at = '2030-01-01 00:00:00' WHERE account = 'demo'"
            )
        engine.wait_for(r"\[RISK\] limits from ops: max_order_shares=123", timeout_s=10)

        bus = CommandBus(restartable_redis.url, "demo")
        ack = bus.wait_ack(bus.send("pause", "ops"), timeout_s=10)
        assert ack is not None and ack.ok and ack.state == "PAUSED"
        ack = bus.wait_ack(bus.send("reload_limits", "ops"), timeout_s=10)
        assert ack is not None and ack.ok and ack.reason == "limits from ops: unchanged"
        bus.close()

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            url = f"http://127.0.0.1:{metrics_port}/metrics"
            with urllib.request.urlopen(url, timeout=5) as response:
                text = response.read().decode()
            if 'desk_engine_state{account="demo",state="PAUSED"} 1.0' in text:
                break
            time.sleep(0.2)
        assert 'desk_engine_state{account="demo",state="PAUSED"} 1.0' in text
        assert engine.stop(signal.SIGTERM, timeout_s=60) == 0
    finally:
        engine.kill()
    audit = [row[0] for row in database.execute("SELECT action FROM ledger_auditevent")]
    assert audit.count("reload_limits") == 2 and "pause" in audit
