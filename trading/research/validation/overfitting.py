"""How much of a backtest's performance is selection luck.

- Probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV;
  Bailey, Borwein, Lopez de Prado and Zhu, "The Probability of Backtest Overfitting", 2015):
  the share of in-sample / out-of-sample splits in which the in-sample winner ranks at or below
  the out-of-sample median.
- Probabilistic Sharpe ratio (Bailey and Lopez de Prado, "The Sharpe Ratio Efficient Frontier",
  2012): the probability that the true Sharpe ratio exceeds a benchmark, given the sample length,
  skewness and kurtosis of the returns.
- Deflated Sharpe ratio (Bailey and Lopez de Prado, "The Deflated Sharpe Ratio", 2014): the
  probabilistic Sharpe ratio against the Sharpe ratio the best of N unskilled trials would be
  expected to reach.

Sharpe ratios here are per period (not annualised): mean over sample standard deviation
(ddof=1). Skewness and kurtosis are the population moment estimates (scipy's defaults) and
kurtosis is raw, 3 for a normal distribution.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

EULER_MASCHERONI = 0.5772156649015329


@dataclass(frozen=True)
class PBOResult:
    """CSCV outcome: one entry per combination of in-sample partitions."""

    pbo: float
    logits: np.ndarray
    is_performance: np.ndarray
    oos_performance: np.ndarray
    selected: np.ndarray
    n_partitions: int

    @property
    def n_combinations(self) -> int:
        return int(self.logits.size)

    @property
    def probability_of_loss(self) -> float:
        """Share of combinations where the in-sample winner lost out of sample."""
        return float(np.mean(self.oos_performance < 0.0))

    @property
    def degradation_slope(self) -> float:
        """Slope of out-of-sample on in-sample performance of the selected strategies."""
        if np.ptp(self.is_performance) == 0.0:
            return float("nan")
        return float(np.polyfit(self.is_performance, self.oos_performance, 1)[0])


@dataclass(frozen=True)
class DeflatedSharpe:
    """The deflated Sharpe ratio and the statistics it was computed from."""

    dsr: float
    sharpe: float
    benchmark_sharpe: float
    n_obs: int
    skew: float
    kurtosis: float
    n_trials: int
    sharpe_variance: float


def probability_of_backtest_overfitting(
    returns: np.ndarray,
    n_partitions: int = 16,
    *,
    metric: Callable[[np.ndarray], np.ndarray] | None = None,
) -> PBOResult:
    """PBO of choosing the best of N strategies, by CSCV.

    `returns` is ``[T, N]``: per-period returns of N strategy configurations over the same T
    periods. The rows are cut into `n_partitions` (S, even) contiguous blocks of ``T // S``
    rows, dropping the oldest ``T % S`` rows. For each of the C(S, S/2) choices of in-sample
    blocks, the strategy with the best in-sample `metric` (default: Sharpe ratio) is ranked out
    of sample among all N; its relative rank ``w = rank / (N + 1)`` gives the logit
    ``ln(w / (1 - w))``, and PBO is the share of logits <= 0.
    """
    matrix = np.asarray(returns, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"returns must be 2-D [T, N], got shape {matrix.shape}")
    n_rows, n_strategies = matrix.shape
    if n_strategies < 2:
        raise ValueError(f"need at least 2 strategies to select from, got {n_strategies}")
    if isinstance(n_partitions, bool) or n_partitions < 2 or n_partitions % 2:
        raise ValueError(f"n_partitions must be an even integer >= 2, got {n_partitions!r}")
    block = n_rows // n_partitions
    if block < 2:
        raise ValueError(
            f"{n_rows} rows are too few for {n_partitions} partitions of at least 2 rows"
        )
    blocks = matrix[n_rows - block * n_partitions :].reshape(n_partitions, block, n_strategies)
    combos = list(itertools.combinations(range(n_partitions), n_partitions // 2))
    if metric is None:
        is_scores, oos_scores = _sharpe_by_combination(blocks, combos)
    else:
        is_scores, oos_scores = _metric_by_combination(blocks, combos, metric)
    is_scores = np.where(np.isnan(is_scores), -np.inf, is_scores)
    oos_scores = np.where(np.isnan(oos_scores), -np.inf, oos_scores)
    selected = np.argmax(is_scores, axis=1)
    rows = np.arange(len(combos))
    ranks = stats.rankdata(oos_scores, axis=1)[rows, selected]
    omega = ranks / (n_strategies + 1.0)
    logits = np.log(omega / (1.0 - omega))
    return PBOResult(
        pbo=float(np.mean(logits <= 0.0)),
        logits=logits,
        is_performance=is_scores[rows, selected],
        oos_performance=oos_scores[rows, selected],
        selected=selected,
        n_partitions=n_partitions,
    )


def _sharpe_by_combination(
    blocks: np.ndarray, combos: list[tuple[int, ...]]
) -> tuple[np.ndarray, np.ndarray]:
    """Sharpe ratios of every combination from per-block moments, without re-reading rows."""
    n_partitions, block, _ = blocks.shape
    # Centre first so the sums of squares do not lose precision to a large common mean.
    shift = blocks.mean(axis=(0, 1))
    centred = blocks - shift
    sums = centred.sum(axis=1)
    squares = np.einsum("sbn,sbn->sn", centred, centred)
    chosen = np.zeros((len(combos), n_partitions))
    for c, combo in enumerate(combos):
        chosen[c, list(combo)] = 1.0
    n = block * (n_partitions // 2)

    def sharpe(weights: np.ndarray) -> np.ndarray:
        total = weights @ sums
        mean = total / n
        var = (weights @ squares - n * mean * mean) / (n - 1)
        std = np.sqrt(np.maximum(var, 0.0))
        # The centring shift is added back to the mean only: it cancels in the variance.
        mean = mean + shift
        # A constant strategy's computed std is rounding noise: its Sharpe ratio is undefined.
        varies = std > 1e-12 * np.maximum(np.abs(mean), np.abs(shift))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(varies & (std > 0.0), mean / std, np.nan)

    return sharpe(chosen), sharpe(1.0 - chosen)


def _metric_by_combination(
    blocks: np.ndarray,
    combos: list[tuple[int, ...]],
    metric: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    n_partitions = blocks.shape[0]
    is_scores, oos_scores = [], []
    for combo in combos:
        rest = [s for s in range(n_partitions) if s not in combo]
        is_scores.append(metric(np.concatenate(blocks[list(combo)])))
        oos_scores.append(metric(np.concatenate(blocks[rest])))
    return np.asarray(is_scores, dtype=np.float64), np.asarray(oos_scores, dtype=np.float64)


def sharpe_ratio(returns: np.ndarray) -> float:
    """Per-period Sharpe ratio: mean over sample standard deviation (ddof=1)."""
    r = _returns_1d(returns)
    std = r.std(ddof=1)
    if std <= 1e-12 * abs(r.mean()) or std == 0.0:
        raise ValueError("returns have zero standard deviation: the Sharpe ratio is undefined")
    return float(r.mean() / std)


def probabilistic_sharpe_ratio(returns: np.ndarray, benchmark_sharpe: float = 0.0) -> float:
    """PSR: probability that the true per-period Sharpe ratio exceeds `benchmark_sharpe`."""
    r = _returns_1d(returns)
    return psr_from_stats(
        sharpe_ratio(r),
        r.size,
        float(stats.skew(r)),
        float(stats.kurtosis(r, fisher=False)),
        benchmark_sharpe,
    )


def psr_from_stats(
    sharpe: float, n_obs: int, skew: float, kurtosis: float, benchmark_sharpe: float = 0.0
) -> float:
    """PSR from summary statistics (per-period Sharpe ratio, raw kurtosis).

    ``Phi((SR - SR*) sqrt(T - 1) / sqrt(1 - skew SR + (kurtosis - 1) / 4 SR^2))``.
    """
    if n_obs < 2:
        raise ValueError(f"n_obs must be at least 2, got {n_obs}")
    variance_term = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe * sharpe
    if variance_term <= 0.0:
        raise ValueError(
            f"skew={skew} and kurtosis={kurtosis} give a non-positive Sharpe ratio variance "
            f"at SR={sharpe}"
        )
    z = (sharpe - benchmark_sharpe) * math.sqrt(n_obs - 1) / math.sqrt(variance_term)
    return float(stats.norm.cdf(z))


def expected_maximum_sharpe(
    n_trials: int, sharpe_variance: float, mean_sharpe: float = 0.0
) -> float:
    """Expected maximum Sharpe ratio of `n_trials` unskilled trials (false strategy theorem).

    ``E[max SR] = mean + sqrt(V) ((1 - g) Phi^-1(1 - 1/N) + g Phi^-1(1 - 1/(N e)))`` with g the
    Euler-Mascheroni constant. One trial involves no selection, so its expectation is the mean.
    """
    if isinstance(n_trials, bool) or int(n_trials) != n_trials or n_trials < 1:
        raise ValueError(f"n_trials must be a positive integer, got {n_trials!r}")
    if not sharpe_variance >= 0.0:
        raise ValueError(f"sharpe_variance must be >= 0, got {sharpe_variance!r}")
    if n_trials == 1:
        return float(mean_sharpe)
    g = EULER_MASCHERONI
    quantiles = (1.0 - g) * stats.norm.ppf(1.0 - 1.0 / n_trials) + g * stats.norm.ppf(
        1.0 - 1.0 / (n_trials * math.e)
    )
    return float(mean_sharpe + math.sqrt(sharpe_variance) * quantiles)


def deflated_sharpe_ratio(
    returns: np.ndarray,
    *,
    n_trials: int | None = None,
    sharpe_variance: float | None = None,
    trial_sharpes: np.ndarray | None = None,
) -> DeflatedSharpe:
    """DSR of the selected strategy's per-period `returns`.

    Give either `trial_sharpes` (the per-period Sharpe ratios of all trials, from which N and
    their variance are taken unless given) or both `n_trials` and `sharpe_variance`.
    """
    r = _returns_1d(returns)
    if trial_sharpes is not None:
        trials = np.asarray(trial_sharpes, dtype=np.float64).reshape(-1)
        if trials.size < 2:
            raise ValueError(f"trial_sharpes needs at least 2 trials, got {trials.size}")
        n_trials = trials.size if n_trials is None else n_trials
        sharpe_variance = float(trials.var(ddof=1)) if sharpe_variance is None else sharpe_variance
    if n_trials is None or sharpe_variance is None:
        raise ValueError("give trial_sharpes, or both n_trials and sharpe_variance")
    return deflated_sharpe_from_stats(
        sharpe_ratio(r),
        r.size,
        float(stats.skew(r)),
        float(stats.kurtosis(r, fisher=False)),
        n_trials=n_trials,
        sharpe_variance=sharpe_variance,
    )


def deflated_sharpe_from_stats(
    sharpe: float,
    n_obs: int,
    skew: float,
    kurtosis: float,
    *,
    n_trials: int,
    sharpe_variance: float,
) -> DeflatedSharpe:
    """DSR from summary statistics: PSR against the expected maximum Sharpe of N trials."""
    benchmark = expected_maximum_sharpe(n_trials, sharpe_variance)
    return DeflatedSharpe(
        dsr=psr_from_stats(sharpe, n_obs, skew, kurtosis, benchmark),
        sharpe=float(sharpe),
        benchmark_sharpe=benchmark,
        n_obs=int(n_obs),
        skew=float(skew),
        kurtosis=float(kurtosis),
        n_trials=int(n_trials),
        sharpe_variance=float(sharpe_variance),
    )


def _returns_1d(returns: np.ndarray) -> np.ndarray:
    r = np.asarray(returns, dtype=np.float64).reshape(-1)
    if r.size < 2:
        raise ValueError(f"need at least 2 returns, got {r.size}")
    if not np.all(np.isfinite(r)):
        raise ValueError("returns contain NaN or infinite values")
    return r
