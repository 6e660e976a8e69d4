"""The exchange over real loopback TCP: SoupBinTCP sessions, OUCH order entry, ITCH feed,
snapshot and metrics, and every kind of bad input a client can send."""

import json
import socket
import struct
import time
import urllib.request

import pytest

from tests.support.orders import enter_order
from trading.book_builder import BookBuilder
from trading.protocols import itch, ouch
from trading.protocols import soupbintcp as soup
from trading.protocols.soup_client import LoginRejected, SoupClient

pytestmark = [pytest.mark.tcp]


def enter(token, side, shares, price, stock="AAPL", tif=ouch.TIF_SYSTEM_HOURS):
    return enter_order(token, side, shares, price, stock, tif).encode()


def order_session(exchange, username="demo", password="demo", sequence=1) -> SoupClient:
    client = SoupClient("127.0.0.1", exchange.ports.order)
    client.login(username, password, sequence)
    return client


def next_ouch(client, timeout_s=5.0):
    return ouch.decode_outbound(client.receive_sequenced(timeout_s))


def ouch_until(client, kind, timeout_s=5.0):
    """Messages up to and including the first of `kind`."""
    seen = []
    while True:
        message = next_ouch(client, timeout_s)
        seen.append(message)
        if isinstance(message, kind):
            return seen


def wait_closed(client, timeout_s=5.0):
    """Packets received until the server closes the connection."""
    packets = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            packets.append(client.receive(deadline - time.monotonic()))
        except ConnectionError:
            return packets
    raise AssertionError(f"connection still open; got {packets}")


def book_of(exchange, symbol="AAPL"):
    return exchange.call(lambda: exchange.server.venue.symbols[symbol].book.depth(10))


# -- sessions ---------------------------------------------------------------------------------


def test_a_login_gets_the_session_and_the_start_of_day_event(exchange):
    with SoupClient("127.0.0.1", exchange.ports.order) as client:
        session, sequence = client.login("demo", "demo", 1)
        assert len(session) == 10 and sequence == 1
        event = next_ouch(client)
        assert isinstance(event, ouch.SystemEvent) and event.event_code == "S"


def test_a_bad_password_is_rejected_not_authorized_then_closed(exchange):
    with SoupClient("127.0.0.1", exchange.ports.order) as client:
        with pytest.raises(LoginRejected) as info:
            client.login("demo", "wrong")
        assert info.value.reason == "A"
        assert wait_closed(client) == []


def test_an_unknown_session_is_rejected_session_not_available(exchange):
    with SoupClient("127.0.0.1", exchange.ports.order) as client:
        with pytest.raises(LoginRejected) as info:
            client.login("demo", "demo", 1, session="1999010101")
        assert info.value.reason == "S"


def test_one_order_session_per_account_at_a_time(exchange):
    with order_session(exchange):
        with SoupClient("127.0.0.1", exchange.ports.order) as second:
            with pytest.raises(LoginRejected) as info:
                second.login("demo", "demo")
            assert info.value.reason == "S"
        with order_session(exchange, "alice", "secret1"):
            pass


def test_an_order_is_acknowledged_over_tcp(exchange):
    with order_session(exchange) as client:
        client.send(enter("ORD1", "B", 100, 1_890_000))
        accepted = ouch_until(client, ouch.Accepted)[-1]
        assert (accepted.order_token, accepted.shares, accepted.price) == ("ORD1", 100, 1_890_000)
    assert book_of(exchange).bid_qtys.tolist() == [100]


def test_a_gateway_that_logs_in_again_gets_every_message_it_missed(exchange):
    client = order_session(exchange)
    client.send(enter("A1", "B", 100, 1_890_000))
    first = ouch_until(client, ouch.Accepted)
    resume_from = client.next_sequence
    client.close()
    # While the gateway is away, its order trades.
    with order_session(exchange, "alice", "secret1") as alice:
        alice.send(enter("S1", "S", 100, 1_890_000))
        ouch_until(alice, ouch.Executed)
    with order_session(exchange, sequence=resume_from) as again:
        executed = next_ouch(again)
        assert isinstance(executed, ouch.Executed)
        assert (executed.order_token, executed.executed_shares) == ("A1", 100)
    with order_session(exchange, sequence=1) as replay:
        replayed = [next_ouch(replay) for _ in range(len(first) + 1)]
        assert replayed[: len(first)] == first


def test_sequence_zero_means_only_new_messages(exchange):
    with order_session(exchange) as client:
        client.send(enter("A1", "B", 100, 1_890_000))
        ouch_until(client, ouch.Accepted)
    with SoupClient("127.0.0.1", exchange.ports.order) as client:
        _, sequence = client.login("demo", "demo", 0)
        assert sequence == 3
        client.send(enter("A2", "B", 100, 1_880_000))
        assert next_ouch(client).order_token == "A2"


def test_an_idle_session_gets_server_heartbeats(exchange_factory):
    exchange = exchange_factory(heartbeat_interval_s=0.1)
    with order_session(exchange) as client:
        next_ouch(client)
        packet_type, _ = client.receive(2.0)
        assert packet_type == soup.PacketType.SERVER_HEARTBEAT


def test_a_silent_client_is_dropped_after_the_idle_timeout(exchange_factory):
    exchange = exchange_factory(idle_timeout_s=0.3, heartbeat_interval_s=0.1)
    with order_session(exchange) as client:
        packets = wait_closed(client, 5.0)
        assert (soup.PacketType.DEBUG, b"idle timeout") in packets


def test_client_heartbeats_keep_a_session_alive(exchange_factory):
    exchange = exchange_factory(idle_timeout_s=0.5, heartbeat_interval_s=0.1)
    with order_session(exchange) as client:
        for _ in range(10):
            client.heartbeat()
            time.sleep(0.1)
        client.send(enter("LIVE", "B", 100, 1_890_000))
        assert ouch_until(client, ouch.Accepted)[-1].order_token == "LIVE"


def test_logout_closes_the_session(exchange):
    with order_session(exchange) as client:
        client.logout()
        wait_closed(client)


# -- bad input -------------------------------------------------------------------------------


def _debug_text(packets):
    return [payload.decode() for kind, payload in packets if kind == soup.PacketType.DEBUG]


@pytest.mark.parametrize(
    ("garbage", "reason"),
    [
        (b"\x00\x00", "zero-length"),
        (b"\xff\xffU" + b"x" * 100, "exceeds maximum"),
        (b"\x00\x05Q1234", "unknown SoupBinTCP packet type"),
        (soup.encode_unsequenced_data(b"Zjunk"), "OUCH"),
        (soup.encode_unsequenced_data(enter("T", "B", 1, 1)[:-3]), "OUCH"),
        (soup.frame(soup.PacketType.SERVER_HEARTBEAT), "not one a client may send"),
        (soup.encode_login_request("demo", "demo"), "already logged in"),
    ],
)
def test_malformed_input_gets_a_debug_reason_and_a_clean_disconnect(exchange, garbage, reason):
    with order_session(exchange, "alice", "secret1") as alice:
        alice.send(enter("KEEP", "B", 100, 1_880_000))
        ouch_until(alice, ouch.Accepted)
        with order_session(exchange) as client:
            client.send(enter("GOOD", "B", 100, 1_890_000))
            ouch_until(client, ouch.Accepted)
            client.send_raw(garbage)
            texts = _debug_text(wait_closed(client))
            assert texts and reason in texts[0]
        # Neither the book nor another session noticed.
        alice.send(enter("MORE", "B", 100, 1_870_000))
        assert ouch_until(alice, ouch.Accepted)[-1].order_token == "MORE"
    assert book_of(exchange).bid_qtys.tolist() == [100, 100, 100]


def test_a_client_must_log_in_before_anything_else(exchange):
    with SoupClient("127.0.0.1", exchange.ports.order) as client:
        client.send(enter("EARLY", "B", 100, 1_890_000))
        assert "Login Request first" in _debug_text(wait_closed(client))[0]
    assert book_of(exchange).bid_qtys.tolist() == []


def test_a_client_that_vanishes_mid_message_changes_nothing(exchange):
    message = soup.encode_unsequenced_data(enter("HALF", "B", 100, 1_890_000))
    client = order_session(exchange)
    client.send_raw(message[:20])
    time.sleep(0.3)  # the exchange has read the first half when the client vanishes
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()  # a reset, mid-packet
    with order_session(exchange, "alice", "secret1") as alice:
        alice.send(enter("NEXT", "B", 100, 1_880_000))
        ouch_until(alice, ouch.Accepted)
    assert book_of(exchange).bid_prices.tolist() == [1_880_000]
    counts = exchange.call(lambda: dict(exchange.server.counts))
    assert counts.get("order_partial_packets_dropped") == 1


def test_a_client_split_at_every_byte_still_gets_through(exchange):
    with order_session(exchange) as client:
        data = soup.encode_unsequenced_data(enter("SLOW", "B", 100, 1_890_000))
        for i in range(len(data)):
            client.send_raw(data[i : i + 1])
        assert ouch_until(client, ouch.Accepted)[-1].order_token == "SLOW"


def test_a_client_that_sends_faster_than_it_reads_slows_no_one_else(exchange):
    flooder = order_session(exchange)
    # A modest receive buffer (still several loopback segments, so reading stays fast later).
    flooder.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 1024)
    burst = b"".join(
        soup.encode_unsequenced_data(enter(f"F{i}", "B", 100, 1_000_000 + (i % 50) * 100))
        for i in range(100_000)
    )
    flooder.sock.settimeout(30)
    flooder.send_raw(burst)  # never reads a byte of its 100,001 answers (about 7 MB)
    with order_session(exchange, "alice", "secret1") as alice:
        alice.send(enter("FAIR", "S", 100, 1_950_000))
        assert ouch_until(alice, ouch.Accepted)[-1].order_token == "FAIR"
    # Everything the flooder sent was processed; its answers wait in its log, not in memory
    # buffers of the connection.
    deadline = time.monotonic() + 60
    while exchange.call(lambda: exchange.server.venue.counters.orders) < 100_001:
        assert time.monotonic() < deadline
        flooder.heartbeat()  # it writes (so it is alive) but still does not read
        time.sleep(0.05)

    def backlog():
        (connection,) = [c for c in exchange.server.order_server.active if c.username == "demo"]
        return connection.lag, connection.transport.get_write_buffer_size()

    lag, buffered_bytes = exchange.call(backlog)
    assert lag > 10_000
    assert buffered_bytes < 1024 * 1024
    # And once it reads, it gets every answer, in order.
    tokens = []
    while len(tokens) < 100_001:
        message = ouch.decode_outbound(flooder.receive_sequenced(10))
        tokens.append(getattr(message, "order_token", None))
        if len(tokens) % 10_000 == 0:
            flooder.heartbeat()
    assert tokens[1:] == [f"F{i}" for i in range(100_000)]
    flooder.close()


# -- feed and snapshot -----------------------------------------------------------------------


def test_the_feed_carries_every_book_event_in_order(exchange):
    with SoupClient("127.0.0.1", exchange.ports.feed) as feed:
        feed.login("demo", "demo", 1)
        with order_session(exchange) as client:
            client.send(enter("B1", "B", 300, 1_890_000))
            accepted = ouch_until(client, ouch.Accepted)[-1]
            client.send(ouch.CancelOrder("B1", 100).encode())
            ouch_until(client, ouch.Canceled)
        messages = []
        while not messages or not isinstance(messages[-1], itch.OrderCancel):
            messages.append(itch.decode(feed.receive_sequenced()))
    kinds = [type(m).__name__ for m in messages]
    assert kinds[:2] == ["SystemEvent", "SystemEvent"]
    assert kinds.count("StockDirectory") == 6
    add, cancel = messages[-2], messages[-1]
    assert (add.order_reference_number, add.shares, add.price) == (
        accepted.order_reference_number,
        300,
        1_890_000,
    )
    assert (cancel.order_reference_number, cancel.cancelled_shares) == (
        accepted.order_reference_number,
        200,
    )  # cancelled down to 100


def test_the_feed_takes_no_client_messages(exchange):
    with SoupClient("127.0.0.1", exchange.ports.feed) as feed:
        feed.login("demo", "demo", 0)
        feed.send(b"hello")
        assert "takes no client messages" in _debug_text(wait_closed(feed))[0]


def test_a_snapshot_then_the_feed_from_its_sequence_rebuilds_the_live_book(exchange_factory):
    exchange = exchange_factory(flow=True)
    time.sleep(1.0)  # let the agents build books
    with SoupClient("127.0.0.1", exchange.ports.snapshot) as snapshot:
        snapshot.login("demo", "demo", 1)
        adds = []
        while True:
            message = itch.decode(snapshot.receive_sequenced())
            if isinstance(message, itch.EndOfSnapshot):
                resume = message.sequence_number
                break
            if isinstance(message, itch.AddOrder):
                adds.append(message)
    assert adds, "the agents should have built a book"
    builder = BookBuilder()
    for add in adds:
        builder.apply(add)
    time.sleep(0.5)  # the market moves on
    with SoupClient("127.0.0.1", exchange.ports.feed) as feed:
        feed.login("demo", "demo", resume)
        # The feed position and the books it leads to, read at one instant.
        target, live = exchange.call(
            lambda: (
                exchange.server.feed_log.next_sequence,
                {s.locate: s.book.depth(5) for s in exchange.server.venue.symbols.values()},
            )
        )
        for _ in range(target - resume):
            builder.apply(itch.decode(feed.receive_sequenced()))
    for locate, depth in live.items():
        mine = builder.book(locate).depth(5)
        assert mine.bid_prices.tolist() == depth.bid_prices.tolist()
        assert mine.bid_qtys.tolist() == depth.bid_qtys.tolist()
        assert mine.ask_prices.tolist() == depth.ask_prices.tolist()
        assert mine.ask_qtys.tolist() == depth.ask_qtys.tolist()


# -- operator view ---------------------------------------------------------------------------


def test_metrics_and_status_are_served_over_http(exchange):
    with order_session(exchange) as client:
        client.send(enter("M1", "B", 100, 1_890_000))
        ouch_until(client, ouch.Accepted)
        base = f"http://127.0.0.1:{exchange.ports.metrics}"
        text = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
        assert "exchange_orders_total 1" in text
        assert 'exchange_sessions{port="order"} 1' in text
        assert 'exchange_best_bid_dollars{symbol="AAPL"} 189' in text
        status = json.loads(urllib.request.urlopen(f"{base}/status", timeout=5).read())
        assert status["symbols"]["AAPL"]["bid"] == 189.0
        assert status["sessions"]["order"] == [str(s) for s in exchange.server.order_server.active]


def test_an_operator_halts_and_resumes_a_symbol_over_http(exchange):
    base = f"http://127.0.0.1:{exchange.ports.metrics}"
    request = urllib.request.Request(f"{base}/halt/AAPL", method="POST")
    assert json.loads(urllib.request.urlopen(request, timeout=5).read())["symbols"]["AAPL"][
        "halted"
    ]
    with order_session(exchange) as client:
        client.send(enter("H1", "B", 100, 1_890_000))
        assert ouch_until(client, ouch.Rejected)[-1].reason == "H"
        urllib.request.urlopen(urllib.request.Request(f"{base}/resume/AAPL", method="POST"))
        client.send(enter("H2", "B", 100, 1_890_000))
        assert isinstance(ouch_until(client, ouch.Accepted)[-1], ouch.Accepted)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(urllib.request.Request(f"{base}/halt/NOPE", method="POST"))
    assert info.value.code == 404


# -- latency injection -----------------------------------------------------------------------


def test_injected_order_latency_holds_every_answer_back(exchange_factory):
    exchange = exchange_factory(order_latency_us=200_000)
    with order_session(exchange) as client:
        next_ouch(client)
        sent = time.monotonic()
        client.send(enter("SLOW1", "B", 100, 1_890_000))
        client.send(enter("SLOW2", "B", 100, 1_880_000))
        first = ouch_until(client, ouch.Accepted)[-1]
        waited = time.monotonic() - sent
        second = ouch_until(client, ouch.Accepted)[-1]
    assert waited >= 0.2  # never earlier than the injected latency
    assert (first.order_token, second.order_token) == ("SLOW1", "SLOW2")  # and in order


def test_injected_feed_latency_holds_market_data_back(exchange_factory):
    exchange = exchange_factory(feed_latency_us=200_000)
    with SoupClient("127.0.0.1", exchange.ports.feed) as feed:
        feed.login("demo", "demo", 0)
        with order_session(exchange) as client:
            client.send(enter("LAG1", "B", 100, 1_890_000))
            ouch_until(client, ouch.Accepted)
            acked = time.monotonic()
        add = itch.decode(feed.receive_sequenced(5))
        while not isinstance(add, itch.AddOrder):  # the start of day, itself held back
            add = itch.decode(feed.receive_sequenced(5))
        assert time.monotonic() - acked >= 0.15
        assert add.price == 1_890_000


def test_a_restarted_exchange_has_a_new_session_and_refuses_the_old_one(exchange_factory):
    first = exchange_factory()
    with order_session(first) as client:
        old_session = client.session
    time.sleep(1.1)  # session names have a resolution of one second
    second = exchange_factory()
    with SoupClient("127.0.0.1", second.ports.order) as client:
        with pytest.raises(LoginRejected) as info:
            client.login("demo", "demo", 42, session=old_session)
        assert info.value.reason == "S"
    with SoupClient("127.0.0.1", second.ports.order) as client:
        session, sequence = client.login("demo", "demo", 1)
        assert session != old_session and sequence == 1


def test_a_snapshot_resumes_after_what_feed_latency_still_holds_back(exchange_factory):
    exchange = exchange_factory(feed_latency_us=300_000)
    with order_session(exchange) as client:
        client.send(enter("D1", "B", 100, 1_890_000))
        ouch_until(client, ouch.Accepted)
    with SoupClient("127.0.0.1", exchange.ports.snapshot) as snapshot:
        snapshot.login("demo", "demo", 0)  # a snapshot is always served whole
        messages = []
        while not messages or not isinstance(messages[-1], itch.EndOfSnapshot):
            messages.append(itch.decode(snapshot.receive_sequenced()))
    adds = [m for m in messages if isinstance(m, itch.AddOrder)]
    assert [a.price for a in adds] == [1_890_000]
    with SoupClient("127.0.0.1", exchange.ports.feed) as feed:
        feed.login("demo", "demo", messages[-1].sequence_number)
        with order_session(exchange) as client:
            client.send(enter("D2", "B", 100, 1_880_000))
            ouch_until(client, ouch.Accepted)
        later = itch.decode(feed.receive_sequenced(5))
    # The first message after the snapshot is the next order, not D1's Add a second time.
    assert isinstance(later, itch.AddOrder) and later.price == 1_880_000
