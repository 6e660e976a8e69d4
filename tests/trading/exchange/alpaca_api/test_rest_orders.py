"""Alpaca's trading REST API on the simulator, driven by alpaca-py's own client and requests:
orders of every supported type meet OUCH clients' orders in the same books."""

import uuid

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import (
    ClosePositionRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopLimitOrderRequest,
    StopOrderRequest,
)

from tests.trading.exchange.alpaca_api.conftest import eventually, ouch_until, rest
from trading.protocols import ouch

pytestmark = [pytest.mark.tcp]


def limit(qty, side, price, tif=TimeInForce.DAY, **extra):
    return LimitOrderRequest(
        symbol="AAPL", qty=qty, side=side, time_in_force=tif, limit_price=price, **extra
    )


def book(exchange, symbol="AAPL"):
    depth = exchange.call(lambda: exchange.server.venue.symbols[symbol].book.depth(5))
    return (
        list(zip(depth.bid_prices.tolist(), depth.bid_qtys.tolist(), strict=True)),
        list(zip(depth.ask_prices.tolist(), depth.ask_qtys.tolist(), strict=True)),
    )


def test_a_limit_buy_fills_against_an_ouch_clients_resting_sell(client, ouch_session):
    alice = ouch_session("alice")
    rest(alice, "S1", ouch.SELL, 100, 1_900_000)
    order = client.submit_order(limit(30, OrderSide.BUY, 190.50))
    assert order.status == OrderStatus.FILLED
    assert (order.qty, order.filled_qty, order.filled_avg_price) == ("30", "30", "190")
    assert order.filled_at is not None and order.symbol == "AAPL"
    # The OUCH client sees its half of the same trade.
    executed = ouch_until(alice, ouch.Executed)[-1]
    assert (executed.order_token, executed.executed_shares, executed.execution_price) == (
        "S1", 30, 1_900_000,
    )  # fmt: skip
    [position] = client.get_all_positions()
    assert (position.symbol, position.qty, position.side, position.avg_entry_price) == (
        "AAPL", "30", "long", "190",
    )  # fmt: skip
    assert client.get_account().cash == "94300"  # 100,000 - 30 * 190


def test_an_ouch_accounts_fills_show_in_its_alpaca_positions(base_url, client, ouch_session):
    from alpaca.trading.client import TradingClient

    rest(ouch_session("alice"), "S1", ouch.SELL, 100, 1_900_000)
    client.submit_order(limit(40, OrderSide.BUY, 190))
    alice = TradingClient("alice", "secret1", paper=True, url_override=base_url)
    position = eventually(lambda: alice.get_all_positions(), what="alice's position")[0]
    assert (position.qty, position.side, position.cost_basis) == ("-40", "short", "-7600")
    assert alice.get_account().cash == "107600"


def test_a_resting_order_is_open_until_cancelled_then_closed(client, alpaca_exchange):
    order = client.submit_order(limit(10, OrderSide.BUY, 180, TimeInForce.GTC))
    assert order.status == OrderStatus.NEW
    assert book(alpaca_exchange)[0] == [(1_800_000, 10)]
    assert [o.id for o in client.get_orders()] == [order.id]
    client.cancel_order_by_id(order.id)
    assert client.get_order_by_id(order.id).status == OrderStatus.CANCELED
    assert client.get_order_by_id(order.id).canceled_at is not None
    assert book(alpaca_exchange)[0] == []
    assert client.get_orders() == []
    closed = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED))
    assert [o.id for o in closed] == [order.id]
    with pytest.raises(APIError) as info:
        client.cancel_order_by_id(order.id)
    assert info.value.status_code == 422
    assert info.value.message == 'order is already in "canceled" state'


def test_orders_are_listed_by_status_symbol_side_limit_and_direction(client):
    first = client.submit_order(limit(1, OrderSide.BUY, 180, TimeInForce.GTC))
    second = client.submit_order(limit(2, OrderSide.SELL, 200, TimeInForce.GTC))
    third = client.submit_order(
        LimitOrderRequest(
            symbol="MSFT", qty=3, side=OrderSide.BUY, time_in_force="gtc", limit_price=300
        )  # fmt: skip
    )
    ids = lambda orders: [o.id for o in orders]  # noqa: E731
    assert ids(client.get_orders()) == [third.id, second.id, first.id]  # newest first
    everything = GetOrdersRequest(status=QueryOrderStatus.ALL, direction="asc")
    assert ids(client.get_orders(everything)) == [first.id, second.id, third.id]
    assert ids(client.get_orders(GetOrdersRequest(symbols=["MSFT"]))) == [third.id]
    assert ids(client.get_orders(GetOrdersRequest(side=OrderSide.SELL))) == [second.id]
    assert ids(client.get_orders(GetOrdersRequest(limit=1))) == [third.id]
    after = GetOrdersRequest(status=QueryOrderStatus.ALL, after=second.submitted_at)
    assert ids(client.get_orders(after)) == [third.id]


def test_an_order_is_found_by_its_client_order_id_which_must_be_unique(client):
    order = client.submit_order(limit(5, OrderSide.BUY, 180, client_order_id="strategy-7-1"))
    assert order.client_order_id == "strategy-7-1"
    assert client.get_order_by_client_id("strategy-7-1").id == order.id
    with pytest.raises(APIError) as info:
        client.submit_order(limit(5, OrderSide.BUY, 181, client_order_id="strategy-7-1"))
    assert (info.value.status_code, info.value.code) == (422, 40010001)
    assert "client_order_id must be unique" in info.value.message
    with pytest.raises(APIError) as info:
        client.get_order_by_client_id("no-such-id")
    assert (info.value.status_code, info.value.code) == (404, 40410000)


def test_a_replace_makes_a_new_order_that_replaces_the_old_one_at_the_venue(
    client, alpaca_exchange
):
    old = client.submit_order(limit(10, OrderSide.BUY, 180, TimeInForce.GTC))
    new = client.replace_order_by_id(old.id, ReplaceOrderRequest(qty=15, limit_price=181.5))
    assert new.id != old.id and new.replaces == old.id
    assert (new.status, new.qty, new.limit_price) == (OrderStatus.NEW, "15", "181.5")
    replaced = client.get_order_by_id(old.id)
    assert (replaced.status, replaced.replaced_by) == (OrderStatus.REPLACED, new.id)
    assert replaced.replaced_at is not None
    assert book(alpaca_exchange)[0] == [(1_815_000, 15)]
    assert [o.id for o in client.get_orders()] == [new.id]
    with pytest.raises(APIError) as info:
        client.replace_order_by_id(old.id, ReplaceOrderRequest(qty=20))
    assert info.value.status_code == 422


def test_a_market_order_takes_the_book_and_an_empty_side_cancels_it(client, ouch_session):
    rest(ouch_session("alice"), "S1", ouch.SELL, 50, 1_900_000)
    rest(ouch_session("alice"), "S2", ouch.SELL, 50, 1_901_000)
    order = client.submit_order(
        MarketOrderRequest(symbol="AAPL", qty=70, side=OrderSide.BUY, time_in_force="day")
    )
    assert (order.status, order.filled_qty) == (OrderStatus.FILLED, "70")
    assert order.filled_avg_price == "190.02857143"  # (50 * 190 + 20 * 190.10) / 70
    nothing = client.submit_order(
        MarketOrderRequest(symbol="MSFT", qty=10, side=OrderSide.SELL, time_in_force="day")
    )
    assert (nothing.status, nothing.filled_qty) == (OrderStatus.CANCELED, "0")


def test_ioc_fills_what_it_can_and_fok_all_or_nothing(client, ouch_session, alpaca_exchange):
    rest(ouch_session("alice"), "S1", ouch.SELL, 10, 1_900_000)
    fok = client.submit_order(limit(25, OrderSide.BUY, 190, TimeInForce.FOK))
    assert (fok.status, fok.filled_qty) == (OrderStatus.CANCELED, "0")
    assert book(alpaca_exchange)[1] == [(1_900_000, 10)]  # untouched
    ioc = client.submit_order(limit(25, OrderSide.BUY, 190, TimeInForce.IOC))
    assert (ioc.status, ioc.filled_qty) == (OrderStatus.CANCELED, "10")
    assert book(alpaca_exchange)[1] == []


def test_a_stop_order_waits_for_a_trade_at_its_stop_then_trades(client, ouch_session):
    alice, bob = ouch_session("alice"), ouch_session("bob")
    rest(alice, "S1", ouch.SELL, 200, 1_910_000)
    stop = client.submit_order(
        StopOrderRequest(
            symbol="AAPL", qty=10, side=OrderSide.BUY, time_in_force="day", stop_price=191
        )  # fmt: skip
    )
    stop_limit = client.submit_order(
        StopLimitOrderRequest(
            symbol="AAPL",
            qty=5,
            side=OrderSide.BUY,
            time_in_force="day",
            stop_price=191,
            limit_price=191.5,
        )  # fmt: skip
    )
    assert stop.status == stop_limit.status == OrderStatus.NEW
    assert client.get_order_by_id(stop.id).filled_qty == "0"
    bob.send(ouch.EnterOrder("B1", "B", 100, "AAPL", 1_910_000, 0, "", "Y", "P", "N", 0, "N",
                             " ").encode())  # fmt: skip
    filled = eventually(
        lambda: (
            client.get_order_by_id(stop.id).status == OrderStatus.FILLED
            and client.get_order_by_id(stop_limit.id).status == OrderStatus.FILLED
        ),
        what="the stops to trigger and fill",
    )
    assert filled
    assert client.get_order_by_id(stop.id).filled_avg_price == "191"
    assert client.get_open_position("AAPL").qty == "15"


def test_closing_a_position_sells_it_at_market(client, ouch_session):
    rest(ouch_session("alice"), "S1", ouch.SELL, 100, 1_900_000)
    client.submit_order(limit(20, OrderSide.BUY, 190))
    rest(ouch_session("alice"), "B1", ouch.BUY, 100, 1_895_000)
    half = client.close_position("AAPL", ClosePositionRequest(percentage="50"))
    assert (half.side, half.qty, half.status) == (OrderSide.SELL, "10", OrderStatus.FILLED)
    assert client.get_open_position("AAPL").qty == "10"
    [closed] = client.close_all_positions()
    assert closed.symbol == "AAPL" and closed.status == 200
    assert client.get_all_positions() == []
    with pytest.raises(APIError) as info:
        client.get_open_position("AAPL")
    assert (info.value.status_code, info.value.code) == (404, 40410000)


def test_cancel_all_answers_each_order_with_its_status(client):
    orders = [client.submit_order(limit(1, OrderSide.BUY, 180 + i, TimeInForce.GTC))
              for i in range(3)]  # fmt: skip
    answers = client.cancel_orders()
    assert sorted(a.id for a in answers) == sorted(o.id for o in orders)
    assert {a.status for a in answers} == {200}
    assert client.get_orders() == []


def test_not_found_answers(client):
    with pytest.raises(APIError) as info:
        client.get_order_by_id(uuid.uuid4())
    assert (info.value.status_code, info.value.code, info.value.message) == (
        404, 40410000, "order not found",
    )  # fmt: skip
    with pytest.raises(APIError) as info:
        client.get_asset("ZZZZ")
    assert info.value.status_code == 404
    asset = client.get_asset("MSFT")
    assert (asset.symbol, asset.tradable, asset.fractionable) == ("MSFT", True, False)


def test_an_ouch_order_replaced_and_cut_still_books_its_fills_to_the_account(
    base_url, client, ouch_session, alpaca_exchange
):
    from alpaca.trading.client import TradingClient

    alice = ouch_session("alice")
    rest(alice, "S1", ouch.SELL, 100, 1_900_000)
    alice.send(ouch.ReplaceOrder("S1", "S2", 80, 1_901_000, 99999, "Y", "N", 0).encode())
    ouch_until(alice, ouch.Replaced)
    alice.send(ouch.CancelOrder("S2", 50).encode())  # 80 -> 50 open
    ouch_until(alice, ouch.Canceled)
    order = client.submit_order(limit(70, OrderSide.BUY, 190.10, TimeInForce.IOC))
    assert (order.filled_qty, order.filled_avg_price) == ("50", "190.1")
    alice_api = TradingClient("alice", "secret1", paper=True, url_override=base_url)
    assert alice_api.get_open_position("AAPL").qty == "-50"
    tracked = alpaca_exchange.call(lambda: dict(alpaca_exchange.server.alpaca.broker.ouch_orders))
    assert tracked == {}  # the OUCH order is done: nothing left to follow
