"""Which venue an engine trades on, as the dashboard's pages and the terminal monitor show it."""

# ruff: noqa: F811
import pytest

from dashboard.monitor import view_model as vm
from tests.dashboard.conftest import engine_state, put_state
from tests.dashboard.monitor_states import engine_status
from tests.dashboard.test_monitor import monitor, publisher, redis_settings, run, text_of, until  # noqa: F401
from tests.support.redis_server import account, redis_url  # noqa: F401

ALPACA = {"name": "alpaca-paper", "order_connected": True, "order_reconnects": 1,
          "order_state": "RATE_LIMITED", "feed_connected": True}  # fmt: skip


@pytest.mark.parametrize(
    ("venue", "shown"),
    [
        ({"name": "simulator", "order_connected": True, "order_state": ""}, "simulator"),
        ({**ALPACA, "order_state": "READY"}, "alpaca-paper"),
        (ALPACA, "alpaca-paper (RATE_LIMITED)"),
        ({**ALPACA, "order_connected": False}, "alpaca-paper (disconnected)"),
        (None, "—"),
    ],
)
def test_the_monitor_names_the_venue_and_what_is_wrong_with_it(venue, shown):
    state = engine_status()
    state["venue"] = venue
    assert vm.summary(state, None).venue == shown


@pytest.mark.django_db
def test_the_monitor_shows_the_venue_in_its_summary(publisher, account):
    publisher.publish(engine_status(venue={**ALPACA, "order_state": "READY"}))

    async def scenario() -> None:
        app = monitor(account)
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: "ACTIVE" in text_of(app, "#summary"), "the summary")
            assert "venue alpaca-paper" in text_of(app, "#summary")

    run(scenario())


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/dashboard/", "/dashboard/health"])
def test_the_pages_show_the_venue_the_engine_trades_on(viewer_client, desk, url):
    put_state(desk.REDIS_URL, desk.DESK_ACCOUNT, engine_state(venue=ALPACA))
    html = viewer_client.get(url).content.decode()
    assert '<dd data-field="state.venue.name">alpaca-paper</dd>' in html


@pytest.mark.django_db
def test_the_health_page_shows_the_brokers_state(viewer_client, desk):
    put_state(desk.REDIS_URL, desk.DESK_ACCOUNT, engine_state(venue=ALPACA))
    html = viewer_client.get("/dashboard/health").content.decode()
    assert '<dd data-field="state.venue.order_state">RATE_LIMITED</dd>' in html
