"""VaR, CVaR and VaR backtests against direct numpy / scipy / pandas computations."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.trading.research.daily_closes import aligned_closes
from trading.research.risk_analytics import (
    christoffersen_independence,
    conditional_value_at_risk,
    cornish_fisher_cvar,
    cornish_fisher_var,
    historical_cvar,
    historical_var,
    kupiec_pof,
    normal_cvar,
    normal_var,
    rolling_var,
    value_at_risk,
    var_backtest,
)


@pytest.fixture(scope="module")
def spy_returns():
    _, closes = aligned_closes("SPY")
    return np.diff(np.log(closes[:, 0]))


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
@pytest.mark.parametrize("method", ["linear", "inverted_cdf", "lower"])
def test_historical_var_and_cvar_match_numpy(spy_returns, confidence, method):
    q = np.quantile(spy_returns, 1 - confidence, method=method)
    assert historical_var(spy_returns, confidence, method=method) == pytest.approx(-q, rel=1e-14)
    tail = spy_returns[spy_returns <= q]
    assert historical_cvar(spy_returns, confidence, method=method) == pytest.approx(
        -tail.mean(), rel=1e-14
    )


def test_historical_var_on_a_hand_sized_sample():
    returns = np.array([0.03, -0.01, -0.04, 0.02, -0.02, 0.01, -0.03, 0.0, 0.04, -0.05])
    # 10 % tail of 10 ordered values with the plain empirical quantile: the worst value.
    assert historical_var(returns, 0.9, method="inverted_cdf") == pytest.approx(0.05)
    # 20 % tail: the two worst, -5 % and -4 %, average to a 4.5 % shortfall.
    assert historical_cvar(returns, 0.8, method="inverted_cdf") == pytest.approx(0.045)


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_normal_var_and_cvar_match_scipy(spy_returns, confidence):
    mu, sigma = spy_returns.mean(), spy_returns.std(ddof=1)
    alpha = 1 - confidence
    q = stats.norm.ppf(alpha, loc=mu, scale=sigma)
    assert normal_var(spy_returns, confidence) == pytest.approx(-q, rel=1e-12)
    shortfall = stats.norm.expect(lambda x: x, loc=mu, scale=sigma, ub=q, conditional=True)
    assert normal_cvar(spy_returns, confidence) == pytest.approx(-shortfall, rel=1e-7)


def test_cornish_fisher_reduces_to_normal_for_gaussian_moments():
    # Symmetric sample with a Gaussian kurtosis (Gauss-Hermite-like): no correction.
    rng = np.random.default_rng(0)
    sample = rng.standard_normal(400_000) * 0.01
    sample = np.concatenate([sample, -sample])
    assert cornish_fisher_var(sample, 0.99) == pytest.approx(normal_var(sample, 0.99), rel=2e-3)
    assert cornish_fisher_cvar(sample, 0.99) == pytest.approx(normal_cvar(sample, 0.99), rel=3e-3)


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_cornish_fisher_matches_direct_expansion(spy_returns, confidence):
    mu, sigma = spy_returns.mean(), spy_returns.std(ddof=1)
    s = stats.skew(spy_returns)
    k = stats.kurtosis(spy_returns)  # excess, biased moment ratio

    def quantile(p):
        z = stats.norm.ppf(p)
        z_cf = z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36
        return mu + sigma * z_cf

    alpha = 1 - confidence
    assert cornish_fisher_var(spy_returns, confidence) == pytest.approx(-quantile(alpha), rel=1e-12)
    # Expected shortfall as the average of the quantile function over the tail, midpoint rule.
    grid = (np.arange(200_000) + 0.5) / 200_000 * alpha
    assert cornish_fisher_cvar(spy_returns, confidence) == pytest.approx(
        -quantile(grid).mean(), rel=1e-4
    )
    # Fat tails: the modified VaR at 99 % is larger than the Gaussian one.
    if confidence == 0.99:
        assert cornish_fisher_var(spy_returns, confidence) > normal_var(spy_returns, confidence)


def test_dispatchers_and_bad_input(spy_returns):
    assert value_at_risk(spy_returns, 0.95, "normal") == normal_var(spy_returns, 0.95)
    assert conditional_value_at_risk(spy_returns, 0.95) == historical_cvar(spy_returns, 0.95)
    with pytest.raises(ValueError, match="confidence"):
        historical_var(spy_returns, 1.5)
    with pytest.raises(ValueError, match="method"):
        value_at_risk(spy_returns, 0.95, "garch")
    with pytest.raises(ValueError, match="NaN"):
        normal_var(np.array([0.01, np.nan, 0.02]))


@pytest.mark.parametrize("method", ["historical", "normal"])
def test_rolling_var_matches_pandas_and_uses_only_the_past(spy_returns, method):
    window, confidence = 250, 0.99
    series = pd.Series(spy_returns)
    if method == "historical":
        expected = -series.rolling(window).quantile(0.01).shift(1)
    else:
        rolling = series.rolling(window)
        expected = -(rolling.mean() + rolling.std() * stats.norm.ppf(0.01)).shift(1)
    ours = rolling_var(spy_returns, window, confidence, method)
    assert np.isnan(ours[:window]).all()
    np.testing.assert_allclose(ours[window:], expected.to_numpy()[window:], rtol=1e-9)


def test_kupiec_hand_worked_example():
    # 250 days at 99 %: 2.5 exceptions expected, 5 observed.
    # LR = 2 [245 ln(0.98 / 0.99) + 5 ln(0.02 / 0.01)] = 2 (-2.48733 + 3.46574) = 1.95681,
    # P(chi2_1 > 1.95681) = 2 (1 - Phi(1.39886)) = 0.1619: not rejected at 5 %.
    lr, p = kupiec_pof(250, 5, 0.99)
    assert lr == pytest.approx(1.95681, abs=1e-4)
    assert p == pytest.approx(0.1619, abs=1e-3)
    # No exception at all in 250 days is itself suspicious: LR = -500 ln 0.99 = 5.0252.
    lr, p = kupiec_pof(250, 0, 0.99)
    assert lr == pytest.approx(5.0252, abs=1e-4)
    assert p < 0.05
    # Exactly the expected rate gives LR 0.
    assert kupiec_pof(1000, 50, 0.95) == pytest.approx((0.0, 1.0))


def test_christoffersen_hand_worked_examples():
    # Transitions of 0010001000... : n00=4, n01=2, n10=2, n11=1 -> pi01 = pi11 = 1/3, LR = 0.
    lr, p = christoffersen_independence(np.array([0, 0, 1, 1, 0, 0, 0, 1, 0, 0]))
    assert lr == pytest.approx(0.0, abs=1e-12) and p == pytest.approx(1.0)
    # 000111000: n00=4, n01=1, n10=1, n11=2; pi01=1/5, pi11=2/3, pi=3/8.
    lr, _ = christoffersen_independence(np.array([0, 0, 0, 1, 1, 1, 0, 0, 0]))
    null = 5 * math.log(5 / 8) + 3 * math.log(3 / 8)
    alt = 4 * math.log(4 / 5) + math.log(1 / 5) + math.log(1 / 3) + 2 * math.log(2 / 3)
    assert lr == pytest.approx(-2 * (null - alt), rel=1e-12)


def test_var_backtest_accepts_a_correct_var_and_rejects_an_understated_one():
    rng = np.random.default_rng(12)
    returns = 0.01 * rng.standard_normal(5000)
    true_var = np.full(returns.size, -0.01 * stats.norm.ppf(0.01))
    good = var_backtest(returns, true_var, 0.99)
    assert good.exceptions == int(np.sum(returns < -true_var))
    assert good.expected_exceptions == pytest.approx(50.0)
    assert good.kupiec_pvalue > 0.01 and not good.rejects(0.01)
    assert good.christoffersen_pvalue > 0.01
    bad = var_backtest(returns, true_var / 2, 0.99)
    assert bad.exception_rate > 0.05 and bad.rejects(0.01)
    assert bad.conditional_coverage_lr == pytest.approx(bad.kupiec_lr + bad.christoffersen_lr)


def test_var_backtest_detects_clustered_exceptions():
    # The right number of exceptions (50 in 5000 days at 99 %) but in ten runs of five days:
    # coverage looks perfect, the independence test must object.
    returns = np.full(5000, 0.001)
    for start in range(200, 5000, 500):
        returns[start : start + 5] = -0.05
    var = np.full(returns.size, 0.02)
    result = var_backtest(returns, var, 0.99)
    assert result.exceptions == 50
    assert result.kupiec_pvalue == pytest.approx(1.0)
    assert result.christoffersen_pvalue < 1e-6
    assert result.conditional_coverage_pvalue < 1e-6


def test_var_backtest_skips_days_without_forecast(spy_returns):
    forecasts = rolling_var(spy_returns, 250, 0.99)
    result = var_backtest(spy_returns, forecasts, 0.99)
    assert result.n == spy_returns.size - 250
    expected = int(np.sum(spy_returns[250:] < -forecasts[250:]))
    assert result.exceptions == expected
