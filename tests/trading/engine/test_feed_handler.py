"""The engine's feed handler keeps its books equal to the venue's over real TCP, through
disconnects and gaps."""

import time

import pytest

from tests.support.orders import enter_order
from trading.engine.feed_handler import FeedHandler
from trading.protocols import ouch
from trading.protocols.soup_client import SoupClient

pytestmark = [pytest.mark.tcp]


def enter(client, token, side, shares, price, stock="AAPL"):
    client.send(enter_order(token, side, shares, price, stock).encode())


def handler_for(exchange) -> FeedHandler:
    return FeedHandler("127.0.0.1", exchange.ports.feed, exchange.ports.snapshot, "demo", "demo")


def catch_up(handler, exchange, timeout_s=10.0):
    target = exchange.call(lambda: exchange.server.feed_log.next_sequence)
    deadline = time.monotonic() + timeout_s
    while handler.next_sequence < target:
        assert time.monotonic() < deadline, (handler.next_sequence, target, handler.stats)
        handler.poll(0.05)


def assert_same_books(handler, exchange):
    venue_books = exchange.call(
        lambda: {
            s.locate: [(o.ref, o.side, o.price, o.qty) for o in s.book]
            for s in exchange.server.venue.symbols.values()
        }
    )
    for locate, orders in venue_books.items():
        mine = [(o.ref, o.side, o.price, o.qty) for o in handler.builder.book(locate)]
        assert mine == orders, locate


def test_a_snapshot_then_the_feed_gives_the_venues_books(exchange):
    with SoupClient("127.0.0.1", exchange.ports.order) as client:
        client.login("demo", "demo", 0)
        enter(client, "A1", "B", 300, 1_899_000)
        enter(client, "A2", "S", 200, 1_901_000)
        client.receive_sequenced()
        handler = handler_for(exchange)
        catch_up(handler, exchange)  # snapshot: the two orders
        enter(client, "A3", "B", 100, 1_899_500, stock="MSFT")
        enter(client, "A4", "S", 150, 1_899_000)  # trades with A1
        client.send(ouch.CancelOrder("A2", 50).encode())
        time.sleep(0.2)
        catch_up(handler, exchange)
    assert_same_books(handler, exchange)
    assert handler.builder.symbols[1] == "AAPL"
    assert handler.stats.reconnects == 0 and handler.stats.last_receive_ns > 0
    handler.close()


def test_a_dropped_connection_resumes_from_the_next_sequence_without_a_resync(exchange):
    handler = handler_for(exchange)
    catch_up(handler, exchange)
    exchange.call(lambda: [c.close() for c in list(exchange.server.feed_server.connections)])
    with SoupClient("127.0.0.1", exchange.ports.order) as client:
        client.login("demo", "demo", 0)
        enter(client, "D1", "B", 300, 1_899_000)
        client.receive_sequenced()
    time.sleep(0.3)  # the back-off
    catch_up(handler, exchange)
    assert_same_books(handler, exchange)
    assert handler.stats.reconnects >= 1 and handler.stats.resyncs == 0
    handler.close()


def test_a_gap_is_repaired_from_a_snapshot(exchange):
    handler = handler_for(exchange)
    catch_up(handler, exchange)
    with SoupClient("127.0.0.1", exchange.ports.order) as client:
        client.login("demo", "demo", 0)
        enter(client, "G1", "B", 300, 1_899_000)
        client.receive_sequenced()
        handler.next_sequence += 1_000  # pretend it lost track of the stream
        exchange.call(lambda: [c.close() for c in list(exchange.server.feed_server.connections)])
        deadline = time.monotonic() + 10
        while handler.stats.gaps == 0:
            assert time.monotonic() < deadline
            handler.poll(0.05)
        catch_up(handler, exchange)
    assert handler.stats.gaps == 1
    assert_same_books(handler, exchange)
    handler.close()
