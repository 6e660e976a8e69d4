"""Latency models: interpolation, feed-derived, and sampling the engine's histograms."""

from __future__ import annotations

import numpy as np
import pytest

from tests.trading.research.tick.scenario import JOIN_TOUCH, S, day, opening
from trading.engine.latency import LatencyBook
from trading.hdr_histogram import HdrHistogram
from trading.research.tick.backtest import run_tick_backtest
from trading.research.tick.latency import (
    InterpolatedLatency,
    SampledLatency,
    feed_derived_latency,
    sample_histogram,
)


def test_interpolated_latency_is_linear_between_records():
    model = InterpolatedLatency(np.array([0, 2 * S]), np.array([0, 400_000]), np.array([100, 100]))
    result = run_tick_backtest(
        day(opening() + [(3.5, 3, 1, 100, 1_000_000, 1)]),
        strategy=JOIN_TOUCH,
        interval_ns=S,
        latency=model,
    )
    # Orders sent at 1 s (entry 200 µs, halfway) and at 2 s and 3 s (flat at 400 µs).
    assert result.latency_ns[:2, 0].tolist() == [200_000, 200_000]
    assert result.latency_ns[:2, 1].tolist() == [100, 100]
    with pytest.raises(ValueError, match="strictly increasing"):
        InterpolatedLatency(np.array([1, 1]), np.array([1, 1]), np.array([1, 1]))


def test_feed_derived_latency_from_inter_arrival_and_from_feed_latency():
    ts = np.arange(0, 10_000, 10, dtype=np.int64)  # one event every 10 ns
    model = feed_derived_latency(ts, entry_multiple=3.0, response_multiple=2.0, window=100)
    assert model.entry_ns[1:].tolist() == [30] * (len(model.ts) - 1)
    assert model.response_ns[1:].tolist() == [20] * (len(model.ts) - 1)
    measured = np.full(len(ts), 1_000)
    model = feed_derived_latency(ts, feed_latency_ns=measured, entry_multiple=1.5, window=50)
    assert set(model.entry_ns.tolist()) == {1_500}


def test_histogram_samples_follow_the_recorded_distribution():
    histogram = HdrHistogram()
    values = np.random.default_rng(1).lognormal(mean=11, sigma=0.4, size=50_000).astype(np.int64)
    histogram.record_many(values)
    draws = sample_histogram(histogram, 50_000, np.random.default_rng(2))
    for p in (50, 90, 99):
        assert np.percentile(draws, p) == pytest.approx(np.percentile(values, p), rel=0.02)


def test_engine_latency_book_feeds_the_sampled_model():
    book = LatencyBook()
    book.histograms["tick_to_order"].record_many(np.full(1000, 5_000, np.int64))
    book.histograms["order_to_ack"].record_many(np.full(1000, 80_000, np.int64))
    model = SampledLatency.from_engine(book.histograms, n=1000, seed=3)
    assert np.all(np.abs(model.entry_ns - 45_000) <= 60)  # 5 µs + half of 80 µs (3 digits)
    assert np.all(np.abs(model.response_ns - 40_000) <= 60)
    published = {
        "tick_to_order": {"p50": 5.0, "p99": 6.0, "max": 7.0},
        "order_to_ack": {"p50": 80.0, "p99": 90.0, "max": 100.0},
    }
    model = SampledLatency.from_engine(published, n=2000, seed=3)
    assert 40_000 <= np.median(model.entry_ns) <= 48_000
    later = day(opening() + [(1.5, 1, 9, 10, 999_000, 1)])
    result = run_tick_backtest(later, strategy=JOIN_TOUCH, interval_ns=S, latency=model)
    assert result.latency_ns[0, 0] == model.entry_ns[0]
    with pytest.raises(ValueError, match="order_to_ack"):
        SampledLatency.from_engine({"tick_to_order": book.histograms["tick_to_order"]})
