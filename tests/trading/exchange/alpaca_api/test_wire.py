"""Alpaca's decimal strings and the simulator's integer prices, both ways."""

from decimal import Decimal

import pytest

from trading.exchange.alpaca_api.wire import ApiError, money, price_units, shares_of, timestamp


@pytest.mark.parametrize(
    ("value", "units"), [("190.25", 1_902_500), (190.25, 1_902_500), (1, 10_000), ("0.01", 100)]
)
def test_a_price_on_the_tick_grid_becomes_integer_units(value, units):
    assert price_units(value, "limit_price", 100) == units


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("190.255", "not a multiple of the tick size 0.01"),
        ("190.00001", "more than 4 decimal places"),
        ("0", "must be > 0"),
        ("-1", "must be > 0"),
        ("abc", "invalid limit_price"),
        ("NaN", "invalid limit_price"),
        (True, "is not a number"),
    ],
)
def test_a_price_off_the_grid_or_not_a_price_is_a_422(value, reason):
    with pytest.raises(ApiError) as info:
        price_units(value, "limit_price", 100)
    assert info.value.status == 422 and reason in info.value.message


def test_shares_are_whole_and_positive():
    assert shares_of("15") == shares_of(15.0) == 15
    for bad in ("1.5", "0", "-2", None):
        with pytest.raises(ApiError):
            shares_of(bad)


def test_money_is_a_plain_decimal_string():
    assert money(1_902_500) == "190.25"
    assert money(1_000_000_000) == "100000"
    assert money(-7_600 * 10_000) == "-7600"
    assert money(0) == "0"
    assert money(Decimal(13_302_000) / 70) == "19.00285714"
    assert money(100, tick_decimals=4) == "0.01"


def test_timestamps_are_utc_with_microseconds():
    assert timestamp(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456Z"
