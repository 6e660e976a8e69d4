"""The Alpaca gateway's logic: OUCH answers from broker answers and trade updates, no fill
lost or doubled, no order sent twice, every broker error a state and a log line.

These use a scripted TradingClient and stream; test_gateway_e2e.py runs the real alpaca-py
client against the simulator's Alpaca endpoint.
"""

import logging
import uuid

import pytest

from trading.model.orders import BUY, SELL, OrderIntent, TimeInForce
from trading.protocols import ouch
from trading.venues.alpaca.gateway import AlpacaGateway, GatewayState

from .fakes import FakeStream, ScriptedClient, collect, kinds, wait_for
from .payloads import order, order_json, settings, trade_update
from .test_errors import api_error

LIMIT = OrderIntent("AAPL", BUY, 100, 1_905_000, TimeInForce.DAY, "mean_reversion")


def echo_order(request):
    """The broker's answer to a submit: the order, new."""
    fields = request.to_request_fields()
    return order(
        fields["client_order_id"], qty=fields["qty"], side=fields["side"],
        limit_price=str(fields.get("limit_price")) if fields.get("limit_price") else None,
        order_type=fields["type"],
    )  # fmt: skip


@pytest.fixture
def client():
    return ScriptedClient(submit_order=echo_order)


@pytest.fixture
def gateway(client):
    gw = AlpacaGateway(
        settings(rate_limit_burst=50), client=client, stream_factory=FakeStream,
        logger=logging.getLogger("GW.test"),
    )  # fmt: skip
    gw._resolve_backoff_s = (0.01, 0.05)
    gw.poll()
    wait_for(lambda: gw.connected)
    yield gw
    gw.close()


def test_an_order_is_submitted_once_under_its_client_id_and_acked(gateway, client):
    gateway.send_enter(7, LIMIT)
    answers = collect(gateway, lambda a: a)
    assert kinds(answers) == ["Accepted"]
    accepted = answers[0]
    assert (accepted.order_token, accepted.shares, accepted.price) == ("desk-7", 100, 1_905_000)
    assert accepted.side == "B" and accepted.stock == "AAPL"
    (request,) = [args[0] for name, args in client.calls if name == "submit_order"]
    assert request.client_order_id == "desk-7"


def test_poll_wraps_answers_with_the_engine_order_id_in_sequence(gateway):
    gateway.send_enter(7, LIMIT)
    gateway.send_enter(8, LIMIT)
    events = []
    wait_for(lambda: events.extend(gateway.poll(0.01)) or len(events) >= 2)
    assert [e.order_id for e in events] == [7, 8]
    assert events[1].sequence == events[0].sequence + 1
    assert all(e.t5_ns > 0 for e in events)


def test_fills_from_the_stream_are_reported_once_each(gateway):
    gateway.send_enter(7, LIMIT)
    collect(gateway, lambda a: a)
    broker_id = str(uuid.uuid4())
    first = str(uuid.uuid4())
    partial = order_json("desk-7", order_id=broker_id, filled_qty=40, filled_avg_price="190.5",
                         status="partially_filled")  # fmt: skip
    update = trade_update("partial_fill", partial, execution_id=first, price="190.5", qty="40")
    gateway.apply_trade_update(update)
    gateway.apply_trade_update(update)  # the same execution again
    full = order_json("desk-7", order_id=broker_id, filled_qty=100, filled_avg_price="190.46",
                      status="filled")  # fmt: skip
    gateway.apply_trade_update(
        trade_update("fill", full, execution_id=str(uuid.uuid4()), price="190.4333", qty="60")
    )
    answers = collect(gateway, lambda a: len(a) >= 2)
    assert kinds(answers) == ["Executed", "Executed"]
    assert [(a.executed_shares, a.execution_price) for a in answers] == [
        (40, 1_905_000), (60, 1_904_333)
    ]  # fmt: skip
    assert answers[0].match_number != answers[1].match_number
    assert gateway.poll(0.05) == []


def test_a_fill_missed_while_the_stream_was_down_is_recovered_by_the_catch_up(gateway, client):
    gateway.send_enter(7, LIMIT)
    collect(gateway, lambda a: a)
    stream = FakeStream.instances[-1]
    stream.drop()
    assert not gateway.connected
    assert gateway.state == GatewayState.STREAM_DOWN
    client.script(
        "get_order_by_client_id",
        order("desk-7", filled_qty=100, filled_avg_price="190.45", status="filled"),
    )
    stream.restore()
    answers = collect(gateway, lambda a: a)
    assert kinds(answers) == ["Executed"]
    assert (answers[0].executed_shares, answers[0].execution_price) == (100, 1_904_500)
    # The stream's own late report of the same fill changes nothing.
    gateway.apply_trade_update(
        trade_update(
            "fill", order_json("desk-7", filled_qty=100, filled_avg_price="190.45",
                               status="filled"),
            execution_id=str(uuid.uuid4()), price="190.45", qty="100",
        )
    )  # fmt: skip
    assert gateway.poll(0.05) == []
    assert gateway.reconnects == 1
    assert gateway.connected


def test_a_cancel_is_reported_with_the_shares_it_took_off(gateway, client):
    gateway.send_enter(7, LIMIT)
    collect(gateway, lambda a: a)
    gateway.send_cancel(7)
    wait_for(lambda: client.count("cancel_order_by_id") == 1)
    gateway.apply_trade_update(
        trade_update("canceled", order_json("desk-7", filled_qty=30, filled_avg_price="190.5",
                                            status="canceled"))
    )  # fmt: skip
    answers = collect(gateway, lambda a: len(a) >= 2)
    assert kinds(answers) == ["Executed", "Canceled"]
    assert answers[1].decrement_shares == 70
    assert answers[1].reason == "U"


def test_a_rejected_order_is_rejected_to_the_engine(gateway):
    gateway.send_enter(7, LIMIT)
    collect(gateway, lambda a: a)
    gateway.apply_trade_update(trade_update("rejected", order_json("desk-7", status="rejected")))
    answers = collect(gateway, lambda a: a)
    assert kinds(answers) == ["Rejected"]


def test_a_submit_the_broker_refuses_is_rejected_with_its_reason(gateway, client, caplog):
    client.script(
        "submit_order", api_error(403, '{"code": 40310000, "message": "insufficient buying power"}')
    )
    with caplog.at_level(logging.WARNING, "GW.test"):
        gateway.send_enter(7, LIMIT)
        answers = collect(gateway, lambda a: a)
    assert kinds(answers) == ["Rejected"]
    assert answers[0].reason == ouch.RejectReason.EXCEEDED_DOLLAR_VALUE_LIMIT
    assert "insufficient buying power" in caplog.text
    assert client.count("submit_order") == 1


def test_a_429_rejects_the_order_pauses_for_retry_after_and_never_resends(gateway, client, caplog):
    client.script("submit_order", api_error(429, headers={"Retry-After": "0.4"}))
    with caplog.at_level(logging.WARNING, "GW.test"):
        gateway.send_enter(7, LIMIT)
        answers = collect(gateway, lambda a: a)
    assert kinds(answers) == ["Rejected"]
    assert gateway.state == GatewayState.RATE_LIMITED
    assert gateway.bucket.paused
    assert "rate limited" in caplog.text and "0.4 s" in caplog.text
    gateway.send_enter(8, LIMIT)  # waits out the pause, then goes
    answers = collect(gateway, lambda a: a)
    assert kinds(answers) == ["Accepted"] and answers[0].order_token == "desk-8"
    assert gateway.state == GatewayState.READY
    submitted = [args[0].client_order_id for name, args in client.calls if name == "submit_order"]
    assert submitted == ["desk-7", "desk-8"]


def test_a_503_on_submit_is_resolved_by_lookup_not_by_resending(gateway, client):
    client.script("submit_order", api_error(503, "Service Unavailable"))
    client.script("get_order_by_client_id", order("desk-7"))
    gateway.send_enter(7, LIMIT)
    answers = collect(gateway, lambda a: a)
    assert kinds(answers) == ["Accepted"]
    assert client.count("submit_order") == 1
    assert client.count("get_order_by_client_id") == 1


def test_an_order_the_broker_never_got_is_rejected_after_the_lookup(gateway, client):
    import requests

    client.script("submit_order", requests.ReadTimeout("read timed out"))
    client.script(
        "get_order_by_client_id",
        api_error(503, "unavailable"),  # lookups are safe to repeat
        api_error(404, '{"code": 40410000, "message": "order not found"}'),
    )
    gateway.send_enter(7, LIMIT)
    answers = collect(gateway, lambda a: a)
    assert kinds(answers) == ["Rejected"]
    assert client.count("submit_order") == 1
    assert client.count("get_order_by_client_id") == 2
    assert gateway.errors["TIMEOUT"] == 1 and gateway.errors["UNAVAILABLE"] == 1


def test_a_cancel_the_broker_refuses_is_a_cancel_reject_then_the_truth(gateway, client):
    gateway.send_enter(7, LIMIT)
    collect(gateway, lambda a: a)
    client.script(
        "cancel_order_by_id", api_error(422, '{"code": 42210000, "message": "order is filled"}')
    )
    client.script(
        "get_order_by_client_id",
        order("desk-7", filled_qty=100, filled_avg_price="190.5", status="filled"),
    )
    gateway.send_cancel(7)
    answers = collect(gateway, lambda a: len(a) >= 2)
    assert kinds(answers) == ["CancelReject", "Executed"]


def test_a_rate_limited_cancel_is_sent_again_after_the_pause(gateway, client):
    gateway.send_enter(7, LIMIT)
    collect(gateway, lambda a: a)
    client.script("cancel_order_by_id", api_error(429, headers={"Retry-After": "0.2"}), None)
    gateway.send_cancel(7)
    wait_for(lambda: client.count("cancel_order_by_id") == 2)


def test_a_replace_answers_replaced_under_the_new_order_id(gateway, client):
    gateway.send_enter(7, LIMIT)
    collect(gateway, lambda a: a)
    client.script("replace_order_by_id", lambda broker_id, request: order(
        request.client_order_id, qty=request.qty, limit_price="190.4"))  # fmt: skip
    gateway.send_replace(7, 8, 50, 1_904_000, TimeInForce.DAY)
    events = []
    wait_for(lambda: events.extend(gateway.poll(0.01)) or events)
    (event,) = events
    assert event.order_id == 8
    assert type(event.message) is ouch.Replaced
    assert event.message.previous_order_token == "desk-7"
    assert (event.message.shares, event.message.price) == (50, 1_904_000)


def test_orders_are_refused_while_the_stream_is_down(gateway):
    FakeStream.instances[-1].drop()
    with pytest.raises(ConnectionError, match="STREAM_DOWN"):
        gateway.send_enter(9, OrderIntent("AAPL", SELL, 10, 0))


def test_an_unreadable_trade_update_is_logged_and_skipped(gateway, caplog):
    import asyncio

    gateway.send_enter(7, LIMIT)
    collect(gateway, lambda a: a)
    bad = trade_update(
        "fill", order_json("desk-7", filled_qty=100, filled_avg_price="190.5"),
        execution_id=str(uuid.uuid4()), price="190.5", qty="100",
    )  # fmt: skip
    bad.order.filled_qty = "12.5"
    with caplog.at_level(logging.ERROR, "GW.test"):
        asyncio.run(gateway._on_trade_update(bad))
    assert "trade update skipped" in caplog.text
    assert gateway.errors["malformed_update"] == 1
    assert gateway.poll(0.05) == []


def test_memory_of_finished_orders_is_bounded(gateway, monkeypatch):
    from trading.venues.alpaca import gateway as module

    monkeypatch.setattr(module, "RETAINED_FINISHED", 5)
    for order_id in range(1, 12):
        gateway.send_enter(order_id, LIMIT)
    collect(gateway, lambda a: len(a) >= 11)
    for order_id in range(1, 12):
        gateway.orders[order_id].done = True
    gateway.send_enter(12, LIMIT)
    assert sorted(gateway.orders) == [7, 8, 9, 10, 11, 12]
    assert "desk-1" not in gateway.by_client_id
