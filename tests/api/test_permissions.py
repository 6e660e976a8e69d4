"""Who may call what: every endpoint against every kind of caller."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from ledger.models import Order, RiskLimitSet
from tests.api.conftest import ROLES

pytestmark = pytest.mark.django_db

VALID_LIMITS = {
    "max_position_shares": 1000,
    "max_total_position_shares": 5000,
    "max_order_shares": 400,
    "max_order_notional": 50_000.0,
    "max_gross_exposure": 500_000.0,
    "max_orders_per_s": 20.0,
    "daily_loss_limit": 5_000.0,
    "price_collar_pct": 5.0,
}

READS = [
    ("get", "/api/engine", None),
    ("get", "/api/orders", None),
    ("get", "/api/orders/7", None),
    ("get", "/api/executions", None),
    ("get", "/api/positions", None),
    ("get", "/api/pnl", None),
    ("get", "/api/equity", None),
    ("get", "/api/limits", None),
    ("get", "/api/audit", None),
]
# With no engine running, a staff member's command is sent and goes unanswered: 504.
CONTROLS = [
    ("post", "/api/engine/commands", {"kind": "pause"}, 504),
    ("post", "/api/orders", {"symbol": "AAPL", "side": "BUY", "qty": 10, "price": 1.5}, 504),
    ("post", "/api/orders/7/cancel", None, 504),
    ("put", "/api/limits", VALID_LIMITS, 200),
]


@pytest.fixture(autouse=True)
def rows(desk):
    now = timezone.now()
    Order.objects.create(
        account=desk.DESK_ACCOUNT, order_id=7, symbol="AAPL", side=1, qty=10, price=15000,
        created_at=now, updated_at=now,
    )  # fmt: skip
    RiskLimitSet.objects.create(account=desk.DESK_ACCOUNT)


def _call(client: Client, method: str, path: str, body):
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, content_type="application/json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body"), READS)
def test_read_endpoints_need_any_authenticated_caller(client_as, role, method, path, body):
    response = _call(client_as(role), method, path, body)
    expected = 401 if role in {"anonymous", "revoked_key"} else 200
    assert response.status_code == expected, response.content


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body", "staff_status"), CONTROLS)
def test_control_endpoints_are_for_staff_only(client_as, role, method, path, body, staff_status):
    response = _call(client_as(role), method, path, body)
    if role in {"anonymous", "revoked_key"}:
        expected = 401
    elif role.startswith("user"):
        expected = 403
    else:
        expected = staff_status
    assert response.status_code == expected, response.content


def test_a_non_staff_caller_is_refused_before_its_payload_is_read(client_as):
    response = client_as("user_key").post(
        "/api/engine/commands", {"kind": "nonsense"}, content_type="application/json"
    )
    assert response.status_code == 403


def test_a_session_must_send_the_csrf_token_on_unsafe_methods(staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    refused = client.put("/api/limits", VALID_LIMITS, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]

    client.get("/login/")  # sets the CSRF cookie, as a page of the desk would
    token = client.cookies["csrftoken"].value
    accepted = client.put(
        "/api/limits", VALID_LIMITS, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 200, accepted.content


def test_an_api_key_needs_no_csrf_token(staff_key):
    client = Client(enforce_csrf_checks=True, HTTP_X_API_KEY=staff_key)
    response = client.put("/api/limits", VALID_LIMITS, content_type="application/json")
    assert response.status_code == 200


def test_an_anonymous_unsafe_request_is_401_not_a_csrf_403():
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/engine/commands", {"kind": "pause"}, content_type="application/json"
    )
    assert response.status_code == 401


def test_a_malformed_key_is_401_even_with_a_logged_in_session(client_as):
    client = client_as("staff_session")
    assert client.get("/api/orders", HTTP_X_API_KEY="not-a-key").status_code == 401


def test_an_inactive_users_key_is_refused(staff, staff_key):
    staff.is_active = False
    staff.save()
    assert Client(HTTP_X_API_KEY=staff_key).get("/api/orders").status_code == 401


def test_the_docs_need_a_login(client_as):
    assert client_as("anonymous").get("/api/docs").status_code == 302
    page = client_as("user_session").get("/api/docs")
    assert page.status_code == 200 and b"swagger-ui" in page.content
    schema = client_as("user_session").get("/api/openapi.json").json()
    assert "/api/orders" in schema["paths"] and "/api/engine/commands" in schema["paths"]
