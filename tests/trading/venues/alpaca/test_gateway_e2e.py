"""The Alpaca gateway end to end: the real alpaca-py TradingClient and TradingStream over
real HTTP and WebSocket against the simulator's Alpaca-compatible endpoint, trading with an
OUCH client's orders on the same matching engine."""

from __future__ import annotations

import logging
import time

import pytest
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.requests import GetOrdersRequest

from trading.model.orders import BUY, OrderIntent, TimeInForce
from trading.protocols import ouch
from trading.venues.alpaca.gateway import GatewayState

from .conftest import (
    KEY_ID,
    SECRET,
    answers_until,
    drain,
    eventually,
    inject,
    of_kind,
    rest,
)

pytestmark = pytest.mark.tcp

PRICE = 1_900_000  # $190.00


def buy(qty: int, price: int = PRICE, tif: TimeInForce = TimeInForce.DAY) -> OrderIntent:
    return OrderIntent("AAPL", BUY, qty, price, tif, "test")


def broker_orders(broker, client_id: str) -> list:
    orders = broker.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, limit=500))
    return [o for o in orders if o.client_order_id == client_id]


def test_a_limit_order_is_accepted_then_filled_by_a_resting_order(open_gateway, alice):
    rest(alice, "ASK1", "S", 100, PRICE)
    gateway = open_gateway()
    gateway.send_enter(1, buy(60))
    events = answers_until(gateway, lambda e: of_kind(e, ouch.Executed))
    accepted, executed = events[0].message, events[-1].message
    assert [type(e.message) for e in events] == [ouch.Accepted, ouch.Executed]
    assert all(e.order_id == 1 for e in events)
    assert (accepted.order_token, accepted.shares, accepted.price) == ("desk-1", 60, PRICE)
    assert (executed.executed_shares, executed.execution_price) == (60, PRICE)
    assert executed.match_number > 0


def test_market_stop_and_ioc_orders_reach_the_matching_engine(open_gateway, alice, broker):
    rest(alice, "ASK1", "S", 300, PRICE)
    gateway = open_gateway()
    gateway.send_enter(1, buy(50, price=0, tif=TimeInForce.IOC))  # market
    gateway.send_enter(2, buy(10, price=PRICE - 5_000, tif=TimeInForce.IOC))  # IOC, no match
    gateway.send_enter(3, buy(20, price=0), stop_price=PRICE + 10_000)
    events = answers_until(
        gateway, lambda e: of_kind(e, ouch.Executed) and of_kind(e, ouch.Canceled) and
        len(of_kind(e, ouch.Accepted)) == 3,
    )  # fmt: skip
    (fill,) = of_kind(events, ouch.Executed)
    assert (fill.order_id, fill.message.executed_shares, fill.message.execution_price) == (
        1, 50, PRICE
    )  # fmt: skip
    (ioc,) = of_kind(events, ouch.Canceled)
    assert (ioc.order_id, ioc.message.decrement_shares, ioc.message.reason) == (2, 10, "I")
    (stop,) = broker_orders(broker, "desk-3")
    assert (stop.type.value, float(stop.stop_price), stop.status.value) == ("stop", 191.0, "new")


def test_a_cancel_takes_the_rest_of_the_order_off(open_gateway, alice):
    rest(alice, "ASK1", "S", 30, PRICE)
    gateway = open_gateway()
    gateway.send_enter(1, buy(100))
    answers_until(gateway, lambda e: of_kind(e, ouch.Executed))
    gateway.send_cancel(1)
    (canceled,) = of_kind(answers_until(gateway, lambda e: of_kind(e, ouch.Canceled)),
                          ouch.Canceled)  # fmt: skip
    assert (canceled.order_id, canceled.message.decrement_shares) == (1, 70)


def test_a_replace_moves_the_order_under_a_new_id(open_gateway, broker):
    gateway = open_gateway()
    gateway.send_enter(1, buy(100, price=PRICE - 10_000))
    answers_until(gateway, lambda e: of_kind(e, ouch.Accepted))
    gateway.send_replace(1, 2, 40, PRICE - 20_000, TimeInForce.DAY)
    (replaced,) = of_kind(answers_until(gateway, lambda e: of_kind(e, ouch.Replaced)),
                          ouch.Replaced)  # fmt: skip
    assert replaced.order_id == 2
    assert replaced.message.previous_order_token == "desk-1"
    (new,) = broker_orders(broker, "desk-2")
    assert (int(new.qty), float(new.limit_price), new.status.value) == (40, 188.0, "new")


def test_a_dropped_stream_is_reconnected_with_no_fill_lost_or_doubled(
    open_gateway, alice, alpaca_venue, caplog
):
    caplog.set_level(logging.INFO, "GW")
    # Reconnecting after 0.25-0.5 s leaves the middle fill to happen while the stream is down.
    gateway = open_gateway(reconnect_min_s=0.5, reconnect_max_s=1.0)
    gateway.send_enter(1, buy(300))
    answers_until(gateway, lambda e: of_kind(e, ouch.Accepted))
    executed = []
    for i in range(3):
        # Fills before, while and after the stream is down.
        if i == 1:
            assert inject(alpaca_venue, drop_streams=True)
        rest(alice, f"HIT{i}", "S", 100, PRICE)
        executed += of_kind(drain(gateway, 0.3), ouch.Executed)
    executed += of_kind(
        answers_until(gateway, lambda e: sum(x.message.executed_shares for x in executed + e
                                             if type(x.message) is ouch.Executed) >= 300),
        ouch.Executed,
    )  # fmt: skip
    executed += of_kind(drain(gateway, 1.0), ouch.Executed)  # nothing more may come
    assert sum(e.message.executed_shares for e in executed) == 300
    assert len({e.message.match_number for e in executed}) == len(executed)
    assert gateway.reconnects >= 1
    assert gateway.connected
    # The fill made while down came from looking the order up, not from the stream.
    assert "caught up with 1 open orders at the broker" in caplog.text


def test_a_429_is_survived_with_the_right_state_and_no_duplicate_order(
    open_gateway, alpaca_venue, broker, caplog
):
    gateway = open_gateway()
    inject(alpaca_venue, http_status=429, count=1, retry_after_s=1)
    with caplog.at_level(logging.WARNING, "GW"):
        gateway.send_enter(1, buy(10, price=PRICE - 10_000))
        (rejected,) = answers_until(gateway, lambda e: e)
    assert type(rejected.message) is ouch.Rejected
    eventually(lambda: gateway.state == GatewayState.RATE_LIMITED, what="the rate-limited state")
    assert "rate limited by the broker: pausing requests for 1.0 s" in caplog.text
    sent = time.monotonic()
    gateway.send_enter(2, buy(10, price=PRICE - 10_000))
    (accepted,) = answers_until(gateway, lambda e: e)
    assert type(accepted.message) is ouch.Accepted
    assert time.monotonic() - sent > 0.5  # it waited out the Retry-After
    eventually(lambda: gateway.state == GatewayState.READY, what="the gateway ready again")
    assert broker_orders(broker, "desk-1") == []
    assert len(broker_orders(broker, "desk-2")) == 1


def test_a_503_on_submit_is_resolved_by_lookup_and_never_sent_twice(
    open_gateway, alpaca_venue, broker, caplog
):
    gateway = open_gateway()
    inject(alpaca_venue, http_status=503, count=1)
    with caplog.at_level(logging.WARNING, "GW"):
        gateway.send_enter(1, buy(10, price=PRICE - 10_000))
        (answer,) = answers_until(gateway, lambda e: e)
    # The simulator's 503 came before the order was taken: the lookup finds nothing.
    assert type(answer.message) is ouch.Rejected
    assert "broker unavailable" in caplog.text and "not placed" in caplog.text
    assert gateway.errors == {"UNAVAILABLE": 1, "NOT_FOUND": 1}
    assert broker_orders(broker, "desk-1") == []
    gateway.send_enter(2, buy(10, price=PRICE - 10_000))
    assert type(answers_until(gateway, lambda e: e)[0].message) is ouch.Accepted
    # The worker thread marks the session healthy once its call returns, which can be just
    # after the answer is already in the engine's hands.
    eventually(lambda: gateway.state == GatewayState.READY, what="the gateway ready again")


def test_an_order_the_broker_rejects_is_rejected(open_gateway, alpaca_venue):
    gateway = open_gateway()
    inject(alpaca_venue, reject_next_orders=1)
    gateway.send_enter(1, buy(10))
    events = answers_until(gateway, lambda e: e)
    assert [type(e.message) for e in events] == [ouch.Rejected]
    assert drain(gateway, 0.3) == []  # the stream's own "rejected" adds nothing


def test_keys_never_appear_in_anything_logged(open_gateway, alice, alpaca_venue, caplog):
    caplog.set_level(logging.DEBUG)
    rest(alice, "ASK1", "S", 100, PRICE)
    gateway = open_gateway()
    gateway.send_enter(1, buy(50))
    answers_until(gateway, lambda e: of_kind(e, ouch.Executed))
    inject(alpaca_venue, http_status=429, count=1, retry_after_s=0.2)
    gateway.send_enter(2, buy(10))
    inject(alpaca_venue, drop_streams=True)
    eventually(lambda: gateway.reconnects and gateway.connected, what="a reconnect")
    gateway.close()
    assert caplog.records
    ours = [r for r in caplog.records if not r.name.startswith("EXCH")]
    assert any(r.name.startswith("alpaca") for r in ours)
    assert SECRET not in caplog.text
    assert not [r for r in ours if KEY_ID in r.getMessage()]


def test_refused_keys_are_a_clear_state_and_log_line_not_a_crash(alpaca_venue, caplog):
    from trading.venues.alpaca.gateway import AlpacaGateway

    from .conftest import venue_settings

    gateway = AlpacaGateway(venue_settings(alpaca_venue, secret_key="wrong-secret"))
    try:
        with caplog.at_level(logging.ERROR, "GW"):
            gateway.poll()
            eventually(lambda: gateway.state == GatewayState.UNAUTHORISED, what="the refusal")
        assert "refused the keys: check ALPACA_API_KEY / ALPACA_API_SECRET" in caplog.text
        assert not gateway.connected
        with pytest.raises(ConnectionError, match="UNAUTHORISED"):
            gateway.send_enter(1, buy(10))
    finally:
        gateway.close()
    assert "wrong-secret" not in caplog.text
