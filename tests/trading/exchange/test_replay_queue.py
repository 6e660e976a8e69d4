"""Client orders in replay mode: one that waits in the queue ahead of a replayed order fills
first when LOBSTER executes that replayed order, one queued behind it does not; and a
replayed order arriving through a resting client order trades with it at the client's price."""

import asyncio

from tests.support.configs import make_config
from trading.exchange.replay_source import load_replay
from trading.exchange.server import ExchangeServer
from trading.protocols import itch, ouch

EMPTY = "9999999999,0"
MESSAGES = [
    "34200.1,1,1,100,1000000,1",  # order 1 bids 100 @ $100.00
    "34200.2,1,2,100,1000000,1",  # order 2 joins behind it (and behind the client's order)
    "34200.3,4,2,100,1000000,1",  # LOBSTER executes order 2
    "34200.4,4,1,100,1000000,1",  # then order 1
]
BOOKS = [
    f"{EMPTY},1000000,100",
    f"{EMPTY},1000000,200",
    f"{EMPTY},1000000,100",
    f"{EMPTY},-9999999999,0",
]


def _payloads(log):
    return [bytes(frame[3:]) for frame in log.frames]


def test_only_the_client_order_ahead_of_the_executed_one_fills(tmp_path):
    base = "TEST_2012-06-21_34200000_57600000_{}_1.csv"
    (tmp_path / base.format("message")).write_text("\n".join(MESSAGES) + "\n")
    (tmp_path / base.format("orderbook")).write_text("\n".join(BOOKS) + "\n")
    source = load_replay(tmp_path / base.format("message"), 100)
    server = ExchangeServer(make_config(), replay=source, replay_speed=0)

    async def replay_with_two_client_orders() -> None:
        # Row by row, on an event loop as in the exchange, without the sockets.
        locate = server.venue.symbols["TEST"].locate
        server.replay_row(0, locate)
        ahead = ouch.EnterOrder("AHEAD", "B", 100, "TEST", 1_000_000, ouch.TIF_SYSTEM_HOURS,
                                "", "Y", "P", "N", 0, "N", " ")  # fmt: skip
        server.venue.handle("demo", ahead, server.clock())
        server.replay_row(1, locate)
        server.venue.handle("alice", ahead._replace(order_token="BEHIND"), server.clock())
        server.replay_row(2, locate)
        server.replay_row(3, locate)

    asyncio.run(replay_with_two_client_orders())

    demo = [ouch.decode_outbound(p) for p in _payloads(server.order_entry.account_log("demo"))]
    alice = [ouch.decode_outbound(p) for p in _payloads(server.order_entry.account_log("alice"))]
    fills = [m for m in demo if isinstance(m, ouch.Executed)]
    assert [(m.order_token, m.executed_shares, m.execution_price) for m in fills] == [
        ("AHEAD", 100, 1_000_000)
    ]
    assert not any(isinstance(m, ouch.Executed) for m in alice)
    executions = [
        m for m in map(itch.decode, _payloads(server.feed_log)) if isinstance(m, itch.OrderExecuted)
    ]
    accepted = next(m for m in demo if isinstance(m, ouch.Accepted))
    # The client's fill comes first, then LOBSTER's own two executions, as replayed.
    assert [m.order_reference_number for m in executions] == [
        accepted.order_reference_number, 2, 1,
    ]  # fmt: skip


CROSSING_MESSAGES = [
    "34200.1,1,1,100,1001000,-1",  # order 1 offers 100 @ $100.10
    "34200.2,1,2,100,1000400,-1",  # order 2 offers 100 @ $100.04: through the client's bid
    "34200.3,3,1,100,1001000,-1",  # order 1 leaves
]
CROSSING_BOOKS = [
    "1001000,100,-9999999999,0",
    "1000400,100,-9999999999,0",
    "1000400,100,-9999999999,0",
]


def test_a_replayed_order_through_a_resting_client_order_trades_at_the_clients_price(tmp_path):
    base = "CROSS_2012-06-21_34200000_57600000_{}_1.csv"
    (tmp_path / base.format("message")).write_text("\n".join(CROSSING_MESSAGES) + "\n")
    (tmp_path / base.format("orderbook")).write_text("\n".join(CROSSING_BOOKS) + "\n")
    source = load_replay(tmp_path / base.format("message"), 100)
    server = ExchangeServer(make_config(), replay=source, replay_speed=0)

    async def replay_with_a_resting_bid() -> None:
        locate = server.venue.symbols["CROSS"].locate
        server.replay_row(0, locate)
        bid = ouch.EnterOrder("BID", "B", 300, "CROSS", 1_000_500, ouch.TIF_SYSTEM_HOURS, "",
                              "Y", "P", "N", 0, "N", " ")  # fmt: skip
        server.venue.handle("demo", bid, server.clock())
        for row in (1, 2):
            server.replay_row(row, locate)
            server.venue.symbols["CROSS"].book.assert_not_crossed()

    asyncio.run(replay_with_a_resting_bid())
    demo = [ouch.decode_outbound(p) for p in _payloads(server.order_entry.account_log("demo"))]
    fills = [(m.executed_shares, m.execution_price) for m in demo if isinstance(m, ouch.Executed)]
    # 100 at row 1, and 100 more at row 2 where LOBSTER's offer is still shown at $100.04.
    assert fills == [(100, 1_000_500), (100, 1_000_500)]
    feed = list(map(itch.decode, _payloads(server.feed_log)))
    with_price = [m for m in feed if isinstance(m, itch.OrderExecutedWithPrice)]
    assert [(m.executed_shares, m.execution_price, m.printable) for m in with_price] == [
        (100, 1_000_500, "Y"), (100, 1_000_500, "Y"),
    ]  # fmt: skip
