"""The engine in lockstep: markers read in stream order, strategies looking at the books once
per step, answers stamped with their step's data time, the in-process transport speaking the
same OUCH, and over real TCP the same run as the in-process backtest."""

import time
import tomllib

import pytest

from tests.support.configs import TEST_ACCOUNTS
from tests.support.data import LOBSTER_DIR
from trading import lobster
from trading.config import DEFAULT_CONFIG_PATH, parse_config
from trading.engine.engine import TradingEngine
from trading.engine.gateway import VenueMessage
from trading.engine.in_process import InProcessGateway, attach_in_process
from trading.engine.lockstep import DataClock, EngineStepper, LockstepEngine, LockstepFeedHandler
from trading.exchange import embedded
from trading.exchange.lockstep_server import LockstepExchangeServer
from trading.exchange.replay_source import load_replay
from trading.model.orders import BUY, OrderIntent, TimeInForce
from trading.protocols import itch, lockstep, ouch
from trading.protocols import soupbintcp as soup
from trading.research.tick.engine_replay import replay_backtest

AMZN = LOBSTER_DIR / "AMZN_2012-06-21_34200000_57600000_message_5.csv.gz"
SEQ = int(soup.PacketType.SEQUENCED_DATA)
DEBUG = int(soup.PacketType.DEBUG)


def market_maker_config():
    document = tomllib.loads(DEFAULT_CONFIG_PATH.read_text())
    document["exchange"]["accounts"] = TEST_ACCOUNTS
    document["exchange"]["flow"]["enabled"] = False
    document["exchange"]["status_interval_s"] = 0.0
    document["engine"]["strategies"] = ["market_maker"]
    return parse_config(document, source="tests")


def in_process_engine(config=None):
    clock = DataClock()
    engine = TradingEngine(
        config or market_maker_config(), host="", order_port=0, feed_port=0, snapshot_port=0,
        username="demo", password="", clock_ns=clock,
    )  # fmt: skip
    attach_in_process(engine, clock, "demo")
    return engine, clock


def test_markers_are_read_in_stream_order_and_books_wait_for_the_end_of_the_step():
    batches = []
    messages = []
    feed = LockstepFeedHandler(
        "", 0, 0, "demo", "", on_message=lambda m, t1: messages.append(type(m).__name__),
        on_batch=batches.append,
    )  # fmt: skip
    directory = itch.StockDirectory(
        1, 0, 0, "AMZN", "Q", "N", 100, "N", "C", "Z", "P", " ", "N", "1", "N", 0, "N"
    )
    add = itch.AddOrder(1, 0, 5, 77, "B", 100, "AMZN", 2_230_000)
    marker = lockstep.Marker(1, 5, 3, 2)
    packets = [
        (SEQ, directory.encode()),
        (DEBUG, lockstep.encode_marker(marker)),
        (SEQ, add.encode()),
        (DEBUG, b"hello from the venue"),
    ]
    feed.next_sequence = 1
    applied, ended = feed.apply_batch(packets, 0)
    assert (applied, ended) == (2, False)
    assert feed.markers == [marker]
    assert messages == ["StockDirectory", "AddOrder"] and feed.next_sequence == 3
    assert batches == []  # the step, not the read, decides when strategies look
    assert feed.builder.book(1).best_bid() == (2_230_000, 100)


def test_the_stepper_keeps_data_time_going_forward_and_stamps_answers_with_it():
    engine, clock = in_process_engine()
    stepper = EngineStepper(engine, clock)
    stepper.begin(1_000)
    with pytest.raises(ValueError, match="goes back"):
        stepper.begin(999)
    seen = []
    engine._on_venue = seen.append
    stepper.venue_event(VenueMessage(0, ouch.SystemEvent(0, "S"), 1, 123))
    assert seen[0].t5_ns == 1_000
    other = TradingEngine(
        market_maker_config(), host="", order_port=0, feed_port=0, snapshot_port=0,
        username="demo", password="",
    )  # fmt: skip
    with pytest.raises(ValueError, match="DataClock"):
        EngineStepper(other, clock)


def test_the_in_process_gateway_sends_and_reads_the_real_gateways_ouch():
    engine, clock = in_process_engine()
    gateway = engine.gateway
    assert isinstance(gateway, InProcessGateway)
    clock.now_ns = 42
    intent = OrderIntent("AMZN", BUY, 100, 2_230_000, TimeInForce.DAY, "market_maker")
    assert gateway.send_enter(7, intent) == 42
    (payload,) = gateway.take_sent()
    sent = ouch.decode_inbound(payload)
    assert (sent.order_token, sent.side, sent.shares, sent.stock, sent.price) == (
        "7", "B", 100, "AMZN", 2_230_000,
    )  # fmt: skip
    assert sent.time_in_force_s == ouch.TIF_MARKET_HOURS and gateway.sent == 1
    answer = ouch.Executed(40, "7", 100, 2_230_000, "A", 9).encode()
    (event,) = gateway.deliver(answer)
    assert (event.order_id, event.t5_ns, event.message.match_number) == (7, 42, 9)


@pytest.mark.tcp
@pytest.mark.skipif(not AMZN.is_file(), reason=f"LOBSTER samples not in {LOBSTER_DIR}")
def test_over_tcp_the_lockstep_engine_makes_the_same_run_as_the_in_process_backtest(
    monkeypatch,
):
    rows, entry_ns, response_ns = 600, 20_000, 30_000
    config = market_maker_config()
    replay = load_replay(AMZN, config.exchange.tick_size, rows=rows)
    monkeypatch.setattr(embedded, "ExchangeServer", LockstepExchangeServer)
    exchange = embedded.ExchangeThread(
        config, replay=replay, entry_latency_ns=entry_ns, response_latency_ns=response_ns
    )
    ports = exchange.start()
    try:
        clock = DataClock()
        address = {
            "host": "127.0.0.1", "order_port": ports.order, "feed_port": ports.feed,
            "snapshot_port": ports.snapshot, "username": "demo", "password": "demo",
        }  # fmt: skip
        engine = TradingEngine(config, **address, clock_ns=clock)
        driver = LockstepEngine(engine, clock, **address)
        server = exchange.server
        assert server is not None
        deadline = time.monotonic() + 120
        while not server.finished and time.monotonic() < deadline:
            driver.run_once(0.001)
        assert server.finished and server.error == ""
        journal = exchange.call(server.lockstep.journal)
        counters = dict(vars(engine.counters))  # before the shutdown cancels what still works
        engine.shutdown()
    finally:
        exchange.stop()

    day = lobster.load_day(AMZN)
    backtest = replay_backtest(
        day.messages[:rows], day.orderbook[:rows], config, symbol="AMZN",
        entry_latency_ns=entry_ns, response_latency_ns=response_ns,
    )  # fmt: skip
    assert len(backtest.orders) > 20
    assert journal["rows"] == rows and journal["steps"] == backtest.steps == driver.steps_done
    assert journal["orders"] == backtest.journal()["orders"]
    assert journal["deliveries"] == backtest.journal()["deliveries"]
    assert counters == backtest.counters and counters["fills"] == len(backtest.fills) > 5
