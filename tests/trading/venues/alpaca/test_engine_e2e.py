"""The trading engine on Alpaca, end to end against the simulator's Alpaca endpoint: market data
from alpaca-py's StockDataStream, orders and fills through the gateway, the OMS and portfolio
unchanged, and a restart reconciled with the broker's account."""

from __future__ import annotations

import time

import pytest

from tests.support.configs import make_config
from trading.engine.engine import TradingEngine
from trading.model.orders import BUY, OrderIntent, TimeInForce
from trading.portfolio.order_manager import OrderState
from trading.venues.alpaca.feed import AlpacaFeed
from trading.venues.alpaca.session import attach_alpaca, restore_reconciled

from .conftest import ACCOUNTS, KEY_ID, SECRET, inject, rest, venue_settings

pytestmark = pytest.mark.tcp

PRICE = 1_900_000


def alpaca_engine(exchange, *, market_data: bool = True) -> TradingEngine:
    config = make_config(accounts=ACCOUNTS)
    config = type(config)(**{**vars(config), "engine": type(config.engine)(
        **{**vars(config.engine), "account": KEY_ID, "venue": "alpaca-paper",
           "data": "alpaca", "strategies": []})})  # fmt: skip
    engine = TradingEngine(
        config, host="127.0.0.1", order_port=exchange.ports.order, feed_port=exchange.ports.feed,
        snapshot_port=exchange.ports.snapshot, username=KEY_ID, password=SECRET,
    )  # fmt: skip
    attach_alpaca(engine, venue_settings(exchange), market_data=market_data)
    return engine


def quoted(engine: TradingEngine, alice, ask: int = PRICE, qty: int = 100) -> None:
    """Alice quotes AAPL, and the engine sees it (risk prices orders against the mid)."""
    run_until(engine, lambda: engine.gateway.connected and engine.feed.connected,
              what="the venue")  # fmt: skip
    rest(alice, "BID", "B", 100, PRICE - 20_000)
    rest(alice, f"ASK{ask}", "S", qty, ask)
    locate = engine.feed.builder.symbols and next(
        loc for loc, sym in engine.feed.builder.symbols.items() if sym == "AAPL"
    )
    run_until(engine, lambda: (engine.tops.get(locate) or (0, 0, 0, 0))[2] == ask,
              what="alice's offer")  # fmt: skip


def run_until(engine: TradingEngine, condition, timeout_s: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        engine.run_once(0.005)


@pytest.fixture
def engines():
    started: list[TradingEngine] = []
    yield started
    for engine in started:
        engine.gateway.close()
        engine.feed.close()


def test_quotes_from_the_data_stream_are_the_engines_top_of_book(alpaca_venue, alice, engines):
    engine = alpaca_engine(alpaca_venue)
    engines.append(engine)
    assert isinstance(engine.feed, AlpacaFeed)
    run_until(engine, lambda: engine.feed.connected, what="the data stream")
    rest(alice, "BID1", "B", 300, PRICE - 1_000)
    rest(alice, "ASK1", "S", 200, PRICE + 1_000)
    locate = engine.feed.locates["AAPL"]
    run_until(
        engine, lambda: engine.tops.get(locate) == (PRICE - 1_000, 300, PRICE + 1_000, 200),
        what="the quote in the engine's book",
    )  # fmt: skip
    assert engine.status()["venue"]["feed_connected"]


def test_an_engine_order_is_filled_and_booked_in_the_portfolio(alpaca_venue, alice, engines):
    engine = alpaca_engine(alpaca_venue)
    engines.append(engine)
    quoted(engine, alice)
    order_id = engine.submit(OrderIntent("AAPL", BUY, 100, PRICE, TimeInForce.DAY, "manual"))
    assert order_id, engine.last_reject_reason
    run_until(engine, lambda: engine.oms.get(order_id).state == OrderState.FILLED, what="fill")
    assert engine.portfolio.positions["AAPL"].qty == 100
    assert engine.counters.fills == 1
    status = engine.status()
    assert status["venue"]["name"] == "alpaca-paper"
    assert status["venue"]["order_state"] == "READY"
    assert status["latency_us"]["order_to_ack"]["count"] == 1


def test_a_rejected_order_reaches_the_oms_as_rejected(alpaca_venue, alice, engines):
    engine = alpaca_engine(alpaca_venue)
    engines.append(engine)
    quoted(engine, alice)
    inject(alpaca_venue, reject_next_orders=1)
    order_id = engine.submit(OrderIntent("AAPL", BUY, 10, PRICE, TimeInForce.DAY, "manual"))
    run_until(engine, lambda: engine.oms.get(order_id).state == OrderState.REJECTED,
              what="the reject")  # fmt: skip
    assert engine.counters.venue_rejects == 1
    assert not engine.oms.working_orders()


def test_a_restart_reconciles_positions_and_open_orders_with_the_account(
    alpaca_venue, alice, engines
):
    first = alpaca_engine(alpaca_venue)
    engines.append(first)
    quoted(first, alice)
    filled = first.submit(OrderIntent("AAPL", BUY, 100, PRICE, TimeInForce.DAY, "manual"))
    resting = first.submit(OrderIntent("AAPL", BUY, 50, PRICE - 10_000, TimeInForce.GTC, "manual"))
    run_until(first, lambda: first.oms.get(filled).state == OrderState.FILLED
              and first.oms.get(resting).state == OrderState.ACCEPTED, what="fill and ack")  # fmt: skip
    first.gateway.close()  # a crash: nothing of the first engine is saved

    second = alpaca_engine(alpaca_venue)
    engines.append(second)
    result = restore_reconciled(second, second.gateway, None, "", 1, [], 1, {})
    assert second.portfolio.positions["AAPL"].qty == 100
    assert second.portfolio.positions["AAPL"].avg_price == PRICE
    (adopted,) = second.oms.working_orders()
    assert (adopted.qty, adopted.price, adopted.working_qty) == (50, PRICE - 10_000, 50)
    assert len(result.differences) == 3  # the position, its owner, the unknown open order
    # The adopted order's fill reaches the engine through the new gateway.
    run_until(second, lambda: second.gateway.connected, what="the gateway")
    rest(alice, "HIT", "S", 50, PRICE - 10_000)
    run_until(second, lambda: second.portfolio.positions["AAPL"].qty == 150, what="the fill")
    assert second.oms.get(adopted.order_id).state == OrderState.FILLED


def test_a_dropped_data_stream_reconnects_and_the_books_follow_again(alpaca_venue, alice, engines):
    engine = alpaca_engine(alpaca_venue)
    engines.append(engine)
    quoted(engine, alice)
    inject(alpaca_venue, drop_streams=True)
    run_until(engine, lambda: engine.feed.stats.resyncs == 1 and engine.feed.connected,
              what="the data stream back")  # fmt: skip
    assert engine.feed.stats.reconnects == 1
    rest(alice, "ASK2", "S", 100, PRICE - 1_000)  # a better offer after the reconnect
    locate = engine.feed.locates["AAPL"]
    run_until(engine, lambda: (engine.tops.get(locate) or (0, 0, 0, 0))[2] == PRICE - 1_000,
              what="the new offer")  # fmt: skip
