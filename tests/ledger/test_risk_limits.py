"""Live risk limits: seeded once from the config file, then the database row rules, and any
change to it reaches the engine's process through the watcher."""

import time

import pytest

from ledger.models import RiskLimitSet
from ledger.risk_limits import LimitsWatcher, current_limits, read_limits
from trading.config import RiskConfig

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_first_start_seeds_the_limits_from_the_config_and_later_ones_read_them():
    update, seeded = current_limits("demo", RiskConfig(max_order_shares=300))
    assert seeded and update.values["max_order_shares"] == 300 and update.updated_by == "config"
    RiskLimitSet.objects.filter(account="demo").update(max_order_shares=250, updated_by="ops")
    update, seeded = current_limits("demo", RiskConfig(max_order_shares=300))
    assert not seeded and update.values["max_order_shares"] == 250 and update.updated_by == "ops"
    assert read_limits("nobody") is None


def wait_for_update(watcher, timeout_s=3.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        taken = watcher.take()
        if taken:
            return taken
        time.sleep(0.02)
    return []


def test_the_watcher_hands_over_each_change_once():
    update, _ = current_limits("demo", RiskConfig())
    watcher = LimitsWatcher("demo", update.version, interval_s=0.05).start()
    try:
        time.sleep(0.2)
        assert watcher.take() == []  # nothing changed: nothing handed over
        row = RiskLimitSet.objects.get(account="demo")
        row.daily_loss_limit = 1234.0
        row.updated_by = "ops"
        row.save()
        (change,) = wait_for_update(watcher)
        assert change.values["daily_loss_limit"] == 1234.0 and change.updated_by == "ops"
        time.sleep(0.2)
        assert watcher.take() == []
    finally:
        watcher.stop()
