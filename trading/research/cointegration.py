"""Pair selection: correlation screen, Engle-Granger, Johansen, half-life and Hurst exponent.

Everything works on LOG prices (or their differences): a hedge ratio on log prices is an
elasticity, so the spread ``log a - beta log b - alpha`` stays meaningful when one leg costs ten
times the other, and the test statistics do not depend on the price units.

The unit-root and cointegration tests follow the definitions used by statsmodels
(``adfuller``, ``coint``, ``coint_johansen``) so results can be checked against it:

* ADF: regression of the first difference on the lagged level, ``p`` lagged differences and
  the deterministic terms; the statistic is the t-value of the lagged level.  The lag order is
  chosen by AIC (or BIC) over ``0..max_lag`` on a common sample, then the regression is re-run
  on all the observations the chosen order allows.  The default ``max_lag`` is Schwert's
  ``ceil(12 (n / 100) ** 0.25)``.
* Engle-Granger: OLS of ``y`` on ``x`` and a constant, ADF without deterministic terms on the
  residuals, with p-values and critical values for ``N = 2`` series from MacKinnon's response
  surfaces (the residuals are estimated, so the single-series Dickey-Fuller tables would be
  far too lenient).
* Johansen: reduced-rank regression of the differences on the lagged levels after
  partialling out lagged differences and the deterministic terms; trace and maximum-eigenvalue
  statistics with the MacKinnon-Haug-Michelis critical values.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
from scipy import linalg
from scipy.stats import norm

from trading.research import unit_root_tables as tables

Regression = Literal["n", "c", "ct", "ctt"]
AutoLag = Literal["aic", "bic"] | None

# statsmodels' threshold: with an R^2 this close to 1 the residual ADF is meaningless and the
# series are treated as cointegrated (statistic -inf, p-value 0).
_COLLINEAR_R2 = 1.0 - 100.0 * math.sqrt(np.finfo(float).eps)


# --------------------------------------------------------------------------------------------
# MacKinnon p-values and critical values
# --------------------------------------------------------------------------------------------


def _check_regression(regression: str) -> None:
    if regression not in tables.REGRESSIONS:
        raise ValueError(f"regression must be one of {tables.REGRESSIONS}, got {regression!r}")


def mackinnon_pvalue(stat: float, regression: Regression = "c", n_series: int = 1) -> float:
    """Asymptotic p-value of a Dickey-Fuller / Engle-Granger tau statistic (MacKinnon 1994).

    ``n_series`` is the number of I(1) series in the test: 1 for a plain ADF, 2 for a pair.
    """
    _check_regression(regression)
    if not 1 <= n_series <= 6:
        raise ValueError(f"n_series must be 1..6 for p-values, got {n_series}")
    i = n_series - 1
    if stat > tables.TAU_MAX[regression][i]:
        return 1.0
    if stat < tables.TAU_MIN[regression][i]:
        return 0.0
    if stat <= tables.TAU_STAR[regression][i]:
        coef = np.asarray(tables.TAU_SMALL_P[regression][i]) * np.asarray(tables.TAU_SMALL_P_SCALE)
    else:
        coef = np.asarray(tables.TAU_LARGE_P[regression][i]) * np.asarray(tables.TAU_LARGE_P_SCALE)
    return float(norm.cdf(np.polyval(coef[::-1], stat)))


def mackinnon_critical_values(
    n_series: int = 1, regression: Regression = "c", nobs: float = math.inf
) -> dict[str, float]:
    """Critical values at 1 %, 5 % and 10 % for a sample of ``nobs`` (MacKinnon 2010)."""
    _check_regression(regression)
    surfaces = tables.TAU_CRITICAL[regression]
    if not 1 <= n_series <= len(surfaces):
        raise ValueError(f"n_series must be 1..{len(surfaces)} for {regression!r}, got {n_series}")
    coef = np.asarray(surfaces[n_series - 1])
    values = coef[:, 0] if math.isinf(nobs) else np.polyval(coef[:, ::-1].T, 1.0 / nobs)
    return {"1%": float(values[0]), "5%": float(values[1]), "10%": float(values[2])}


# --------------------------------------------------------------------------------------------
# Least squares
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ols:
    params: np.ndarray
    bse: np.ndarray
    resid: np.ndarray
    ssr: float

    @property
    def tvalues(self) -> np.ndarray:
        return self.params / self.bse


def _triangular_factor(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``R``, ``Q'y`` and the residual sum of squares of ``y`` on ``x`` from one QR.

    Factoring ``[x | y]`` without forming ``Q`` is the cheapest numerically sound route: the
    last column of the triangular factor holds ``Q'y`` and, in its corner, the residual norm.
    """
    n, k = x.shape
    if n <= k:
        raise ValueError(f"{n} observations cannot fit {k} regressors")
    _, r_aug = linalg.qr(np.column_stack([x, y]), mode="raw", check_finite=False)
    return r_aug[:k, :k], r_aug[:k, k], float(r_aug[k, k] ** 2)


def _ols(y: np.ndarray, x: np.ndarray) -> _Ols:
    """OLS through a QR decomposition, with classical standard errors."""
    n, k = x.shape
    r, qty, ssr = _triangular_factor(y, x)
    params = linalg.solve_triangular(r, qty)
    resid = y - x @ params
    r_inv = linalg.solve_triangular(r, np.eye(k))
    bse = np.sqrt(ssr / (n - k) * np.einsum("ij,ij->i", r_inv, r_inv))
    return _Ols(params, bse, resid, ssr)


def _deterministic(n: int, regression: str) -> np.ndarray:
    """Constant / trend / squared-trend columns (trend counted 1..n, as statsmodels does)."""
    trend = np.arange(1.0, n + 1.0)
    by_regression: dict[str, list[np.ndarray]] = {
        "n": [],
        "c": [np.ones(n)],
        "ct": [np.ones(n), trend],
        "ctt": [np.ones(n), trend, trend**2],
    }
    columns = by_regression[regression]
    return np.column_stack(columns) if columns else np.empty((n, 0))


def _information_criteria(y: np.ndarray, x: np.ndarray, autolag: str) -> np.ndarray:
    """AIC or BIC of the regressions of ``y`` on every leading block of columns of ``x``.

    Entry ``j`` is for the first ``j + 1`` columns.  One QR serves all the nested models: the
    residual sum of squares of a prefix is the full one plus the squared components of
    ``Q'y`` the prefix leaves out.
    """
    n, k = x.shape
    _, qty, full_ssr = _triangular_factor(y, x)
    tail = np.cumsum((qty**2)[::-1])[::-1]  # tail[j] = sum of qty[j:]**2
    ssr = full_ssr + np.append(tail[1:], 0.0)
    n_params = np.arange(1, k + 1)
    llf = -n / 2.0 * (np.log(2.0 * np.pi) + np.log(ssr / n) + 1.0)
    penalty = 2.0 * n_params if autolag == "aic" else np.log(n) * n_params
    return -2.0 * llf + penalty


# --------------------------------------------------------------------------------------------
# Augmented Dickey-Fuller
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdfResult:
    """Outcome of an augmented Dickey-Fuller test (null: unit root)."""

    stat: float
    pvalue: float
    used_lag: int
    nobs: int
    critical_values: dict[str, float]
    icbest: float | None


def default_max_lag(nobs: int, regression: Regression = "c") -> int:
    """Schwert's rule ``ceil(12 (n / 100) ** 0.25)``, capped so the regression stays feasible."""
    n_trend = 0 if regression == "n" else len(regression)
    max_lag = min(nobs // 2 - n_trend - 1, int(math.ceil(12.0 * (nobs / 100.0) ** 0.25)))
    if max_lag < 0:
        raise ValueError(f"{nobs} observations are too few for regression {regression!r}")
    return max_lag


def _adf_design(x: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    """Response (differences) and regressors ``[level_{t-1}, dx_{t-1}, ..., dx_{t-lags}]``."""
    dx = np.diff(x)
    n = dx.size - lags
    columns = [x[lags : lags + n]]
    columns += [dx[lags - j : lags - j + n] for j in range(1, lags + 1)]
    return dx[lags:], np.column_stack(columns)


def adf_test(
    x: Sequence[float] | np.ndarray,
    *,
    regression: Regression = "c",
    max_lag: int | None = None,
    autolag: AutoLag = "aic",
    n_series: int = 1,
) -> AdfResult:
    """Augmented Dickey-Fuller test of ``x`` for a unit root.

    ``regression`` picks the deterministic terms ("n", "c", "ct", "ctt").  With
    ``autolag`` None exactly ``max_lag`` lagged differences are used.  ``n_series`` selects
    the MacKinnon distribution: 1 for a plain series, more when ``x`` is a residual of a
    cointegrating regression of that many series (critical values then use ``nobs - 1``).
    """
    _check_regression(regression)
    if autolag not in ("aic", "bic", None):
        raise ValueError(f"autolag must be 'aic', 'bic' or None, got {autolag!r}")
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x must be one-dimensional, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinite values")
    if x.size < 4 or x.max() == x.min():
        raise ValueError("x must hold at least 4 values and must not be constant")
    n_trend = 0 if regression == "n" else len(regression)
    limit = x.size // 2 - n_trend - 1
    if max_lag is None:
        max_lag = default_max_lag(x.size, regression)
    elif not 0 <= max_lag <= limit:
        raise ValueError(f"max_lag must be within 0..{limit} for {x.size} values, got {max_lag}")

    icbest = None
    used_lag = max_lag
    if autolag is not None:
        y, levels_and_lags = _adf_design(x, max_lag)
        design = np.column_stack([_deterministic(y.size, regression), levels_and_lags])
        criteria = _information_criteria(y, design, autolag)[n_trend:]
        used_lag = int(np.argmin(criteria))  # first minimum: the shortest of tied models
        icbest = float(criteria[used_lag])
    y, levels_and_lags = _adf_design(x, used_lag)
    fit = _ols(y, np.column_stack([levels_and_lags, _deterministic(y.size, regression)]))
    stat = float(fit.tvalues[0])
    if n_series == 1:
        crit = mackinnon_critical_values(1, regression, y.size)
    else:
        crit = mackinnon_critical_values(n_series, regression, x.size - 1)
    return AdfResult(
        stat=stat,
        pvalue=mackinnon_pvalue(stat, regression, n_series),
        used_lag=used_lag,
        nobs=int(y.size),
        critical_values=crit,
        icbest=icbest,
    )


# --------------------------------------------------------------------------------------------
# Engle-Granger
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EngleGrangerResult:
    """Two-step Engle-Granger test of ``y = alpha + hedge_ratio * x + spread``."""

    hedge_ratio: float
    intercept: float
    adf_stat: float
    pvalue: float
    used_lag: int
    critical_values: dict[str, float]
    spread: np.ndarray


def _as_log_prices(prices: np.ndarray, name: str) -> np.ndarray:
    prices = np.asarray(prices, dtype=float)
    if prices.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {prices.shape}")
    if not np.all(np.isfinite(prices)) or np.any(prices <= 0):
        raise ValueError(f"{name} must hold finite, strictly positive prices")
    return np.log(prices)


def engle_granger_log(
    y: np.ndarray, x: np.ndarray, *, max_lag: int | None = None, autolag: AutoLag = "aic"
) -> EngleGrangerResult:
    """Engle-Granger two-step test on series that are already in logs (or any I(1) units)."""
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    if y.shape != x.shape or y.ndim != 1:
        raise ValueError(f"y and x must be 1-D of equal length, got {y.shape} and {x.shape}")
    fit = _ols(y, np.column_stack([x, np.ones_like(x)]))
    centred = y - y.mean()
    r_squared = 1.0 - fit.ssr / float(centred @ centred)
    crit = mackinnon_critical_values(2, "c", y.size - 1)
    if r_squared >= _COLLINEAR_R2:
        stat, pvalue, used_lag = -math.inf, 0.0, 0
    else:
        adf = adf_test(fit.resid, regression="n", max_lag=max_lag, autolag=autolag)
        stat, used_lag = adf.stat, adf.used_lag
        pvalue = mackinnon_pvalue(stat, "c", 2)
    return EngleGrangerResult(
        hedge_ratio=float(fit.params[0]),
        intercept=float(fit.params[1]),
        adf_stat=stat,
        pvalue=pvalue,
        used_lag=used_lag,
        critical_values=crit,
        spread=fit.resid,
    )


def engle_granger(
    prices_y: np.ndarray,
    prices_x: np.ndarray,
    *,
    max_lag: int | None = None,
    autolag: AutoLag = "aic",
) -> EngleGrangerResult:
    """Engle-Granger two-step test on PRICES: both legs are logged first.

    Step 1 regresses ``log y`` on ``log x`` and a constant (the slope is the hedge ratio);
    step 2 runs an ADF without deterministic terms on the residual spread and judges it with
    MacKinnon's two-series cointegration distribution, as ``statsmodels...coint`` does.
    """
    return engle_granger_log(
        _as_log_prices(prices_y, "prices_y"),
        _as_log_prices(prices_x, "prices_x"),
        max_lag=max_lag,
        autolag=autolag,
    )


# --------------------------------------------------------------------------------------------
# Johansen
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JohansenResult:
    """Johansen test; entry ``r`` of each statistic tests ``rank <= r`` (trace) or ``= r``."""

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    trace_stat: np.ndarray
    max_eigen_stat: np.ndarray
    trace_critical_values: np.ndarray  # (n, 3) at 90 %, 95 %, 99 %
    max_eigen_critical_values: np.ndarray

    def rank(self, level: Literal[90, 95, 99] = 95) -> int:
        """Cointegration rank chosen by the sequential trace test at ``level`` percent."""
        column = {90: 0, 95: 1, 99: 2}[level]
        for r, (stat, crit) in enumerate(
            zip(self.trace_stat, self.trace_critical_values[:, column], strict=True)
        ):
            if not stat > crit:
                return r
        return len(self.trace_stat)


def _detrend(y: np.ndarray, order: int) -> np.ndarray:
    """Residuals of ``y`` on a polynomial of ``order`` in time (none when ``order`` is -1)."""
    if order == -1 or y.size == 0:
        return y
    basis = np.vander(np.linspace(-1.0, 1.0, y.shape[0]), order + 1)
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    return y - basis @ coef


def _partial_out(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    if z.size == 0:
        return y
    coef, *_ = np.linalg.lstsq(z, y, rcond=None)
    return y - z @ coef


def johansen(levels: np.ndarray, det_order: int = 0, k_ar_diff: int = 1) -> JohansenResult:
    """Johansen trace and maximum-eigenvalue tests on ``levels`` (n_obs x n_series).

    ``det_order`` -1: no deterministic terms, 0: constant, 1: linear trend; ``k_ar_diff``
    lagged differences in the VECM.  The construction is that of statsmodels'
    ``coint_johansen`` (Lütkepohl 2005, ch. 7), so its statistics are reproduced.
    """
    levels = np.asarray(levels, dtype=float)
    if levels.ndim != 2 or levels.shape[1] < 1:
        raise ValueError(f"levels must be a 2-D array (n_obs, n_series), got {levels.shape}")
    if det_order not in (-1, 0, 1):
        raise ValueError(f"det_order must be -1, 0 or 1, got {det_order}")
    if k_ar_diff < 0:
        raise ValueError(f"k_ar_diff must be >= 0, got {k_ar_diff}")
    n_obs, n_series = levels.shape
    if n_series > 12:
        raise ValueError(f"critical values exist for at most 12 series, got {n_series}")
    if n_obs <= n_series * (k_ar_diff + 1) + 2:
        raise ValueError(f"{n_obs} observations are too few for {n_series} series")
    if not np.all(np.isfinite(levels)):
        raise ValueError("levels contain NaN or infinite values")

    # Deterministic terms in the data generating process are removed from the levels; the
    # auxiliary regressions then only need demeaning (or nothing when there are none).
    inner = 0 if det_order > -1 else -1
    levels = _detrend(levels, det_order)
    dx = np.diff(levels, axis=0)
    lagged = [dx[k_ar_diff - j : dx.shape[0] - j] for j in range(1, k_ar_diff + 1)]
    z = np.hstack(lagged) if lagged else np.empty((dx.shape[0] - k_ar_diff, 0))
    z = _detrend(z, inner)
    r0 = _partial_out(_detrend(dx[k_ar_diff:], inner), z)
    lx = levels[1 : levels.shape[0] - k_ar_diff]
    rk = _partial_out(_detrend(lx, inner), z)

    t = rk.shape[0]
    skk = rk.T @ rk / t
    sk0 = rk.T @ r0 / t
    s00 = r0.T @ r0 / t
    sig = sk0 @ np.linalg.solve(s00, sk0.T)
    # Generalised symmetric problem sig v = lambda skk v; eigenvectors come out with
    # v' skk v = I, the normalisation statsmodels reaches through a Cholesky factor.
    eigenvalues, vectors = linalg.eigh((sig + sig.T) / 2.0, (skk + skk.T) / 2.0)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues = eigenvalues[order]
    vectors = vectors[:, order]
    nonzero = vectors.flat[np.flatnonzero(vectors.ravel())]
    if nonzero.size:
        vectors = vectors * np.sign(nonzero[0])

    log_keep = np.log1p(-eigenvalues)
    trace = -t * np.cumsum(log_keep[::-1])[::-1]
    max_eigen = -t * log_keep
    trace_cv = np.array(
        [tables.JOHANSEN_TRACE[det_order][n_series - i - 1] for i in range(n_series)]
    )
    max_cv = np.array(
        [tables.JOHANSEN_MAX_EIGEN[det_order][n_series - i - 1] for i in range(n_series)]
    )
    return JohansenResult(eigenvalues, vectors, trace, max_eigen, trace_cv, max_cv)


# --------------------------------------------------------------------------------------------
# Mean reversion speed and persistence
# --------------------------------------------------------------------------------------------


def half_life(spread: np.ndarray) -> float:
    """Half-life of mean reversion of ``spread`` in observations (trading days on daily data).

    Fits the discretised Ornstein-Uhlenbeck model ``d s_t = a + b s_{t-1} + e_t`` by OLS and
    returns ``-ln 2 / b``; ``inf`` when ``b >= 0`` (no pull back to the mean).  For a strongly
    mean-reverting spread the exact AR(1) figure ``-ln 2 / ln(1 + b)`` is slightly shorter.
    """
    spread = np.asarray(spread, dtype=float)
    if spread.ndim != 1 or spread.size < 3:
        raise ValueError(f"spread must be 1-D with at least 3 values, got shape {spread.shape}")
    if not np.all(np.isfinite(spread)):
        raise ValueError("spread contains NaN or infinite values")
    lagged = spread[:-1]
    fit = _ols(np.diff(spread), np.column_stack([lagged, np.ones_like(lagged)]))
    beta = float(fit.params[0])
    return math.inf if beta >= 0 else -math.log(2.0) / beta


def hurst_exponent(series: np.ndarray, lags: Sequence[int] | None = None) -> float:
    """Hurst exponent of a LEVEL series by the variance-of-lags (diffusion) estimator.

    For a process with stationary increments ``std(s_{t+k} - s_t) ~ k ** H``; ``H`` is the
    slope of ``log std`` on ``log k`` over ``lags`` (default 2..min(100, n // 4)).  0.5 means a
    random walk, below 0.5 mean reversion, above 0.5 trending.  Unlike rescaled range (R/S),
    this estimator has no small-sample upward bias for a random walk.
    """
    series = np.asarray(series, dtype=float)
    if series.ndim != 1 or not np.all(np.isfinite(series)):
        raise ValueError("series must be a 1-D array of finite values")
    if lags is None:
        lags = range(2, min(100, series.size // 4) + 1)
    lag_values = np.asarray(list(lags), dtype=int)
    if lag_values.size < 2 or lag_values.min() < 1 or lag_values.max() >= series.size - 1:
        raise ValueError(
            f"need at least 2 lags within 1..{series.size - 2}, got {lag_values.tolist()}"
        )
    spread_at = np.array([np.std(series[k:] - series[:-k]) for k in lag_values])
    if np.any(spread_at <= 0):
        raise ValueError("series is constant over some lag; the Hurst exponent is undefined")
    slope, _ = np.polyfit(np.log(lag_values), np.log(spread_at), 1)
    return float(slope)


# --------------------------------------------------------------------------------------------
# Screening and ranking
# --------------------------------------------------------------------------------------------


def correlation_matrix(
    closes: np.ndarray, *, of: Literal["returns", "prices"] = "returns"
) -> np.ndarray:
    """Pearson correlation between the columns of ``closes`` (n_days x n_symbols).

    ``of="returns"`` (default) correlates daily LOG RETURNS, which measures co-movement
    without the spurious correlation any two trending price levels show; ``of="prices"``
    correlates log price levels, the looser screen some pair traders use.
    """
    closes = np.asarray(closes, dtype=float)
    if closes.ndim != 2 or closes.shape[0] < 3:
        raise ValueError(f"closes must be 2-D with at least 3 rows, got shape {closes.shape}")
    if not np.all(np.isfinite(closes)) or np.any(closes <= 0):
        raise ValueError("closes must hold finite, strictly positive prices")
    if of not in ("returns", "prices"):
        raise ValueError(f"of must be 'returns' or 'prices', got {of!r}")
    logs = np.log(closes)
    data = np.diff(logs, axis=0) if of == "returns" else logs
    return np.atleast_2d(np.corrcoef(data, rowvar=False))


@dataclass(frozen=True, slots=True)
class PairResult:
    """One candidate pair: ``log a = intercept + hedge_ratio * log b + spread``."""

    a: str
    b: str
    hedge_ratio: float
    intercept: float
    adf_stat: float
    pvalue: float
    used_lag: int
    half_life_days: float
    correlation: float
    hurst: float
    johansen_trace: float
    johansen_trace_crit_95: float
    johansen_max_eigen: float
    n_obs: int
    start: str
    end: str

    @property
    def johansen_rejects(self) -> bool:
        """Whether Johansen's trace test rejects "no cointegration" at 5 %."""
        return self.johansen_trace > self.johansen_trace_crit_95

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view (non-finite numbers become None)."""
        out: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, float) and not math.isfinite(value):
                value = None
            out[field.name] = value
        out["johansen_rejects"] = self.johansen_rejects
        return out


def _date_text(value: Any) -> str:
    return str(np.datetime64(value, "D")) if value is not None else ""


def analyse_pair(
    log_a: np.ndarray,
    log_b: np.ndarray,
    a: str,
    b: str,
    *,
    correlation: float = math.nan,
    start: str = "",
    end: str = "",
    max_lag: int | None = None,
) -> PairResult:
    """Every statistic of one pair (``a`` regressed on ``b``) from LOG price columns."""
    eg = engle_granger_log(log_a, log_b, max_lag=max_lag)
    jo = johansen(np.column_stack([log_a, log_b]), det_order=0, k_ar_diff=1)
    return PairResult(
        a=a,
        b=b,
        hedge_ratio=eg.hedge_ratio,
        intercept=eg.intercept,
        adf_stat=eg.adf_stat,
        pvalue=eg.pvalue,
        used_lag=eg.used_lag,
        half_life_days=half_life(eg.spread),
        correlation=float(correlation),
        hurst=hurst_exponent(eg.spread),
        johansen_trace=float(jo.trace_stat[0]),
        johansen_trace_crit_95=float(jo.trace_critical_values[0, 1]),
        johansen_max_eigen=float(jo.max_eigen_stat[0]),
        n_obs=int(log_a.size),
        start=start,
        end=end,
    )


def rank_pairs(
    dates: np.ndarray | Sequence[Any] | None,
    closes: np.ndarray,
    symbols: Sequence[str],
    *,
    min_correlation: float = 0.7,
    max_pvalue: float = 0.05,
    correlation_of: Literal["returns", "prices"] = "returns",
    max_lag: int | None = None,
) -> list[PairResult]:
    """Screen every pair of ``symbols`` and rank the cointegrated ones.

    ``closes`` holds adjusted closes (n_days x n_symbols) on common ``dates`` (oldest first).
    Pairs whose log-return correlation (see :func:`correlation_matrix`) is below
    ``min_correlation`` are skipped.  Engle-Granger depends on which leg is the dependent
    variable, so both directions are tested and the one with the more negative ADF statistic
    is kept (``a`` is the dependent leg).  Pairs with an Engle-Granger p-value above
    ``max_pvalue`` are dropped; the rest are sorted by p-value, then half-life.
    """
    closes = np.asarray(closes, dtype=float)
    symbols = [str(s) for s in symbols]
    if closes.ndim != 2 or closes.shape[1] != len(symbols):
        raise ValueError(
            f"closes must be (n_days, {len(symbols)}) for {len(symbols)} symbols, "
            f"got shape {closes.shape}"
        )
    if len(set(symbols)) != len(symbols):
        raise ValueError(f"symbols must be unique, got {symbols}")
    if dates is not None and len(dates) != closes.shape[0]:
        raise ValueError(f"{len(dates)} dates for {closes.shape[0]} rows of closes")
    if not -1.0 <= min_correlation <= 1.0:
        raise ValueError(f"min_correlation must be within [-1, 1], got {min_correlation}")
    if not 0.0 <= max_pvalue <= 1.0:
        raise ValueError(f"max_pvalue must be within [0, 1], got {max_pvalue}")
    if closes.shape[0] < 30:
        raise ValueError(f"at least 30 common days are needed, got {closes.shape[0]}")

    corr = correlation_matrix(closes, of=correlation_of)
    logs = np.log(closes)
    start = _date_text(dates[0]) if dates is not None else ""
    end = _date_text(dates[-1]) if dates is not None else ""
    results = []
    for i, j in itertools.combinations(range(len(symbols)), 2):
        if not corr[i, j] >= min_correlation:
            continue
        candidates = [
            analyse_pair(
                logs[:, p],
                logs[:, q],
                symbols[p],
                symbols[q],
                correlation=corr[i, j],
                start=start,
                end=end,
                max_lag=max_lag,
            )
            for p, q in ((i, j), (j, i))
        ]
        best = min(candidates, key=lambda r: r.adf_stat)
        if best.pvalue <= max_pvalue:
            results.append(best)
    results.sort(key=lambda r: (r.pvalue, r.half_life_days, r.a, r.b))
    return results
