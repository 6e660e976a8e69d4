"""The public track record's figures and chart geometry, as plain functions over plain numbers.

Nothing here knows about Django or the ledger: `selectors.py` reads the equity series and the
fill count, and everything below works on floats and datetimes, so it is tested directly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from trading.research.report.charts import extreme_indices

TRADING_DAYS_PER_YEAR = 252
MAX_CHART_POINTS = 500


def total_return(equity: Sequence[float]) -> float | None:
    """Last over first equity, minus one; None without two points or a positive start."""
    if len(equity) < 2 or equity[0] <= 0:
        return None
    return equity[-1] / equity[0] - 1.0


def max_drawdown(equity: Sequence[float]) -> float:
    """The deepest fall from a running peak, as a positive fraction of that peak (0.0 if none)."""
    peak = -math.inf
    deepest = 0.0
    for value in equity:
        peak = max(peak, value)
        if peak > 0:
            deepest = max(deepest, (peak - value) / peak)
    return deepest


def daily_closes(points: Sequence[tuple[datetime, float]]) -> list[float]:
    """The last equity of each calendar day of the (time-ordered, already local) points.

    Sharpe on intraday marks would annualise noise at the sampling rate; one close per day is
    what a daily Sharpe ratio is defined on.
    """
    closes: list[float] = []
    last_day: date | None = None
    for ts, value in points:
        day = ts.date()
        if day == last_day:
            closes[-1] = value
        else:
            closes.append(value)
            last_day = day
    return closes


def simple_returns(closes: Sequence[float]) -> list[float]:
    """Period-over-period returns; a period starting at zero equity has no defined return."""
    return [b / a - 1.0 for a, b in zip(closes, closes[1:], strict=False) if a > 0]


def annualised_sharpe(
    returns: Sequence[float], periods_per_year: int = TRADING_DAYS_PER_YEAR
) -> float | None:
    """Mean over sample standard deviation of the returns, scaled by sqrt(periods per year).

    The risk-free rate is taken as zero. None when it is undefined: fewer than two returns, or
    returns that never vary.
    """
    n = len(returns)
    if n < 2:
        return None
    mean = sum(returns) / n
    variance = sum((r - mean) ** 2 for r in returns) / (n - 1)
    if variance <= 0 or math.sqrt(variance) < 1e-12 * max(1.0, abs(mean)):
        return None
    return mean / math.sqrt(variance) * math.sqrt(periods_per_year)


def downsample(
    points: Sequence[tuple[datetime, float]], max_points: int = MAX_CHART_POINTS
) -> list[tuple[datetime, float]]:
    """At most `max_points` of `points`, keeping the first, the last and each bucket's extremes.

    Keeping every bucket's low and high (in time order) rather than every n-th point means the
    chart still shows the worst drawdown and the best peak, whatever the sampling. The backtest
    reports draw their curves with the same reduction.
    """
    keep = extreme_indices([value for _, value in points], max_points)
    return [points[i] for i in keep.tolist()]


@dataclass(frozen=True)
class Chart:
    """An SVG line chart laid out in a `width` x `height` viewBox."""

    width: int
    height: int
    polyline: str
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    y_high_label: float
    y_low_label: float
    x_start: datetime
    x_end: datetime
    n_points: int
    source_points: int

    @property
    def y_label_x(self) -> float:
        """Where the right-aligned value labels end, just left of the y axis."""
        return self.plot_left - 6

    @property
    def x_label_y(self) -> float:
        """The baseline of the date labels, below the x axis."""
        return self.height - 8.0


def chart(
    points: Sequence[tuple[datetime, float]],
    width: int = 720,
    height: int = 280,
    margin_left: int = 72,
    margin_right: int = 16,
    margin_top: int = 16,
    margin_bottom: int = 36,
    max_points: int = MAX_CHART_POINTS,
) -> Chart | None:
    """Scale the equity series into SVG coordinates (y grows downwards); None under 2 points."""
    if len(points) < 2:
        return None
    shown = downsample(points, max_points)
    t0 = shown[0][0].timestamp()
    span_t = shown[-1][0].timestamp() - t0 or 1.0
    values = [v for _, v in shown]
    low, high = min(values), max(values)
    if high == low:
        # A flat line is drawn through the middle rather than dividing by zero.
        low, high = low - 1.0, high + 1.0
    left, right = float(margin_left), float(width - margin_right)
    top, bottom = float(margin_top), float(height - margin_bottom)
    coords = []
    for ts, value in shown:
        x = left + (ts.timestamp() - t0) / span_t * (right - left)
        y = bottom - (value - low) / (high - low) * (bottom - top)
        coords.append(f"{x:.1f},{y:.1f}")
    return Chart(
        width=width,
        height=height,
        polyline=" ".join(coords),
        plot_left=left,
        plot_right=right,
        plot_top=top,
        plot_bottom=bottom,
        y_high_label=high,
        y_low_label=low,
        x_start=shown[0][0],
        x_end=shown[-1][0],
        n_points=len(shown),
        source_points=len(points),
    )


@dataclass(frozen=True)
class TrackRecord:
    """The headline figures of the public track record."""

    since: datetime | None
    until: datetime | None
    start_equity: float | None
    end_equity: float | None
    total_return: float | None
    annualised_sharpe: float | None
    max_drawdown: float | None
    trades: int
    trading_days: int
    chart: Chart | None


def summarise(points: Sequence[tuple[datetime, float]], trades: int) -> TrackRecord:
    """Every figure of the track record from the time-ordered, local-time equity series."""
    equity = [value for _, value in points]
    closes = daily_closes(points)
    return TrackRecord(
        since=points[0][0] if points else None,
        until=points[-1][0] if points else None,
        start_equity=equity[0] if equity else None,
        end_equity=equity[-1] if equity else None,
        total_return=total_return(equity),
        annualised_sharpe=annualised_sharpe(simple_returns(closes)),
        max_drawdown=max_drawdown(equity) if equity else None,
        trades=trades,
        trading_days=len(closes),
        chart=chart(points),
    )
