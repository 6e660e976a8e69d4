"""Replay mode over real TCP: a client that rebuilds the book from the ITCH it receives holds
LOBSTER's own orderbook at every event boundary, and sees every LOBSTER execution."""

import time
from pathlib import Path

import numpy as np
import pytest

from tests.support.data import LOBSTER_DIR
from trading import lobster
from trading.exchange.replay_source import load_replay
from trading.order_book import OrderBook
from trading.protocols import itch, ouch
from trading.protocols import soupbintcp as soup
from trading.protocols.soup_client import SoupClient

pytestmark = [
    pytest.mark.tcp,
    pytest.mark.slow,
    pytest.mark.skipif(not LOBSTER_DIR.is_dir(), reason=f"LOBSTER samples not in {LOBSTER_DIR}"),
]

DATA = LOBSTER_DIR
AAPL = DATA / "AAPL_2012-06-21_34200000_57600000_message_1.csv.gz"
AMZN = DATA / "AMZN_2012-06-21_34200000_57600000_message_5.csv.gz"


def receive_feed(exchange, timeout_s=240.0) -> np.ndarray:
    """Every sequenced ITCH message of the replayed day, decoded into records."""
    server = exchange.server
    frames = []
    expected = None
    deadline = time.monotonic() + timeout_s
    with SoupClient("127.0.0.1", exchange.ports.feed, timeout_s=timeout_s) as feed:
        feed.login("demo", "demo", 1)
        last_check = time.monotonic()
        while expected is None or len(frames) < expected:
            assert time.monotonic() < deadline, f"{len(frames)} of {expected} messages in time"
            kind, payload = feed.receive(timeout_s)
            if kind == soup.PacketType.SEQUENCED_DATA:
                frames.append(soup.encode_sequenced_data(payload))
            if time.monotonic() - last_check > 0.5:
                # A subscriber that only listens must still say it is alive.
                feed.heartbeat()
                last_check = time.monotonic()
                if expected is None and exchange.call(server.replay_done.is_set):
                    expected = exchange.call(lambda: server.feed_log.next_sequence - 1)
    buffer = np.frombuffer(b"".join(frames), dtype=np.uint8)
    out = np.empty(expected + 16, dtype=itch.ITCH_RECORD_DTYPE)
    written, consumed, _, sequenced = itch.decode_soup_itch(buffer, out, True)
    assert sequenced == expected and consumed == len(buffer)
    return out[:written]


def replay_and_check(exchange_factory, path: Path) -> None:
    source = load_replay(path, 100)
    day = source.day
    levels = day.levels
    exchange = exchange_factory(server_options={"replay": source, "replay_speed": 0.0})
    records = receive_feed(exchange)

    last_row_at = {}
    for row, ts in enumerate(day.messages["ts_ns"].tolist()):
        last_row_at[ts] = row
    book = OrderBook(100)
    executions = []
    trades = []
    checked = 0
    types = records["msg_type"].tolist()
    timestamps = records["timestamp_ns"].tolist()
    refs = records["ref"].tolist()
    new_refs = records["new_ref"].tolist()
    sides = records["side"].tolist()
    shares = records["shares"].tolist()
    prices = records["price"].tolist()
    book_types = {ord(c) for c in "AFEXDUP"}
    for i, kind in enumerate(types):
        if kind not in book_types:
            continue
        if kind in (ord("A"), ord("F")):
            book.add(refs[i], sides[i], prices[i], shares[i])
        elif kind == ord("E"):
            executions.append((book.order(refs[i]).price, shares[i]))
            book.execute(refs[i], shares[i])
        elif kind == ord("X"):
            book.cancel(refs[i], shares[i])
        elif kind == ord("D"):
            book.delete(refs[i])
        elif kind == ord("U"):
            book.replace(refs[i], new_refs[i], shares[i], prices[i])
        elif kind == ord("P"):
            trades.append((prices[i], shares[i]))
        ts = timestamps[i]
        boundary = i + 1 == len(types) or timestamps[i + 1] != ts
        if boundary and ts in last_row_at:
            row = day.orderbook[last_row_at[ts]]
            depth = book.depth(levels)
            for k in range(levels):
                ask, ask_qty, bid, bid_qty = row[4 * k : 4 * k + 4].tolist()
                assert _level(depth.ask_prices, depth.ask_qtys, k) == (
                    (ask, ask_qty) if ask != lobster.EMPTY_ASK else (0, 0)
                ), f"ask level {k + 1} at row {last_row_at[ts]}"
                assert _level(depth.bid_prices, depth.bid_qtys, k) == (
                    (bid, bid_qty) if bid != lobster.EMPTY_BID else (0, 0)
                ), f"bid level {k + 1} at row {last_row_at[ts]}"
            checked += 1
    messages = day.messages
    visible = messages[messages["kind"] == lobster.EXECUTE_VISIBLE]
    hidden = messages[messages["kind"] == lobster.EXECUTE_HIDDEN]
    assert executions == list(zip(visible["price"].tolist(), visible["size"].tolist(), strict=True))
    assert trades == list(zip(hidden["price"].tolist(), hidden["size"].tolist(), strict=True))
    assert checked == len(last_row_at)


def _level(prices, qtys, k):
    return (int(prices[k]), int(qtys[k])) if k < len(prices) else (0, 0)


def test_aapl_level_1_replayed_over_tcp_matches_lobster_at_every_event(exchange_factory):
    replay_and_check(exchange_factory, AAPL)


def test_amzn_level_5_replayed_over_tcp_matches_lobster_at_every_event(exchange_factory):
    replay_and_check(exchange_factory, AMZN)


def test_a_client_order_queued_ahead_fills_before_the_replayed_one(exchange_factory):
    source = load_replay(AAPL, 100)
    exchange = exchange_factory(server_options={"replay": source, "replay_speed": 0.0})
    server = exchange.server

    # Pause the replay at once by taking the loop's attention: place our order at the best
    # bid of the book as it stands, ahead of every order that arrives after it.
    def place_at_best_bid():
        bid, _ = server.venue.symbols["AAPL"].book.best_bid()
        return bid

    with SoupClient("127.0.0.1", exchange.ports.order) as client:
        client.login("demo", "demo", 1)
        bid = exchange.call(place_at_best_bid)
        client.send(
            ouch.EnterOrder(
                "Q1", "B", 100, "AAPL", bid, 99999, "", "Y", "P", "N", 0, "N", " "
            ).encode()  # fmt: skip
        )
        messages = []
        while True:
            message = ouch.decode_outbound(client.receive_sequenced(120))
            messages.append(message)
            if isinstance(message, ouch.Executed | ouch.Canceled | ouch.Rejected):
                break
    kinds = [type(m).__name__ for m in messages]
    assert "Accepted" in kinds
    assert isinstance(messages[-1], ouch.Executed), kinds
    assert messages[-1].liquidity_flag == "A" and messages[-1].execution_price <= bid
