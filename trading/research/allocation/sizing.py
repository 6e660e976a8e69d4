"""Position sizing: volatility targeting, fixed fractional risk and (fractional) Kelly.

Amounts are in whatever unit the caller uses consistently: with the project's integer prices
(1e-4 dollars) pass equity in 1e-4 dollars too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import lfilter


def trailing_volatility(
    returns: np.ndarray,
    *,
    window: int | None = None,
    halflife: float | None = None,
    periods_per_year: float = 252.0,
) -> np.ndarray:
    """Annualised volatility known before each period, from returns strictly before it.

    ``vol[t]`` uses ``returns[:t]`` only, so it can size the position held over period t.
    With `window`, it is the sample standard deviation (ddof=1) of the last `window` returns;
    with `halflife`, the exponentially weighted zero-mean (RiskMetrics) estimate
    ``var[t] = lam var[t-1] + (1 - lam) r[t-1]^2`` with ``lam = 0.5 ** (1 / halflife)``, started
    from the mean square of the first `ceil(halflife)` returns. NaN where no estimate exists yet.
    """
    r = _series(returns)
    if (window is None) == (halflife is None):
        raise ValueError("give exactly one of window or halflife")
    if periods_per_year <= 0:
        raise ValueError(f"periods_per_year must be positive, got {periods_per_year!r}")
    vol = np.full(r.size, np.nan)
    if window is not None:
        if isinstance(window, bool) or int(window) != window or window < 2:
            raise ValueError(f"window must be an integer >= 2, got {window!r}")
        if r.size > window:
            stds = sliding_window_view(r, window)[:-1].std(axis=1, ddof=1)
            vol[window:] = stds
    else:
        assert halflife is not None  # exactly one of window and halflife, checked above
        if not halflife > 0:
            raise ValueError(f"halflife must be positive, got {halflife!r}")
        lam = 0.5 ** (1.0 / halflife)
        warmup = math.ceil(halflife)
        if r.size > warmup:
            seed = float(np.mean(r[:warmup] ** 2))
            # var[warmup] = seed; var[t] = lam var[t-1] + (1 - lam) r[t-1]^2 for t > warmup.
            shocks = r[warmup : r.size - 1] ** 2
            tail, _ = lfilter([1.0 - lam], [1.0, -lam], shocks, zi=[lam * seed])
            vol[warmup] = math.sqrt(seed)
            vol[warmup + 1 :] = np.sqrt(tail)
    return vol * math.sqrt(periods_per_year)


def volatility_target_leverage(
    returns: np.ndarray,
    target_vol: float,
    *,
    window: int | None = None,
    halflife: float | None = None,
    periods_per_year: float = 252.0,
    max_leverage: float = 1.0,
) -> np.ndarray:
    """Leverage ``min(max_leverage, target_vol / trailing_vol)`` for each period.

    `target_vol` is annual. Before a volatility estimate exists the leverage is 0 (no
    position); a zero estimate gives the cap.
    """
    if not target_vol > 0:
        raise ValueError(f"target_vol must be positive, got {target_vol!r}")
    if not max_leverage > 0:
        raise ValueError(f"max_leverage must be positive, got {max_leverage!r}")
    vol = trailing_volatility(
        returns, window=window, halflife=halflife, periods_per_year=periods_per_year
    )
    leverage = np.zeros(vol.size)
    known = ~np.isnan(vol)
    with np.errstate(divide="ignore"):
        leverage[known] = np.minimum(max_leverage, target_vol / vol[known])
    return leverage


def volatility_targeted_returns(
    returns: np.ndarray, target_vol: float, **options: Any
) -> np.ndarray:
    """The returns of holding `volatility_target_leverage` times the asset each period.

    `options` are those of `volatility_target_leverage`: window, halflife, periods_per_year
    and max_leverage.
    """
    leverage = volatility_target_leverage(returns, target_vol, **options)
    return leverage * _series(returns)


def fixed_fractional_size(
    equity: float,
    risk_fraction: float,
    entry_price: float,
    stop_price: float,
    *,
    lot_size: int = 1,
    max_leverage: float | None = None,
) -> int:
    """Units to trade so that being stopped out loses `risk_fraction` of `equity`.

    ``floor(equity * risk_fraction / |entry - stop|)``, rounded down to whole lots and, with
    `max_leverage`, capped so the position value stays within ``max_leverage * equity``.
    """
    if not equity > 0:
        raise ValueError(f"equity must be positive, got {equity!r}")
    if not 0 < risk_fraction <= 1:
        raise ValueError(f"risk_fraction must be in (0, 1], got {risk_fraction!r}")
    if not entry_price > 0:
        raise ValueError(f"entry_price must be positive, got {entry_price!r}")
    if isinstance(lot_size, bool) or int(lot_size) != lot_size or lot_size < 1:
        raise ValueError(f"lot_size must be a positive integer, got {lot_size!r}")
    risk_per_unit = abs(entry_price - stop_price)
    if risk_per_unit == 0:
        raise ValueError(f"stop_price equals entry_price ({entry_price}): risk per unit is zero")
    units = math.floor(equity * risk_fraction / risk_per_unit)
    if max_leverage is not None:
        if not max_leverage > 0:
            raise ValueError(f"max_leverage must be positive, got {max_leverage!r}")
        units = min(units, math.floor(max_leverage * equity / entry_price))
    return int(units // lot_size * lot_size)


def kelly_fraction_continuous(mu: float, sigma: float, risk_free: float = 0.0) -> float:
    """Growth-optimal leverage of one asset with drift `mu` and volatility `sigma`.

    ``(mu - r) / sigma^2``, which maximises ``r + f (mu - r) - f^2 sigma^2 / 2``.
    """
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    return float((mu - risk_free) / (sigma * sigma))


def kelly_fraction_discrete(p: float, b: float, loss: float = 1.0) -> float:
    """Kelly fraction of a bet won with probability `p`, paying `b` per unit staked and
    losing `loss` per unit staked otherwise: ``p / loss - (1 - p) / b`` (``p - q / b`` for
    the classic bet that loses the stake). Negative means the bet should not be taken."""
    if not 0 <= p <= 1:
        raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
    if not b > 0:
        raise ValueError(f"b must be positive, got {b!r}")
    if not 0 < loss <= 1:
        raise ValueError(f"loss must be in (0, 1], got {loss!r}")
    return float(p / loss - (1.0 - p) / b)


def kelly_weights(mu: np.ndarray, covariance: np.ndarray, risk_free: float = 0.0) -> np.ndarray:
    """Growth-optimal weights of several assets: ``covariance^-1 (mu - r)``."""
    excess = np.asarray(mu, dtype=np.float64).reshape(-1) - risk_free
    cov = np.asarray(covariance, dtype=np.float64)
    if cov.shape != (excess.size, excess.size):
        raise ValueError(f"covariance has shape {cov.shape}; expected {(excess.size,) * 2}")
    return np.linalg.solve(cov, excess)


def fractional_kelly(
    kelly: float | np.ndarray,
    fraction: float = 0.5,
    *,
    max_leverage: float | None = None,
    allow_short: bool = True,
) -> float | np.ndarray:
    """Scale full Kelly by `fraction`, then apply the caps.

    Without `allow_short` negative positions become 0. With `max_leverage`, a single fraction
    is clipped into ``[-max_leverage, max_leverage]`` and a weight vector is scaled down
    proportionally until its gross leverage ``sum |w|`` is at most `max_leverage`.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    if max_leverage is not None and not max_leverage > 0:
        raise ValueError(f"max_leverage must be positive, got {max_leverage!r}")
    scalar = np.ndim(kelly) == 0
    sized = fraction * np.asarray(kelly, dtype=np.float64).reshape(-1)
    if not allow_short:
        sized = np.maximum(sized, 0.0)
    if max_leverage is not None:
        gross = np.abs(sized).sum()
        if gross > max_leverage:
            sized = sized * (max_leverage / gross)
    return float(sized[0]) if scalar else sized


def _series(returns: np.ndarray) -> np.ndarray:
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 1:
        raise ValueError(f"returns must be 1-D, got shape {r.shape}")
    if not np.all(np.isfinite(r)):
        raise ValueError("returns contain NaN or infinite values")
    return r
