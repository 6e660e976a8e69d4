"""The trade_updates and stock data WebSockets, received by alpaca-py's own stream clients."""

import json
import queue
import threading

import msgpack
import pytest
import requests
from alpaca.data.enums import DataFeed
from alpaca.data.live.stock import StockDataStream
from alpaca.data.models import Quote, Trade
from alpaca.trading.enums import OrderSide
from alpaca.trading.models import Order, TradeUpdate
from alpaca.trading.requests import LimitOrderRequest
from alpaca.trading.stream import TradingStream
from websockets.sync.client import connect

from tests.trading.exchange.alpaca_api.conftest import eventually, ouch_until, rest
from trading.protocols import ouch

pytestmark = [pytest.mark.tcp]


class Running:
    """An alpaca-py stream client running in its own thread, its messages in a queue."""

    def __init__(self, stream, exchange) -> None:
        self.stream = stream
        self.exchange = exchange
        self.received: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=stream.run, daemon=True)

    async def handler(self, message) -> None:
        self.received.put(message)

    def start(self) -> "Running":
        self.thread.start()
        return self

    def next(self, timeout_s: float = 10.0):
        return self.received.get(timeout=timeout_s)

    def stop(self) -> None:
        eventually(lambda: self.stream._loop is not None, what="the stream's loop")
        self.stream.stop()
        # Cut the socket so the client need not wait out its receive timeout to notice.
        endpoint = self.exchange.server.alpaca
        self.exchange.call(endpoint.drop_streams)
        self.thread.join(15)
        assert not self.thread.is_alive()


def endpoint_state(exchange, read):
    return exchange.call(lambda: read(exchange.server.alpaca))


@pytest.fixture
def trade_stream(alpaca_exchange):
    url = f"ws://127.0.0.1:{alpaca_exchange.ports.alpaca}/stream"
    running = Running(TradingStream("demo", "demo", url_override=url), alpaca_exchange)
    running.stream.subscribe_trade_updates(running.handler)
    running.start()
    eventually(lambda: endpoint_state(alpaca_exchange, lambda e: e.broker.listeners.get("demo")),
               what="the trade stream to listen")  # fmt: skip
    yield running
    running.stop()


def buy(client, qty, price, tif="day"):
    return client.submit_order(LimitOrderRequest(
        symbol="AAPL", qty=qty, side=OrderSide.BUY, time_in_force=tif, limit_price=price,
    ))  # fmt: skip


def test_new_and_fill_events_for_an_order_that_meets_an_ouch_order(
    client, ouch_session, trade_stream
):
    alice = ouch_session("alice")
    rest(alice, "S1", ouch.SELL, 25, 1_900_000)
    order = buy(client, 40, 190)
    new = trade_stream.next()
    assert isinstance(new, TradeUpdate) and new.event == "new"
    assert new.order.id == order.id and new.order.status == "new"
    partial = trade_stream.next()
    assert (partial.event, partial.price, partial.qty, partial.position_qty) == (
        "partial_fill", 190.0, 25.0, 25.0,
    )  # fmt: skip
    assert (partial.order.filled_qty, partial.order.status) == ("25", "partially_filled")
    assert partial.execution_id is not None
    ouch_until(alice, ouch.Executed)
    alice.send(ouch.EnterOrder("S2", "S", 15, "AAPL", 1_900_000, 99999, "", "Y", "P", "N", 0,
                               "N", " ").encode())  # fmt: skip
    fill = trade_stream.next()
    assert (fill.event, fill.qty, fill.position_qty, fill.order.status) == (
        "fill", 15.0, 40.0, "filled",
    )  # fmt: skip


def test_cancel_replace_and_reject_events(client, trade_stream, alpaca_exchange, base_url):
    order = buy(client, 10, 180, "gtc")
    assert trade_stream.next().event == "new"
    from alpaca.trading.requests import ReplaceOrderRequest

    new = client.replace_order_by_id(order.id, ReplaceOrderRequest(limit_price=181))
    replaced = trade_stream.next()
    assert (replaced.event, replaced.order.id, replaced.order.replaced_by) == (
        "replaced", order.id, new.id,
    )  # fmt: skip
    renewed = trade_stream.next()
    assert (renewed.event, renewed.order.id, renewed.order.replaces) == ("new", new.id, order.id)
    client.cancel_order_by_id(new.id)
    canceled = trade_stream.next()
    assert (canceled.event, canceled.order.status) == ("canceled", "canceled")
    requests.post(f"{base_url}/_sim/faults", json={"reject_next_orders": 1}, timeout=10)
    refused = buy(client, 1, 180)
    assert refused.status == "rejected" and refused.failed_at is not None
    rejected = trade_stream.next()
    assert (rejected.event, rejected.order.id) == ("rejected", refused.id)
    assert buy(client, 1, 180).status == "new"  # only the next order was rejected


def test_a_dropped_trade_stream_reconnects_and_gets_later_events(
    client, trade_stream, alpaca_exchange, base_url
):
    answer = requests.post(f"{base_url}/_sim/faults", json={"drop_streams": True}, timeout=10)
    assert answer.json()["dropped_streams"] == 1
    # alpaca-py notices, waits its back-off and logs in again.
    eventually(
        lambda: endpoint_state(alpaca_exchange, lambda e: len(e.connections)) == 1
        and endpoint_state(alpaca_exchange, lambda e: e.broker.listeners.get("demo")),
        timeout_s=20, what="the trade stream to come back",
    )  # fmt: skip
    order = buy(client, 5, 180, "gtc")
    update = trade_stream.next()
    assert (update.event, update.order.id) == ("new", order.id)


def test_the_trade_stream_handshake_and_frames_follow_alpacas(alpaca_exchange):
    url = f"ws://127.0.0.1:{alpaca_exchange.ports.alpaca}/stream"
    with connect(url) as ws:
        ws.send(json.dumps({"action": "authenticate",
                            "data": {"key_id": "demo", "secret_key": "demo"}}))  # fmt: skip
        frame = ws.recv()
        assert isinstance(frame, bytes)  # JSON in binary frames, as Alpaca sends them
        assert json.loads(frame) == {
            "stream": "authorization",
            "data": {"action": "authenticate", "status": "authorized"},
        }
        ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        assert json.loads(ws.recv()) == {
            "stream": "listening", "data": {"streams": ["trade_updates"]},
        }  # fmt: skip
    with connect(url) as ws:
        ws.send(json.dumps({"action": "authenticate",
                            "data": {"key_id": "demo", "secret_key": "nope"}}))  # fmt: skip
        assert json.loads(ws.recv())["data"]["status"] == "unauthorized"
        with pytest.raises(Exception):  # noqa: B017 - closed by the server
            ws.recv(timeout=5)


def test_trade_update_payloads_have_alpacas_fields(client, ouch_session, alpaca_exchange):
    url = f"ws://127.0.0.1:{alpaca_exchange.ports.alpaca}/stream"
    rest(ouch_session("alice"), "S1", ouch.SELL, 10, 1_900_000)
    with connect(url) as ws:
        ws.send(json.dumps({"action": "authenticate",
                            "data": {"key_id": "demo", "secret_key": "demo"}}))  # fmt: skip
        ws.recv()
        ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        ws.recv()
        buy(client, 10, 190)
        new, fill = json.loads(ws.recv(timeout=5)), json.loads(ws.recv(timeout=5))
    assert new["stream"] == fill["stream"] == "trade_updates"
    model_fields = set(TradeUpdate.model_fields)
    assert set(new["data"]) == {"event", "execution_id", "order", "timestamp"}
    assert set(fill["data"]) == model_fields
    assert set(fill["data"]["order"]) == set(Order.model_fields)
    # Alpaca publishes the fill's numbers as strings.
    assert (fill["data"]["price"], fill["data"]["qty"], fill["data"]["position_qty"]) == (
        "190", "10", "10",
    )  # fmt: skip
    TradeUpdate(**fill["data"])


@pytest.fixture
def data_stream(alpaca_exchange):
    url = f"ws://127.0.0.1:{alpaca_exchange.ports.alpaca}/v2/iex"
    stream = StockDataStream("demo", "demo", feed=DataFeed.IEX, url_override=url)
    running = Running(stream, alpaca_exchange)
    stream.subscribe_quotes(running.handler, "AAPL")
    stream.subscribe_trades(running.handler, "AAPL")
    running.start()
    eventually(
        lambda: endpoint_state(
            alpaca_exchange,
            lambda e: any(s.channels["quotes"] and s.channels["trades"]
                          for s in e.market.subscribers),
        ),
        what="the data stream to subscribe",
    )  # fmt: skip
    yield running
    running.stop()


def test_quotes_and_trades_from_the_book_reach_alpacas_data_stream(ouch_session, data_stream):
    rest(ouch_session("alice"), "S1", ouch.SELL, 100, 1_900_000)
    quote = data_stream.next()
    assert isinstance(quote, Quote) and quote.symbol == "AAPL"
    assert (quote.ask_price, quote.ask_size, quote.bid_price, quote.bid_size) == (190.0, 100, 0, 0)
    rest(ouch_session("alice"), "MSFT1", ouch.SELL, 100, 4_200_000, stock="MSFT")  # unsubscribed
    bob = ouch_session("bob")
    bob.send(ouch.EnterOrder("B1", "B", 30, "AAPL", 1_900_000, 0, "", "Y", "P", "N", 0, "N",
                             " ").encode())  # fmt: skip
    trade = data_stream.next()
    assert isinstance(trade, Trade)
    assert (trade.symbol, trade.price, trade.size, trade.exchange) == ("AAPL", 190.0, 30, "V")
    after = data_stream.next()
    assert isinstance(after, Quote) and (after.ask_price, after.ask_size) == (190.0, 70)
    assert data_stream.received.empty()


def test_the_data_stream_protocol_errors_follow_alpacas(alpaca_exchange):
    url = f"ws://127.0.0.1:{alpaca_exchange.ports.alpaca}/v2/sip"
    headers = {"Content-Type": "application/msgpack"}
    with connect(url, additional_headers=headers) as ws:
        assert msgpack.unpackb(ws.recv()) == [{"T": "success", "msg": "connected"}]
        ws.send(msgpack.packb({"action": "subscribe", "trades": ["AAPL"]}))
        assert msgpack.unpackb(ws.recv()) == [{"T": "error", "code": 401,
                                               "msg": "not authenticated"}]  # fmt: skip
        ws.send(msgpack.packb({"action": "auth", "key": "demo", "secret": "demo"}))
        assert msgpack.unpackb(ws.recv()) == [{"T": "success", "msg": "authenticated"}]
        ws.send(msgpack.packb({"action": "subscribe", "trades": ["AAPL"], "bars": ["*"]}))
        [subscription] = msgpack.unpackb(ws.recv())
        assert subscription["T"] == "subscription"
        assert (subscription["trades"], subscription["bars"], subscription["quotes"]) == (
            ["AAPL"], ["*"], [],
        )  # fmt: skip
    with connect(url) as ws:  # no msgpack asked for: JSON text, as Alpaca does
        assert json.loads(ws.recv()) == [{"T": "success", "msg": "connected"}]
        ws.send(json.dumps({"action": "auth", "key": "demo", "secret": "wrong"}))
        assert json.loads(ws.recv()) == [{"T": "error", "code": 402, "msg": "auth failed"}]
        with pytest.raises(Exception):  # noqa: B017 - closed by the server
            ws.recv(timeout=5)
