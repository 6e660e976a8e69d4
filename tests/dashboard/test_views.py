"""The dashboard's pages and control posts, against a real Redis and a fake engine."""

# ruff: noqa: F811
import functools

import pytest
from django.contrib.messages import get_messages
from django.db import connection

from dashboard import services
from ledger.engine_control import send_command
from ledger.models import AuditEvent, EquityPoint, RiskLimitSet
from tests.dashboard.conftest import FakeEngine, engine_state, put_state

pytestmark = pytest.mark.django_db


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("url", ["/dashboard/", "/dashboard/health", "/dashboard/control",
                                 "/dashboard/equity.json"])  # fmt: skip
def test_every_page_asks_an_anonymous_visitor_to_log_in(client, desk, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/login/?next={url}")


def test_the_login_page_logs_a_user_in_and_returns_to_the_dashboard(client, desk, db):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("ann", password="a long password 1")
    page = client.get("/login/?next=/dashboard/")
    assert page.status_code == 200 and b'name="username"' in page.content
    response = client.post(
        "/login/", {"username": "ann", "password": "a long password 1", "next": "/dashboard/"}
    )
    assert response.status_code == 302 and response["Location"] == "/dashboard/"


def test_the_trading_page_shows_positions_with_a_total_row_and_pnl(viewer_client, desk):
    put_state(desk.REDIS_URL, desk.DESK_ACCOUNT, engine_state())
    response = viewer_client.get("/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "AAPL" in html and "TOTAL" in html
    assert "1,000,120.00" in html  # equity
    assert 'class="badge ok" data-field="trading_state">ACTIVE' in html
    assert 'id="stale-marker" class="badge bad" hidden' in html
    assert "tick_to_order" in html and "12 µs" in html


def test_pages_say_engine_down_when_no_engine_ever_published(viewer_client, desk):
    html = viewer_client.get("/dashboard/health").content.decode()
    assert 'id="engine-down" class="badge bad">ENGINE DOWN' in html
    assert "Engine absent" in html


def test_the_health_page_raises_alerts_for_limits_breaker_and_venue(viewer_client, desk):
    usage = {"position": 0.85, "total_position": 1.0, "order_rate": 0.0, "daily_loss": 0.0,
             "gross_exposure": 0.1, "circuit_breaker": 1.0}  # fmt: skip
    venue = {"name": "simulator", "order_connected": False, "order_reconnects": 3,
             "feed_connected": True}  # fmt: skip
    put_state(
        desk.REDIS_URL,
        desk.DESK_ACCOUNT,
        engine_state(risk_usage=usage, venue=venue, state="HALTED", risk_reason="circuit_breaker"),
        ts=1.0,
    )
    html = viewer_client.get("/dashboard/health").content.decode()
    assert '<li class="alert amber">Largest position limit at 85%</li>' in html
    assert '<li class="alert red">Total position limit reached (100%)</li>' in html
    assert '<li class="alert red">Circuit breaker tripped</li>' in html
    assert '<li class="alert red">Venue order session disconnected</li>' in html
    assert '<li class="alert red">Engine silent: its last state is stale</li>' in html
    assert 'id="stale-marker" class="badge bad">STALE' in html
    assert "redis" in html and f"database ({connection.vendor})" in html


def test_a_viewer_may_look_at_control_but_every_control_post_is_forbidden(viewer_client, desk):
    page = viewer_client.get("/dashboard/control")
    assert page.status_code == 200 and b"Only staff may control" in page.content
    for url in ["/dashboard/control/pause", "/dashboard/control/kill",
                "/dashboard/control/limits", "/dashboard/control/order"]:  # fmt: skip
        assert viewer_client.post(url, {"confirmed": "yes"}).status_code == 403
    assert not AuditEvent.objects.exists()


def test_an_anonymous_control_post_is_sent_to_log_in(client, desk):
    response = client.post("/dashboard/control/pause")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_pause_is_sent_to_the_engine_and_its_answer_shown(staff_client, desk):
    def answer(command):
        return True, "PAUSED", f"paused by {command.who}"

    with FakeEngine(desk.REDIS_URL, desk.DESK_ACCOUNT, answer) as engine:
        response = staff_client.post("/dashboard/control/pause", follow=True)
    assert [c.kind.value for c in engine.received] == ["pause"]
    assert response.redirect_chain == [("/dashboard/control", 302)]
    assert "Pause: paused by boss (state PAUSED)" in response.content.decode()
    assert AuditEvent.objects.get(action="pause").who == "boss"


def test_a_refused_command_is_shown_as_refused(staff_client, desk):
    with FakeEngine(desk.REDIS_URL, desk.DESK_ACCOUNT, lambda c: (False, "HALTED", "halted")):
        response = staff_client.post("/dashboard/control/resume", follow=True)
    assert "Resume refused: halted (state HALTED)" in response.content.decode()


def test_an_unanswered_command_says_so(staff_client, desk, monkeypatch):
    monkeypatch.setattr(services, "send_command", functools.partial(send_command, timeout_s=0.2))
    response = staff_client.post("/dashboard/control/start")
    assert _messages(response) == ["Start: sent, but no answer from the engine (is it running?)"]


def test_a_destructive_action_asks_for_confirmation_before_it_is_sent(staff_client, desk):
    with FakeEngine(desk.REDIS_URL, desk.DESK_ACCOUNT, lambda c: (True, "HALTED", "killed")) as e:
        page = staff_client.post("/dashboard/control/kill")
        assert page.status_code == 200 and b'name="confirmed" value="yes"' in page.content
        assert not AuditEvent.objects.exists()
        response = staff_client.post("/dashboard/control/kill", {"confirmed": "yes"})
    assert [c.kind.value for c in e.received] == ["kill"]
    assert _messages(response) == ["Kill: killed (state HALTED)"]


def test_an_unknown_action_is_not_found(staff_client, desk):
    assert staff_client.post("/dashboard/control/self_destruct").status_code == 404


def test_valid_limits_are_saved_for_the_engine_to_pick_up(staff_client, desk):
    RiskLimitSet.objects.create(account=desk.DESK_ACCOUNT)
    form = staff_client.get("/dashboard/control").context["limits_form"]
    data = {f"limits-{name}": value for name, value in form.initial.items() if name != "id"}
    data["limits-max_order_shares"] = 321
    response = staff_client.post("/dashboard/control/limits", data)
    assert response.status_code == 302
    row = RiskLimitSet.objects.get(account=desk.DESK_ACCOUNT)
    assert row.max_order_shares == 321 and row.updated_by == "boss"
    assert AuditEvent.objects.get(action="risk_limits").who == "boss"


def test_out_of_range_limits_are_refused_with_the_fields_errors(staff_client, desk):
    form = staff_client.get("/dashboard/control").context["limits_form"]
    data = {f"limits-{name}": value for name, value in form.initial.items() if name != "id"}
    data["limits-max_order_shares"] = -5
    data["limits-price_collar_pct"] = ""
    response = staff_client.post("/dashboard/control/limits", data)
    assert response.status_code == 400
    errors = response.context["limits_form"].errors
    assert "max_order_shares" in errors and "price_collar_pct" in errors
    assert "must be &gt;= 1, got -5" in response.content.decode()
    assert not RiskLimitSet.objects.filter(account=desk.DESK_ACCOUNT).exists()


def test_an_order_ticket_is_sent_and_the_engines_answer_shown(staff_client, desk):
    def answer(command):
        return True, "ACTIVE", f"order 7 sent for {command.who}"

    ticket = {"ticket-symbol": "AAPL", "ticket-side": "BUY", "ticket-qty": "10",
              "ticket-price": "190.5", "ticket-tif": "IOC"}  # fmt: skip
    with FakeEngine(desk.REDIS_URL, desk.DESK_ACCOUNT, answer) as engine:
        response = staff_client.post("/dashboard/control/order", ticket, follow=True)
    (command,) = engine.received
    assert command.kind.value == "submit_order"
    assert command.args == {"symbol": "AAPL", "side": "BUY", "qty": 10, "price": 190.5,
                            "tif": "IOC"}  # fmt: skip
    assert "Order: order 7 sent for boss (state ACTIVE)" in response.content.decode()


def test_an_invalid_ticket_is_not_sent(staff_client, desk):
    ticket = {"ticket-symbol": "NOPE", "ticket-side": "BUY", "ticket-qty": "0",
              "ticket-price": "-1", "ticket-tif": "DAY"}  # fmt: skip
    response = staff_client.post("/dashboard/control/order", ticket)
    assert response.status_code == 400
    assert set(response.context["ticket_form"].errors) == {"symbol", "qty", "price"}
    assert not AuditEvent.objects.exists()


def test_the_equity_series_is_served_thinned_and_in_time_order(viewer_client, desk):
    from datetime import UTC, datetime, timedelta

    start = datetime(2025, 1, 2, 14, 30, tzinfo=UTC)
    EquityPoint.objects.bulk_create(
        EquityPoint(
            ts=start + timedelta(seconds=i),
            account=desk.DESK_ACCOUNT,
            equity=1_000_000 + i,
            realised=0,
            unrealised=i,
        )  # fmt: skip
        for i in range(1500)
    )
    points = viewer_client.get("/dashboard/equity.json").json()["points"]
    assert 0 < len(points) <= 600
    times = [p["time"] for p in points]
    assert times == sorted(set(times))
    assert points[-1] == {"time": int((start + timedelta(seconds=1499)).timestamp()),
                          "value": 1_001_499.0}  # fmt: skip


LOG = """[09:30:00.001] [SYSTEM] engine for demo: strategies market_maker
[09:30:00.120] [RISK] risk limits from the database (limits from ops: max_order_shares=200)
[09:30:01.500] [STRAT] FILL AAPL BUY 100 @ 190.01 (market_maker)
[09:30:02.000] [RISK] WARNING: venue rejected order 7: X
"""


def test_the_health_page_tails_the_log_filtered_by_component_and_text(
    viewer_client, desk, settings, tmp_path
):
    settings.VAR_DIR = tmp_path
    (tmp_path / "desk.log").write_text(LOG)
    page = viewer_client.get("/dashboard/health?tag=RISK").content.decode()
    assert "venue rejected order 7" in page and "FILL AAPL" not in page
    body = viewer_client.get("/dashboard/log.json", {"tag": "RISK", "q": "LIMITS"}).json()
    assert body["lines"] == [LOG.splitlines()[1]]
    body = viewer_client.get("/dashboard/log.json", {"tag": "NOPE", "q": "fill"}).json()
    assert body["lines"] == [LOG.splitlines()[2]]  # an unknown tag filters nothing


def test_the_log_tail_needs_a_login(client, desk):
    response = client.get("/dashboard/log.json")
    assert response.status_code == 302 and "/login/" in response["Location"]
