"""Latency samples taken on the hot path and turned into histograms in batches.

The hot path only stores an int into a preallocated array (no object, no lock). At a safe
point between events (a few times a second) the buffer is drained into an `HdrHistogram` in
one compiled loop. If draining falls behind and the buffer fills, further samples are dropped
and counted, never blocking the hot path.
"""

from __future__ import annotations

import numpy as np

from trading.hdr_histogram import HdrHistogram

HOPS = (
    "feed_to_signal",
    "signal_to_risk",
    "risk_to_wire",
    "tick_to_order",
    "order_to_ack",
    # Not a hop: how long the engine's thread spends between events on control (commands,
    # checkpoint, state), during which arriving market data waits.
    "control_step",
)


class SampleBuffer:
    """A fixed array of nanosecond samples written by one thread, drained by another."""

    __slots__ = ("samples", "count", "dropped")

    def __init__(self, capacity: int = 1 << 16) -> None:
        self.samples = np.zeros(capacity, dtype=np.int64)
        self.count = 0
        self.dropped = 0

    def add(self, value_ns: int) -> None:
        """Record one sample (the hot path's only cost)."""
        count = self.count
        if count < len(self.samples):
            self.samples[count] = value_ns
            self.count = count + 1
        else:
            self.dropped += 1

    def drain_into(self, histogram: HdrHistogram) -> int:
        """Move the samples into `histogram`; returns how many moved.

        Call it from the writer's own thread at a safe point (or with the writer paused):
        the buffer has a single writer and no lock.
        """
        count = self.count
        if count:
            histogram.record_many(self.samples[:count])
            self.count = 0
        return count


class LatencyBook:
    """Per-hop sample buffers and cumulative histograms, published as percentiles."""

    def __init__(self, hops: tuple[str, ...] = HOPS) -> None:
        self.buffers = {hop: SampleBuffer() for hop in hops}
        self.histograms = {hop: HdrHistogram() for hop in hops}
        self._published: dict[str, dict[str, float]] = {}

    def add(self, hop: str, value_ns: int) -> None:
        self.buffers[hop].add(value_ns)

    def publish(self) -> dict[str, dict[str, float]]:
        """Drain every buffer and return p50/p95/p99/p999/max per hop, in microseconds."""
        result = {}
        published = self._published
        for hop, buffer in self.buffers.items():
            histogram = self.histograms[hop]
            moved = buffer.drain_into(histogram)
            figures = published.get(hop)
            if moved or figures is None:
                # Percentiles only change with new samples; a quiet hop costs nothing.
                figures = {k: v / 1000 for k, v in histogram.percentiles().items()}
                figures["count"] = histogram.total
                published[hop] = figures
            result[hop] = dict(figures)
        return result
