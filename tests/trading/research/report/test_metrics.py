"""The report's figures against independent computations: pandas, vectorbt and plain loops."""

import math

import numpy as np
import pandas as pd
import pytest

from trading.research.report import RunRecord, Trade
from trading.research.report import metrics as m
from trading.research.report.record import NS_PER_DAY

PPY = 252.0


def _curve(n=800, seed=7, drift=0.0004, vol=0.012):
    rng = np.random.default_rng(seed)
    returns = rng.normal(drift, vol, n - 1)
    returns[0] = abs(returns[0])  # vectorbt measures drawdown from the first return's close
    equity = 10_000.0 * np.concatenate(([1.0], np.cumprod(1.0 + returns)))
    dates = pd.bdate_range("2019-01-01", periods=n)
    return dates, equity


def _ns(dates):
    return dates.values.astype("datetime64[ns]").view(np.int64)


@pytest.fixture(scope="module")
def vbt_returns():
    vbt = pytest.importorskip("vectorbt")
    assert vbt
    dates, equity = _curve()
    returns = pd.Series(equity, index=dates).pct_change().dropna()
    return dates, equity, returns.vbt.returns(freq="1D", year_freq="252D")


def test_simple_returns_match_pandas_pct_change():
    dates, equity = _curve()
    expected = pd.Series(equity).pct_change().to_numpy()[1:]
    np.testing.assert_allclose(m.simple_returns(equity), expected, rtol=1e-13)


def test_ratios_match_vectorbt_returns_accessor(vbt_returns):
    _, equity, acc = vbt_returns
    assert acc.ann_factor == PPY
    r = m.simple_returns(equity)
    assert m.sharpe_ratio(r, PPY) == pytest.approx(acc.sharpe_ratio(), rel=1e-10)
    assert m.sortino_ratio(r, PPY) == pytest.approx(acc.sortino_ratio(), rel=1e-10)
    assert m.annual_volatility(r, PPY) == pytest.approx(acc.annualized_volatility(), rel=1e-10)
    assert m.cagr(equity, PPY) == pytest.approx(acc.annualized(), rel=1e-10)
    assert -m.drawdown(equity).min() == pytest.approx(-acc.max_drawdown(), rel=1e-12)
    assert m.calmar_ratio(equity, PPY) == pytest.approx(acc.calmar_ratio(), rel=1e-10)


def test_ratios_match_the_textbook_formulas_written_with_pandas():
    _, equity = _curve(seed=11, drift=0.0002)
    r = pd.Series(equity).pct_change().dropna()
    sharpe = r.mean() / r.std() * math.sqrt(PPY)  # pandas std is ddof=1
    downside = math.sqrt((r.clip(upper=0) ** 2).sum() / len(r))
    sortino = r.mean() * PPY / (downside * math.sqrt(PPY))
    years = len(r) / PPY
    cagr = (equity[-1] / equity[0]) ** (1 / years) - 1
    peak = pd.Series(equity).cummax()
    mdd = ((peak - equity) / peak).max()
    rr = r.to_numpy()
    assert m.sharpe_ratio(rr, PPY) == pytest.approx(sharpe, rel=1e-10)
    assert m.sortino_ratio(rr, PPY) == pytest.approx(sortino, rel=1e-10)
    assert m.annual_volatility(rr, PPY) == pytest.approx(r.std() * math.sqrt(PPY), rel=1e-10)
    assert m.cagr(equity, PPY) == pytest.approx(cagr, rel=1e-10)
    assert m.calmar_ratio(equity, PPY) == pytest.approx(cagr / mdd, rel=1e-10)
    assert m.total_return(equity) == pytest.approx(equity[-1] / equity[0] - 1, rel=1e-13)


def _brute_force_drawdowns(equity, ts):
    """Every drawdown episode by walking the curve: (depth, peak, trough, end, recovered)."""
    episodes, peak_i, trough_i, under = [], 0, 0, False
    for i in range(1, len(equity)):
        if equity[i] >= equity[peak_i]:
            if under:
                episodes.append((peak_i, trough_i, i, True))
                under = False
            peak_i = i
            trough_i = i
        else:
            under = True
            if equity[i] < equity[trough_i]:
                trough_i = i
    if under:
        episodes.append((peak_i, trough_i, len(equity) - 1, False))
    return [(1 - equity[t] / equity[p], p, t, e, rec) for p, t, e, rec in episodes]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_drawdown_episodes_match_a_brute_force_walk(seed):
    dates, equity = _curve(n=600, seed=seed, drift=0.0003 * (seed - 2))
    ts = _ns(dates)
    episodes = _brute_force_drawdowns(equity, ts)
    deepest = max(episodes, key=lambda e: e[0])
    got = m.max_drawdown_episode(equity, ts)
    depth, peak, trough, end, recovered = deepest
    assert got.depth == pytest.approx(depth, rel=1e-12)
    assert (got.peak, got.trough, got.recovered) == (peak, trough, recovered)
    assert got.duration_periods == end - peak
    assert got.duration_days == pytest.approx((ts[end] - ts[peak]) / NS_PER_DAY)
    longest = max(episodes, key=lambda e: e[3] - e[1])
    periods, days = m.longest_drawdown(equity, ts)
    assert periods == longest[3] - longest[1]
    assert days == pytest.approx((ts[longest[3]] - ts[longest[1]]) / NS_PER_DAY)


def test_drawdown_duration_of_a_hand_worked_curve():
    equity = np.array([100, 110, 110, 99, 88, 105, 110, 120, 108, 110.0])
    ts = np.arange(10, dtype=np.int64) * NS_PER_DAY
    ep = m.max_drawdown_episode(equity, ts)
    # 20% down from 110 (last at that high at index 2) to 88, back at 110 on index 6; the later
    # 10% fall from 120 is shallower and shorter, and unrecovered at the end.
    assert ep.depth == pytest.approx(0.2)
    assert (ep.peak, ep.trough, ep.recovery) == (2, 4, 6)
    assert ep.duration_periods == 4 and ep.duration_days == pytest.approx(4.0)
    assert m.longest_drawdown(equity, ts) == (4, pytest.approx(4.0))


def test_rolling_sharpe_matches_pandas_rolling():
    _, equity = _curve(n=1500, seed=5)
    r = pd.Series(m.simple_returns(equity))
    expected = (r.rolling(63).mean() / r.rolling(63).std() * math.sqrt(PPY)).to_numpy()
    got = m.rolling_sharpe(r.to_numpy(), 63, PPY)
    assert np.isnan(got[:62]).all()
    np.testing.assert_allclose(got[62:], expected[62:], rtol=1e-8)


def test_monthly_returns_match_pandas_resampling():
    dates, equity = _curve(n=700, seed=9)
    series = pd.Series(equity, index=dates)
    month_ends = series.resample("ME").last()
    expected = month_ends / pd.concat([series.iloc[:1], month_ends.iloc[:-1]]).to_numpy() - 1
    got = m.monthly_returns(_ns(dates), equity)
    assert got.years == sorted(set(dates.year))
    for stamp, value in expected.items():
        assert got.values[got.years.index(stamp.year), stamp.month - 1] == pytest.approx(value)
    assert np.isfinite(got.values).sum() == len(expected)
    yearly = series.resample("YE").last()
    bases = pd.concat([series.iloc[:1], yearly.iloc[:-1]]).to_numpy()
    np.testing.assert_allclose(got.yearly, (yearly / bases - 1).to_numpy(), rtol=1e-10)


def _trades(pnls, hold_days):
    t0 = int(np.datetime64("2020-01-02", "ns").astype(np.int64))
    return [
        Trade(t0, t0 + int(h * NS_PER_DAY), 1 if i % 3 else -1, 10, 50.0, 50.0 + p / 10, p, 0.25)
        for i, (p, h) in enumerate(zip(pnls, hold_days, strict=True))
    ]


def test_trade_statistics_match_pandas():
    rng = np.random.default_rng(3)
    pnls = np.round(rng.normal(2, 20, 301), 2)
    pnls[[5, 50]] = 0.0  # zero P&L trades are neither wins nor losses
    hold = rng.uniform(0.1, 9, 301)
    run = RunRecord("t", pd.bdate_range("2020-01-01", periods=3), [1.0, 1.1, 1.2],
                    _trades(pnls, hold))  # fmt: skip
    s = m.trade_statistics(run.trades)
    p = pd.Series(pnls)
    wins, losses = p[p > 0], p[p < 0]
    assert s.count == 301 and s.wins == len(wins) and s.losses == len(losses)
    assert s.long_count + s.short_count == 301 and s.short_count == len(range(0, 301, 3))
    assert s.hit_rate == pytest.approx(len(wins) / 301)
    assert s.profit_factor == pytest.approx(wins.sum() / -losses.sum())
    assert s.average_win == pytest.approx(wins.mean())
    assert s.average_loss == pytest.approx(losses.mean())
    assert s.expectancy == pytest.approx(p.mean())
    assert s.median_pnl == pytest.approx(p.median())
    assert (s.best, s.worst) == (p.max(), p.min())
    assert s.total_fees == pytest.approx(0.25 * 301)
    assert s.average_holding_seconds == pytest.approx(hold.mean() * 86_400, rel=1e-9)


def test_no_trades_give_undefined_trade_figures():
    s = m.trade_statistics(RunRecord("t", pd.bdate_range("2020-01-01", periods=2), [1, 2]).trades)
    assert s.count == 0 and s.hit_rate is None and s.profit_factor is None
    assert s.expectancy is None and s.average_holding_seconds is None and s.total_pnl == 0.0


def test_profit_factor_without_losses_is_infinite():
    run = RunRecord("t", pd.bdate_range("2020-01-01", periods=2), [1, 2], _trades([1, 2], [1, 1]))
    assert m.trade_statistics(run.trades).profit_factor == math.inf


def test_flat_equity_has_no_sharpe_or_sortino_and_no_drawdown():
    dates = pd.bdate_range("2020-01-01", periods=50)
    summary = m.summary(RunRecord("flat", dates, np.full(50, 1000.0)))
    assert summary["sharpe"] is None and summary["sortino"] is None
    assert summary["calmar"] is None and summary["max_drawdown"] == 0.0
    assert summary["annual_volatility"] == 0.0 and summary["total_return"] == 0.0
    assert summary["max_drawdown_duration_periods"] == 0


def test_sortino_without_losing_periods_is_infinite():
    assert m.sortino_ratio(np.array([0.01, 0.02, 0.0]), PPY) == math.inf


def test_one_mark_gives_a_summary_of_undefined_ratios():
    summary = m.summary(RunRecord("one", pd.bdate_range("2020-01-01", periods=1), [500.0]))
    assert summary["total_return"] == 0.0 and summary["marks"] == 1
    for key in ("sharpe", "sortino", "cagr", "calmar", "annual_volatility", "annual_turnover"):
        assert summary[key] is None, key


def test_turnover_exposure_and_fees_in_the_summary():
    dates, equity = _curve(n=252)
    exposure = np.linspace(-0.5, 1.5, 252)  # a short book counts by its gross size
    trades = _trades([5.0, -3.0], [2, 3])
    run = RunRecord("t", dates, equity, trades, exposure=exposure, fees_total=12.5)
    summary = m.summary(run)
    notional = sum(t.qty * (t.entry_price + t.exit_price) for t in trades)
    assert summary["traded_notional"] == pytest.approx(notional)
    assert summary["turnover"] == pytest.approx(notional / equity.mean())
    assert summary["annual_turnover"] == pytest.approx(notional / equity.mean() * 252 / 251)
    assert summary["average_gross_exposure"] == pytest.approx(np.abs(exposure).mean())
    assert summary["max_gross_exposure"] == pytest.approx(1.5)
    assert summary["fees_total"] == 12.5
    given = RunRecord("t", dates, equity, trades, traded_notional=np.full(252, 10.0))
    assert m.summary(given)["traded_notional"] == pytest.approx(2520.0)


def test_benchmark_figures():
    dates, equity = _curve(n=300, seed=1)
    _, bench = _curve(n=300, seed=2)
    summary = m.summary(RunRecord("t", dates, equity, benchmark_equity=bench))
    rb = pd.Series(bench).pct_change().dropna()
    ra = pd.Series(equity).pct_change().dropna()
    assert summary["benchmark_total_return"] == pytest.approx(bench[-1] / bench[0] - 1)
    assert summary["benchmark_sharpe"] == pytest.approx(rb.mean() / rb.std() * math.sqrt(PPY))
    assert summary["benchmark_correlation"] == pytest.approx(ra.corr(rb))


def test_sampling_an_irregular_curve_on_a_clock_takes_the_last_mark():
    ts = np.array([0, 3, 4, 10, 25], dtype=np.int64)
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    clock, sampled = m.sample_on_clock(ts, values, 5)
    assert clock.tolist() == [0, 5, 10, 15, 20, 25]
    assert sampled.tolist() == [1.0, 3.0, 4.0, 4.0, 4.0, 5.0]
    with pytest.raises(ValueError, match="step_ns"):
        m.sample_on_clock(ts, values, 0)
