"""High-dynamic-range latency histograms: 1 ns to 10 s at 3 significant digits.

The bucketing is HdrHistogram's: values fall into power-of-two buckets, each split into 2048
sub-buckets, so every recorded value is kept to within 1/1000 of itself whatever its size,
in a fixed array of about 25,000 counters. Recording is a few integer operations (no search,
no allocation), which is what lets the engine record every hop of every message; percentiles
are read off the counts by whoever publishes them, away from the hot path.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

LOWEST_NS = 1
HIGHEST_NS = 10_000_000_000  # 10 s
SIGNIFICANT_DIGITS = 3

_SUB_BUCKET_COUNT_MAGNITUDE = int(np.ceil(np.log2(2 * 10**SIGNIFICANT_DIGITS)))  # 11
_SUB_BUCKET_COUNT = 1 << _SUB_BUCKET_COUNT_MAGNITUDE  # 2048
_HALF_MAGNITUDE = _SUB_BUCKET_COUNT_MAGNITUDE - 1  # 10
_HALF_COUNT = 1 << _HALF_MAGNITUDE  # 1024
_SUB_BUCKET_MASK = _SUB_BUCKET_COUNT - 1


def _bucket_count(highest: int) -> int:
    value = _SUB_BUCKET_COUNT
    buckets = 1
    while value <= highest:
        value <<= 1
        buckets += 1
    return buckets


_BUCKETS = _bucket_count(HIGHEST_NS)
COUNTS_LENGTH = (_BUCKETS + 1) * _HALF_COUNT


def counts_index(value: int) -> int:
    """The counter a value (ns, clamped to 0..HIGHEST_NS) falls into."""
    value = 0 if value < 0 else HIGHEST_NS if value > HIGHEST_NS else value
    bucket = (value | _SUB_BUCKET_MASK).bit_length() - _SUB_BUCKET_COUNT_MAGNITUDE
    sub_bucket = value >> bucket
    return ((bucket + 1) << _HALF_MAGNITUDE) + (sub_bucket - _HALF_COUNT)


def value_range(index: int) -> tuple[int, int]:
    """The lowest and highest value (ns) a counter stands for."""
    bucket = (index >> _HALF_MAGNITUDE) - 1
    sub_bucket = (index & (_HALF_COUNT - 1)) + _HALF_COUNT
    if bucket < 0:
        sub_bucket -= _HALF_COUNT
        bucket = 0
    lowest = sub_bucket << bucket
    return lowest, lowest + (1 << bucket) - 1


@njit(cache=True)
def _record_many(counts: np.ndarray, values: np.ndarray) -> tuple[int, int, int, int]:
    """Record an array of values in one compiled loop; returns how many were clamped and
    the smallest, largest and sum of the (clamped) values."""
    clamped = 0
    low = HIGHEST_NS
    high = 0
    total = 0
    for i in range(values.shape[0]):
        value = values[i]
        if value < 0:
            value = 0
            clamped += 1
        elif value > HIGHEST_NS:
            value = HIGHEST_NS
            clamped += 1
        low = min(low, value)
        high = max(high, value)
        total += value
        probe = value | _SUB_BUCKET_MASK
        bits = 0
        while probe:
            probe >>= 1
            bits += 1
        bucket = bits - _SUB_BUCKET_COUNT_MAGNITUDE
        sub_bucket = value >> bucket
        counts[((bucket + 1) << _HALF_MAGNITUDE) + (sub_bucket - _HALF_COUNT)] += 1
    return clamped, low, high, total


class HdrHistogram:
    """Counts of latencies in nanoseconds, with percentiles accurate to 3 significant digits."""

    __slots__ = ("counts", "total", "min_ns", "max_ns", "sum_ns", "clamped")

    def __init__(self) -> None:
        self.counts = np.zeros(COUNTS_LENGTH, dtype=np.int64)
        self.total = 0
        self.min_ns = 0
        self.max_ns = 0
        self.sum_ns = 0
        self.clamped = 0

    def record(self, value_ns: int) -> None:
        """Count one latency (values outside 0..10 s are clamped and counted as such)."""
        if value_ns < 0 or value_ns > HIGHEST_NS:
            self.clamped += 1
        index = counts_index(value_ns)
        self.counts[index] += 1
        self._note(min(max(value_ns, 0), HIGHEST_NS), 1)

    def record_many(self, values_ns: np.ndarray) -> None:
        """Count an array of latencies in one compiled loop."""
        values = np.ascontiguousarray(values_ns, dtype=np.int64)
        if not len(values):
            return
        clamped, low, high, total = _record_many(self.counts, values)
        self.clamped += clamped
        self.min_ns = low if not self.total else min(self.min_ns, low)
        self.max_ns = max(self.max_ns, high)
        self.total += len(values)
        self.sum_ns += total

    def _note(self, value: int, count: int) -> None:
        self.min_ns = value if not self.total else min(self.min_ns, value)
        self.max_ns = max(self.max_ns, value)
        self.total += count
        self.sum_ns += value * count

    def percentile(self, p: float) -> int:
        """The value (ns) at or below which `p` percent of the counts lie (0 when empty)."""
        if not 0 <= p <= 100:
            raise ValueError(f"percentile must be within 0..100, got {p}")
        if not self.total:
            return 0
        rank = max(1, int(np.ceil(p / 100 * self.total)))
        index = int(np.searchsorted(np.cumsum(self.counts), rank))
        return min(value_range(index)[1], self.max_ns)

    def percentiles(self, ps: tuple[float, ...] = (50, 95, 99, 99.9)) -> dict[str, int]:
        """Several percentiles at once, keyed `p50`, `p95`, `p99`, `p999`, plus `max`."""
        keys = ["p" + f"{p:g}".replace(".", "") for p in ps]
        if not self.total:
            return dict.fromkeys(keys, 0) | {"max": self.max_ns}
        for p in ps:
            if not 0 <= p <= 100:
                raise ValueError(f"percentile must be within 0..100, got {p}")
        ranks = [max(1, math.ceil(p / 100 * self.total)) for p in ps]
        order = sorted(range(len(ps)), key=ranks.__getitem__)
        found = _indexes_at_ranks(self.counts, np.array([ranks[i] for i in order], np.int64))
        indexes = [0] * len(ps)
        for position, i in enumerate(order):
            indexes[i] = int(found[position])
        result = {
            key: min(value_range(index)[1], self.max_ns)
            for key, index in zip(keys, indexes, strict=True)
        }
        result["max"] = self.max_ns
        return result

    @property
    def mean_ns(self) -> float:
        return self.sum_ns / self.total if self.total else 0.0

    def merge(self, other: HdrHistogram) -> None:
        """Add another histogram's counts to this one (e.g. per-thread histograms)."""
        self.counts += other.counts
        if other.total:
            self.min_ns = other.min_ns if not self.total else min(self.min_ns, other.min_ns)
            self.max_ns = max(self.max_ns, other.max_ns)
        self.total += other.total
        self.sum_ns += other.sum_ns
        self.clamped += other.clamped

    def reset(self) -> None:
        """Forget everything (e.g. at the start of a publishing interval)."""
        self.counts[:] = 0
        self.total = self.min_ns = self.max_ns = self.sum_ns = self.clamped = 0


@njit(cache=True)
def _indexes_at_ranks(counts: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """For ascending ranks, the first bucket whose cumulative count reaches each: one pass
    that stops at the highest rank (no cumulative array is built)."""
    out = np.zeros(len(ranks), np.int64)
    j = 0
    running = 0
    for i in range(len(counts)):
        running += counts[i]
        while j < len(ranks) and running >= ranks[j]:
            out[j] = i
            j += 1
        if j == len(ranks):
            break
    return out


def warm_up() -> None:
    """Load the compiled kernels now, so the first percentiles in a live engine do not stall
    its thread for the milliseconds a first call costs."""
    histogram = HdrHistogram()
    histogram.record_many(np.array([1_000], np.int64))
    histogram.percentiles()
