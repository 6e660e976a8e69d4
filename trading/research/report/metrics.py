"""Performance figures of a run, with their conventions spelled out.

Conventions (the same as vectorbt's returns accessor and empyrical):

- Returns are simple period returns of the equity marks, r_t = E_t / E_{t-1} - 1; a run of n
  marks has n - 1 returns. The marks are assumed evenly spaced, `periods_per_year` (P) a year.
- The risk-free rate and the Sortino target are zero.
- Sharpe = mean(r) / std(r, ddof=1) * sqrt(P). Undefined (None) with fewer than two returns or
  when the returns never vary (a flat curve has no risk to reward).
- Sortino = mean(r) * P / (DD * sqrt(P)) with the downside deviation
  DD = sqrt(mean(min(r, 0)^2)) taken over all n - 1 returns (not only the negative ones).
  None with fewer than two returns; +inf when no return is negative and the mean is positive;
  None when no return is negative and the mean is zero.
- Annual volatility = std(r, ddof=1) * sqrt(P).
- CAGR = (E_last / E_first) ** (P / (n - 1)) - 1: years are counted in periods, not calendar
  days, so that it agrees with the Sharpe ratio's clock.
- Drawdown_t = E_t / max(E_0..E_t) - 1 (zero or negative); the maximum drawdown is reported as
  a positive fraction. Its duration runs from the peak it fell from to the first mark back at
  or above that peak (or to the last mark, flagged unrecovered), in periods and calendar days.
- Calmar = CAGR / max drawdown; None without a drawdown.
- Turnover = traded notional / mean equity over the run; annual turnover scales it by
  P / (n - 1).
- A trade wins when its net P&L (after fees) is above zero and loses when below; a trade at
  exactly zero counts in the hit rate's denominator but neither as a win nor a loss. Profit
  factor = gross wins / gross losses (+inf with wins and no losses, None with neither).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from trading.research.report.record import NS_PER_DAY, NS_PER_SECOND, RunRecord, iso_time


def simple_returns(equity: np.ndarray) -> np.ndarray:
    """Period-over-period simple returns of a positive equity curve (one fewer than marks)."""
    equity = np.asarray(equity, dtype=np.float64)
    return equity[1:] / equity[:-1] - 1.0


def _is_flat(std: float, mean: float) -> bool:
    # Rounding leaves a std of ~1e-17 on a mathematically constant series.
    return std <= 1e-14 * max(1.0, abs(mean))


def sharpe_ratio(returns: np.ndarray, periods_per_year: float) -> float | None:
    """Annualised Sharpe ratio (risk-free 0, ddof=1); None when undefined."""
    returns = np.asarray(returns, dtype=np.float64)
    if len(returns) < 2:
        return None
    mean = float(returns.mean())
    std = float(returns.std(ddof=1))
    if _is_flat(std, mean):
        return None
    return mean / std * math.sqrt(periods_per_year)


def downside_deviation(returns: np.ndarray) -> float:
    """Root mean square of the returns below zero, over all returns (per period)."""
    returns = np.asarray(returns, dtype=np.float64)
    if len(returns) == 0:
        return 0.0
    below = np.minimum(returns, 0.0)
    return float(np.sqrt(np.mean(below * below)))


def sortino_ratio(returns: np.ndarray, periods_per_year: float) -> float | None:
    """Annualised Sortino ratio (target 0); +inf without losses but with gains."""
    returns = np.asarray(returns, dtype=np.float64)
    if len(returns) < 2:
        return None
    mean = float(returns.mean())
    dd = downside_deviation(returns)
    if dd == 0.0:
        if mean > 0:
            return math.inf
        return None
    return mean * periods_per_year / (dd * math.sqrt(periods_per_year))


def annual_volatility(returns: np.ndarray, periods_per_year: float) -> float | None:
    """Sample standard deviation of the returns scaled by sqrt(periods per year)."""
    returns = np.asarray(returns, dtype=np.float64)
    if len(returns) < 2:
        return None
    return float(returns.std(ddof=1)) * math.sqrt(periods_per_year)


def total_return(equity: np.ndarray) -> float:
    """Last mark over first mark, minus one."""
    return float(equity[-1] / equity[0] - 1.0)


def cagr(equity: np.ndarray, periods_per_year: float) -> float | None:
    """Compound annual growth rate with years counted as (marks - 1) / periods per year."""
    n_returns = len(equity) - 1
    if n_returns < 1:
        return None
    growth = float(equity[-1] / equity[0])
    return growth ** (periods_per_year / n_returns) - 1.0


def drawdown(equity: np.ndarray) -> np.ndarray:
    """The fall below the running peak at each mark, as a zero-or-negative fraction."""
    equity = np.asarray(equity, dtype=np.float64)
    return equity / np.maximum.accumulate(equity) - 1.0


@dataclass(frozen=True)
class DrawdownEpisode:
    """One drawdown: from `peak` (index) down to `trough` and back at `recovery` (or not)."""

    depth: float
    peak: int
    trough: int
    recovery: int | None
    duration_periods: int
    duration_days: float

    @property
    def recovered(self) -> bool:
        return self.recovery is not None


def _episode(equity: np.ndarray, timestamps: np.ndarray, peak: int, trough: int) -> DrawdownEpisode:
    later = np.flatnonzero(equity[trough + 1 :] >= equity[peak])
    recovery = int(trough + 1 + later[0]) if len(later) else None
    end = recovery if recovery is not None else len(equity) - 1
    return DrawdownEpisode(
        depth=float(1.0 - equity[trough] / equity[peak]),
        peak=peak,
        trough=trough,
        recovery=recovery,
        duration_periods=end - peak,
        duration_days=float(timestamps[end] - timestamps[peak]) / NS_PER_DAY,
    )


def max_drawdown_episode(equity: np.ndarray, timestamps: np.ndarray) -> DrawdownEpisode:
    """The deepest drawdown; a run that never falls gets a zero-depth, zero-length episode.

    The peak is the last mark at the running high before the trough: a drawdown starts when the
    curve last left its high, not when the high was first set.
    """
    equity = np.asarray(equity, dtype=np.float64)
    dd = drawdown(equity)
    trough = int(np.argmin(dd))
    if dd[trough] == 0.0:
        return DrawdownEpisode(0.0, 0, 0, 0, 0, 0.0)
    high = np.maximum.accumulate(equity)[trough]
    peak = int(np.flatnonzero(equity[: trough + 1] == high)[-1])
    return _episode(equity, timestamps, peak, trough)


def longest_drawdown(equity: np.ndarray, timestamps: np.ndarray) -> tuple[int, float]:
    """The longest time spent below a previous high: (periods, calendar days), peak to recovery.

    A stretch still under water at the last mark counts up to that mark.
    """
    equity = np.asarray(equity, dtype=np.float64)
    under = equity < np.maximum.accumulate(equity)
    if not under.any():
        return 0, 0.0
    edges = np.diff(np.concatenate(([False], under, [False])).astype(np.int8))
    starts = np.flatnonzero(edges == 1)  # first mark under water; the peak is one before
    stops = np.flatnonzero(edges == -1)  # first mark back at the high (may be len(equity))
    peaks = starts - 1
    ends = np.minimum(stops, len(equity) - 1)
    periods = ends - peaks
    i = int(np.argmax(periods))
    days = float(timestamps[ends[i]] - timestamps[peaks[i]]) / NS_PER_DAY
    return int(periods[i]), days


def calmar_ratio(equity: np.ndarray, periods_per_year: float) -> float | None:
    """CAGR over the maximum drawdown; None when either is undefined or there is no drawdown."""
    growth = cagr(equity, periods_per_year)
    depth = float(-drawdown(equity).min())
    if growth is None or depth == 0.0:
        return None
    return growth / depth


def rolling_sharpe(returns: np.ndarray, window: int, periods_per_year: float) -> np.ndarray:
    """Annualised Sharpe of each trailing `window` of returns (NaN before a full window and
    where the window's returns do not vary)."""
    returns = np.asarray(returns, dtype=np.float64)
    if window < 2:
        raise ValueError(f"the rolling window must be at least 2 periods, got {window}")
    out = np.full(len(returns), np.nan)
    if len(returns) < window:
        return out
    # Centre on the overall mean before the running sums: it keeps the variance's
    # difference of sums from cancelling catastrophically on long, low-volatility series.
    centred = returns - returns.mean()
    s1 = np.concatenate(([0.0], np.cumsum(centred)))
    s2 = np.concatenate(([0.0], np.cumsum(centred * centred)))
    sum1 = s1[window:] - s1[:-window]
    sum2 = s2[window:] - s2[:-window]
    mean_c = sum1 / window
    var = np.maximum((sum2 - window * mean_c * mean_c) / (window - 1), 0.0)
    std = np.sqrt(var)
    mean = mean_c + returns.mean()
    flat = std <= 1e-12 * np.maximum(1.0, np.abs(mean))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(flat, np.nan, mean / std * math.sqrt(periods_per_year))
    out[window - 1 :] = ratio
    return out


def default_rolling_window(n_returns: int, periods_per_year: float) -> int:
    """A quarter of a year of periods, shortened to a quarter of the run when that is shorter."""
    return max(2, min(round(periods_per_year / 4), n_returns // 4))


@dataclass(frozen=True)
class MonthlyReturns:
    """Compounded return of each calendar month (UTC): `values[i, m]` for `years[i]` and month
    m + 1, NaN where the run has no mark; `yearly` compounds each year's months."""

    years: list[int]
    values: np.ndarray
    yearly: np.ndarray


def monthly_returns(timestamps: np.ndarray, equity: np.ndarray) -> MonthlyReturns:
    """Each month's last mark over the previous month's last mark (the first month is measured
    from the run's first mark), laid out year by month."""
    equity = np.asarray(equity, dtype=np.float64)
    months = np.asarray(timestamps, dtype=np.int64).view("datetime64[ns]").astype("datetime64[M]")
    month_ids = months.astype(np.int64)  # months since 1970-01
    last = np.flatnonzero(np.concatenate((month_ids[1:] != month_ids[:-1], [True])))
    closes = equity[last]
    bases = np.concatenate(([equity[0]], closes[:-1]))
    rets = closes / bases - 1.0
    ids = month_ids[last]
    first_year = int(ids[0] // 12) + 1970
    last_year = int(ids[-1] // 12) + 1970
    years = list(range(first_year, last_year + 1))
    values = np.full((len(years), 12), np.nan)
    values[ids // 12 + 1970 - first_year, ids % 12] = rets
    with np.errstate(invalid="ignore"):
        yearly = np.nanprod(1.0 + values, axis=1) - 1.0
    return MonthlyReturns(years=years, values=values, yearly=yearly)


def turnover(
    traded_notional: float, equity: np.ndarray, periods_per_year: float
) -> tuple[float, float | None]:
    """(traded notional over mean equity, the same per year); per year is None on one mark."""
    ratio = float(traded_notional / np.mean(equity))
    n_returns = len(equity) - 1
    return ratio, (ratio * periods_per_year / n_returns if n_returns > 0 else None)


def trades_notional(trades: np.ndarray) -> float:
    """Dollar value traded by the round trips: entry and exit legs both count."""
    qty = np.abs(trades["qty"])
    return float(np.sum(qty * (np.abs(trades["entry_price"]) + np.abs(trades["exit_price"]))))


@dataclass(frozen=True)
class TradeStatistics:
    """Per-trade figures over net (after-fee) P&L; None where there is no trade to average."""

    count: int
    long_count: int
    short_count: int
    wins: int
    losses: int
    hit_rate: float | None
    profit_factor: float | None
    average_win: float | None
    average_loss: float | None
    expectancy: float | None
    mean_pnl: float | None
    median_pnl: float | None
    best: float | None
    worst: float | None
    total_pnl: float
    total_fees: float
    average_holding_seconds: float | None
    median_holding_seconds: float | None


def trade_statistics(trades: np.ndarray) -> TradeStatistics:
    """Count, hit rate, profit factor, average win and loss, expectancy and holding times.

    Expectancy is hit rate x average win + loss rate x average loss, the expected net P&L of
    a trade; it equals the mean P&L (zero-P&L trades add nothing to either side).
    """
    pnl = np.asarray(trades["pnl"], dtype=np.float64)
    n = len(pnl)
    wins = pnl[pnl > 0]
    losses = pnl[pnl < 0]
    hold = (trades["exit_ts"] - trades["entry_ts"]).astype(np.float64) / NS_PER_SECOND
    gross_win = float(wins.sum())
    gross_loss = float(-losses.sum())
    if gross_loss > 0:
        profit_factor: float | None = gross_win / gross_loss
    elif gross_win > 0:
        profit_factor = math.inf
    else:
        profit_factor = None
    average_win = float(wins.mean()) if len(wins) else None
    average_loss = float(losses.mean()) if len(losses) else None
    expectancy = None
    if n:
        expectancy = (len(wins) / n) * (average_win or 0.0) + (len(losses) / n) * (
            average_loss or 0.0
        )
    return TradeStatistics(
        count=n,
        long_count=int(np.sum(trades["side"] > 0)),
        short_count=int(np.sum(trades["side"] < 0)),
        wins=len(wins),
        losses=len(losses),
        hit_rate=len(wins) / n if n else None,
        profit_factor=profit_factor,
        average_win=average_win,
        average_loss=average_loss,
        expectancy=expectancy,
        mean_pnl=float(pnl.mean()) if n else None,
        median_pnl=float(np.median(pnl)) if n else None,
        best=float(pnl.max()) if n else None,
        worst=float(pnl.min()) if n else None,
        total_pnl=float(pnl.sum()),
        total_fees=float(np.sum(trades["fees"])),
        average_holding_seconds=float(hold.mean()) if n else None,
        median_holding_seconds=float(np.median(hold)) if n else None,
    )


def sample_on_clock(timestamps: Any, values: Any, step_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """The last value at or before each tick of a regular clock from the first timestamp.

    Tick runs mark equity at irregular event times; the ratio metrics need evenly spaced marks,
    so such a run samples its curve with this first (e.g. every second or minute).
    """
    if step_ns <= 0:
        raise ValueError(f"step_ns must be positive, got {step_ns}")
    ts = np.asarray(timestamps, dtype=np.int64)
    vals = np.asarray(values)
    if len(ts) == 0:
        return ts.copy(), vals.copy()
    clock = np.arange(ts[0], ts[-1] + 1, step_ns, dtype=np.int64)
    idx = np.searchsorted(ts, clock, side="right") - 1
    return clock, vals[idx]


def summary(run: RunRecord) -> dict[str, Any]:
    """Every scalar figure of the run, keyed by name; None where a figure is undefined."""
    equity, ts, ppy = run.equity, run.timestamps, run.periods_per_year
    returns = simple_returns(equity)
    episode = max_drawdown_episode(equity, ts)
    longest_periods, longest_days = longest_drawdown(equity, ts)
    notional = (
        run.traded_notional if run.traded_notional is not None else (trades_notional(run.trades))
    )
    turn, annual_turn = turnover(notional, equity, ppy)
    stats = trade_statistics(run.trades)
    assert run.fees_total is not None  # RunRecord.__post_init__ always fills it in
    out: dict[str, Any] = {
        "start": iso_time(ts[0]),
        "end": iso_time(ts[-1]),
        "marks": len(equity),
        "periods_per_year": ppy,
        "start_equity": float(equity[0]),
        "end_equity": float(equity[-1]),
        "total_return": total_return(equity),
        "cagr": cagr(equity, ppy),
        "annual_volatility": annual_volatility(returns, ppy),
        "sharpe": sharpe_ratio(returns, ppy),
        "sortino": sortino_ratio(returns, ppy),
        "calmar": calmar_ratio(equity, ppy),
        "max_drawdown": episode.depth,
        "max_drawdown_peak": iso_time(ts[episode.peak]),
        "max_drawdown_trough": iso_time(ts[episode.trough]),
        "max_drawdown_recovery": (
            iso_time(ts[episode.recovery]) if episode.recovery is not None else None
        ),
        "max_drawdown_recovered": episode.recovered,
        "max_drawdown_duration_periods": episode.duration_periods,
        "max_drawdown_duration_days": episode.duration_days,
        "longest_drawdown_periods": longest_periods,
        "longest_drawdown_days": longest_days,
        "traded_notional": notional,
        "turnover": turn,
        "annual_turnover": annual_turn,
        "fees_total": run.fees_total,
        "fees_to_start_equity": run.fees_total / float(equity[0]),
        "average_gross_exposure": (
            float(np.mean(np.abs(run.exposure))) if run.exposure is not None else None
        ),
        "max_gross_exposure": (
            float(np.max(np.abs(run.exposure))) if run.exposure is not None else None
        ),
    }
    out.update({f"trades_{key}": value for key, value in asdict(stats).items()})
    if run.benchmark_equity is not None:
        bench = run.benchmark_equity
        bench_returns = simple_returns(bench)
        out["benchmark_total_return"] = total_return(bench)
        out["benchmark_sharpe"] = sharpe_ratio(bench_returns, ppy)
        out["benchmark_max_drawdown"] = float(-drawdown(bench).min())
        out["benchmark_correlation"] = _correlation(returns, bench_returns)
    return out


def _correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    if (
        len(a) < 2
        or _is_flat(float(a.std()), float(a.mean()))
        or _is_flat(float(b.std()), float(b.mean()))
    ):
        return None
    return float(np.corrcoef(a, b)[0, 1])
