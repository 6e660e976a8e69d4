"""`bench research`: the tick backtester against hftbacktest, the bar sweep against vectorbt and
backtrader, a sweep fanned out over two Celery workers against one, and peak memory of each.

Every peer is measured in the same run on the same data, so a ratio never compares figures
from different machines or different moments of a noisy one.
"""

from __future__ import annotations

from workers.benchmarks import research_celery, research_sweep, research_tick
from workers.benchmarks.figures import Figure


def run_suite(runs: int = 5, quick: bool = False) -> list[Figure]:
    figures: list[Figure] = []
    figures += research_tick.measure(runs, quick)
    figures += research_sweep.measure(runs, quick)
    figures += research_celery.measure(runs, quick)
    peers = ("vectorbt", "hftbacktest", "backtrader")
    peaks = [
        f
        for f in figures
        if f.key.endswith("_peak_rss_mb") and f.samples and not any(p in f.key for p in peers)
    ]
    peak = Figure(
        "peak_rss_mb",
        "peak RSS of the largest of this project's runs",
        "MB",
        higher_is_better=False,
        note=", ".join(f"{f.key.removesuffix('_peak_rss_mb')} {f.median:,.0f}" for f in peaks),
    )
    if peaks:
        peak.samples = [max(f.median for f in peaks)]
    return figures + [peak]
