"""Latency histograms keep every value to 3 significant digits from 1 ns to 10 s."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading.hdr_histogram import HIGHEST_NS, HdrHistogram, counts_index, value_range


@given(st.integers(0, HIGHEST_NS))
def test_every_value_lands_in_a_counter_no_wider_than_a_thousandth_of_it(value):
    low, high = value_range(counts_index(value))
    assert low <= value <= high
    assert high - low <= max(0, value) / 1000 + 1


def test_percentiles_agree_with_numpy_to_three_significant_digits():
    rng = np.random.default_rng(1)
    values = rng.lognormal(mean=np.log(20_000), sigma=1.0, size=200_000).astype(np.int64)
    histogram = HdrHistogram()
    histogram.record_many(values)
    for p in (50, 95, 99, 99.9):
        exact = np.percentile(values, p, method="inverted_cdf")
        assert histogram.percentile(p) == pytest.approx(exact, rel=1e-3)
    assert histogram.percentiles()["max"] == values.max()
    assert histogram.mean_ns == pytest.approx(values.mean())


def test_one_by_one_and_in_bulk_give_the_same_counts():
    values = np.array([0, 1, 7, 1023, 2048, 2049, 123_456, 10**9, HIGHEST_NS], dtype=np.int64)
    one, bulk = HdrHistogram(), HdrHistogram()
    for value in values.tolist():
        one.record(value)
    bulk.record_many(values)
    assert np.array_equal(one.counts, bulk.counts)
    assert (one.total, one.min_ns, one.max_ns, one.sum_ns) == (
        bulk.total, bulk.min_ns, bulk.max_ns, bulk.sum_ns)  # fmt: skip


def test_values_beyond_the_range_are_clamped_and_counted():
    histogram = HdrHistogram()
    histogram.record(-5)
    histogram.record(HIGHEST_NS * 3)
    assert histogram.clamped == 2 and histogram.max_ns == HIGHEST_NS
    assert histogram.percentile(100) == HIGHEST_NS


def test_merge_and_reset():
    a, b = HdrHistogram(), HdrHistogram()
    a.record_many(np.full(10, 1_000))
    b.record_many(np.full(30, 5_000))
    a.merge(b)
    assert a.total == 40 and a.percentile(50) == pytest.approx(5_000, rel=1e-3)
    a.reset()
    assert a.total == 0 and a.percentile(99) == 0
    with pytest.raises(ValueError, match="within 0..100"):
        a.percentile(101)
