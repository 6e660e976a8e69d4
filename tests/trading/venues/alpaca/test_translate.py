"""Engine orders to alpaca-py requests and broker numbers to the engine's integers."""

import uuid

import pytest
from alpaca.trading.enums import OrderSide, OrderType
from alpaca.trading.enums import TimeInForce as AlpacaTif

from trading.model.orders import BUY, SELL, OrderIntent, TimeInForce
from trading.protocols import ouch
from trading.venues.alpaca import translate as tr


def intent(price=1_905_000, side=BUY, tif=TimeInForce.DAY, qty=100):
    return OrderIntent("AAPL", side, qty, price, tif, "mean_reversion")


def test_client_order_ids_map_back_to_engine_order_ids():
    assert tr.client_order_id(42) == "desk-42"
    assert tr.order_id_from_client("desk-42") == 42
    assert tr.order_id_from_client("acct7-42", prefix="acct7-") == 42


@pytest.mark.parametrize("foreign", ["", None, "desk-", "desk-4x", "manual-42", "42"])
def test_client_order_ids_the_engine_did_not_issue_map_to_zero(foreign):
    assert tr.order_id_from_client(foreign) == 0


def test_a_limit_intent_becomes_a_limit_order_request_in_dollars():
    request = tr.order_request(intent(), "desk-7")
    fields = request.to_request_fields()
    assert request.type == OrderType.LIMIT
    assert fields["limit_price"] == 190.5
    assert fields["qty"] == 100
    assert request.side == OrderSide.BUY
    assert request.time_in_force == AlpacaTif.DAY
    assert fields["client_order_id"] == "desk-7"
    assert fields["symbol"] == "AAPL"


def test_a_zero_price_intent_is_a_market_order():
    request = tr.order_request(intent(price=0, side=SELL, tif=TimeInForce.IOC), "desk-8")
    assert request.type == OrderType.MARKET
    assert request.side == OrderSide.SELL
    assert request.time_in_force == AlpacaTif.IOC
    assert "limit_price" not in request.to_request_fields()


def test_stop_and_stop_limit_orders_carry_their_stop_price():
    stop = tr.order_request(intent(price=0, tif=TimeInForce.GTC), "desk-9", stop_price=1_850_000)
    assert stop.type == OrderType.STOP
    assert stop.to_request_fields()["stop_price"] == 185.0
    assert stop.time_in_force == AlpacaTif.GTC
    stop_limit = tr.order_request(intent(price=1_851_000), "desk-10", stop_price=1_850_000)
    assert stop_limit.type == OrderType.STOP_LIMIT
    fields = stop_limit.to_request_fields()
    assert (fields["stop_price"], fields["limit_price"]) == (185.0, 185.1)


def test_an_order_the_broker_cannot_take_is_refused_before_sending():
    with pytest.raises(tr.TranslationError, match="qty"):
        tr.order_request(intent(qty=0), "desk-1")


def test_a_replace_keeps_the_client_id_scheme():
    request = tr.replace_request(50, 1_904_900, TimeInForce.DAY, "desk-12")
    fields = request.to_request_fields()
    assert fields == {
        "qty": 50, "time_in_force": "day", "limit_price": 190.49, "client_order_id": "desk-12"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "units"),
    [("190.5", 1_905_000), ("0.0001", 1), (190.12345, 1_901_234), (12, 120_000), (None, 0)],
)
def test_broker_prices_become_integer_ten_thousandths(text, units):
    assert tr.to_price(text) == units


def test_unreadable_or_fractional_numbers_are_errors_naming_the_field():
    with pytest.raises(tr.TranslationError, match="filled_avg_price"):
        tr.to_price("abc", "filled_avg_price")
    with pytest.raises(tr.TranslationError, match="fractional"):
        tr.to_shares("1.5")
    assert tr.to_shares("100") == 100
    assert tr.to_shares(3.0) == 3


def test_match_numbers_are_stable_positive_int64s_per_execution():
    execution = uuid.uuid4()
    assert tr.match_number(execution) == tr.match_number(str(execution))
    assert 0 < tr.match_number(execution) < 2**63
    assert tr.match_number(uuid.uuid4()) != tr.match_number(execution)
    assert tr.synthetic_match_number("desk-1", 100) == tr.synthetic_match_number("desk-1", 100)
    assert tr.synthetic_match_number("desk-1", 100) != tr.synthetic_match_number("desk-1", 200)


def test_answers_are_real_ouch_messages_that_encode():
    message = tr.accepted(
        3, "desk-3", side=BUY, shares=100, symbol="AAPL", price=1_905_000,
        tif=TimeInForce.DAY, reference=77,
    )  # fmt: skip
    assert ouch.decode_outbound(message.encode()) == message
    executed = tr.executed("desk-3", 40, 1_905_000, 123)
    assert ouch.decode_outbound(executed.encode()).executed_shares == 40
    assert ouch.decode_outbound(tr.canceled("desk-3", 60, "U").encode()).decrement_shares == 60
    assert ouch.decode_outbound(tr.rejected("desk-3", "O").encode()).reason == "O"


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("insufficient buying power", "n"),
        ("asset XYZ not found", "S"),
        ("limit price must be positive", "X"),
        ("qty must be > 0", "Z"),
        ("something else", "O"),
    ],
)
def test_broker_refusals_map_to_ouch_reject_reasons(message, code):
    assert tr.reject_reason(message) == code


def test_cancel_reasons_follow_the_event_and_time_in_force():
    assert tr.cancel_reason("canceled", TimeInForce.DAY) == "U"
    assert tr.cancel_reason("canceled", TimeInForce.IOC) == "I"
    assert tr.cancel_reason("expired", TimeInForce.DAY) == "T"
