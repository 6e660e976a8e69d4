"""PBO by CSCV, probabilistic and deflated Sharpe ratios, against the papers' formulas."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from trading.research.validation.overfitting import (
    deflated_sharpe_from_stats,
    deflated_sharpe_ratio,
    expected_maximum_sharpe,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
    sharpe_ratio,
)


def test_dsr_reproduces_the_papers_numerical_example():
    # Bailey & Lopez de Prado (2014), section 6: annualised SR 2.5 over 5 years of daily data
    # (T = 1250, 250 days a year), N = 100 trials with annualised SR variance 0.5, skewness -3,
    # kurtosis 10: the expected maximum is 0.1132 per day and DSR = 0.9004.
    result = deflated_sharpe_from_stats(
        2.5 / math.sqrt(250), 1250, -3.0, 10.0, n_trials=100, sharpe_variance=0.5 / 250
    )
    assert result.benchmark_sharpe == pytest.approx(0.1132, abs=5e-5)
    assert result.dsr == pytest.approx(0.9004, abs=5e-5)


def test_dsr_from_returns_matches_a_hand_computation():
    rng = np.random.default_rng(11)
    returns = rng.standard_t(5, size=800) * 0.01 + 0.001
    trials = rng.normal(0.0, 0.03, size=40)
    # Hand computation, straight from the paper's equations.
    sr = returns.mean() / returns.std(ddof=1)
    g3 = np.mean((returns - returns.mean()) ** 3) / returns.std(ddof=0) ** 3
    g4 = np.mean((returns - returns.mean()) ** 4) / returns.std(ddof=0) ** 4
    n, v = trials.size, trials.var(ddof=1)
    gamma = 0.5772156649015329
    sr0 = math.sqrt(v) * (
        (1 - gamma) * stats.norm.ppf(1 - 1 / n) + gamma * stats.norm.ppf(1 - 1 / (n * math.e))
    )
    z = (sr - sr0) * math.sqrt(returns.size - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
    result = deflated_sharpe_ratio(returns, trial_sharpes=trials)
    assert result.sharpe == pytest.approx(sr, rel=1e-12)
    assert result.skew == pytest.approx(g3, rel=1e-10)
    assert result.kurtosis == pytest.approx(g4, rel=1e-10)
    assert result.benchmark_sharpe == pytest.approx(sr0, rel=1e-12)
    assert result.dsr == pytest.approx(stats.norm.cdf(z), rel=1e-12)
    assert result.n_trials == 40
    # PSR is the DSR with a fixed benchmark; against zero it is larger.
    assert probabilistic_sharpe_ratio(returns, sr0) == pytest.approx(result.dsr, rel=1e-12)
    assert probabilistic_sharpe_ratio(returns) > result.dsr


def test_psr_standard_error_matches_the_sampling_spread_of_the_sharpe_ratio():
    # Under normal returns the Sharpe estimate's standard error is sqrt((1 + SR^2/2)/(T-1)),
    # so PSR at the true SR is 1/2 and at one standard error above it about Phi(-1).
    rng = np.random.default_rng(12)
    true_sr, t = 0.1, 500
    samples = rng.normal(true_sr, 1.0, size=(4000, t))
    estimates = samples.mean(axis=1) / samples.std(axis=1, ddof=1)
    se = math.sqrt((1 + true_sr**2 / 2) / (t - 1))
    assert estimates.std() == pytest.approx(se, rel=0.05)
    psr = np.array([probabilistic_sharpe_ratio(s, true_sr) for s in samples[:400]])
    # PSR(true SR) is uniform under the null: its mean is 1/2 and 5 % fall below 0.05.
    assert psr.mean() == pytest.approx(0.5, abs=0.05)
    assert np.mean(psr < 0.05) == pytest.approx(0.05, abs=0.03)


@pytest.mark.parametrize("n_trials", [10, 100, 1000])
def test_expected_maximum_sharpe_approximates_the_simulated_maximum(n_trials):
    rng = np.random.default_rng(n_trials)
    simulated = (0.2 * rng.standard_normal((3000, n_trials))).max(axis=1).mean()
    assert expected_maximum_sharpe(n_trials, 0.04) == pytest.approx(simulated, rel=0.03)
    assert expected_maximum_sharpe(1, 0.04, mean_sharpe=0.1) == 0.1


def _naive_cscv(matrix, s):
    """CSCV written out loop by loop, as in Bailey et al. (2015), section 2."""
    t, n = matrix.shape
    size = t // s
    rows = matrix[t - size * s :]
    parts = [rows[i * size : (i + 1) * size] for i in range(s)]
    logits = []
    for combo in itertools.combinations(range(s), s // 2):
        train = np.vstack([parts[i] for i in combo])
        test = np.vstack([parts[i] for i in range(s) if i not in combo])
        r = train.mean(axis=0) / train.std(axis=0, ddof=1)
        r_bar = test.mean(axis=0) / test.std(axis=0, ddof=1)
        best = int(np.argmax(r))
        below = np.sum(r_bar < r_bar[best])
        ties = np.sum(r_bar == r_bar[best])
        omega = (below + (ties + 1) / 2) / (n + 1)
        logits.append(math.log(omega / (1 - omega)))
    return np.array(logits)


def test_pbo_matches_the_loop_by_loop_procedure():
    rng = np.random.default_rng(21)
    matrix = rng.normal(0.0002, 0.01, size=(503, 15))
    matrix[:, 4] += 0.0008
    result = probability_of_backtest_overfitting(matrix, n_partitions=8)
    expected = _naive_cscv(matrix, 8)
    assert result.n_combinations == math.comb(8, 4)
    np.testing.assert_allclose(result.logits, expected, rtol=1e-12, atol=1e-12)
    assert result.pbo == np.mean(expected <= 0)
    generic = probability_of_backtest_overfitting(
        matrix, 8, metric=lambda b: b.mean(axis=0) / b.std(axis=0, ddof=1)
    )
    np.testing.assert_allclose(generic.logits, result.logits, rtol=1e-12, atol=1e-12)


def test_pbo_of_pure_noise_is_about_one_half():
    rng = np.random.default_rng(22)
    pbos = [
        probability_of_backtest_overfitting(rng.normal(0, 0.01, size=(400, 30)), 10).pbo
        for _ in range(30)
    ]
    assert np.mean(pbos) == pytest.approx(0.5, abs=0.08)


def test_pbo_is_zero_when_one_strategy_has_a_real_edge():
    rng = np.random.default_rng(23)
    matrix = rng.normal(0, 0.01, size=(1000, 30))
    matrix[:, 17] += 0.004  # a daily Sharpe of 0.4 against noise
    result = probability_of_backtest_overfitting(matrix, 10)
    assert result.pbo == 0.0
    assert np.all(result.selected == 17)
    assert result.probability_of_loss == 0.0


def test_constant_strategies_are_never_selected():
    rng = np.random.default_rng(24)
    matrix = rng.normal(0.0005, 0.01, size=(200, 5))
    matrix[:, 2] = 0.001  # never varies: undefined Sharpe, not an infinitely good one
    result = probability_of_backtest_overfitting(matrix, 4)
    assert not np.any(result.selected == 2)
    with pytest.raises(ValueError, match="zero standard deviation"):
        sharpe_ratio(np.full(10, 0.001))


def test_bad_input_is_rejected_with_a_clear_error():
    with pytest.raises(ValueError, match="even"):
        probability_of_backtest_overfitting(np.zeros((100, 3)), 5)
    with pytest.raises(ValueError, match="at least 2 strategies"):
        probability_of_backtest_overfitting(np.zeros((100, 1)), 4)
    with pytest.raises(ValueError, match="too few"):
        probability_of_backtest_overfitting(np.zeros((10, 3)), 8)
    with pytest.raises(ValueError, match="trial_sharpes, or both"):
        deflated_sharpe_ratio(np.array([0.01, -0.01, 0.02]))
    with pytest.raises(ValueError, match="n_trials"):
        expected_maximum_sharpe(0, 1.0)
