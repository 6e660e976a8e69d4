"""The strategies an engine starts with live in the database, seeded once from the file and
validated by the file's own rules."""

import pytest
from django.core.exceptions import ValidationError

from ledger.models import AuditEvent, StrategySet
from ledger.strategy_settings import current_strategies
from trading.config import ConfigError, load_config

pytestmark = pytest.mark.django_db


def test_the_first_start_seeds_the_row_and_later_starts_run_what_it_says():
    config = load_config()
    started, origin = current_strategies("demo", config)
    assert origin == "seeded from the config file"
    assert started.engine.strategies == config.engine.strategies
    row = StrategySet.objects.get(account="demo")
    assert row.params["market_maker"]["order_qty"] == config.engine.params.market_maker.order_qty

    row.strategies = ["market_maker"]
    row.params = {"market_maker": {"order_qty": 300}}
    row.updated_by = "ops"
    row.save()
    started, origin = current_strategies("demo", config)
    assert origin == "from the database (set by ops)"
    assert started.engine.strategies == ["market_maker"]
    assert started.engine.params.market_maker.order_qty == 300


@pytest.mark.parametrize(
    ("strategies", "params", "field", "message"),
    [
        (["scalper"], {}, "strategies", "engine.strategies[0]: must be one of"),
        (["pairs"], {"pairs": {"leg_a": "ZZZZ"}}, "params", "'ZZZZ' is not in symbols"),
        (["market_maker"], {"market_maker": {"order_qty": -5}}, "params", "must be >= 1"),
        (["momentum"], {"momentum": {"lookbak": 5}}, "params", "unknown key"),
    ],
)
def test_nonsense_is_refused_naming_the_key(strategies, params, field, message):
    row = StrategySet(account="demo", strategies=strategies, params=params)
    with pytest.raises(ValidationError) as caught:
        row.full_clean()
    assert message in " ".join(caught.value.message_dict[field])


def test_a_row_that_no_longer_validates_stops_the_engine_with_the_reason():
    StrategySet.objects.create(account="demo", strategies=["scalper"], params={})
    with pytest.raises(ConfigError, match="engine.strategies"):
        current_strategies("demo", load_config())


def test_an_admin_edit_is_audited_with_who_and_what(admin_client):
    StrategySet.objects.create(account="demo", strategies=["momentum"], params={})
    row = StrategySet.objects.get(account="demo")
    response = admin_client.post(
        f"/admin/ledger/strategyset/{row.pk}/change/",
        {"account": "demo", "strategies": '["market_maker"]', "params": "{}"},
    )
    assert response.status_code == 302, response.content[:2000]
    row.refresh_from_db()
    assert row.strategies == ["market_maker"] and row.updated_by == "admin"
    event = AuditEvent.objects.get(action="update_strategies")
    assert event.who == "admin" and event.detail["strategies"] == ["market_maker"]
