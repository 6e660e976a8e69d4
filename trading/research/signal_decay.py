"""Alpha-decay curves: how well a signal predicts returns over growing horizons.

For each horizon ``h`` the forward return from ``t`` is ``price[t + h] / price[t] - 1`` (or its
log), so the signal known at the close of ``t`` is scored against what happens afterwards.
Two shapes of input:

* 1-D ``signal`` and ``prices`` (one instrument): time-series IC, the correlation over all
  dates between the signal and the forward return; quantiles are cut over the whole sample.
* 2-D (n_dates, n_assets): cross-sectional IC, the correlation across assets on each date,
  averaged over dates (with its t-statistic); quantiles are cut on each date and the mean
  forward return of a quantile is pooled over every (date, asset) that fell in it.

Quantiles follow ``pandas.qcut``: edges at the sample quantiles (linear interpolation), the
first bin closed on the left, each bin closed on the right.  NaN signals or returns are left
out pair-wise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata


def forward_returns(
    prices: np.ndarray, horizons: Sequence[int], *, log: bool = False
) -> np.ndarray:
    """Forward returns, shape ``(len(horizons),) + prices.shape``; NaN where ``t + h`` is past
    the end.  Time runs along axis 0 of ``prices``."""
    prices = np.asarray(prices, dtype=float)
    horizons = _horizons(horizons, prices.shape[0] if prices.ndim else 0)
    if prices.ndim not in (1, 2):
        raise ValueError(f"prices must be 1-D or 2-D, got shape {prices.shape}")
    if np.any(prices[np.isfinite(prices)] <= 0):
        raise ValueError("prices must be strictly positive")
    out = np.full((len(horizons),) + prices.shape, np.nan)
    for i, h in enumerate(horizons):
        ratio = prices[h:] / prices[:-h]
        out[i, : prices.shape[0] - h] = np.log(ratio) if log else ratio - 1.0
    return out


def _horizons(horizons: Sequence[int], n: int) -> list[int]:
    horizons = [int(h) for h in horizons]
    if not horizons:
        raise ValueError("horizons must not be empty")
    bad = [h for h in horizons if not 1 <= h < n]
    if bad:
        raise ValueError(f"horizons must be within 1..{n - 1} for {n} dates, got {bad}")
    return horizons


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    xc = x - x.mean()
    yc = y - y.mean()
    denom = np.sqrt((xc @ xc) * (yc @ yc))
    return float(xc @ yc / denom) if denom > 0 else np.nan


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    return _pearson(rankdata(x), rankdata(y))


def quantile_labels(values: np.ndarray, n_quantiles: int) -> np.ndarray:
    """0-based quantile bucket of each value, as ``pandas.qcut(values, n_quantiles)`` cuts."""
    values = np.asarray(values, dtype=float)
    edges = np.quantile(values, np.linspace(0.0, 1.0, n_quantiles + 1))
    if np.any(np.diff(edges) <= 0):
        raise ValueError(
            f"signal has too many ties for {n_quantiles} distinct quantile buckets "
            f"(edges {edges.tolist()})"
        )
    return np.searchsorted(edges[1:-1], values, side="left")


@dataclass(frozen=True, slots=True)
class DecayCurve:
    """IC and quantile returns per horizon; index ``i`` of each array is ``horizons[i]``."""

    horizons: np.ndarray
    ic_pearson: np.ndarray
    ic_spearman: np.ndarray
    ic_spearman_tstat: np.ndarray
    n_obs: np.ndarray  # pairs used (1-D) or dates with an IC (2-D)
    quantile_mean_returns: np.ndarray  # (n_horizons, n_quantiles), lowest signal first
    cross_sectional: bool

    @property
    def long_short(self) -> np.ndarray:
        """Top minus bottom quantile mean forward return per horizon."""
        return self.quantile_mean_returns[:, -1] - self.quantile_mean_returns[:, 0]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view (NaN becomes None)."""

        def clean(a: np.ndarray) -> Any:
            return (
                np.where(np.isfinite(a), a, np.array(None, dtype=object)).tolist()
                if a.dtype.kind == "f"
                else a.tolist()
            )

        return {
            "horizons": self.horizons.tolist(),
            "ic_pearson": clean(self.ic_pearson),
            "ic_spearman": clean(self.ic_spearman),
            "ic_spearman_tstat": clean(self.ic_spearman_tstat),
            "n_obs": self.n_obs.tolist(),
            "quantile_mean_returns": clean(self.quantile_mean_returns),
            "long_short": clean(self.long_short),
            "cross_sectional": self.cross_sectional,
        }


def _time_series_row(
    signal: np.ndarray, fwd: np.ndarray, n_quantiles: int
) -> tuple[float, float, float, int, np.ndarray]:
    ok = np.isfinite(signal) & np.isfinite(fwd)
    s, r = signal[ok], fwd[ok]
    n = int(s.size)
    if n < max(3, n_quantiles):
        raise ValueError(f"only {n} usable observations for {n_quantiles} quantiles")
    pearson, spearman = _pearson(s, r), _spearman(s, r)
    tstat = spearman * np.sqrt((n - 2) / (1.0 - spearman**2)) if abs(spearman) < 1 else np.inf
    labels = quantile_labels(s, n_quantiles)
    means = np.array([r[labels == q].mean() for q in range(n_quantiles)])
    return pearson, spearman, float(tstat), n, means


def _rowwise_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    denom = np.sqrt(np.sum(xc * xc, axis=1) * np.sum(yc * yc, axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, np.sum(xc * yc, axis=1) / denom, np.nan)


def _full_rows(
    s: np.ndarray, r: np.ndarray, n_quantiles: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """ICs and per-quantile sums and counts for dates where every asset has data, at once."""
    pearson = _rowwise_pearson(s, r)
    spearman = _rowwise_pearson(rankdata(s, axis=1), rankdata(r, axis=1))
    edges = np.quantile(s, np.linspace(0.0, 1.0, n_quantiles + 1), axis=1).T
    if np.any(np.diff(edges, axis=1) <= 0):
        raise ValueError(f"signal has too many ties on some date for {n_quantiles} quantiles")
    # Count of inner edges strictly below the value: searchsorted(side="left") row by row.
    labels = np.sum(s[:, :, None] > edges[:, None, 1:-1], axis=2)
    sums = np.bincount(labels.ravel(), weights=r.ravel(), minlength=n_quantiles)
    counts = np.bincount(labels.ravel(), minlength=n_quantiles).astype(float)
    return pearson, spearman, sums, counts


def _cross_sectional_row(
    signal: np.ndarray, fwd: np.ndarray, n_quantiles: int
) -> tuple[float, float, float, int, np.ndarray]:
    ok = np.isfinite(signal) & np.isfinite(fwd)
    usable = ok.sum(axis=1) >= max(3, n_quantiles)
    full = ok.all(axis=1) & usable
    pearsons = np.full(signal.shape[0], np.nan)
    spearmans = np.full(signal.shape[0], np.nan)
    sums = np.zeros(n_quantiles)
    counts = np.zeros(n_quantiles)
    if full.any():
        p, sp, sums, counts = _full_rows(signal[full], fwd[full], n_quantiles)
        pearsons[full], spearmans[full] = p, sp
    for t in np.flatnonzero(usable & ~full):  # dates with some assets missing
        s, r = signal[t, ok[t]], fwd[t, ok[t]]
        pearsons[t] = _pearson(s, r)
        spearmans[t] = _spearman(s, r)
        labels = quantile_labels(s, n_quantiles)
        sums += np.bincount(labels, weights=r, minlength=n_quantiles)
        counts += np.bincount(labels, minlength=n_quantiles)
    # Dates with a constant signal or return have no defined correlation and are left out.
    spearman_ic = spearmans[np.isfinite(spearmans)]
    n = int(spearman_ic.size)
    if n < 2:
        raise ValueError(f"only {n} dates have enough assets for a cross-sectional IC")
    spread = spearman_ic.std(ddof=1)
    tstat = spearman_ic.mean() / spread * np.sqrt(n) if spread > 0 else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    return float(np.nanmean(pearsons)), float(spearman_ic.mean()), float(tstat), n, means


def alpha_decay(
    signal: np.ndarray,
    prices: np.ndarray,
    horizons: Sequence[int] = (1, 2, 5, 10, 20),
    *,
    n_quantiles: int = 5,
    log_returns: bool = False,
) -> DecayCurve:
    """Decay curve of ``signal`` (known at each close) against forward returns of ``prices``.

    ``signal`` and ``prices`` share their shape: (n_dates,) for one instrument or
    (n_dates, n_assets) for a cross-section (see the module notes for the two definitions).
    """
    signal = np.asarray(signal, dtype=float)
    prices = np.asarray(prices, dtype=float)
    if signal.shape != prices.shape:
        raise ValueError(f"signal {signal.shape} and prices {prices.shape} must match")
    if n_quantiles < 2:
        raise ValueError(f"n_quantiles must be >= 2, got {n_quantiles}")
    horizons = _horizons(horizons, prices.shape[0] if prices.ndim else 0)
    fwd = forward_returns(prices, horizons, log=log_returns)
    row = _cross_sectional_row if signal.ndim == 2 else _time_series_row
    rows = [row(signal, fwd[i], n_quantiles) for i in range(len(horizons))]
    pearson, spearman, tstat, n_obs, means = zip(*rows, strict=True)
    return DecayCurve(
        horizons=np.asarray(horizons),
        ic_pearson=np.asarray(pearson),
        ic_spearman=np.asarray(spearman),
        ic_spearman_tstat=np.asarray(tstat),
        n_obs=np.asarray(n_obs),
        quantile_mean_returns=np.vstack(means),
        cross_sectional=signal.ndim == 2,
    )
