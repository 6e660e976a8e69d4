"""The engine against the simulator over real TCP: ticks in, orders out, fills booked."""

import dataclasses
import re
import time

import pytest

from tests.support.configs import make_config
from tests.support.orders import enter_order
from trading.engine.engine import TradingEngine, ticket_intent
from trading.exchange.embedded import ExchangeThread
from trading.model.market import BookTop
from trading.model.orders import BUY, OrderIntent, TimeInForce
from trading.protocols import ouch
from trading.protocols.soup_client import SoupClient

pytestmark = [pytest.mark.tcp]


def engine_for(exchange, config) -> TradingEngine:
    ports = exchange.ports
    return TradingEngine(
        config, host="127.0.0.1", order_port=ports.order, feed_port=ports.feed,
        snapshot_port=ports.snapshot, username="demo", password="demo",
    )  # fmt: skip


def run_for(engine, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        engine.run_once(0.005)


def venue_positions(exchange, username="demo"):
    """The account's positions as the simulator itself recorded them (its OUCH stream)."""

    def read():
        sides, positions = {}, {}
        for frame in exchange.server.order_entry.account_log(username).frames:
            message = ouch.decode_outbound(bytes(frame[3:]))
            if isinstance(message, ouch.Accepted):
                sides[message.order_token] = (message.stock, 1 if message.side == "B" else -1)
            elif isinstance(message, ouch.Executed):
                stock, side = sides[message.order_token]
                positions[stock] = positions.get(stock, 0) + side * message.executed_shares
        return {s: q for s, q in positions.items() if q}

    return exchange.call(read)


def test_the_acceptance_trace_buy_at_the_offer_is_acked_filled_and_booked():
    config = make_config()
    config = dataclasses.replace(config, engine=dataclasses.replace(config.engine, strategies=[]))
    with ExchangeThread(config) as exchange:
        with SoupClient("127.0.0.1", exchange.ports.order) as alice:
            alice.login("alice", "secret1", 0)
            for token, side, price in (("Q1", "B", 1_899_800), ("Q2", "S", 1_900_200)):
                alice.send(enter_order(token, side, 100, price).encode())
            alice.receive_sequenced()
            engine = engine_for(exchange, config)
            run_for(engine, 0.5)  # snapshot, quotes 189.98 / 190.02
            engine.submit(OrderIntent("AAPL", BUY, 100, 1_900_200, TimeInForce.IOC, "ticket"))
            run_for(engine, 0.5)
        position = engine.portfolio.position("AAPL")
        assert (position.qty, position.avg_price) == (100, 1_900_200)
        assert engine.counters.fills == 1 and engine.oms.working_orders() == []
        assert venue_positions(exchange) == {"AAPL": 100}
        assert engine.latency.publish()["order_to_ack"]["count"] == 1
        engine.shutdown()


@pytest.mark.parametrize(
    ("price", "state", "reason"),
    [
        (1_900_150, "REJECTED", "X"),  # off the cent grid: the venue rejects it
        (1_900_200, "CANCELLED", "I"),  # the offer ran away to 190.03: nothing to take
    ],
)
def test_the_acceptance_trace_with_a_reject_and_with_the_price_running_away(price, state, reason):
    config = make_config()
    config = dataclasses.replace(config, engine=dataclasses.replace(config.engine, strategies=[]))
    with ExchangeThread(config) as exchange:
        with SoupClient("127.0.0.1", exchange.ports.order) as alice:
            alice.login("alice", "secret1", 0)
            for token, side, quote in (("Q1", "B", 1_899_800), ("Q2", "S", 1_900_200)):
                alice.send(enter_order(token, side, 100, quote).encode())
            alice.receive_sequenced()
            engine = engine_for(exchange, config)
            run_for(engine, 0.5)  # snapshot, quotes 189.98 / 190.02
            if state == "CANCELLED":  # the offer moves up before our order arrives
                alice.send(ouch.CancelOrder("Q2", 0).encode())
                alice.send(enter_order("Q3", "S", 100, 1_900_300).encode())
                run_for(engine, 0.3)
            order_id = engine.submit(
                OrderIntent("AAPL", BUY, 100, price, TimeInForce.IOC, "ticket")
            )
            run_for(engine, 0.5)
        order = engine.oms.get(order_id)
        assert (str(order.state), order.reason) == (state, reason)
        assert engine.portfolio.position("AAPL").qty == 0 and engine.counters.fills == 0
        assert engine.oms.working_orders() == [] and venue_positions(exchange) == {}
        assert engine.counters.venue_rejects == (1 if state == "REJECTED" else 0)
        engine.shutdown()


def test_strategies_trade_the_synthetic_market_and_the_books_agree_with_the_venue():
    config = make_config(flow=True)
    engine_config = dataclasses.replace(config.engine, strategies=["market_maker"])
    config = dataclasses.replace(config, engine=engine_config)
    with ExchangeThread(config) as exchange:
        engine = engine_for(exchange, config)
        run_for(engine, 4.0)
        assert engine.counters.orders > 0
        engine.shutdown()
        time.sleep(0.2)
        mine = {p.symbol: p.qty for p in engine.portfolio.open_positions()}
        assert mine == venue_positions(exchange)
        assert engine.oms.working_orders() == []
        status = engine.status()
        assert status["latency_us"]["tick_to_order"]["count"] > 0


def test_each_strategy_steers_its_own_position():
    config = make_config(flow=True)
    engine_config = dataclasses.replace(config.engine, strategies=["mean_reversion", "pairs"])
    config = dataclasses.replace(config, engine=engine_config)
    with ExchangeThread(config) as exchange:
        engine = engine_for(exchange, config)
        run_for(engine, 3.0)
        engine.shutdown()
    by_symbol = {}
    for (_, symbol), qty in engine.strategy_positions.items():
        by_symbol[symbol] = by_symbol.get(symbol, 0) + qty
    # The strategies' own positions add up to the account's.
    account = {p.symbol: p.qty for p in engine.portfolio.positions.values()}
    assert {s: q for s, q in by_symbol.items() if q} == {s: q for s, q in account.items() if q}
    for strategy in engine.strategies:
        assert strategy.context.position("AAPL") == engine.strategy_positions.get(
            (strategy.name, "AAPL"), 0
        )


def test_operator_commands_pause_kill_resume_and_flatten():
    config = make_config()
    config = dataclasses.replace(config, engine=dataclasses.replace(config.engine, strategies=[]))
    with (
        ExchangeThread(config) as exchange,
        SoupClient("127.0.0.1", exchange.ports.order) as alice,
    ):
        alice.login("alice", "secret1", 0)
        for token, side, price in (("Q1", "B", 1_899_800), ("Q2", "S", 1_900_200)):
            alice.send(enter_order(token, side, 300, price).encode())
        alice.receive_sequenced()
        engine = engine_for(exchange, config)
        run_for(engine, 0.5)
        engine.submit(OrderIntent("AAPL", BUY, 100, 1_900_200, TimeInForce.IOC, "ticket"))
        engine.submit(OrderIntent("AAPL", BUY, 100, 1_899_000, TimeInForce.DAY, "ticket"))
        run_for(engine, 0.5)
        assert engine.portfolio.position("AAPL").qty == 100
        assert len(engine.oms.working_orders()) == 1

        assert engine.operate("pause", "ops") == (
            True,
            "paused by ops; 1 working orders cancelled",
        )
        run_for(engine, 0.3)
        assert engine.state == "PAUSED" and engine.oms.working_orders() == []

        assert engine.operate("kill", "ops")[0] and engine.state == "PAUSED"
        assert engine.operate("resume", "ops") == (
            False, "resume by ops: still HALTED (kill switch by ops)")  # fmt: skip
        assert engine.operate("start", "ops") == (True, "start by ops")
        assert engine.state == "ACTIVE"

        ok, reason = engine.operate("flatten_all", "ops")
        assert ok and reason.endswith("1 closing orders")
        run_for(engine, 0.5)
        assert engine.portfolio.position("AAPL").qty == 0  # sold into alice's 189.98 bid
        assert engine.operate("reload_limits", "ops")[0] is False
        assert engine.operate("stop", "ops") == (True, "stop by ops")
        assert engine.state == "STOPPING"
        engine.shutdown()


def test_new_limits_govern_the_next_order_and_invalid_ones_change_nothing():
    config = make_config()
    config = dataclasses.replace(config, engine=dataclasses.replace(config.engine, strategies=[]))
    engine = TradingEngine(
        config, host="127.0.0.1", order_port=0, feed_port=0, snapshot_port=0,
        username="demo", password="demo",
    )  # fmt: skip
    engine.risk.on_book(BookTop("AAPL", 1_899_900, 100, 1_900_100, 100, 1))
    intent = OrderIntent("AAPL", BUY, 300, 1_900_000, TimeInForce.DAY, "ticket")
    assert engine.risk.check(intent, 1).passed

    ok, reason = engine.set_limits({"max_order_shares": 200, "daily_loss_limit": 500}, "ops")
    assert ok and reason == "limits from ops: daily_loss_limit=500, max_order_shares=200"
    smaller = dataclasses.replace(intent, price=1_899_900)
    decision = engine.risk.check(smaller, 2)
    assert (decision.qty_for(smaller), decision.reason) == (200, "max_order_shares")  # reduced

    ok, reason = engine.set_limits({"max_order_shares": 0}, "ops")
    assert not ok and "max_order_shares: must be at least 1" in reason
    ok, reason = engine.set_limits({"max_order_sharez": 5}, "ops")
    assert not ok and "unknown limit" in reason
    assert engine.risk.limits.max_order_shares == 200
    assert engine.set_limits({"max_order_shares": 200}, "ops") == (
        True, "limits from ops: unchanged")  # fmt: skip


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"symbol": "NOPE", "side": "BUY", "qty": 100}, "symbol: 'NOPE' is not traded here"),
        ({"symbol": "AAPL", "side": "HOLD", "qty": 100}, "side: must be BUY or SELL"),
        ({"symbol": "AAPL", "side": "BUY", "qty": 0}, "qty: must be a positive integer"),
        ({"symbol": "AAPL", "side": "BUY", "qty": True}, "qty: must be a positive integer"),
        ({"symbol": "AAPL", "side": "BUY", "qty": 1, "price": -1}, "price: must be a number"),
        ({"symbol": "AAPL", "side": "BUY", "qty": 1, "price": 1.23456}, "at most 4 decimal"),
        ({"symbol": "AAPL", "side": "BUY", "qty": 1, "tif": "FOK"}, "tif: must be DAY, IOC"),
    ],
)
def test_an_operator_ticket_with_a_bad_field_is_refused_naming_it(args, error):
    with pytest.raises(ValueError, match=error):
        ticket_intent(args, ["AAPL", "MSFT"])


def test_an_operator_ticket_goes_through_the_same_risk_checks_and_reports_why():
    config = make_config()
    config = dataclasses.replace(config, engine=dataclasses.replace(config.engine, strategies=[]))
    with ExchangeThread(config) as exchange:
        engine = engine_for(exchange, config)
        run_for(engine, 0.3)
        engine.risk.on_book(BookTop("AAPL", 1_899_900, 100, 1_900_100, 100, 1))
        ok, reason = engine.ticket(
            {"symbol": "AAPL", "side": "buy", "qty": 100, "price": 189.99}, "ops"
        )
        assert ok and re.fullmatch(r"order \d+ sent for ops", reason)
        order_id = int(reason.split()[1])
        assert engine.ticket({"symbol": "AAPL", "side": "BUY", "qty": 100, "price": 100}, "ops") == (
            False, "order from ops refused by risk: price_collar")  # fmt: skip
        run_for(engine, 0.3)
        assert [o.order_id for o in engine.oms.working_orders()] == [order_id]
        assert engine.cancel_order(order_id, "ops") == (
            True, f"cancel of order {order_id} sent for ops")  # fmt: skip
        run_for(engine, 0.3)
        assert engine.oms.working_orders() == []
        assert engine.cancel_order(order_id, "ops")[0] is False
        status = engine.status()
        assert status["venue"]["order_connected"] and status["limits"]["max_order_shares"] == 500
        engine.shutdown()
