"""`bench venues`: the real-venue paths against their local stand-ins: order-to-ack through the
Alpaca adapter and the simulator's Alpaca endpoint, and Polygon history download throughput."""

from __future__ import annotations

from workers.benchmarks import venue_alpaca, venue_polygon
from workers.benchmarks.figures import Figure


def run_suite(runs: int = 5, quick: bool = False) -> list[Figure]:
    return venue_alpaca.measure(runs, quick) + venue_polygon.measure(runs, quick)
