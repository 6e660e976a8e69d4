"""Pair statistics against statsmodels on the shared daily closes and on simulated series."""

import math
import warnings

import numpy as np
import pytest
from statsmodels.regression.linear_model import OLS
from statsmodels.tsa.adfvalues import mackinnoncrit, mackinnonp
from statsmodels.tsa.stattools import adfuller, coint
from statsmodels.tsa.vector_ar.vecm import coint_johansen

from tests.trading.research.daily_closes import aligned_closes
from trading.research.cointegration import (
    PairResult,
    adf_test,
    correlation_matrix,
    engle_granger,
    half_life,
    hurst_exponent,
    johansen,
    mackinnon_critical_values,
    mackinnon_pvalue,
    rank_pairs,
)

PAIRS = [("KO", "PEP"), ("XOM", "CVX"), ("SPY", "QQQ"), ("JPM", "BAC")]
REL = 1e-8


def _adfuller(x, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return adfuller(x, result_object=False, **kwargs)


def _simulated_pair(n=3000, beta=0.8, phi=0.9, seed=7):
    rng = np.random.default_rng(seed)
    log_x = np.log(50.0) + np.cumsum(0.01 * rng.standard_normal(n))
    noise = np.zeros(n)
    shocks = 0.01 * rng.standard_normal(n)
    for t in range(1, n):
        noise[t] = phi * noise[t - 1] + shocks[t]
    log_y = 0.3 + beta * log_x + noise
    return np.exp(log_y), np.exp(log_x)


# --- MacKinnon tables ----------------------------------------------------------------------


@pytest.mark.parametrize("regression", ["n", "c", "ct", "ctt"])
@pytest.mark.parametrize("n_series", [1, 2, 3, 4, 5, 6])
def test_mackinnon_pvalue_matches_statsmodels(regression, n_series):
    for stat in np.linspace(-30.0, 4.0, 341):
        assert mackinnon_pvalue(stat, regression, n_series) == pytest.approx(
            mackinnonp(stat, regression=regression, N=n_series), rel=1e-13, abs=1e-300
        )


@pytest.mark.parametrize("regression", ["c", "ct", "ctt"])
def test_mackinnon_critical_values_match_statsmodels(regression):
    for n_series in range(1, 13):
        for nobs in (math.inf, 50, 250, 5000):
            ours = mackinnon_critical_values(n_series, regression, nobs)
            ref = mackinnoncrit(N=n_series, regression=regression, nobs=nobs)
            np.testing.assert_allclose([ours["1%"], ours["5%"], ours["10%"]], ref, rtol=1e-14)


def test_mackinnon_rejects_unknown_regression():
    with pytest.raises(ValueError, match="'x'"):
        mackinnon_pvalue(-3.0, "x")


# --- ADF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("ticker_index", [0, 1])
@pytest.mark.parametrize("regression", ["n", "c", "ct"])
def test_adf_matches_adfuller_on_log_prices(ticker_index, regression):
    _, closes = aligned_closes("KO", "XOM")
    x = np.log(closes[:, ticker_index])
    ours = adf_test(x, regression=regression)
    stat, pvalue, used_lag, nobs, crit, icbest = _adfuller(x, regression=regression)
    assert ours.used_lag == used_lag
    assert ours.nobs == nobs
    assert ours.stat == pytest.approx(stat, rel=REL)
    assert ours.pvalue == pytest.approx(pvalue, rel=REL)
    assert ours.icbest == pytest.approx(icbest, rel=REL)
    for level in ("1%", "5%", "10%"):
        assert ours.critical_values[level] == pytest.approx(crit[level], rel=1e-12)


def test_adf_quadratic_trend_matches_adfuller():
    # The squared trend column (values up to n^2) makes this design ill-conditioned, so two
    # correct least-squares solvers agree only to about 1e-8.
    _, closes = aligned_closes("SPY")
    x = np.log(closes[:, 0])
    ours = adf_test(x, regression="ctt")
    stat, pvalue, used_lag, *_ = _adfuller(x, regression="ctt")
    assert ours.used_lag == used_lag
    assert ours.stat == pytest.approx(stat, rel=1e-6)
    assert ours.pvalue == pytest.approx(pvalue, rel=1e-6)


def test_adf_bic_and_fixed_lag_match_adfuller():
    _, closes = aligned_closes("PEP")
    x = np.log(closes[:, 0])
    bic = adf_test(x, autolag="bic")
    stat, _, used_lag, *_ = _adfuller(x, autolag="BIC")
    assert bic.used_lag == used_lag
    assert bic.stat == pytest.approx(stat, rel=REL)
    fixed = adf_test(x, max_lag=5, autolag=None)
    stat, pvalue, used_lag, nobs, _ = _adfuller(x, maxlag=5, autolag=None)
    assert (fixed.used_lag, fixed.nobs) == (used_lag, nobs)
    assert fixed.stat == pytest.approx(stat, rel=REL)
    assert fixed.pvalue == pytest.approx(pvalue, rel=REL)


def test_adf_tells_stationary_from_random_walk():
    rng = np.random.default_rng(1)
    walk = np.cumsum(rng.standard_normal(2000))
    assert adf_test(walk).pvalue > 0.05
    assert adf_test(rng.standard_normal(2000)).pvalue < 0.01


def test_adf_rejects_bad_input():
    with pytest.raises(ValueError, match="constant"):
        adf_test(np.ones(50))
    with pytest.raises(ValueError, match="NaN"):
        adf_test(np.array([1.0, np.nan, 2.0, 3.0, 4.0]))
    with pytest.raises(ValueError, match="max_lag"):
        adf_test(np.arange(20.0) ** 1.5, max_lag=15)
    with pytest.raises(ValueError, match="autolag"):
        adf_test(np.arange(20.0) ** 1.5, autolag="t-stat")


# --- Engle-Granger -------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_engle_granger_matches_coint_on_shared_pairs(a, b):
    _, closes = aligned_closes(a, b)
    log_a, log_b = np.log(closes[:, 0]), np.log(closes[:, 1])
    ours = engle_granger(closes[:, 0], closes[:, 1])
    ref = coint(log_a, log_b)
    assert ours.adf_stat == pytest.approx(ref.coint_t, rel=REL)
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=REL, abs=1e-15)
    np.testing.assert_allclose(
        [ours.critical_values[k] for k in ("1%", "5%", "10%")], ref.critical_values, rtol=1e-12
    )
    fit = OLS(log_a, np.column_stack([log_b, np.ones_like(log_b)])).fit()
    assert ours.hedge_ratio == pytest.approx(fit.params[0], rel=1e-11)
    assert ours.intercept == pytest.approx(fit.params[1], rel=1e-10)
    np.testing.assert_allclose(ours.spread, fit.resid, atol=1e-11)


def test_engle_granger_finds_simulated_cointegration():
    y, x = _simulated_pair()
    ours = engle_granger(y, x)
    ref = coint(np.log(y), np.log(x))
    assert ours.adf_stat == pytest.approx(ref.coint_t, rel=REL)
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=REL, abs=1e-15)
    assert ours.pvalue < 0.01
    assert ours.hedge_ratio == pytest.approx(0.8, abs=0.05)


def test_engle_granger_matches_coint_with_fixed_lag():
    rng = np.random.default_rng(3)
    y = np.exp(np.cumsum(0.01 * rng.standard_normal(2000)))
    x = np.exp(np.cumsum(0.01 * rng.standard_normal(2000)))
    ours = engle_granger(y, x, max_lag=4, autolag=None)
    ref = coint(np.log(y), np.log(x), maxlag=4, autolag=None)
    assert ours.adf_stat == pytest.approx(ref.coint_t, rel=REL)
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=REL)


def test_engle_granger_has_its_nominal_size_on_independent_walks():
    # Under the null (no cointegration) a 5 % test rejects about 5 % of the time; the
    # single-series Dickey-Fuller tables would reject far more often.
    rng = np.random.default_rng(4)
    pvalues = np.array(
        [
            engle_granger(
                np.exp(np.cumsum(0.01 * rng.standard_normal(500))),
                np.exp(np.cumsum(0.01 * rng.standard_normal(500))),
                max_lag=1,
                autolag=None,
            ).pvalue
            for _ in range(400)
        ]
    )
    assert 0.02 <= np.mean(pvalues <= 0.05) <= 0.09


def test_engle_granger_rejects_non_positive_prices():
    with pytest.raises(ValueError, match="positive"):
        engle_granger(np.array([1.0, 2.0, 0.0, 3.0]), np.array([1.0, 2.0, 3.0, 4.0]))


# --- Johansen ------------------------------------------------------------------------------


@pytest.mark.parametrize("det_order", [-1, 0, 1])
@pytest.mark.parametrize("k_ar_diff", [0, 1, 3])
def test_johansen_matches_coint_johansen(det_order, k_ar_diff):
    _, closes = aligned_closes("XOM", "CVX", "XLE")
    levels = np.log(closes)
    ours = johansen(levels, det_order, k_ar_diff)
    ref = coint_johansen(levels, det_order, k_ar_diff)
    np.testing.assert_allclose(ours.trace_stat, ref.lr1, rtol=REL)
    np.testing.assert_allclose(ours.max_eigen_stat, ref.lr2, rtol=REL)
    np.testing.assert_allclose(ours.eigenvalues, ref.eig, rtol=1e-8)
    np.testing.assert_array_equal(ours.trace_critical_values, ref.cvt)
    np.testing.assert_array_equal(ours.max_eigen_critical_values, ref.cvm)
    # statsmodels fixes only one overall sign, so columns agree up to their own sign.
    signs = np.sign(np.sum(ours.eigenvectors * ref.evec, axis=0))
    np.testing.assert_allclose(ours.eigenvectors * signs, ref.evec, rtol=1e-6, atol=1e-8)


def test_johansen_finds_the_simulated_cointegrating_relation():
    y, x = _simulated_pair()
    result = johansen(np.log(np.column_stack([y, x])))
    assert result.trace_stat[0] > result.trace_critical_values[0, 2]
    assert result.rank(95) >= 1
    beta = result.eigenvectors[:, 0]
    assert -beta[1] / beta[0] == pytest.approx(0.8, abs=0.05)


def test_johansen_rejects_bad_det_order():
    with pytest.raises(ValueError, match="det_order"):
        johansen(np.random.default_rng(0).standard_normal((100, 2)), det_order=2)


# --- Half-life and Hurst -------------------------------------------------------------------


def _ornstein_uhlenbeck(n, half_life_days, seed):
    rng = np.random.default_rng(seed)
    phi = 0.5 ** (1.0 / half_life_days)
    s = np.zeros(n)
    shocks = rng.standard_normal(n)
    for t in range(1, n):
        s[t] = phi * s[t - 1] + shocks[t]
    return s


@pytest.mark.parametrize("true_half_life", [5.0, 20.0])
def test_half_life_recovers_simulated_ou(true_half_life):
    spread = _ornstein_uhlenbeck(50_000, true_half_life, seed=11)
    estimate = half_life(spread)
    # -ln2/b approximates the exact AR(1) half-life -ln2/ln(1+b) to first order in b.
    b = 0.5 ** (1.0 / true_half_life) - 1.0
    assert estimate == pytest.approx(-math.log(2.0) / b, rel=0.1)
    assert estimate == pytest.approx(true_half_life, rel=0.12)
    fit = OLS(np.diff(spread), np.column_stack([spread[:-1], np.ones(spread.size - 1)])).fit()
    assert estimate == pytest.approx(-math.log(2.0) / fit.params[0], rel=1e-10)


def test_half_life_is_infinite_without_mean_reversion():
    assert half_life(np.exp(np.arange(50) / 10.0)) == math.inf


def test_hurst_of_random_walk_is_one_half():
    rng = np.random.default_rng(5)
    estimates = [hurst_exponent(np.cumsum(rng.standard_normal(5000))) for _ in range(5)]
    assert np.mean(estimates) == pytest.approx(0.5, abs=0.05)


def test_hurst_of_mean_reverting_series_is_below_one_half():
    spread = _ornstein_uhlenbeck(5000, 5.0, seed=2)
    assert hurst_exponent(spread) < 0.3


def test_hurst_of_trending_series_is_above_one_half():
    rng = np.random.default_rng(9)
    increments = np.convolve(rng.standard_normal(6000), np.ones(20), mode="valid")
    assert hurst_exponent(np.cumsum(increments)) > 0.6


# --- Screening and ranking -----------------------------------------------------------------


def test_correlation_matrix_uses_log_returns_or_log_prices():
    _, closes = aligned_closes("KO", "PEP", "SPY")
    returns = np.diff(np.log(closes), axis=0)
    np.testing.assert_allclose(correlation_matrix(closes), np.corrcoef(returns.T), rtol=1e-12)
    np.testing.assert_allclose(
        correlation_matrix(closes, of="prices"), np.corrcoef(np.log(closes).T), rtol=1e-12
    )


def test_rank_pairs_on_shared_tickers_agrees_with_statsmodels():
    symbols = ["KO", "PEP", "XOM", "CVX", "XLE", "SPY", "DIA", "JPM", "MS", "XLF"]
    dates, closes = aligned_closes(*symbols)
    results = rank_pairs(dates, closes, symbols, min_correlation=0.7, max_pvalue=0.05)
    assert results, "expected at least one cointegrated pair among the shared tickers"
    corr = correlation_matrix(closes)
    keys = [(r.pvalue, r.half_life_days) for r in results]
    assert keys == sorted(keys)
    for r in results:
        i, j = symbols.index(r.a), symbols.index(r.b)
        assert r.correlation == pytest.approx(corr[i, j]) and r.correlation >= 0.7
        ref = coint(np.log(closes[:, i]), np.log(closes[:, j]))
        reverse = coint(np.log(closes[:, j]), np.log(closes[:, i]))
        assert r.adf_stat == pytest.approx(ref.coint_t, rel=REL)
        assert r.adf_stat <= reverse.coint_t + 1e-9  # the better direction is kept
        assert r.pvalue == pytest.approx(ref.pvalue, rel=REL) and r.pvalue <= 0.05
        trace = coint_johansen(np.log(closes[:, [i, j]]), 0, 1).lr1[0]
        assert r.johansen_trace == pytest.approx(trace, rel=REL)
        assert (r.start, r.end) == (str(dates[0]), str(dates[-1]))
    screened_out = {
        (a, b)
        for ia, a in enumerate(symbols)
        for ib, b in enumerate(symbols)
        if ia != ib and corr[ia, ib] < 0.7
    }
    assert not {(r.a, r.b) for r in results} & screened_out


def test_rank_pairs_keeps_only_the_simulated_cointegrated_pair():
    y, x = _simulated_pair(seed=21)
    rng = np.random.default_rng(22)
    z = x * np.exp(np.cumsum(0.01 * rng.standard_normal(x.size)))
    closes = np.column_stack([y, x, z])
    results = rank_pairs(None, closes, ["Y", "X", "Z"], min_correlation=-1.0)
    assert [{r.a, r.b} for r in results] == [{"Y", "X"}]
    record = results[0].as_dict()
    for key in (
        "a",
        "b",
        "hedge_ratio",
        "adf_stat",
        "pvalue",
        "half_life_days",
        "correlation",
        "hurst",
        "johansen_trace",
    ):
        assert key in record
    assert isinstance(results[0], PairResult)
    assert record["hurst"] < 0.5


def test_rank_pairs_rejects_mismatched_input():
    closes = np.exp(np.cumsum(np.random.default_rng(0).standard_normal((100, 2)), axis=0) / 50)
    with pytest.raises(ValueError, match="symbols"):
        rank_pairs(None, closes, ["A", "B", "C"])
    with pytest.raises(ValueError, match="dates"):
        rank_pairs(np.arange(99), closes, ["A", "B"])
    with pytest.raises(ValueError, match="unique"):
        rank_pairs(None, closes, ["A", "A"])
