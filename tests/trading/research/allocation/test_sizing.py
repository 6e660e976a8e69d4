"""Position sizing: volatility targeting, fixed fractional, Kelly and fractional Kelly."""

import math

import numpy as np
import pytest
from scipy import optimize

from trading.research.allocation.sizing import (
    fixed_fractional_size,
    fractional_kelly,
    kelly_fraction_continuous,
    kelly_fraction_discrete,
    kelly_weights,
    trailing_volatility,
    volatility_target_leverage,
    volatility_targeted_returns,
)


def test_rolling_volatility_uses_only_earlier_returns():
    rng = np.random.default_rng(1)
    r = rng.normal(0, 0.01, size=120)
    vol = trailing_volatility(r, window=20)
    assert np.all(np.isnan(vol[:20]))
    for t in range(20, 120):
        assert vol[t] == pytest.approx(np.std(r[t - 20 : t], ddof=1) * math.sqrt(252), rel=1e-12)
    # Changing today's and later returns leaves today's estimate alone.
    shocked = r.copy()
    shocked[60:] *= 10
    np.testing.assert_array_equal(trailing_volatility(shocked, window=20)[:61], vol[:61])


def test_ewma_volatility_follows_the_recursion():
    rng = np.random.default_rng(2)
    r = rng.normal(0, 0.01, size=200)
    halflife = 10.0
    lam = 0.5 ** (1 / halflife)
    vol = trailing_volatility(r, halflife=halflife, periods_per_year=365)
    var = np.mean(r[:10] ** 2)
    assert np.all(np.isnan(vol[:10]))
    for t in range(10, 200):
        if t > 10:
            var = lam * var + (1 - lam) * r[t - 1] ** 2
        assert vol[t] == pytest.approx(math.sqrt(var * 365), rel=1e-10)


def test_volatility_targeting_reaches_the_target_and_respects_the_cap():
    rng = np.random.default_rng(3)
    # Two volatility regimes: 10 % then 40 % a year.
    r = np.concatenate([rng.normal(0, 0.10 / 15.87, 1500), rng.normal(0, 0.40 / 15.87, 1500)])
    leverage = volatility_target_leverage(r, 0.15, window=60, max_leverage=3.0)
    assert np.all(leverage[:60] == 0.0)
    assert leverage.max() <= 3.0
    scaled = volatility_targeted_returns(r, 0.15, window=60, max_leverage=3.0)
    np.testing.assert_array_equal(scaled, leverage * r)
    for part in (scaled[200:1500], scaled[1700:]):
        assert part.std() * math.sqrt(252) == pytest.approx(0.15, rel=0.1)
    capped = volatility_target_leverage(r, 0.15, window=60, max_leverage=1.0)
    assert np.all(capped[100:1500] == 1.0)  # 10 % vol would need 1.5x: the cap binds


def test_fixed_fractional_risks_the_fraction_at_the_stop():
    units = fixed_fractional_size(100_000.0, 0.01, 50.0, 48.0)
    assert units == 500  # 1,000 at risk over 2 per share
    assert units * 2.0 <= 1_000.0 < (units + 1) * 2.0
    assert fixed_fractional_size(100_000.0, 0.01, 50.0, 52.0) == 500  # a short's stop above
    assert fixed_fractional_size(100_000.0, 0.01, 50.0, 48.3, lot_size=100) == 500
    assert fixed_fractional_size(100_000.0, 0.05, 50.0, 49.0, max_leverage=2.0) == 4_000
    # Integer prices in 1e-4 dollars with equity in the same unit.
    assert fixed_fractional_size(10_000 * 10_000, 0.02, 5_853_300, 5_800_000) == 37
    with pytest.raises(ValueError, match="risk per unit is zero"):
        fixed_fractional_size(1e5, 0.01, 50.0, 50.0)
    with pytest.raises(ValueError, match="risk_fraction"):
        fixed_fractional_size(1e5, 1.5, 50.0, 49.0)


def test_discrete_kelly_maximises_expected_log_growth():
    for p, b, loss in [(0.6, 1.0, 1.0), (0.55, 2.0, 1.0), (0.4, 3.0, 0.5)]:

        def growth(f, p=p, b=b, loss=loss):
            return -(p * math.log(1 + f * b) + (1 - p) * math.log(1 - f * loss))

        best = optimize.minimize_scalar(growth, bounds=(0, 1 / loss - 1e-9), method="bounded")
        assert kelly_fraction_discrete(p, b, loss) == pytest.approx(best.x, abs=1e-5)
    assert kelly_fraction_discrete(0.6, 1.0) == pytest.approx(0.2)
    assert kelly_fraction_discrete(0.3, 1.0) < 0  # an unfavourable bet


def test_continuous_kelly_maximises_growth_rate():
    mu, sigma, rf = 0.08, 0.2, 0.02

    def growth(f):
        return -(rf + f * (mu - rf) - 0.5 * f * f * sigma * sigma)

    best = optimize.minimize_scalar(growth)
    assert kelly_fraction_continuous(mu, sigma, rf) == pytest.approx(best.x, rel=1e-6)
    cov = np.array([[0.04, 0.006], [0.006, 0.09]])
    mus = np.array([0.08, 0.1])

    def growth_vec(w):
        return -(w @ mus - 0.5 * w @ cov @ w)

    best_vec = optimize.minimize(growth_vec, np.zeros(2)).x
    np.testing.assert_allclose(kelly_weights(mus, cov), best_vec, rtol=1e-4)
    # A single asset's multivariate Kelly is the scalar one.
    assert kelly_weights([mu], [[sigma**2]], rf)[0] == pytest.approx(
        kelly_fraction_continuous(mu, sigma, rf)
    )


def test_fractional_kelly_scales_and_caps():
    assert fractional_kelly(1.5, 0.5) == pytest.approx(0.75)
    assert fractional_kelly(4.0, 0.5, max_leverage=1.0) == 1.0
    assert fractional_kelly(-4.0, 0.5, max_leverage=1.0) == -1.0
    assert fractional_kelly(-0.4, 0.5, allow_short=False) == 0.0
    weights = fractional_kelly(np.array([2.0, -1.0, 1.0]), 0.5, max_leverage=1.0)
    assert np.abs(weights).sum() == pytest.approx(1.0)
    np.testing.assert_allclose(weights, np.array([2.0, -1.0, 1.0]) / 4.0)
    long_only = fractional_kelly(np.array([2.0, -1.0, 1.0]), 0.5, allow_short=False)
    np.testing.assert_allclose(long_only, [1.0, 0.0, 0.5])
    with pytest.raises(ValueError, match="fraction"):
        fractional_kelly(1.0, 0.0)
