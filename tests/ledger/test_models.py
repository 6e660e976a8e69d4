"""Ledger models, constraints, migrations and the TimescaleDB SQL."""

from __future__ import annotations

import importlib
import logging
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from ledger.models import AppendOnlyError, AuditEvent, Fill, Order, RiskLimitSet
from ledger.timescale import hypertable_sql, timescale_available
from trading.config import RiskConfig

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _fill(**overrides):
    values = dict(
        ts=T0,
        account="demo",
        order_id=7,
        symbol="SYNA",
        side=1,
        qty=100,
        price=1_000_000,
        match_number=42,
    )
    values.update(overrides)
    return Fill(**values)


@pytest.mark.django_db
def test_a_replayed_fill_is_stored_once():
    Fill.objects.bulk_create([_fill()], ignore_conflicts=True)
    Fill.objects.bulk_create([_fill(), _fill()], ignore_conflicts=True)
    Fill.objects.bulk_create([_fill(match_number=43)], ignore_conflicts=True)
    assert Fill.objects.count() == 2


@pytest.mark.django_db
def test_orders_are_unique_per_account():
    common = dict(order_id=1, symbol="SYNA", side=1, qty=100, price=1_000_000)
    Order.objects.create(account="demo", **common)
    Order.objects.create(account="other", **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(account="demo", **common)


@pytest.mark.django_db
def test_audit_events_are_append_only():
    event = AuditEvent.objects.create(who="alice", action="halt", detail={"why": "test"})
    event.result = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(result="changed")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.who, stored.action, stored.detail, stored.result) == (
        "alice",
        "halt",
        {"why": "test"},
        "",
    )


def test_risk_limits_default_to_the_config_defaults_and_pass_clean():
    limits = RiskLimitSet(account="demo")
    limits.clean()
    assert limits.to_risk_config() == RiskConfig()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_order_shares", 0, "must be >= 1"),
        ("max_position_shares", -1, "must be >= 0"),
        ("max_position_shares", 10**9 + 1, "must be <= 1000000000"),
        ("price_collar_pct", 1000.5, "must be <= 1000.0"),
        ("daily_loss_limit", -0.01, "must be >= 0.0"),
        ("max_orders_per_s", None, "is required"),
    ],
)
def test_risk_limits_clean_names_the_bad_field(field, value, message):
    limits = RiskLimitSet(account="demo", **{field: value})
    with pytest.raises(ValidationError) as excinfo:
        limits.clean()
    errors = excinfo.value.message_dict
    assert list(errors) == [field]
    assert message in errors[field][0]


def test_risk_limits_round_trip_a_risk_config():
    config = RiskConfig(max_order_shares=7, daily_loss_limit=123.5)
    assert RiskLimitSet.from_risk_config("demo", config).to_risk_config() == config


def test_hypertable_sql_is_exact():
    assert hypertable_sql("ledger_fill", "ts") == [
        'ALTER TABLE "ledger_fill" DROP CONSTRAINT "ledger_fill_pkey"',
        'ALTER TABLE "ledger_fill" ADD PRIMARY KEY ("id", "ts")',
        "SELECT create_hypertable('ledger_fill', 'ts', migrate_data => TRUE, "
        "if_not_exists => TRUE)",
    ]


@pytest.mark.parametrize("bad", ["Fill", "ledger_fill; drop table x", "a'b", "", "1abc"])
def test_hypertable_sql_refuses_odd_identifiers(bad):
    with pytest.raises(ValueError):
        hypertable_sql(bad, "ts")
    with pytest.raises(ValueError):
        hypertable_sql("ledger_fill", bad)


@pytest.mark.django_db
def test_timescale_is_not_available_here():
    assert timescale_available(connection) is False


@pytest.mark.django_db
def test_migrations_applied_and_time_indexes_exist():
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        assert {
            "ledger_order",
            "ledger_fill",
            "ledger_positionsnapshot",
            "ledger_equitypoint",
            "ledger_auditevent",
            "ledger_gatewaystate",
            "ledger_risklimitset",
        } <= tables
        for table in ("ledger_fill", "ledger_equitypoint"):
            constraints = connection.introspection.get_constraints(cursor, table)
            assert any(c["index"] and c["columns"] == ["ts"] for c in constraints.values())
    from django.db.migrations.recorder import MigrationRecorder

    applied = set(
        MigrationRecorder.Migration.objects.filter(app="ledger").values_list("name", flat=True)
    )
    assert {"0001_initial", "0002_timeseries"} <= applied


@pytest.mark.django_db
def test_timeseries_migration_logs_plain_mode_and_changes_nothing(caplog):
    migration = importlib.import_module("ledger.migrations.0002_timeseries")
    executed: list[str] = []

    class Editor:
        def __init__(self):
            self.connection = connection

        def execute(self, sql, params=None):
            executed.append(sql)

    with caplog.at_level(logging.INFO, logger="SYSTEM"):
        migration.make_hypertables(None, Editor())
    assert executed == []
    messages = [r.getMessage() for r in caplog.records if r.name == "SYSTEM"]
    assert any("TimescaleDB not available" in m for m in messages)


def test_timeseries_migration_runs_the_sql_when_timescale_is_present(caplog, monkeypatch):
    migration = importlib.import_module("ledger.migrations.0002_timeseries")
    monkeypatch.setattr(migration, "timescale_available", lambda conn: True)
    executed: list[str] = []

    class Editor:
        connection = object()

        def execute(self, sql, params=None):
            executed.append(sql)

    with caplog.at_level(logging.INFO, logger="SYSTEM"):
        migration.make_hypertables(None, Editor())
    assert executed == hypertable_sql("ledger_fill", "ts") + hypertable_sql(
        "ledger_equitypoint", "ts"
    )
    assert any("hypertables" in r.getMessage() for r in caplog.records if r.name == "SYSTEM")
