"""The engine's OUCH gateway over real TCP: orders out, answers back in sequence, nothing
lost or seen twice across a dropped connection or a restart, and a venue restart reported."""

import time

import pytest

from tests.support.orders import enter_order
from trading.engine.gateway import OuchGateway, VenueMessage, VenueReset
from trading.model.orders import BUY, SELL, OrderIntent, TimeInForce
from trading.protocols import ouch
from trading.protocols.soup_client import SoupClient

pytestmark = [pytest.mark.tcp]


def collect(gateway, count, timeout_s=5.0):
    seen = []
    deadline = time.monotonic() + timeout_s
    while len(seen) < count:
        assert time.monotonic() < deadline, seen
        seen.extend(gateway.poll(0.05))
    return seen


def other_side(exchange, token, side, shares, price):
    with SoupClient("127.0.0.1", exchange.ports.order) as alice:
        alice.login("alice", "secret1", 0)
        alice.send(enter_order(token, side, shares, price).encode())
        alice.receive_sequenced()


def test_an_order_is_accepted_and_filled_with_its_engine_id(exchange):
    gateway = OuchGateway("127.0.0.1", exchange.ports.order, "demo", "demo")
    collect(gateway, 1)  # the start-of-day event
    t4 = gateway.send_enter(41, OrderIntent("AAPL", BUY, 100, 1_899_000, TimeInForce.DAY))
    accepted = collect(gateway, 1)[0]
    assert isinstance(accepted, VenueMessage) and accepted.order_id == 41
    assert isinstance(accepted.message, ouch.Accepted) and accepted.t5_ns >= t4
    other_side(exchange, "S1", "S", 100, 1_899_000)
    executed = collect(gateway, 1)[0]
    assert executed.order_id == 41
    assert (executed.message.executed_shares, executed.message.execution_price) == (100, 1_899_000)
    gateway.close()


def test_answers_missed_while_disconnected_arrive_once_after_reconnecting(exchange):
    gateway = OuchGateway("127.0.0.1", exchange.ports.order, "demo", "demo")
    collect(gateway, 1)
    gateway.send_enter(7, OrderIntent("AAPL", SELL, 300, 1_910_000, TimeInForce.DAY))
    collect(gateway, 1)
    exchange.call(lambda: [c.close() for c in list(exchange.server.order_server.connections)])
    time.sleep(0.2)
    other_side(exchange, "B1", "B", 100, 1_910_000)  # fills while the engine is away
    other_side(exchange, "B2", "B", 50, 1_910_000)
    seen = collect(gateway, 2)
    fills = [m.message.executed_shares for m in seen if isinstance(m.message, ouch.Executed)]
    assert fills == [100, 50]
    assert [m.sequence for m in seen] == [3, 4]
    assert gateway.reconnects >= 1
    time.sleep(0.2)
    assert gateway.poll(0.1) == []  # and nothing twice
    gateway.close()


def test_a_restarted_engine_resumes_from_its_saved_sequence(exchange):
    first = OuchGateway("127.0.0.1", exchange.ports.order, "demo", "demo")
    collect(first, 1)
    first.send_enter(9, OrderIntent("AAPL", SELL, 100, 1_920_000, TimeInForce.GTC))
    collect(first, 1)
    saved = (first.session, first.next_sequence)
    first.close()  # the engine dies here (its state was saved with every answer)
    other_side(exchange, "B3", "B", 100, 1_920_000)
    second = OuchGateway(
        "127.0.0.1", exchange.ports.order, "demo", "demo", session=saved[0],
        next_sequence=saved[1],
    )  # fmt: skip
    (fill,) = collect(second, 1)
    assert fill.order_id == 9 and isinstance(fill.message, ouch.Executed)
    second.close()


def test_a_restarted_venue_is_reported_as_a_reset(exchange_factory):
    first = exchange_factory()
    gateway = OuchGateway("127.0.0.1", first.ports.order, "demo", "demo")
    collect(gateway, 1)
    time.sleep(1.1)  # the new venue gets a new session name
    second = exchange_factory()
    first.stop()
    gateway.port = second.ports.order  # the same address, in production
    seen = []
    deadline = time.monotonic() + 10
    while not any(isinstance(m, VenueReset) for m in seen[:-1]):
        assert time.monotonic() < deadline, seen
        seen.extend(gateway.poll(0.05))
    # The old venue said goodbye (end of day), then the new one is announced as a reset.
    kinds = [m.message.event_code if isinstance(m, VenueMessage) else "reset" for m in seen]
    assert kinds == ["E", "reset", "S"]
    gateway.close()
