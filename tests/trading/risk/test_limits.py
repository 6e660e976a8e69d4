"""RiskLimits: built from the configuration, validated, replaced whole."""

import dataclasses
import math

import pytest

from trading.config import RiskConfig
from trading.risk.limits import RiskLimits, RiskLimitsError


def test_from_config_copies_every_configured_limit_and_defaults_the_breaker():
    config = RiskConfig(max_position_shares=200, max_order_notional=50_000.0, daily_loss_limit=750)
    limits = RiskLimits.from_config(config)
    assert limits.max_position_shares == 200
    assert limits.max_order_notional == 50_000.0
    assert limits.daily_loss_limit == 750.0 and isinstance(limits.daily_loss_limit, float)
    assert limits.max_total_position_shares == 5_000
    assert limits.max_consecutive_rejects == 5
    assert limits.max_disconnects == 3
    assert limits.disconnect_window_ns == 60_000_000_000
    assert limits.duplicate_window_ns == 50_000_000


def test_from_config_takes_breaker_overrides():
    limits = RiskLimits.from_config(RiskConfig(), max_consecutive_rejects=2, max_disconnects=4)
    assert (limits.max_consecutive_rejects, limits.max_disconnects) == (2, 4)


def test_defaults_match_the_configuration_defaults():
    config = RiskConfig()
    limits = RiskLimits()
    for f in dataclasses.fields(config):
        assert getattr(limits, f.name) == getattr(config, f.name), f.name


def test_limits_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RiskLimits().max_order_shares = 10  # type: ignore[misc]


def test_replace_returns_a_validated_copy():
    base = RiskLimits()
    changed = base.replace(max_order_shares=100, price_collar_pct=2)
    assert changed.max_order_shares == 100 and changed.price_collar_pct == 2.0
    assert base.max_order_shares == 500
    with pytest.raises(RiskLimitsError, match="max_order_shares"):
        base.replace(max_order_shares=0)


def test_from_mapping_reads_a_database_row_over_a_base():
    base = RiskLimits(max_position_shares=300)
    limits = RiskLimits.from_mapping({"max_orders_per_s": 10, "daily_loss_limit": 1_000.5}, base)
    assert limits.max_position_shares == 300
    assert limits.max_orders_per_s == 10.0
    assert limits.daily_loss_limit == 1_000.5


def test_as_dict_round_trips():
    limits = RiskLimits(max_position_shares=7, max_gross_exposure=1e6)
    assert RiskLimits.from_mapping(limits.as_dict()) == limits


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"max_position_shares": -1}, "max_position_shares", "negative"),
        ({"max_total_position_shares": 1.5}, "max_total_position_shares", "integer"),
        ({"max_order_shares": True}, "max_order_shares", "integer"),
        ({"max_order_shares": 0}, "max_order_shares", "at least 1"),
        ({"max_order_notional": -0.01}, "max_order_notional", "negative"),
        ({"max_gross_exposure": math.nan}, "max_gross_exposure", "finite"),
        ({"daily_loss_limit": math.inf}, "daily_loss_limit", "finite"),
        ({"max_orders_per_s": "50"}, "max_orders_per_s", "number"),
        ({"max_consecutive_rejects": 0}, "max_consecutive_rejects", "at least 1"),
        ({"max_disconnects": 0}, "max_disconnects", "at least 1"),
        ({"disconnect_window_ns": 0}, "disconnect_window_ns", "at least 1"),
        ({"duplicate_window_ns": -5}, "duplicate_window_ns", "negative"),
        ({"max_position": 10}, "max_position", "unknown"),
    ],
)
def test_invalid_limits_name_the_field_and_the_reason(changes, field, reason):
    with pytest.raises(RiskLimitsError) as caught:
        RiskLimits.from_mapping(changes)
    assert caught.value.field_name == field
    assert reason in caught.value.reason


def test_zero_limits_are_valid_and_mean_nothing_is_allowed():
    limits = RiskLimits(max_position_shares=0, max_orders_per_s=0, daily_loss_limit=0)
    assert limits.max_position_shares == 0 and limits.max_orders_per_s == 0.0
