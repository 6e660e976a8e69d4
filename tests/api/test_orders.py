"""Orders: listing with filters and pages over real rows, operator orders and cancels."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from api.schemas import OrderFilters, PageParams
from api.selectors import order_page, order_rows
from ledger.models import AuditEvent, Order

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


def _orders(account: str, count: int, **overrides) -> None:
    Order.objects.bulk_create(
        Order(
            account=account, order_id=i, symbol=("AAPL", "MSFT")[i % 2], side=(1, -1)[i % 3 == 0],
            qty=10 * i, price=1_500_000 + i, state=("ACCEPTED", "FILLED")[i % 5 == 0],
            created_at=T0 + timedelta(seconds=i), updated_at=T0 + timedelta(seconds=i),
            **overrides,
        )
        for i in range(1, count + 1)
    )  # fmt: skip


def test_orders_are_listed_newest_first_in_dollars_with_a_total(staff_client, desk):
    _orders(desk.DESK_ACCOUNT, 30)
    _orders("someone-else", 5)
    body = staff_client.get("/api/orders?limit=10&offset=5").json()
    assert body["total"] == 30 and body["limit"] == 10 and body["offset"] == 5
    assert [o["order_id"] for o in body["items"]] == list(range(25, 15, -1))
    first = body["items"][0]
    assert first["price"] == pytest.approx(150.0025) and first["side"] == "BUY"
    assert first["symbol"] == "MSFT" and first["qty"] == 250


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("symbol=aapl", [i for i in range(30, 0, -1) if i % 2 == 0]),
        ("state=FILLED", [30, 25, 20, 15, 10, 5]),
        ("side=SELL", [30, 27, 24, 21, 18, 15, 12, 9, 6, 3]),
        ("symbol=AAPL&side=SELL&state=FILLED", [30]),
        ("since={s}&until={u}", [19, 18, 17, 16, 15, 14, 13, 12, 11, 10]),
    ],
)
def test_order_filters(staff_client, desk, query, expected):
    _orders(desk.DESK_ACCOUNT, 30)
    since = (T0 + timedelta(seconds=10)).isoformat().replace("+", "%2B")
    until = (T0 + timedelta(seconds=20)).isoformat().replace("+", "%2B")
    body = staff_client.get(f"/api/orders?limit=100&{query.format(s=since, u=until)}").json()
    assert [o["order_id"] for o in body["items"]] == expected
    assert body["total"] == len(expected)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("offset=-1", "offset"),
        ("state=LOST", "state"),
        ("side=BOTH", "side"),
        ("since=yesterday", "since"),
        ("symbol=%00", "symbol"),
    ],
)
def test_bad_filters_are_422_naming_the_parameter(staff_client, query, field):
    response = staff_client.get(f"/api/orders?{query}")
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", field] and error["msg"]


def test_one_order_by_id_and_404_for_an_unknown_one(staff_client, desk):
    _orders(desk.DESK_ACCOUNT, 3)
    assert staff_client.get("/api/orders/2").json()["order_id"] == 2
    missing = staff_client.get("/api/orders/99")
    assert missing.status_code == 404 and missing.json()["detail"] == "no order 99"
    assert staff_client.get("/api/orders/0").status_code == 422


def _many_orders(account: str, count: int) -> None:
    """`count` orders in one executemany: model instances would make the setup the test."""
    columns = (
        "account, order_id, symbol, side, qty, price, tif, strategy, state, filled_qty, "
        "avg_fill_price, reason, created_at, updated_at"
    )
    when = T0.isoformat() if connection.vendor != "sqlite" else T0.strftime("%Y-%m-%d %H:%M:%S")
    rows = [
        (account, i, ("AAPL", "MSFT")[i % 2], 1, 10, 1_500_000, "DAY", "", "ACCEPTED", 0, 0.0,
         "", when, when)
        for i in range(1, count + 1)
    ]  # fmt: skip
    placeholders = ", ".join(["%s"] * 14)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO ledger_order ({columns}) VALUES ({placeholders})", rows)


@pytest.mark.slow
def test_listing_stays_on_the_index_with_100k_orders(desk, django_assert_num_queries):
    _many_orders(desk.DESK_ACCOUNT, 100_000)
    filters, page = OrderFilters(), PageParams(limit=50, offset=0)
    with django_assert_num_queries(2):  # the page and the count, nothing per row
        body = order_page(desk.DESK_ACCOUNT, filters, page)
    assert body["total"] == 100_000 and body["items"][0]["order_id"] == 100_000
    plan = order_rows(desk.DESK_ACCOUNT, filters).explain()
    if connection.vendor == "sqlite":
        assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan
    state_plan = order_rows(desk.DESK_ACCOUNT, OrderFilters(state="FILLED")).explain()
    if connection.vendor == "sqlite":
        assert "USING INDEX" in state_plan and "SCAN ledger_order" not in state_plan, state_plan


def test_an_accepted_manual_order_is_201_with_its_id(staff_client, fake_engine):
    fake_engine(lambda command: (True, f"order 4242 sent for {command.who}"))
    response = staff_client.post(
        "/api/orders", {"symbol": "aapl", "side": "BUY", "qty": 100, "price": 187.25, "tif": "IOC"},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["order_id"] == 4242 and response.json()["state"] == "ACTIVE"
    (command,) = fake_engine.seen
    assert command.kind == "submit_order"
    assert command.args == {
        "symbol": "AAPL",
        "side": "BUY",
        "qty": 100,
        "price": 187.25,
        "tif": "IOC",
    }


def test_a_manual_order_refused_by_risk_is_422_with_the_reason(staff_client, fake_engine):
    reason = "order from operator refused by risk: max_order_shares 500 < 1000"
    fake_engine(lambda command: (False, reason))
    response = staff_client.post(
        "/api/orders", {"symbol": "AAPL", "side": "SELL", "qty": 1000},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["detail"] == reason and response.json()["state"] == "ACTIVE"


def test_a_manual_order_without_an_engine_is_504(staff_client):
    response = staff_client.post(
        "/api/orders", {"symbol": "AAPL", "side": "BUY", "qty": 1}, content_type="application/json"
    )
    assert response.status_code == 504
    assert AuditEvent.objects.get(action="submit_order").result.startswith("sent; no answer")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"side": "BUY", "qty": 1}, "symbol"),
        ({"symbol": "AAPL", "side": "HOLD", "qty": 1}, "side"),
        ({"symbol": "AAPL", "side": "BUY", "qty": 0}, "qty"),
        ({"symbol": "AAPL", "side": "BUY", "qty": 1.5}, "qty"),
        ({"symbol": "AAPL", "side": "BUY", "qty": 1, "price": -1}, "price"),
        ({"symbol": "AAPL", "side": "BUY", "qty": 1, "price": 1.00001}, "price"),
        ({"symbol": "AAPL", "side": "BUY", "qty": 1, "tif": "FOK"}, "tif"),
        ({"symbol": "NOT A SYMBOL", "side": "BUY", "qty": 1}, "symbol"),
    ],
)
def test_a_bad_ticket_is_422_naming_the_field(staff_client, payload, field):
    response = staff_client.post("/api/orders", payload, content_type="application/json")
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [e["loc"][-1] for e in errors] == [field] and errors[0]["msg"]


def test_a_cancel_returns_the_ack_and_a_refused_one_is_409(staff_client, fake_engine):
    def answer(command):
        order_id = command.args["order_id"]
        if order_id == 5:
            return True, f"cancel of order 5 sent for {command.who}"
        return False, f"cancel from {command.who} refused: order {order_id} is not working"

    fake_engine(answer)
    done = staff_client.post("/api/orders/5/cancel")
    assert done.status_code == 200 and done.json()["ok"] is True
    refused = staff_client.post("/api/orders/6/cancel")
    assert refused.status_code == 409 and "is not working" in refused.json()["detail"]
