"""Bad requests get Alpaca's error objects and statuses, and change nothing."""

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

pytestmark = [pytest.mark.tcp]

HEADERS = {"APCA-API-KEY-ID": "demo", "APCA-API-SECRET-KEY": "demo"}


def rejected(client, request) -> APIError:
    with pytest.raises(APIError) as info:
        client.submit_order(request)
    return info.value


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"limit_price": 190.00005}, "limit_price 190.00005 has more than 4 decimal places"),
        ({"limit_price": 190.005}, "limit_price 190.005 is not a multiple of the tick size 0.01"),
        ({"qty": 1.5}, "fractional qty 1.5 is not supported"),
        ({"symbol": "ZZZZ"}, "asset ZZZZ not found"),
        ({"time_in_force": TimeInForce.OPG}, "time_in_force opg is not supported"),
        ({"qty": 2_000_000}, "qty must be at most 1000000"),
    ],
)
def test_an_invalid_order_is_refused_with_422_and_the_reason(client, fields, message):
    request = {"symbol": "AAPL", "qty": 10, "side": OrderSide.BUY,
               "time_in_force": TimeInForce.DAY, "limit_price": 180, **fields}  # fmt: skip
    error = rejected(client, LimitOrderRequest(**request))
    assert (error.status_code, error.code) == (422, 40010001)
    assert message in error.message
    assert client.get_orders() == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"symbol": "AAPL", "qty": "10", "side": "buy", "type": "limit", "time_in_force": "day"},
         "limit_price is required"),
        ({"symbol": "AAPL", "qty": "10", "side": "buy", "type": "stop", "time_in_force": "day"},
         "stop_price is required"),
        ({"symbol": "AAPL", "qty": "-3", "side": "buy", "type": "market", "time_in_force": "day"},
         "qty must be > 0"),
        ({"symbol": "AAPL", "qty": "1", "side": "hold", "type": "market", "time_in_force": "day"},
         "invalid side 'hold'"),
        ({"symbol": "AAPL", "notional": "100", "side": "buy", "type": "market",
          "time_in_force": "day"}, "notional orders are not supported"),
        ({"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "gtc"},
         "gtc is not supported for market orders"),
    ],
)  # fmt: skip
def test_requests_alpacas_client_would_not_build_are_refused_too(base_url, body, message):
    answer = requests.post(f"{base_url}/v2/orders", json=body, headers=HEADERS, timeout=10)
    assert answer.status_code == 422
    assert answer.json()["code"] == 40010001 and message in answer.json()["message"]


def test_a_body_that_is_not_json_is_refused(base_url):
    answer = requests.post(f"{base_url}/v2/orders", data=b"{nope", headers=HEADERS, timeout=10)
    assert answer.status_code == 422
    assert answer.json() == {"code": 40010001, "message": "request body is not valid JSON"}


def test_an_order_beyond_the_buying_power_is_refused_with_403(client):
    error = rejected(client, LimitOrderRequest(
        symbol="AAPL", qty=2000, side=OrderSide.BUY, time_in_force="day", limit_price=180,
    ))  # fmt: skip
    assert (error.status_code, error.code, error.message) == (
        403, 40310000, "insufficient buying power",
    )  # fmt: skip
    assert client.get_account().buying_power == "200000"  # $100,000 at 2x margin


def test_an_order_for_a_halted_symbol_is_refused_with_403(client, alpaca_exchange):
    server = alpaca_exchange.server
    alpaca_exchange.call(lambda: server.venue.halt("AAPL", server.clock()))
    error = rejected(client, MarketOrderRequest(
        symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force="day",
    ))  # fmt: skip
    assert (error.status_code, error.message) == (403, "asset AAPL is halted")


@pytest.mark.parametrize(
    ("key", "secret"), [("demo", "wrong"), ("nobody", "demo"), ("", ""), ("demo", "")]
)
def test_wrong_keys_get_401_in_alpacas_shape(base_url, key, secret):
    client = TradingClient(key or "x", secret or "x", url_override=base_url)
    with pytest.raises(APIError) as info:
        client.get_account()
    assert (info.value.status_code, info.value.code, info.value.message) == (
        401, 40110000, "request is not authorized",
    )  # fmt: skip


def test_a_request_without_keys_gets_401(base_url):
    answer = requests.get(f"{base_url}/v2/account", timeout=10)
    assert answer.status_code == 401
    assert answer.json() == {"code": 40110000, "message": "request is not authorized"}


def test_each_account_sees_only_its_own_orders(base_url, client):
    order = client.submit_order(LimitOrderRequest(
        symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force="gtc", limit_price=180,
    ))  # fmt: skip
    alice = TradingClient("alice", "secret1", url_override=base_url)
    assert alice.get_orders() == []
    with pytest.raises(APIError) as info:
        alice.cancel_order_by_id(order.id)
    assert info.value.status_code == 404
    assert client.get_order_by_id(order.id).status == "new"


def test_every_answer_carries_alpacas_rate_limit_headers(base_url):
    answer = requests.get(f"{base_url}/v2/clock", headers=HEADERS, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["X-Ratelimit-Limit"] == "200"
    assert int(answer.headers["X-Ratelimit-Remaining"]) == 199
    assert int(answer.headers["X-Ratelimit-Reset"]) > 0


@pytest.mark.slow
def test_past_the_rate_limit_a_key_gets_429_with_retry_after(base_url):
    with requests.Session() as session:
        session.headers.update(HEADERS)
        statuses = [session.get(f"{base_url}/v2/clock", timeout=10).status_code
                    for _ in range(200)]  # fmt: skip
        assert set(statuses) == {200}
        answer = session.get(f"{base_url}/v2/clock", timeout=10)
    assert answer.status_code == 429
    assert answer.json() == {"code": 42910000, "message": "rate limit exceeded"}
    assert 1 <= int(answer.headers["Retry-After"]) <= 60
    assert answer.headers["X-Ratelimit-Remaining"] == "0"
    other = requests.get(
        f"{base_url}/v2/clock",
        headers={"APCA-API-KEY-ID": "alice", "APCA-API-SECRET-KEY": "secret1"}, timeout=10,
    )  # fmt: skip
    assert other.status_code == 200  # the limit is per key
