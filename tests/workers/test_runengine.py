"""`manage.py runengine` as a real process: it trades the simulator, keeps every order and
fill in the database, and after `kill -9` carries on from where it was, with positions and
fills equal to the simulator's own record: nothing lost, nothing counted twice."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.support.configs import make_config
from tests.support.processes import ROOT, ManagedProcess
from trading.config import DEFAULT_CONFIG_PATH
from trading.exchange.embedded import ExchangeThread
from trading.protocols import ouch

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
    config_text = DEFAULT_CONFIG_PATH.read_text().replace(
        'strategies = ["mean_reversion", "pairs"]', 'strategies = ["market_maker"]'
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
