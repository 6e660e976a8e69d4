"""Hot-path latency samples reach the histograms intact, and a full buffer never blocks."""

import numpy as np
import pytest

from trading.engine.latency import LatencyBook, SampleBuffer
from trading.hdr_histogram import HdrHistogram


def test_samples_are_drained_into_the_histogram_and_the_buffer_reused():
    buffer = SampleBuffer(capacity=8)
    histogram = HdrHistogram()
    for value in (1_000, 2_000, 3_000):
        buffer.add(value)
    assert buffer.drain_into(histogram) == 3 and buffer.count == 0
    assert histogram.total == 3 and histogram.percentile(50) == pytest.approx(2_000, rel=1e-3)


def test_a_full_buffer_drops_and_counts_instead_of_blocking():
    buffer = SampleBuffer(capacity=4)
    for value in range(10):
        buffer.add(value)
    assert (buffer.count, buffer.dropped) == (4, 6)


def test_published_percentiles_are_in_microseconds_per_hop():
    book = LatencyBook(("tick_to_order",))
    for value in np.linspace(10_000, 20_000, 1001).astype(int).tolist():
        book.add("tick_to_order", value)
    published = book.publish()["tick_to_order"]
    assert published["count"] == 1001
    assert published["p50"] == pytest.approx(15.0, rel=1e-3)
    assert published["max"] == 20.0
