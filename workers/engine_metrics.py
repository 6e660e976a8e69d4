"""The engine's Prometheus port: the last published status, as text metrics.

The engine's loop hands each status dict over by swapping one reference (`update`); the HTTP
thread only reads that reference, so a scrape never touches the hot path's objects.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import start_wsgi_server
from prometheus_client.registry import Collector, CollectorRegistry

STATES = ("ACTIVE", "REDUCING", "HALTED", "PAUSED", "STOPPING")


class EngineMetrics(Collector):
    """Turns the engine's status dict into metric families at scrape time."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.status: dict[str, Any] | None = None
        self.server: Any = None

    def update(self, status: dict[str, Any]) -> None:
        self.status = status

    def serve(self, host: str, port: int) -> int:
        """Serve GET /metrics on a daemon thread; returns the bound port."""
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        self.server, _ = start_wsgi_server(port, addr=host, registry=registry)
        return int(self.server.server_port)

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def collect(self) -> Iterator[Metric]:
        status = self.status
        account = self.account
        up = GaugeMetricFamily("desk_engine_up", "1 once the engine publishes", labels=["account"])
        up.add_metric([account], 0 if status is None else 1)
        yield up
        if status is None:
            return
        state = GaugeMetricFamily(
            "desk_engine_state", "1 for the engine's trading state", labels=["account", "state"]
        )
        for name in STATES:
            state.add_metric([account, name], 1 if status["state"] == name else 0)
        yield state
        money = GaugeMetricFamily(
            "desk_engine_pnl_dollars", "P&L and equity in dollars", labels=["account", "kind"]
        )
        for kind in ("realised", "unrealised", "equity"):
            money.add_metric([account, kind], status[kind])
        yield money
        positions = GaugeMetricFamily(
            "desk_engine_position_shares", "signed position", labels=["account", "symbol"]
        )
        for symbol, position in status["positions"].items():
            positions.add_metric([account, symbol], position["qty"])
        yield positions
        working = GaugeMetricFamily(
            "desk_engine_working_orders", "orders live at the venue", labels=["account"]
        )
        working.add_metric([account], status["working_orders"])
        yield working
        for name, value in status["counters"].items():
            if isinstance(value, int):
                counter = CounterMetricFamily(
                    f"desk_engine_{name}", f"engine {name.replace('_', ' ')}", labels=["account"]
                )
                counter.add_metric([account], value)
                yield counter
        reasons = CounterMetricFamily(
            "desk_engine_risk_rejects_by_reason", "risk rejects", labels=["account", "reason"]
        )
        for reason, count in status["counters"].get("reject_reasons", {}).items():
            reasons.add_metric([account, reason], count)
        yield reasons
        feed = CounterMetricFamily(
            "desk_engine_feed_messages", "market-data messages applied", labels=["account"]
        )
        feed.add_metric([account], status["feed"]["messages"])
        yield feed
        latency = GaugeMetricFamily(
            "desk_engine_latency_microseconds",
            "latency percentiles per hop since start",
            labels=["account", "hop", "quantile"],
        )
        for hop, figures in status["latency_us"].items():
            for quantile, value in figures.items():
                if quantile != "count":
                    latency.add_metric([account, hop, quantile], value)
        yield latency


def start_engine_metrics(account: str, host: str, port: int) -> EngineMetrics | None:
    """The metrics port, or None (logged) when it cannot bind."""
    metrics = EngineMetrics(account)
    try:
        bound = metrics.serve(host, port)
    except OSError as exc:
        logging.getLogger("SYSTEM").warning(
            "engine metrics port %d unavailable (%s): no metrics", port, exc
        )
        return None
    logging.getLogger("SYSTEM").info("engine metrics on http://%s:%d/metrics", host, bound)
    return metrics
