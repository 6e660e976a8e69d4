"""The engine's Prometheus port serves the last published status as text metrics."""

import urllib.request

from workers.engine_metrics import EngineMetrics

STATUS = {
    "positions": {"AAPL": {"qty": -200, "avg_price": 190.01}},
    "realised": 12.5,
    "unrealised": -3.25,
    "equity": 1_000_009.25,
    "state": "REDUCING",
    "working_orders": 3,
    "counters": {"orders": 41, "fills": 7, "reject_reasons": {"max_position": 2}},
    "latency_us": {"tick_to_order": {"p50": 48.5, "p99": 111.0, "count": 40}},
    "feed": {"messages": 9000},
}


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def test_metrics_say_down_until_the_first_status_then_report_it():
    metrics = EngineMetrics("demo")
    port = metrics.serve("127.0.0.1", 0)
    try:
        assert 'desk_engine_up{account="demo"} 0.0' in scrape(port)
        metrics.update(STATUS)
        text = scrape(port)
    finally:
        metrics.close()
    for line in (
        'desk_engine_up{account="demo"} 1.0',
        'desk_engine_state{account="demo",state="REDUCING"} 1.0',
        'desk_engine_state{account="demo",state="ACTIVE"} 0.0',
        'desk_engine_position_shares{account="demo",symbol="AAPL"} -200.0',
        'desk_engine_pnl_dollars{account="demo",kind="unrealised"} -3.25',
        'desk_engine_orders_total{account="demo"} 41.0',
        'desk_engine_risk_rejects_by_reason_total{account="demo",reason="max_position"} 2.0',
        'desk_engine_feed_messages_total{account="demo"} 9000.0',
        'desk_engine_latency_microseconds{account="demo",hop="tick_to_order",quantile="p99"} 111.0',
        'desk_engine_working_orders{account="demo"} 3.0',
    ):
        assert line in text, line
