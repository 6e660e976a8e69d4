"""Hierarchical risk parity (Lopez de Prado, "Building Diversified Portfolios that Outperform
Out of Sample", 2016) and the inverse-variance portfolio.

HRP in three steps:

1. tree clustering: the correlation distance ``d = sqrt((1 - rho) / 2)`` between assets is
   clustered by agglomerative linkage (single linkage by default, as in the paper);
2. quasi-diagonalisation: assets are reordered as the leaves of the dendrogram, left to right,
   so similar assets sit next to each other and the covariance matrix is nearly block-diagonal;
3. recursive bisection: the ordered list is halved repeatedly; at every split the weight is
   shared between the halves in inverse proportion to the variance of each half's
   inverse-variance portfolio.

From a returns matrix the covariance is the sample covariance (ddof=1) and the correlation the
Pearson correlation, the estimators PyPortfolioOpt's `HRPOpt` uses, so the weights agree with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform

LINKAGE_METHODS = ("single", "complete", "average", "weighted", "centroid", "median", "ward")


@dataclass(frozen=True)
class HRPResult:
    """HRP weights (in the input's column order) and the clustering behind them."""

    weights: np.ndarray
    order: np.ndarray
    linkage: np.ndarray
    covariance: np.ndarray
    correlation: np.ndarray


def correlation_distance(correlation: np.ndarray) -> np.ndarray:
    """``sqrt((1 - rho) / 2)``, clipped into [0, 1] against rounding just outside [-1, 1]."""
    corr = np.asarray(correlation, dtype=np.float64)
    return np.sqrt(np.clip((1.0 - corr) / 2.0, 0.0, 1.0))


def covariance_to_correlation(covariance: np.ndarray) -> np.ndarray:
    cov = _square("covariance", covariance)
    std = np.sqrt(np.diag(cov))
    if np.any(std <= 0.0):
        raise ValueError(f"covariance has non-positive variances at {np.flatnonzero(std <= 0)}")
    return cov / np.outer(std, std)


def quasi_diagonal_order(linkage: np.ndarray) -> np.ndarray:
    """Leaf order of the dendrogram, left to right (the pre-order traversal of its leaves)."""
    return hierarchy.leaves_list(linkage).astype(np.int64)


def cluster_variance(covariance: np.ndarray, members: np.ndarray) -> float:
    """Variance of the inverse-variance portfolio of `members`."""
    sub = covariance[np.ix_(members, members)]
    w = 1.0 / np.diag(sub)
    w /= w.sum()
    return float(w @ sub @ w)


def recursive_bisection(covariance: np.ndarray, order: np.ndarray) -> np.ndarray:
    """HRP weights by halving the quasi-diagonal order top-down; indexed like `covariance`."""
    weights = np.ones(covariance.shape[0], dtype=np.float64)
    clusters = [np.asarray(order, dtype=np.int64)]
    while clusters:
        halves = [
            part
            for cluster in clusters
            if cluster.size > 1
            for part in (cluster[: cluster.size // 2], cluster[cluster.size // 2 :])
        ]
        for left, right in zip(halves[::2], halves[1::2], strict=True):
            left_var = cluster_variance(covariance, left)
            right_var = cluster_variance(covariance, right)
            alpha = 1.0 - left_var / (left_var + right_var)
            weights[left] *= alpha
            weights[right] *= 1.0 - alpha
        clusters = halves
    return weights


def hrp_weights(
    returns: np.ndarray | None = None,
    *,
    covariance: np.ndarray | None = None,
    correlation: np.ndarray | None = None,
    linkage_method: str = "single",
) -> HRPResult:
    """Hierarchical risk parity weights, long only and summing to one.

    Give `returns` ``[T, N]`` (per-period asset returns, no NaN) or a `covariance` matrix;
    `correlation` overrides the one derived from them.
    """
    if linkage_method not in LINKAGE_METHODS:
        raise ValueError(f"linkage_method must be one of {LINKAGE_METHODS}, got {linkage_method!r}")
    if returns is not None:
        matrix = np.asarray(returns, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[0] < 2 or matrix.shape[1] < 1:
            raise ValueError(f"returns must be 2-D [T >= 2, N >= 1], got shape {matrix.shape}")
        if not np.all(np.isfinite(matrix)):
            raise ValueError("returns contain NaN or infinite values")
        cov = np.cov(matrix, rowvar=False, ddof=1).reshape(matrix.shape[1], matrix.shape[1])
    elif covariance is not None:
        cov = _square("covariance", covariance)
    else:
        raise ValueError("give returns or a covariance matrix")
    corr = (
        covariance_to_correlation(cov)
        if correlation is None
        else _square("correlation", correlation)
    )
    if corr.shape != cov.shape:
        raise ValueError(f"correlation has shape {corr.shape}; covariance has {cov.shape}")
    n = cov.shape[0]
    if n == 1:
        return HRPResult(np.ones(1), np.zeros(1, np.int64), np.empty((0, 4)), cov, corr)
    distance = squareform(correlation_distance(corr), checks=False)
    link = hierarchy.linkage(distance, linkage_method)
    order = quasi_diagonal_order(link)
    return HRPResult(
        weights=recursive_bisection(cov, order),
        order=order,
        linkage=link,
        covariance=cov,
        correlation=corr,
    )


def inverse_variance_weights(covariance: np.ndarray) -> np.ndarray:
    """Weights proportional to each asset's inverse variance, summing to one."""
    variances = np.diag(_square("covariance", covariance))
    if np.any(variances <= 0.0):
        raise ValueError(f"non-positive variances at {np.flatnonzero(variances <= 0)}")
    inverse = 1.0 / variances
    return inverse / inverse.sum()


def _square(name: str, matrix: np.ndarray) -> np.ndarray:
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if not np.allclose(m, m.T, rtol=1e-10, atol=1e-14):
        raise ValueError(f"{name} is not symmetric")
    return m
