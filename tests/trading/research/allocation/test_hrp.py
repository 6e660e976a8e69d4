"""Hierarchical risk parity, checked against PyPortfolioOpt's HRPOpt on the shared daily data."""

import numpy as np
import pandas as pd
import pytest
import scipy.cluster.hierarchy as sch
from pypfopt import HRPOpt

from trading.research.allocation.hrp import (
    correlation_distance,
    hrp_weights,
    inverse_variance_weights,
    recursive_bisection,
)
from trading.shared_data import shared_data_dir

DAILY = shared_data_dir() / "daily"


@pytest.fixture(scope="module")
def daily_returns() -> pd.DataFrame:
    """Simple returns of the adjusted closes of every shared ticker, on the dates all share."""
    files = sorted(DAILY.glob("*.csv.gz"))
    if len(files) < 2:
        pytest.skip(f"shared daily data not found in {DAILY}")
    closes = {
        path.name.split(".")[0]: pd.read_csv(
            path, usecols=["timestamp", "adjusted_close"], index_col="timestamp", parse_dates=True
        )["adjusted_close"]
        for path in files
    }
    frame = pd.DataFrame(closes).sort_index().dropna()
    return frame.pct_change().dropna()


def _reference(returns: pd.DataFrame, method: str = "single") -> tuple[np.ndarray, HRPOpt]:
    opt = HRPOpt(returns)
    weights = opt.optimize(linkage_method=method)
    return np.array([weights[c] for c in returns.columns]), opt


@pytest.mark.parametrize("method", ["single", "complete", "average", "ward"])
def test_weights_match_pypfopt_on_all_shared_tickers(daily_returns, method):
    expected, opt = _reference(daily_returns, method)
    result = hrp_weights(daily_returns.to_numpy(), linkage_method=method)
    assert daily_returns.shape[1] >= 20
    np.testing.assert_allclose(result.weights, expected, rtol=0, atol=1e-8)
    assert list(result.order) == sch.to_tree(opt.clusters, rd=False).pre_order()
    assert result.weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(result.weights > 0)


def test_weights_match_pypfopt_on_rolling_subsamples(daily_returns):
    for start in range(0, daily_returns.shape[0] - 250, 750):
        window = daily_returns.iloc[start : start + 250, ::2]
        expected, _ = _reference(window)
        np.testing.assert_allclose(
            hrp_weights(window.to_numpy()).weights, expected, rtol=0, atol=1e-8
        )


def test_covariance_input_matches_pypfopt_covariance_input(daily_returns):
    cov = daily_returns.cov()
    weights = HRPOpt(cov_matrix=cov).optimize()
    expected = np.array([weights[c] for c in cov.columns])
    np.testing.assert_allclose(
        hrp_weights(covariance=cov.to_numpy()).weights, expected, rtol=0, atol=1e-8
    )


def test_distance_is_zero_for_identical_and_one_for_opposite_assets():
    corr = np.array([[1.0, 1.0, -1.0], [1.0, 1.0, -1.0], [-1.0, -1.0, 1.0]])
    np.testing.assert_array_equal(correlation_distance(corr), [[0, 0, 1], [0, 0, 1], [1, 1, 0]])


def test_uncorrelated_assets_get_inverse_variance_weights():
    variances = np.array([0.04, 0.01, 0.09, 0.0225, 0.0016])
    cov = np.diag(variances)
    expected = (1 / variances) / (1 / variances).sum()
    np.testing.assert_allclose(inverse_variance_weights(cov), expected, rtol=1e-14)
    # With a diagonal covariance every bisection splits by inverse variance, in any order.
    for order in (np.arange(5), np.array([3, 0, 4, 1, 2])):
        np.testing.assert_allclose(recursive_bisection(cov, order), expected, rtol=1e-12)


def test_two_assets_split_in_inverse_proportion_to_variance():
    rng = np.random.default_rng(7)
    returns = rng.normal(0, [0.01, 0.03], size=(500, 2))
    cov = np.cov(returns, rowvar=False)
    np.testing.assert_allclose(
        hrp_weights(returns).weights, inverse_variance_weights(cov), rtol=1e-12
    )


def test_bad_input_is_rejected_with_a_clear_error():
    with pytest.raises(ValueError, match="returns or a covariance"):
        hrp_weights()
    with pytest.raises(ValueError, match="linkage_method"):
        hrp_weights(np.ones((5, 2)), linkage_method="nearest")
    with pytest.raises(ValueError, match="NaN"):
        hrp_weights(np.array([[0.1, np.nan], [0.2, 0.3]]))
    with pytest.raises(ValueError, match="not symmetric"):
        hrp_weights(covariance=np.array([[1.0, 0.5], [0.2, 1.0]]))
