"""The monitor's figures, worked out from published states without a terminal."""

from datetime import UTC

import pytest

from dashboard.monitor import view_model as vm
from tests.dashboard.monitor_states import engine_status


def test_rates_are_counter_deltas_over_the_elapsed_time():
    before = engine_status()
    after = engine_status(
        counters={"orders": 150, "fills": 50, "cancels": 40, "risk_rejects": 6, "venue_rejects": 2}
    )
    assert vm.rates(after, before, 2.0) == vm.Rates(
        orders=25.0, fills=5.0, cancels=5.0, rejects=1.5
    )


def test_no_rates_without_a_previous_state_an_interval_or_after_a_restart():
    status = engine_status()
    assert vm.rates(status, None, 1.0) is None
    assert vm.rates(status, status, 0.0) is None
    restarted = engine_status(counters={"orders": 3})
    assert vm.rates(restarted, status, 1.0) is None


def test_the_summary_strip_shows_state_rates_latency_position_pnl_and_fills():
    status = engine_status(state="REDUCING", risk_state="REDUCING", risk_reason="daily loss 80%")
    summary = vm.summary(status, vm.Rates(12.5, 1.0, 0.0, 0.0))
    assert summary.state == "REDUCING" and summary.reason == "daily loss 80%"
    assert summary.orders_per_s == "12.5/s"
    assert summary.tick_to_order == "12.5 µs / 48.0 µs"
    assert summary.net_position == "+250"
    assert summary.total_pnl == "+365.00" and summary.daily_pnl == "+365.00"
    assert summary.risk_state == "REDUCING"
    assert summary.fills == "40 (3,500 sh)"
    assert summary.working_orders == "2"


def test_a_summary_before_any_rate_or_latency_shows_dashes():
    summary = vm.summary({"state": "ACTIVE", "counters": {}, "latency_us": {}}, None)
    assert summary.orders_per_s == vm.DASH
    assert summary.tick_to_order == f"{vm.DASH} / {vm.DASH}"
    assert summary.net_position == "+0" and summary.fills == vm.DASH


def test_positions_are_sorted_and_end_with_a_total_row():
    rows = vm.position_rows(engine_status())
    assert [row[0] for row in rows] == ["AAPL", "MSFT", "TOTAL"]
    assert rows[0] == ("AAPL", "+300", "190.25", "191.00", "+225.00", "+100.00", "+325.00")
    assert rows[-1] == ("TOTAL", "+250", "", "", "+275.00", "+90.00", "+365.00")


def test_no_positions_still_give_a_zero_total():
    assert vm.position_rows({"positions": {}}) == [
        ("TOTAL", "+0", "", "", "+0.00", "+0.00", "+0.00")
    ]


def test_latency_rows_follow_the_path_and_pick_readable_units():
    rows = vm.latency_rows(engine_status())
    assert [row[0] for row in rows] == list(vm.LATENCY_HOPS)
    order_to_ack = rows[4]
    assert order_to_ack == ("order_to_ack", "80.0 µs", "150.0 µs", "400.0 µs", "900.0 µs",
                            "2.50 ms", "100")  # fmt: skip
    assert vm.micros(3_200_000) == "3.20 s" and vm.micros(None) == vm.DASH


def test_an_unknown_hop_is_listed_after_the_known_ones():
    rows = vm.latency_rows({"latency_us": {"zeta": {"p50": 1.0}, "tick_to_order": {}}})
    assert [row[0] for row in rows] == ["tick_to_order", "zeta"]


def test_trades_are_newest_first_with_their_latency():
    rows = vm.trade_rows(engine_status(), tz=UTC)
    assert rows[0] == ("22:13:21.500", "MSFT", "SELL", "50", "410.00", "momentum", "1.25 ms")
    assert rows[1][1:] == ("AAPL", "BUY", "100", "190.00", "mm", "85.5 µs")
    assert len(vm.trade_rows(engine_status(), limit=1)) == 1


@pytest.mark.parametrize(
    ("fraction", "level"),
    [(0.0, "green"), (0.69, "green"), (0.7, "amber"), (0.9, "red"), (1.4, "red")],
)
def test_risk_levels(fraction, level):
    assert vm.risk_level(fraction) == level


def test_risk_bars_in_a_fixed_order_with_colour_and_capped_fill():
    bars = vm.risk_bars(engine_status())
    assert [b.name for b in bars] == list(vm.RISK_LIMITS)
    by_name = {b.name: b for b in bars}
    assert by_name["order_rate"].level == "amber" and by_name["order_rate"].percent == "75%"
    assert by_name["circuit_breaker"].level == "red"
    assert by_name["position"].filled_cells(10) == 3
    assert vm.RiskBar("x", 2.5, "red").filled_cells(10) == 10


def test_health_tells_live_stale_engine_down_and_redis_down_apart():
    status = engine_status()
    assert vm.health(status, 0.3, 2.0) == vm.Health("LIVE", "ok")
    stale = vm.health(status, 5.0, 2.0)
    assert stale.level == "warn" and stale.marker.startswith("STALE") and not stale.live
    assert vm.health(None, float("inf"), 2.0).marker.startswith("ENGINE DOWN")
    down = vm.health(None, float("inf"), 2.0, redis_error="Connection refused")
    assert down.level == "bad" and down.marker == "REDIS UNREACHABLE: Connection refused"
