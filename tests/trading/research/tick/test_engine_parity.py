"""Parity: the engine's strategies, run live against the simulator and run in the backtester,
send the same orders and get the same fills.

The live side is the real thing: `runexchange --lockstep` replaying a slice of the AMZN day and
`runengine --lockstep` trading it over TCP (OUCH and ITCH over SoupBinTCP), with the ledger
database recording what the engine did. The backtest is `replay_backtest`, in process. Both
run the market maker and mean reversion on the same rows with the same constant latencies.
"""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tomllib

import pytest

from tests.support.data import LOBSTER_DIR
from trading import lobster
from trading.config import DEFAULT_CONFIG_PATH, parse_config
from trading.research.tick.engine_replay import replay_backtest
from workers.managed_process import LISTENING, ROOT, ManagedProcess

AMZN = LOBSTER_DIR / "AMZN_2012-06-21_34200000_57600000_message_5.csv.gz"
ROWS = 2500
ENTRY_NS = 50_000
RESPONSE_NS = 80_000

pytestmark = [
    pytest.mark.tcp,
    pytest.mark.slow,
    pytest.mark.skipif(not AMZN.is_file(), reason=f"LOBSTER samples not in {LOBSTER_DIR}"),
]


def desk_toml() -> str:
    """The shipped configuration trading the market maker and mean reversion, no flow."""
    return (
        DEFAULT_CONFIG_PATH.read_text()
        .replace('strategies = ["mean_reversion", "pairs"]',
                 'strategies = ["market_maker", "mean_reversion"]')
        .replace("metrics_port = 15104", "metrics_port = 0")
        .replace("cpu_core = 1", "cpu_core = -1")
        .replace("[exchange.flow]\nenabled = true", "[exchange.flow]\nenabled = false")
    )  # fmt: skip


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A configuration file and a migrated, empty ledger database to copy for each run."""
    root = tmp_path_factory.mktemp("parity")
    (root / "desk.toml").write_text(desk_toml())
    env = {"DATABASE_URL": f"sqlite:///{root / 'template.sqlite3'}", "DESK_VAR_DIR": str(root)}
    migrate = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v", "0"],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr
    return root


def live_run(workdir, name):
    """Replay ROWS rows through runexchange --lockstep and runengine --lockstep; returns the
    exchange's journal and the ledger's orders and fills."""
    run = workdir / name
    run.mkdir()
    shutil.copy(workdir / "template.sqlite3", run / "ledger.sqlite3")
    env = {"DATABASE_URL": f"sqlite:///{run / 'ledger.sqlite3'}", "DESK_VAR_DIR": str(run)}
    config = str(workdir / "desk.toml")
    journal_path = run / "journal.json"
    exchange = ManagedProcess(
        "runexchange", "--config", config, "--replay", str(AMZN), "--rows", str(ROWS),
        "--lockstep", "--entry-latency-ns", str(ENTRY_NS), "--response-latency-ns",
        str(RESPONSE_NS), "--lockstep-journal", str(journal_path), "--order-port", "0",
        "--feed-port", "0", "--snapshot-port", "0", "--metrics-port", "0",
        env=env, unset=("REDIS_URL",),
    )  # fmt: skip
    engine = None
    try:
        order_port, feed_port, snapshot_port, _ = exchange.wait_for(LISTENING.pattern).groups()
        engine = ManagedProcess(
            "runengine", "--config", config, "--order-port", order_port, "--feed-port",
            feed_port, "--snapshot-port", snapshot_port, "--lockstep",
            env=env, unset=("REDIS_URL",),
        )  # fmt: skip
        exchange.wait_for(r"lockstep replay of AMZN (finished|stopped)", timeout_s=600)
        exchange.wait_for(r"lockstep journal written")
        assert engine.stop(signal.SIGINT, timeout_s=60) == 0
        engine.wait_for(r"engine stopped")
        assert exchange.stop(signal.SIGINT, timeout_s=60) == 0
    finally:
        if engine is not None:
            engine.kill()
        exchange.kill()
    journal = json.loads(journal_path.read_text())
    database = sqlite3.connect(run / "ledger.sqlite3")
    orders = database.execute(
        "SELECT order_id, side, qty, price, strategy FROM ledger_order ORDER BY order_id"
    ).fetchall()
    fills = database.execute(
        "SELECT order_id, side, qty, price, match_number FROM ledger_fill ORDER BY id"
    ).fetchall()
    database.close()
    return journal, orders, fills


@pytest.fixture(scope="module")
def live(workdir):
    return live_run(workdir, "first")


@pytest.fixture(scope="module")
def backtest(workdir):
    config = parse_config(tomllib.loads((workdir / "desk.toml").read_text()), source="test")
    day = lobster.load_day(AMZN)
    return replay_backtest(
        day.messages[:ROWS], day.orderbook[:ROWS], config, symbol="AMZN",
        entry_latency_ns=ENTRY_NS, response_latency_ns=RESPONSE_NS,
    )  # fmt: skip


def order_sequence(orders):
    """What was sent, in order: kind, token, side, shares, price, time in force, data time."""
    return [
        (o["kind"], o["token"], o["side"], o["qty"], o["price"], o["tif"], o["sent_ns"])
        for o in orders
    ]


def venue_fills(journal):
    """The executions the venue delivered: token, shares, price, match, delivery time."""
    return [
        (d["token"], d["qty"], d["price"], d["match_number"], d["time_ns"])
        for d in journal["deliveries"]
        if d["kind"] == "Executed"
    ]


def test_the_live_engine_and_the_backtest_send_the_same_orders_and_get_the_same_fills(
    live, backtest
):
    journal, ledger_orders, ledger_fills = live
    assert journal["error"] == ""
    assert journal["rows"] == backtest.rows == ROWS
    bt = backtest.journal()

    # Enough happens for the comparison to mean something: both strategies trade.
    enters = [o for o in bt["orders"] if o["kind"] == "enter"]
    assert len(enters) > 100 and len(backtest.fills) > 20
    assert {f.strategy for f in backtest.fills} == {"market_maker", "mean_reversion"}

    # The same orders, in the same order, sent at the same data times ...
    assert order_sequence(journal["orders"]) == order_sequence(bt["orders"])
    # ... the same answers delivered at the same times, so the same fills.
    assert journal["deliveries"] == bt["deliveries"]
    engine_fills = [
        (str(f.order_id), f.qty, f.price, f.match_number, f.ts_ns) for f in backtest.fills
    ]
    assert venue_fills(journal) == engine_fills

    # What the live engine recorded in its ledger is what the backtest's engine did.
    assert ledger_fills == [
        (f.order_id, f.side, f.qty, f.price, f.match_number) for f in backtest.fills
    ]
    side_codes = {"B": 1, "S": -1}
    assert [(o[0], o[1], o[2], o[3]) for o in ledger_orders] == [
        (int(o["token"]), side_codes[o["side"]], o["qty"], o["price"]) for o in enters
    ]


def test_two_live_lockstep_runs_are_identical(workdir, live):
    again = live_run(workdir, "second")
    assert again[0]["error"] == ""
    assert again == live
