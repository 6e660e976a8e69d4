"""Value at risk, expected shortfall and VaR backtests.

Conventions: inputs are periodic returns (simple or log, as the caller chooses); VaR and CVaR
are reported as POSITIVE LOSS fractions, so a 95 % VaR of 0.02 means "on 5 % of days the
return is expected to be -2 % or worse".  ``confidence`` is the coverage level (0.95, 0.99);
the tail probability is ``alpha = 1 - confidence``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import integrate
from scipy.special import xlogy
from scipy.stats import chi2, norm

VarMethod = Literal["historical", "normal", "cornish_fisher"]
QuantileMethod = Literal["linear", "lower", "higher", "nearest", "midpoint", "inverted_cdf"]


def _returns(returns: np.ndarray, name: str = "returns") -> np.ndarray:
    returns = np.asarray(returns, dtype=float)
    if returns.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {returns.shape}")
    if returns.size < 2:
        raise ValueError(f"{name} needs at least 2 observations, got {returns.size}")
    if not np.all(np.isfinite(returns)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return returns


def _alpha(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")
    return 1.0 - confidence


# --------------------------------------------------------------------------------------------
# Historical
# --------------------------------------------------------------------------------------------


def historical_var(
    returns: np.ndarray, confidence: float = 0.95, *, method: QuantileMethod = "linear"
) -> float:
    """Empirical VaR: minus the ``1 - confidence`` quantile of ``returns``.

    ``method`` is numpy's quantile rule; "linear" (numpy's default) interpolates between order
    statistics, "inverted_cdf" is the plain empirical quantile.
    """
    alpha = _alpha(confidence)
    return -float(np.quantile(_returns(returns), alpha, method=method))


def historical_cvar(
    returns: np.ndarray, confidence: float = 0.95, *, method: QuantileMethod = "linear"
) -> float:
    """Empirical expected shortfall: minus the mean of the returns at or below the VaR quantile."""
    returns = _returns(returns)
    cutoff = -historical_var(returns, confidence, method=method)
    return -float(returns[returns <= cutoff].mean())


# --------------------------------------------------------------------------------------------
# Parametric
# --------------------------------------------------------------------------------------------


def _moments(returns: np.ndarray) -> tuple[float, float]:
    return float(returns.mean()), float(returns.std(ddof=1))


def normal_var(returns: np.ndarray, confidence: float = 0.95) -> float:
    """Gaussian VaR ``-(mu + sigma z_alpha)`` with the sample mean and (ddof=1) deviation."""
    alpha = _alpha(confidence)
    mu, sigma = _moments(_returns(returns))
    return -(mu + sigma * float(norm.ppf(alpha)))


def normal_cvar(returns: np.ndarray, confidence: float = 0.95) -> float:
    """Gaussian expected shortfall ``-(mu - sigma phi(z_alpha) / alpha)``."""
    alpha = _alpha(confidence)
    mu, sigma = _moments(_returns(returns))
    return -(mu - sigma * float(norm.pdf(norm.ppf(alpha))) / alpha)


def _cornish_fisher_z(z: float | np.ndarray, skew: float, excess_kurtosis: float):
    return (
        z
        + (z**2 - 1.0) * skew / 6.0
        + (z**3 - 3.0 * z) * excess_kurtosis / 24.0
        - (2.0 * z**3 - 5.0 * z) * skew**2 / 36.0
    )


def _shape(returns: np.ndarray) -> tuple[float, float, float, float]:
    """Mean, ddof=1 deviation, sample skewness and excess kurtosis (biased moment ratios)."""
    mu, sigma = _moments(returns)
    centred = returns - returns.mean()
    m2 = float(np.mean(centred**2))
    skew = float(np.mean(centred**3)) / m2**1.5
    kurt = float(np.mean(centred**4)) / m2**2 - 3.0
    return mu, sigma, skew, kurt


def cornish_fisher_var(returns: np.ndarray, confidence: float = 0.95) -> float:
    """Modified VaR: the normal quantile corrected for sample skewness and excess kurtosis."""
    alpha = _alpha(confidence)
    mu, sigma, skew, kurt = _shape(_returns(returns))
    return -(mu + sigma * float(_cornish_fisher_z(norm.ppf(alpha), skew, kurt)))


def cornish_fisher_cvar(returns: np.ndarray, confidence: float = 0.95) -> float:
    """Expected shortfall of the Cornish-Fisher quantile function, ``-(1/alpha) int_0^alpha q``."""
    alpha = _alpha(confidence)
    mu, sigma, skew, kurt = _shape(_returns(returns))

    def quantile(p: float) -> float:
        return mu + sigma * float(_cornish_fisher_z(norm.ppf(p), skew, kurt))

    area, _ = integrate.quad(quantile, 0.0, alpha, limit=200)
    return -area / alpha


RiskMeasure = Callable[[np.ndarray, float], float]

_VAR_METHODS: dict[str, RiskMeasure] = {
    "historical": historical_var,
    "normal": normal_var,
    "cornish_fisher": cornish_fisher_var,
}
_CVAR_METHODS: dict[str, RiskMeasure] = {
    "historical": historical_cvar,
    "normal": normal_cvar,
    "cornish_fisher": cornish_fisher_cvar,
}


def _by_method(measures: dict[str, RiskMeasure], method: str) -> RiskMeasure:
    if method not in measures:
        raise ValueError(f"method must be one of {sorted(measures)}, got {method!r}")
    return measures[method]


def value_at_risk(
    returns: np.ndarray, confidence: float = 0.95, method: VarMethod = "historical"
) -> float:
    """VaR by ``method`` ("historical", "normal" or "cornish_fisher")."""
    return _by_method(_VAR_METHODS, method)(returns, confidence)


def conditional_value_at_risk(
    returns: np.ndarray, confidence: float = 0.95, method: VarMethod = "historical"
) -> float:
    """CVaR (expected shortfall) by ``method``."""
    return _by_method(_CVAR_METHODS, method)(returns, confidence)


# --------------------------------------------------------------------------------------------
# Rolling forecasts
# --------------------------------------------------------------------------------------------


def rolling_var(
    returns: np.ndarray,
    window: int,
    confidence: float = 0.95,
    method: Literal["historical", "normal"] = "historical",
) -> np.ndarray:
    """Out-of-sample VaR forecasts: entry ``t`` uses only ``returns[t - window : t]``.

    The first ``window`` entries are NaN (no full window yet).  Because the forecast for day
    ``t`` never sees day ``t``, the result can be backtested against ``returns`` directly.
    """
    returns = _returns(returns)
    alpha = _alpha(confidence)
    if not 2 <= window <= returns.size:
        raise ValueError(f"window must be within 2..{returns.size}, got {window}")
    windows = sliding_window_view(returns, window)[:-1]  # window ending at t-1 for t = window..
    if method == "historical":
        forecast = -np.quantile(windows, alpha, axis=1)
    elif method == "normal":
        forecast = -(windows.mean(axis=1) + windows.std(axis=1, ddof=1) * norm.ppf(alpha))
    else:
        raise ValueError(f"method must be 'historical' or 'normal', got {method!r}")
    out = np.full(returns.size, np.nan)
    out[window:] = forecast
    return out


# --------------------------------------------------------------------------------------------
# Backtest
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VarBacktest:
    """Coverage tests of a VaR forecast series (exception: loss worse than the VaR)."""

    n: int
    exceptions: int
    expected_exceptions: float
    exception_rate: float
    kupiec_lr: float
    kupiec_pvalue: float
    christoffersen_lr: float
    christoffersen_pvalue: float
    conditional_coverage_lr: float
    conditional_coverage_pvalue: float

    def rejects(self, level: float = 0.05) -> bool:
        """Whether Kupiec's unconditional coverage test rejects at ``level``."""
        return self.kupiec_pvalue < level


def kupiec_pof(n: int, exceptions: int, confidence: float) -> tuple[float, float]:
    """Kupiec (1995) proportion-of-failures likelihood ratio and its chi-square(1) p-value.

    ``LR = -2 ln[(1-p)^(n-x) p^x] + 2 ln[(1-x/n)^(n-x) (x/n)^x]`` with ``p = 1 - confidence``.
    """
    p = _alpha(confidence)
    if n < 1 or not 0 <= exceptions <= n:
        raise ValueError(
            f"need 0 <= exceptions <= n and n >= 1, got n={n}, exceptions={exceptions}"
        )
    x = float(exceptions)
    rate = x / n
    null = xlogy(n - x, 1.0 - p) + xlogy(x, p)
    alternative = xlogy(n - x, 1.0 - rate) + xlogy(x, rate)
    lr = max(0.0, -2.0 * (null - alternative))
    return lr, float(chi2.sf(lr, 1))


def christoffersen_independence(hits: np.ndarray) -> tuple[float, float]:
    """Christoffersen (1998) independence LR of a 0/1 exception series, chi-square(1) p-value.

    Compares a first-order Markov chain for the exceptions with independence; a cluster of
    exceptions (a VaR that reacts too slowly) pushes the statistic up.
    """
    hits = np.asarray(hits, dtype=bool)
    prev, curr = hits[:-1], hits[1:]
    n00 = float(np.sum(~prev & ~curr))
    n01 = float(np.sum(~prev & curr))
    n10 = float(np.sum(prev & ~curr))
    n11 = float(np.sum(prev & curr))
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    null = xlogy(n00 + n10, 1.0 - pi) + xlogy(n01 + n11, pi)
    alternative = (
        xlogy(n00, 1.0 - pi01) + xlogy(n01, pi01) + xlogy(n10, 1.0 - pi11) + xlogy(n11, pi11)
    )
    lr = max(0.0, -2.0 * (null - alternative))
    return lr, float(chi2.sf(lr, 1))


def var_backtest(returns: np.ndarray, var: np.ndarray, confidence: float) -> VarBacktest:
    """Backtest VaR forecasts ``var`` (positive losses, NaN = no forecast) on ``returns``.

    An exception is a return strictly below ``-var``.  Days without a forecast are skipped.
    """
    returns = np.asarray(returns, dtype=float)
    var = np.asarray(var, dtype=float)
    if returns.shape != var.shape or returns.ndim != 1:
        raise ValueError(
            f"returns and var must be 1-D of equal length, got {returns.shape}, {var.shape}"
        )
    used = np.isfinite(var) & np.isfinite(returns)
    n = int(used.sum())
    if n < 2:
        raise ValueError(f"need at least 2 days with a VaR forecast, got {n}")
    hits = returns[used] < -var[used]
    x = int(hits.sum())
    kupiec_lr, kupiec_p = kupiec_pof(n, x, confidence)
    ind_lr, ind_p = christoffersen_independence(hits)
    cc_lr = kupiec_lr + ind_lr
    return VarBacktest(
        n=n,
        exceptions=x,
        expected_exceptions=n * _alpha(confidence),
        exception_rate=x / n,
        kupiec_lr=kupiec_lr,
        kupiec_pvalue=kupiec_p,
        christoffersen_lr=ind_lr,
        christoffersen_pvalue=ind_p,
        conditional_coverage_lr=cc_lr,
        conditional_coverage_pvalue=float(chi2.sf(cc_lr, 2)),
    )
