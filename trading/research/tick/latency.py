"""Order latency models for the tick backtester: how long a request takes to reach the
exchange (entry) and its answer to come back (response).

* :class:`ConstantLatency`: fixed entry and response latency.
* :class:`InterpolatedLatency`: recorded ``(ts, entry_ns, response_ns)`` rows, linearly
  interpolated at the time a request is sent / answered (flat outside the recorded range).
* :func:`feed_derived_latency`: when no order latency was recorded, a multiple of the feed's own
  timing: the measured feed latency per event if there is one, else the mean inter-arrival time
  of market events over a rolling window (busy markets are slow markets).
* :class:`SampledLatency`: latencies drawn (with a seed) from a distribution, e.g. the engine's
  own measured latency histograms (:meth:`SampledLatency.from_engine`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from trading.hdr_histogram import HdrHistogram, value_range
from trading.research.tick.engine import LAT_CONSTANT, LAT_INTERPOLATED, LAT_SAMPLED

__all__ = [
    "ConstantLatency",
    "InterpolatedLatency",
    "LatencyModel",
    "SampledLatency",
    "feed_derived_latency",
    "sample_histogram",
]


@dataclass(frozen=True)
class ConstantLatency:
    """The same entry and response latency (ns) for every request."""

    entry_ns: int = 0
    response_ns: int = 0

    def __post_init__(self) -> None:
        if self.entry_ns < 0 or self.response_ns < 0:
            raise ValueError(
                f"latencies must be >= 0 ns, got entry {self.entry_ns}, response {self.response_ns}"
            )

    def arrays(self) -> tuple[int, int, int, np.ndarray, np.ndarray, np.ndarray]:
        empty = np.zeros(1, np.int64)
        return LAT_CONSTANT, self.entry_ns, self.response_ns, empty, empty, empty


@dataclass(frozen=True)
class InterpolatedLatency:
    """Recorded order latencies: at time ``ts[k]`` a request took ``entry_ns[k]`` to arrive and
    its answer ``response_ns[k]`` to come back."""

    ts: np.ndarray
    entry_ns: np.ndarray
    response_ns: np.ndarray

    def __post_init__(self) -> None:
        ts = np.ascontiguousarray(self.ts, np.int64)
        entry = np.ascontiguousarray(self.entry_ns, np.int64)
        resp = np.ascontiguousarray(self.response_ns, np.int64)
        if not (len(ts) == len(entry) == len(resp)) or len(ts) == 0:
            raise ValueError(
                f"ts, entry_ns and response_ns need the same non-zero length, got "
                f"{len(ts)}, {len(entry)}, {len(resp)}"
            )
        if np.any(np.diff(ts) <= 0):
            raise ValueError("latency timestamps must be strictly increasing")
        if entry.min() < 0 or resp.min() < 0:
            raise ValueError("recorded latencies must be >= 0 ns")
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "entry_ns", entry)
        object.__setattr__(self, "response_ns", resp)

    def arrays(self) -> tuple[int, int, int, np.ndarray, np.ndarray, np.ndarray]:
        return LAT_INTERPOLATED, 0, 0, self.ts, self.entry_ns, self.response_ns


@dataclass(frozen=True)
class SampledLatency:
    """Latencies used in turn, one entry sample per request and one response sample per answer
    (cycled if the run needs more than were drawn)."""

    entry_ns: np.ndarray
    response_ns: np.ndarray
    source: str = field(default="samples")

    def __post_init__(self) -> None:
        entry = np.ascontiguousarray(self.entry_ns, np.int64)
        resp = np.ascontiguousarray(self.response_ns, np.int64)
        if len(entry) == 0 or len(resp) == 0:
            raise ValueError("sampled latency needs at least one entry and one response sample")
        if entry.min() < 0 or resp.min() < 0:
            raise ValueError("latency samples must be >= 0 ns")
        object.__setattr__(self, "entry_ns", entry)
        object.__setattr__(self, "response_ns", resp)

    def arrays(self) -> tuple[int, int, int, np.ndarray, np.ndarray, np.ndarray]:
        # The core reads entry samples from one array and response samples from the other.
        return LAT_SAMPLED, 0, 0, np.zeros(1, np.int64), self.entry_ns, self.response_ns

    @classmethod
    def from_histograms(
        cls, entry: HdrHistogram, response: HdrHistogram, *, n: int = 100_000, seed: int = 0
    ) -> SampledLatency:
        """Draw ``n`` entry and ``n`` response latencies from two latency histograms."""
        rng = np.random.default_rng(seed)
        return cls(
            sample_histogram(entry, n, rng), sample_histogram(response, n, rng), source="histograms"
        )

    @classmethod
    def from_engine(
        cls,
        latency: Mapping[str, HdrHistogram] | Mapping[str, Mapping[str, float]],
        *,
        n: int = 100_000,
        seed: int = 0,
    ) -> SampledLatency:
        """Latencies from the engine's measured hops (``LatencyBook.histograms``, or the
        per-hop percentiles in microseconds that ``LatencyBook.publish()`` returns).

        Entry is the engine's own reaction time (``tick_to_order``) plus half the wire round
        trip (``order_to_ack``); the response is the other half. Hops are drawn independently.
        """
        rng = np.random.default_rng(seed)
        for hop in ("tick_to_order", "order_to_ack"):
            if hop not in latency:
                raise ValueError(f"engine latency has no {hop!r} hop (got {sorted(latency)})")
        draws = {}
        for hop in ("tick_to_order", "order_to_ack"):
            source = latency[hop]
            if isinstance(source, HdrHistogram):
                if not source.total:
                    raise ValueError(f"engine latency histogram {hop!r} is empty")
                draws[hop] = sample_histogram(source, n, rng)
            else:
                draws[hop] = _sample_percentiles(source, n, rng)
        half_trip = draws["order_to_ack"] // 2
        entry = draws["tick_to_order"] + half_trip
        response = draws["order_to_ack"] - half_trip
        return cls(entry, rng.permutation(response), source="engine")


LatencyModel = ConstantLatency | InterpolatedLatency | SampledLatency


def sample_histogram(histogram: HdrHistogram, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` values drawn from a histogram: a bucket by its count, then uniformly inside it."""
    if n < 1:
        raise ValueError(f"sample count must be >= 1, got {n}")
    index = np.flatnonzero(histogram.counts)
    if len(index) == 0:
        raise ValueError("cannot sample an empty histogram")
    weights = histogram.counts[index] / histogram.counts[index].sum()
    bounds = np.array([value_range(int(k)) for k in index], np.int64)
    pick = rng.choice(len(index), size=n, p=weights)
    low, high = bounds[pick, 0], bounds[pick, 1]
    return low + np.floor(rng.random(n) * (high - low + 1)).astype(np.int64)


def _sample_percentiles(figures: Mapping[str, float], n: int, rng: np.random.Generator):
    """Inverse-CDF sampling through published percentiles (µs), linear between them."""
    points = [(0.0, 0.0)]
    for key, value in figures.items():
        if key.startswith("p") and key[1:].isdigit():
            digits = key[1:]
            # p50 -> 50, p999 -> 99.9
            q = float(digits) if len(digits) <= 2 else float(digits[:2] + "." + digits[2:])
            points.append((q / 100.0, float(value)))
    if "max" in figures:
        points.append((1.0, float(figures["max"])))
    if len(points) < 2:
        raise ValueError(f"no percentiles to sample from in {dict(figures)}")
    points.sort()
    qs = np.array([p for p, _ in points])
    vs = np.maximum.accumulate(np.array([v for _, v in points]))
    if qs[-1] < 1.0:
        qs = np.append(qs, 1.0)
        vs = np.append(vs, vs[-1])
    return np.round(np.interp(rng.random(n), qs, vs) * 1000.0).astype(np.int64)


def feed_derived_latency(
    event_ts: np.ndarray,
    *,
    feed_latency_ns: np.ndarray | None = None,
    entry_multiple: float = 1.0,
    response_multiple: float = 1.0,
    window: int = 1000,
    floor_ns: int = 0,
) -> InterpolatedLatency:
    """Order latency as a multiple of the feed's timing, sampled every ``window`` events.

    With ``feed_latency_ns`` (one per event, e.g. receive time minus exchange time) the base is
    its mean over each window; otherwise the mean inter-arrival time of events in the window.
    """
    ts = np.asarray(event_ts, np.int64)
    if len(ts) < 2:
        raise ValueError("feed-derived latency needs at least two events")
    if window < 1:
        raise ValueError(f"window must be >= 1 event, got {window}")
    if entry_multiple < 0 or response_multiple < 0:
        raise ValueError("latency multiples must be >= 0")
    if feed_latency_ns is not None:
        base = np.asarray(feed_latency_ns, np.float64)
        if len(base) != len(ts):
            raise ValueError(f"{len(base)} feed latencies for {len(ts)} events")
    else:
        base = np.diff(ts, prepend=ts[0]).astype(np.float64)
    starts = np.arange(0, len(ts), window)
    means = np.add.reduceat(base, starts) / np.diff(np.append(starts, len(ts)))
    stamps = ts[starts]
    keep = np.concatenate([[True], np.diff(stamps) > 0])
    stamps, means = stamps[keep], means[keep]
    entry = np.maximum(np.round(means * entry_multiple), floor_ns).astype(np.int64)
    resp = np.maximum(np.round(means * response_multiple), floor_ns).astype(np.int64)
    return InterpolatedLatency(stamps, entry, resp)
