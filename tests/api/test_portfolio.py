"""Positions and P&L (live engine or ledger), the equity curve, limits and the audit trail."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ledger.models import AuditEvent, EquityPoint, Fill, PositionSnapshot, RiskLimitSet
from tests.api.test_permissions import VALID_LIMITS
from trading.engine.state_publisher import StatePublisher
from trading.portfolio.positions import Portfolio

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


def _ledger_snapshot(account: str) -> None:
    portfolio = Portfolio(starting_cash=1_000_000 * 10_000)
    position = portfolio.position("AAPL")
    position.apply(1, 100, 1_500_000)  # 100 @ $150
    position.set_mark(1_510_000)  # marked at $151
    PositionSnapshot.objects.create(account=account, ts=T0, snapshot=portfolio.snapshot().as_dict())


def test_positions_and_pnl_come_from_the_ledger_when_no_engine_publishes(staff_client, desk):
    assert staff_client.get("/api/positions").json()["source"] == "none"
    assert staff_client.get("/api/pnl").json()["equity"] is None
    _ledger_snapshot(desk.DESK_ACCOUNT)
    body = staff_client.get("/api/positions").json()
    assert body["source"] == "ledger"
    (aapl,) = body["positions"]
    assert aapl["symbol"] == "AAPL" and aapl["qty"] == 100
    assert aapl["avg_price"] == 150.0 and aapl["mark"] == 151.0 and aapl["unrealised"] == 100.0
    pnl = staff_client.get("/api/pnl").json()
    assert pnl["source"] == "ledger" and pnl["unrealised"] == 100.0
    assert pnl["equity"] == 1_000_100.0 and pnl["realised"] == 0.0


def test_positions_and_pnl_come_from_a_live_engine_first(staff_client, desk):
    _ledger_snapshot(desk.DESK_ACCOUNT)
    publisher = StatePublisher(desk.REDIS_URL, desk.DESK_ACCOUNT, min_interval_s=0.0)
    publisher.publish({
        "positions": {"MSFT": {"qty": -5, "avg_price": 400.0, "mark": 399.0, "unrealised": 5.0,
                               "realised": 1.0, "total": 6.0}},
        "realised": 1.0, "unrealised": 5.0, "daily_pnl": 6.0, "equity": 1_000_006.0,
    })  # fmt: skip
    deadline = time.monotonic() + 5
    while staff_client.get("/api/positions").json()["source"] != "engine":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    publisher.stop()
    body = staff_client.get("/api/positions").json()
    assert body["positions"] == [
        {"symbol": "MSFT", "qty": -5, "avg_price": 400.0, "mark": 399.0, "unrealised": 5.0,
         "realised": 1.0, "total": 6.0}
    ]  # fmt: skip
    pnl = staff_client.get("/api/pnl").json()
    assert (pnl["source"], pnl["daily"], pnl["equity"]) == ("engine", 6.0, 1_000_006.0)


def _equity(account: str, count: int) -> None:
    EquityPoint.objects.bulk_create(
        EquityPoint(
            account=account, ts=T0 + timedelta(minutes=i), equity=Decimal(1_000_000 + i),
            realised=Decimal(i), unrealised=Decimal(0),
        )
        for i in range(count)
    )  # fmt: skip


def test_the_equity_curve_is_downsampled_to_at_most_the_points_asked(staff_client, desk):
    _equity(desk.DESK_ACCOUNT, 1000)
    full = staff_client.get("/api/equity?points=5000").json()
    assert full["total"] == 1000 and full["step"] == 1 and len(full["points"]) == 1000
    thin = staff_client.get("/api/equity?points=100").json()
    assert thin["step"] == 10 and len(thin["points"]) == 100
    assert [p["realised"] for p in thin["points"][:3]] == [0.0, 10.0, 20.0]
    odd = staff_client.get("/api/equity?points=300").json()
    assert odd["step"] == 4 and len(odd["points"]) == 250
    since = (T0 + timedelta(minutes=500)).isoformat().replace("+", "%2B")
    ranged = staff_client.get(f"/api/equity?points=1000&since={since}").json()
    assert ranged["total"] == 500 and ranged["points"][0]["equity"] == 1_000_500.0


def test_executions_are_filtered_and_paginated(staff_client, desk):
    Fill.objects.bulk_create(
        Fill(
            ts=T0 + timedelta(seconds=i), account=desk.DESK_ACCOUNT, order_id=i,
            symbol=("AAPL", "MSFT")[i % 2], side=1, qty=1, price=1_000_000 + i, match_number=i,
        )
        for i in range(20)
    )  # fmt: skip
    body = staff_client.get("/api/executions?symbol=MSFT&limit=3&offset=1").json()
    assert body["total"] == 10
    assert [f["order_id"] for f in body["items"]] == [17, 15, 13]
    assert body["items"][0]["price"] == 100.0017 and body["items"][0]["side"] == "BUY"


def test_limits_are_read_and_replaced_with_an_audit_row(staff_client, client_as, desk):
    assert staff_client.get("/api/limits").status_code == 404
    RiskLimitSet.objects.create(account=desk.DESK_ACCOUNT)
    response = staff_client.put("/api/limits", VALID_LIMITS, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["max_order_shares"] == 400 and body["updated_by"].startswith("operator (key ")
    row = RiskLimitSet.objects.get(account=desk.DESK_ACCOUNT)
    assert row.max_order_shares == 400 and row.updated_by == body["updated_by"]
    event = AuditEvent.objects.get(action="update_limits")
    assert event.detail["changes"]["max_order_shares"][1] == 400
    assert client_as("user_session").get("/api/limits").json()["max_order_shares"] == 400


def test_limits_out_of_range_are_422_naming_field_and_reason(staff_client, desk):
    RiskLimitSet.objects.create(account=desk.DESK_ACCOUNT)
    response = staff_client.put(
        "/api/limits", {**VALID_LIMITS, "max_order_shares": -3}, content_type="application/json"
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "max_order_shares"] and "must be >=" in error["msg"]
    assert not AuditEvent.objects.filter(action="update_limits").exists()
    missing = staff_client.put(
        "/api/limits", {"max_order_shares": 5}, content_type="application/json"
    )
    assert missing.status_code == 422
    assert {tuple(e["loc"][-1:]) for e in missing.json()["detail"]} >= {("price_collar_pct",)}


def test_limits_are_seeded_from_the_config_when_put_first(staff_client, desk):
    response = staff_client.put("/api/limits", VALID_LIMITS, content_type="application/json")
    assert response.status_code == 200
    assert RiskLimitSet.objects.get(account=desk.DESK_ACCOUNT).max_position_shares == 1000


def test_the_audit_trail_is_paginated_and_read_only(staff_client):
    for i in range(7):
        AuditEvent.objects.create(
            who="ops" if i % 2 else "bot", action="pause", result=str(i),
            ts=T0 + timedelta(seconds=i),
        )  # fmt: skip
    body = staff_client.get("/api/audit?who=ops&limit=2&offset=1").json()
    assert body["total"] == 3 and [e["result"] for e in body["items"]] == ["3", "1"]
    assert staff_client.delete("/api/audit").status_code == 405
    assert staff_client.post("/api/audit").status_code == 405
