"""What the endpoint sends has exactly the fields of Alpaca's published objects, as alpaca-py
models them, and parses with those models (strictly where the model allows it)."""

import json

import pytest
from alpaca.trading.enums import OrderSide
from alpaca.trading.models import Asset, Clock, Order, Position, TradeAccount
from alpaca.trading.requests import LimitOrderRequest

from tests.trading.exchange.alpaca_api.conftest import rest
from trading.protocols import ouch

pytestmark = [pytest.mark.tcp]


def fields(model) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def strict(model, raw):
    return model.model_validate_json(json.dumps(raw), strict=True)


def test_account_has_alpacas_fields_and_parses_strictly(raw_client):
    raw = raw_client.get_account()
    assert set(raw) == fields(TradeAccount)
    account = strict(TradeAccount, raw)
    assert (account.status, account.currency, account.cash) == ("ACTIVE", "USD", "100000")


def test_clock_has_alpacas_fields_and_parses_strictly(raw_client):
    raw = raw_client.get_clock()
    assert set(raw) == fields(Clock)
    clock = strict(Clock, raw)
    assert clock.is_open and clock.next_close > clock.timestamp


def test_order_has_alpacas_fields_and_parses(raw_client):
    raw = raw_client.submit_order(LimitOrderRequest(
        symbol="AAPL", qty=3, side=OrderSide.BUY, time_in_force="gtc", limit_price=180.25,
    ))  # fmt: skip
    assert set(raw) == fields(Order)
    # As Alpaca sends it: a simple order's class is "", quantities and prices are strings.
    assert (raw["order_class"], raw["qty"], raw["limit_price"], raw["filled_avg_price"]) == (
        "", "3", "180.25", None,
    )  # fmt: skip
    order = Order(**raw)
    assert order.status == "new" and str(order.id) == raw["id"]


def test_position_has_alpacas_fields_and_parses_strictly(raw_client, ouch_session):
    rest(ouch_session("alice"), "S1", ouch.SELL, 10, 1_900_000)
    raw_client.submit_order(LimitOrderRequest(
        symbol="AAPL", qty=10, side=OrderSide.BUY, time_in_force="day", limit_price=190,
    ))  # fmt: skip
    [raw] = raw_client.get_all_positions()
    assert set(raw) == fields(Position)
    position = strict(Position, raw)
    assert (position.qty, position.current_price, position.market_value) == ("10", "190", "1900")


def test_asset_has_alpacas_fields_and_parses_strictly(raw_client):
    raw = raw_client.get_asset("AAPL")
    assert set(raw) - {"min_order_size", "min_trade_increment", "price_increment"} == (
        fields(Asset) - {"min_order_size", "min_trade_increment", "price_increment"}
    )
    assert strict(Asset, raw).symbol == "AAPL"
