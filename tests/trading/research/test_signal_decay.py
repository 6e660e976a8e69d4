"""Alpha-decay curves against the same quantities computed with pandas."""

import numpy as np
import pandas as pd
import pytest

from tests.trading.research.daily_closes import aligned_closes
from trading.research.signal_decay import alpha_decay, forward_returns, quantile_labels

HORIZONS = (1, 5, 20)
TICKERS = ("KO", "PEP", "XOM", "CVX", "SPY", "QQQ", "JPM", "BAC", "WMT", "TGT", "T", "VZ")


@pytest.fixture(scope="module")
def panel():
    dates, closes = aligned_closes(*TICKERS)
    prices = pd.DataFrame(closes, index=dates, columns=TICKERS)
    # 20-day reversal signal (known at the close it is computed on).
    signal = -(prices / prices.shift(20) - 1.0)
    # A gap in one asset exercises the dates where only part of the cross-section is usable.
    signal.iloc[100:130, 3] = np.nan
    return prices, signal


def test_forward_returns_match_pandas(panel):
    prices, _ = panel
    ours = forward_returns(prices.to_numpy(), HORIZONS)
    logs = forward_returns(prices.to_numpy(), HORIZONS, log=True)
    for i, h in enumerate(HORIZONS):
        expected = prices.shift(-h) / prices - 1.0
        np.testing.assert_allclose(ours[i], expected.to_numpy(), rtol=1e-13, equal_nan=True)
        expected_log = np.log(prices.shift(-h) / prices)
        np.testing.assert_allclose(logs[i], expected_log.to_numpy(), rtol=1e-13, equal_nan=True)


def test_quantile_labels_match_qcut():
    values = np.random.default_rng(0).standard_normal(1001)
    expected = pd.qcut(values, 5, labels=False)
    np.testing.assert_array_equal(quantile_labels(values, 5), expected)
    with pytest.raises(ValueError, match="ties"):
        quantile_labels(np.r_[np.zeros(50), np.arange(5.0)], 5)


def test_time_series_decay_matches_pandas(panel):
    prices, signal = panel
    curve = alpha_decay(signal["SPY"].to_numpy(), prices["SPY"].to_numpy(), HORIZONS)
    assert not curve.cross_sectional
    for i, h in enumerate(HORIZONS):
        frame = pd.DataFrame(
            {"s": signal["SPY"], "r": prices["SPY"].shift(-h) / prices["SPY"] - 1.0}
        ).dropna()
        assert curve.n_obs[i] == len(frame)
        assert curve.ic_pearson[i] == pytest.approx(frame["s"].corr(frame["r"]), rel=1e-10)
        assert curve.ic_spearman[i] == pytest.approx(
            frame["s"].corr(frame["r"], method="spearman"), rel=1e-10
        )
        buckets = frame.groupby(pd.qcut(frame["s"], 5, labels=False))["r"].mean()
        np.testing.assert_allclose(curve.quantile_mean_returns[i], buckets.to_numpy(), rtol=1e-12)


def test_cross_sectional_decay_matches_pandas(panel):
    # The pandas reference loops over dates in Python; 400 dates keep it quick.
    prices, signal = (frame.iloc[:400] for frame in panel)
    curve = alpha_decay(signal.to_numpy(), prices.to_numpy(), HORIZONS, n_quantiles=4)
    assert curve.cross_sectional
    for i, h in enumerate(HORIZONS):
        fwd = prices.shift(-h) / prices - 1.0
        long = pd.DataFrame({"s": signal.stack(), "r": fwd.stack()}).dropna()
        by_date = long.groupby(level=0)
        spearman = by_date.apply(lambda g: g["s"].corr(g["r"], method="spearman"))
        pearson = by_date.apply(lambda g: g["s"].corr(g["r"]))
        assert curve.n_obs[i] == len(spearman)
        assert curve.ic_spearman[i] == pytest.approx(spearman.mean(), rel=1e-10)
        assert curve.ic_pearson[i] == pytest.approx(pearson.mean(), rel=1e-10)
        tstat = spearman.mean() / spearman.std() * np.sqrt(len(spearman))
        assert curve.ic_spearman_tstat[i] == pytest.approx(tstat, rel=1e-10)
        long["q"] = by_date["s"].transform(lambda s: pd.qcut(s, 4, labels=False))
        buckets = long.groupby("q")["r"].mean()
        np.testing.assert_allclose(curve.quantile_mean_returns[i], buckets.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(
        curve.long_short, curve.quantile_mean_returns[:, -1] - curve.quantile_mean_returns[:, 0]
    )


def test_decay_of_a_signal_with_one_day_of_edge():
    # The signal predicts only the next day's return; over longer horizons that edge is
    # diluted by unpredictable days, so the IC must fall with the horizon.
    rng = np.random.default_rng(4)
    n = 20_000
    signal = rng.standard_normal(n)
    daily = 0.2 * np.r_[0.0, signal[:-1]] + rng.standard_normal(n)
    prices = 100.0 * np.exp(np.cumsum(0.001 * daily))
    curve = alpha_decay(signal, prices, (1, 2, 5, 20), log_returns=True)
    assert curve.ic_spearman[0] > 0.15
    assert np.all(np.diff(curve.ic_spearman) < 0)
    assert curve.ic_spearman[-1] < 0.1
    assert np.all(np.diff(curve.quantile_mean_returns[0]) > 0)  # monotone in the signal
    record = curve.as_dict()
    assert record["horizons"] == [1, 2, 5, 20] and len(record["long_short"]) == 4


def test_alpha_decay_rejects_bad_input():
    with pytest.raises(ValueError, match="must match"):
        alpha_decay(np.ones(10), np.ones(11))
    with pytest.raises(ValueError, match="horizons"):
        alpha_decay(np.arange(10.0), np.arange(1.0, 11.0), (0, 5))
    with pytest.raises(ValueError, match="positive"):
        forward_returns(np.array([1.0, -1.0, 2.0]), (1,))
