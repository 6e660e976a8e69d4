"""The in-process engine backtest: the live engine's strategies, risk and order manager on a
LOBSTER day against the exchange's venue, stepped on the data's clock."""

import tomllib

import numpy as np
import pytest

from tests.support.data import LOBSTER_DIR
from trading import lobster
from trading.config import DEFAULT_CONFIG_PATH, parse_config
from trading.research.tick.engine_replay import replay_backtest

AMZN = LOBSTER_DIR / "AMZN_2012-06-21_34200000_57600000_message_5.csv.gz"
ROWS = 800

pytestmark = pytest.mark.skipif(not AMZN.is_file(), reason=f"LOBSTER samples not in {LOBSTER_DIR}")


@pytest.fixture(scope="module")
def day():
    loaded = lobster.load_day(AMZN)
    return loaded.messages[:ROWS], loaded.orderbook[:ROWS]


@pytest.fixture(scope="module")
def config():
    document = tomllib.loads(DEFAULT_CONFIG_PATH.read_text())
    document["engine"]["strategies"] = ["market_maker"]
    return parse_config(document, source="tests")


def run(day, config, entry_ns=50_000, response_ns=50_000):
    return replay_backtest(
        day[0], day[1], config, symbol="AMZN", entry_latency_ns=entry_ns,
        response_latency_ns=response_ns,
    )  # fmt: skip


@pytest.fixture(scope="module")
def result(day, config):
    return run(day, config)


def test_the_engine_trades_and_its_fills_are_the_venues_executions(result):
    assert result.rows == ROWS and len(result.orders) > 50 and len(result.fills) > 5
    executions = [d for d in result.deliveries if d.kind == "Executed"]
    assert [(str(f.order_id), f.qty, f.price, f.match_number, f.ts_ns) for f in result.fills] == [
        (d.token, d.qty, d.price, d.match_number, d.time_ns) for d in executions
    ]
    # The position is what the fills add up to.
    assert result.final_position == sum(f.side * f.qty for f in result.fills)
    assert result.counters["fills"] == len(result.fills)


def test_orders_are_stamped_with_data_time_and_reach_the_venue_one_entry_latency_later(result):
    times = [o.sent_ns for o in result.orders]
    assert times == sorted(times)
    assert all(o.arrival_ns == o.sent_ns + 50_000 for o in result.orders)
    accepted = {d.token: d for d in result.deliveries if d.kind == "Accepted"}
    for order in result.orders:
        if order.kind == "enter":
            assert accepted[order.token].time_ns == order.arrival_ns + 50_000


def test_the_same_inputs_give_the_same_run_and_other_latencies_another(day, config, result):
    again = run(day, config)
    assert again.journal() == result.journal()
    assert again.fills == result.fills
    slower = run(day, config, entry_ns=5_000_000)
    assert [o.arrival_ns - o.sent_ns for o in slower.orders[:3]] == [5_000_000] * 3
    assert slower.journal()["orders"] != result.journal()["orders"]


def test_bad_input_is_refused_naming_it(day, config):
    messages, orderbook = day
    with pytest.raises(ValueError, match="MESSAGE_DTYPE"):
        replay_backtest(messages["ts_ns"].copy(), orderbook, config, symbol="AMZN",
                        entry_latency_ns=0, response_latency_ns=0)  # fmt: skip
    with pytest.raises(ValueError, match="rows"):
        replay_backtest(messages, orderbook[:-1], config, symbol="AMZN", entry_latency_ns=0,
                        response_latency_ns=0)  # fmt: skip
    with pytest.raises(ValueError, match="backwards"):
        replay_backtest(messages[::-1].copy(), orderbook[::-1].copy(), config, symbol="AMZN",
                        entry_latency_ns=0, response_latency_ns=0)  # fmt: skip
    with pytest.raises(ValueError, match="entry latency"):
        replay_backtest(messages, orderbook, config, symbol="AMZN", entry_latency_ns=-5,
                        response_latency_ns=0)  # fmt: skip
    with pytest.raises(ValueError, match="empty"):
        replay_backtest(messages[:0], np.zeros((0, 20), np.int64), config, symbol="AMZN",
                        entry_latency_ns=0, response_latency_ns=0)  # fmt: skip
