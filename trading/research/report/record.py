"""What a finished backtest hands to the report: one run's equity, trades and samples.

`RunRecord` normalises its inputs on construction (numpy arrays of fixed dtypes, timestamps as
int64 nanoseconds since the Unix epoch) and rejects what the metrics cannot be defined on, so
everything downstream can trust it.

Units: equity, prices, P&L, fees and traded notional are in dollars (float); a tick run whose
prices are integers in 1e-4 dollars divides them by 10,000 before building the record. Timestamps
are absolute: a LOBSTER run adds the day's midnight (in nanoseconds since the epoch) to its
since-midnight event times, so that calendar figures (monthly returns, drawdown days) mean
something.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, cast

import numpy as np

NS_PER_SECOND = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_SECOND

TRADE_DTYPE = np.dtype(
    [
        ("entry_ts", np.int64),
        ("exit_ts", np.int64),
        ("side", np.int8),
        ("qty", np.float64),
        ("entry_price", np.float64),
        ("exit_price", np.float64),
        ("pnl", np.float64),
        ("fees", np.float64),
    ]
)
# A structured dtype always has field names; numpy types `names` as optional.
_TRADE_FIELDS = cast(tuple[str, ...], TRADE_DTYPE.names)


class Trade(NamedTuple):
    """One round trip: opened at `entry_ts`, closed at `exit_ts` (ns since the epoch).

    `side` is +1 for a long and -1 for a short, `qty` the absolute size. `pnl` is the trade's
    net profit in dollars, after its `fees` (the convention of vectorbt's trade records), so the
    P&L of all trades adds up to the equity change when nothing else moves the account.
    """

    entry_ts: int
    exit_ts: int
    side: int
    qty: float
    entry_price: float
    exit_price: float
    pnl: float
    fees: float


def as_ns(timestamps: Any, what: str = "timestamps") -> np.ndarray:
    """int64 nanoseconds since the epoch from datetime64 values (any unit) or integers."""
    array = np.asarray(timestamps)
    if array.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {array.shape}")
    if np.issubdtype(array.dtype, np.datetime64):
        if np.isnat(array).any():
            raise ValueError(f"{what} contain NaT")
        return array.astype("datetime64[ns]").view(np.int64)
    if array.size == 0:
        return array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{what} must be datetime64 or integer nanoseconds, got {array.dtype}")
    return array.astype(np.int64)


def iso_times(ns: np.ndarray) -> list[str]:
    """ISO 8601 strings of nanosecond timestamps at one precision for the whole series: dates
    when every mark is a midnight (UTC), else the coarsest of seconds, ms, us or ns that is
    exact, with a Z."""
    ns = np.asarray(ns, dtype=np.int64)
    if len(ns) == 0:
        return []
    stamps = ns.view("datetime64[ns]")
    if not (ns % NS_PER_DAY).any():
        return np.datetime_as_string(stamps, unit="D").tolist()
    units: tuple[tuple[Literal["s", "ms", "us", "ns"], int], ...] = (
        ("s", NS_PER_SECOND),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    )
    unit = next(name for name, size in units if not (ns % size).any())
    return np.datetime_as_string(stamps, unit=unit, timezone="UTC").tolist()


def iso_time(ns: int) -> str:
    """ISO 8601 text of one nanosecond timestamp, as `iso_times` writes it."""
    return iso_times(np.array([ns], dtype=np.int64))[0]


def as_trades(trades: Any) -> np.ndarray:
    """A TRADE_DTYPE structured array from such an array, or from a sequence of `Trade`s."""
    if trades is None:
        return np.zeros(0, dtype=TRADE_DTYPE)
    out: np.ndarray
    if isinstance(trades, np.ndarray) and trades.dtype.names is not None:
        missing = [name for name in _TRADE_FIELDS if name not in trades.dtype.names]
        if missing:
            raise ValueError(f"trades lack the fields {missing}")
        out = np.zeros(len(trades), dtype=TRADE_DTYPE)
        for name in _TRADE_FIELDS:
            column = trades[name]
            if name.endswith("_ts"):
                column = as_ns(column, f"trades[{name!r}]")
            out[name] = column
    else:
        rows = [tuple(Trade(*t)) for t in trades]
        out = np.array(rows, dtype=TRADE_DTYPE) if rows else np.zeros(0, dtype=TRADE_DTYPE)
    bad_side = ~np.isin(out["side"], (-1, 1))
    if bad_side.any():
        raise ValueError(f"trade side must be +1 or -1, got {out['side'][bad_side][0]}")
    if (out["exit_ts"] < out["entry_ts"]).any():
        i = int(np.flatnonzero(out["exit_ts"] < out["entry_ts"])[0])
        raise ValueError(f"trade {i} exits at {out['exit_ts'][i]} before entering")
    for name in ("qty", "entry_price", "exit_price", "pnl", "fees"):
        if not np.isfinite(out[name]).all():
            raise ValueError(f"trade {name} must be finite")
    return out


def _optional_samples(values: Any, what: str) -> np.ndarray | None:
    if values is None:
        return None
    array = np.asarray(values, dtype=np.float64).ravel()
    if not np.isfinite(array).all():
        raise ValueError(f"{what} samples must be finite")
    return array


@dataclass
class RunRecord:
    """One backtest run as the report reads it.

    `equity` is the account value at each of `timestamps` (strictly positive: returns are not
    defined through zero or negative equity). The ratio metrics assume the marks are evenly
    spaced, `periods_per_year` of them a year (252 for daily bars; a tick run samples its equity
    on a regular clock first). `exposure` is the gross exposure (sum of absolute position values
    over equity) at each mark. `traded_notional` is the dollar value traded, a total or one value
    per mark; without it the trades' entry and exit notionals are summed. `latency_ns` and
    `queue_position` are the samples a tick run records (order round-trip latencies and the
    quantity ahead of our orders when they were placed or filled).
    """

    name: str
    timestamps: Any
    equity: Any
    trades: Any = None
    kind: str = "bars"
    fees_total: float | None = None
    exposure: Any = None
    traded_notional: Any = None
    latency_ns: Any = None
    queue_position: Any = None
    periods_per_year: float = 252.0
    params: Mapping[str, Any] = field(default_factory=dict)
    benchmark_equity: Any = None
    benchmark_name: str = "Benchmark"

    def __post_init__(self) -> None:
        self.name = str(self.name)
        self.kind = str(self.kind)
        self.timestamps = as_ns(self.timestamps)
        self.equity = np.asarray(self.equity, dtype=np.float64)
        n = len(self.timestamps)
        if self.equity.ndim != 1 or len(self.equity) != n:
            raise ValueError(f"equity has shape {self.equity.shape}, timestamps have {n} values")
        if n == 0:
            raise ValueError("a run needs at least one equity mark")
        if not np.isfinite(self.equity).all():
            raise ValueError("equity must be finite")
        if (self.equity <= 0).any():
            i = int(np.flatnonzero(self.equity <= 0)[0])
            raise ValueError(f"equity must be positive, got {self.equity[i]} at index {i}")
        if n > 1 and (np.diff(self.timestamps) < 0).any():
            i = int(np.flatnonzero(np.diff(self.timestamps) < 0)[0]) + 1
            raise ValueError(f"timestamps go backwards at index {i}")
        if not (np.isfinite(self.periods_per_year) and self.periods_per_year > 0):
            raise ValueError(f"periods_per_year must be positive, got {self.periods_per_year}")
        self.periods_per_year = float(self.periods_per_year)
        self.trades = as_trades(self.trades)
        if self.fees_total is None:
            self.fees_total = float(self.trades["fees"].sum())
        self.fees_total = float(self.fees_total)
        if not np.isfinite(self.fees_total):
            raise ValueError(f"fees_total must be finite, got {self.fees_total}")
        if self.exposure is not None:
            self.exposure = np.asarray(self.exposure, dtype=np.float64)
            if self.exposure.shape != self.equity.shape:
                raise ValueError(
                    f"exposure has shape {self.exposure.shape}, equity {self.equity.shape}"
                )
            if not np.isfinite(self.exposure).all():
                raise ValueError("exposure must be finite")
        if self.traded_notional is not None:
            notional = np.asarray(self.traded_notional, dtype=np.float64)
            if not np.isfinite(notional).all() or (notional < 0).any():
                raise ValueError("traded_notional must be finite and non-negative")
            self.traded_notional = float(notional.sum())
        self.latency_ns = _optional_samples(self.latency_ns, "latency_ns")
        self.queue_position = _optional_samples(self.queue_position, "queue_position")
        if self.benchmark_equity is not None:
            bench = np.asarray(self.benchmark_equity, dtype=np.float64)
            if bench.shape != self.equity.shape:
                raise ValueError(
                    f"benchmark_equity has shape {bench.shape}, equity {self.equity.shape}"
                )
            if not np.isfinite(bench).all() or (bench <= 0).any():
                raise ValueError("benchmark_equity must be finite and positive")
            self.benchmark_equity = bench
        self.params = dict(self.params or {})
