"""Pairs trading on a cointegrated pair, with an Engle-Granger hedge ratio refitted on a schedule.

The spread is log(P_b) - beta*log(P_a) - alpha, with beta and alpha the OLS regression of leg b's
log price on leg a's over the last `lookback` samples. Its z-score is the latest spread over the
standard deviation of the fit's residuals (whose mean is zero by construction of OLS).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from trading.config import PairsParams
from trading.model.market import BookTop
from trading.prices import PRICE_SCALE
from trading.strategies.base import Intent, RollingStats, Strategy, StrategyContext, register

if TYPE_CHECKING:
    pass

FLAT = "flat"
LONG_SPREAD = "long_spread"  # long b, short beta of a: bet the spread rises
SHORT_SPREAD = "short_spread"  # short b, long beta of a: bet the spread falls
STOPPED = "stopped"  # stopped out; no entry until |z| is back inside exit_z


def hedge_ratio(log_a: ArrayLike, log_b: ArrayLike) -> tuple[float, float]:
    """(beta, alpha) of the OLS fit log_b = alpha + beta * log_a.

    Raises ValueError for fewer than two points, mismatched lengths or a constant leg a (the
    regression is then undefined).
    """
    a = np.asarray(log_a, dtype=np.float64)
    b = np.asarray(log_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.size < 2:
        raise ValueError("need two equal-length 1-d series of at least two points")
    a_mean = a.mean()
    b_mean = b.mean()
    # Centring first avoids the cancellation of raw sums of squares of log prices near 4.6.
    da = a - a_mean
    sxx = float(da @ da)
    if sxx == 0.0:
        raise ValueError("leg a is constant over the window")
    beta = float(da @ (b - b_mean)) / sxx
    return beta, float(b_mean - beta * a_mean)


@dataclass(slots=True, frozen=True)
class SpreadFit:
    """A fitted spread: hedge ratio, intercept and the residuals' standard deviation."""

    beta: float
    alpha: float
    sigma: float

    def spread(self, log_a: float, log_b: float) -> float:
        """log_b - beta*log_a - alpha."""
        return log_b - self.beta * log_a - self.alpha

    def zscore(self, log_a: float, log_b: float) -> float | None:
        """The spread in residual standard deviations (None when the fit was exact)."""
        if self.sigma <= 0.0:
            return None
        return self.spread(log_a, log_b) / self.sigma


def fit_spread(log_a: ArrayLike, log_b: ArrayLike) -> SpreadFit:
    """Fit the hedge ratio and measure the residuals' population standard deviation."""
    beta, alpha = hedge_ratio(log_a, log_b)
    residuals = np.asarray(log_b, dtype=np.float64) - beta * np.asarray(log_a, np.float64) - alpha
    return SpreadFit(beta, alpha, float(np.sqrt(np.mean(residuals * residuals))))


def leg_sizes(
    equity: float, fraction: float, beta: float, price_a: float, price_b: float
) -> tuple[int, int]:
    """(shares of a, shares of b) for one unit of spread: b worth `fraction` of `equity` dollars
    and a worth beta times that, rounded to whole shares (a negative when beta is)."""
    notional = fraction * equity
    return round(beta * notional / price_a), round(notional / price_b)


@register
class Pairs(Strategy):
    """Trade the spread of `leg_b` against `leg_a`.

    One sample (log mid of each leg) is taken per book update of either leg once both have a
    mid. The fit is refitted every `refit_every` samples (default lookback // 4) once the window
    is full, so per-event cost stays O(1) amortised. Entering at |z| > entry_z shorts the spread
    when z > 0 (sell b, buy beta-weighted a) and longs it when z < 0; |z| < exit_z flattens;
    |z| > stop_z flattens and stays out until |z| < exit_z.
    """

    kind = "pairs"

    def __init__(
        self,
        params: PairsParams,
        symbols: Sequence[str] = (),
        context: StrategyContext | None = None,
        *,
        name: str | None = None,
        refit_every: int | None = None,
    ) -> None:
        # The legs come from the parameters; `symbols` is accepted for a uniform constructor.
        super().__init__((params.leg_a, params.leg_b), context, name=name)
        if params.leg_a == params.leg_b:
            raise ValueError("pairs needs two different legs")
        self.params = params
        self.refit_every = refit_every or max(1, params.lookback // 4)
        self._log_a = RollingStats(params.lookback)
        self._log_b = RollingStats(params.lookback)
        self._tops: dict[str, BookTop] = {}
        self._since_fit = 0
        self.fit: SpreadFit | None = None
        self.z: float | None = None
        self.state = FLAT
        self._target = {params.leg_a: 0, params.leg_b: 0}

    def target(self, symbol: str) -> int:
        """The position the strategy currently wants in `symbol`."""
        return self._target.get(symbol, 0)

    def on_book(self, top: BookTop) -> list[Intent]:
        """Sample the pair, refit when due, update the state and trade both legs toward it."""
        leg_a, leg_b = self.params.leg_a, self.params.leg_b
        if top.symbol not in self._target:
            return []
        self._tops[top.symbol] = top
        top_a = self._tops.get(leg_a)
        top_b = self._tops.get(leg_b)
        if top_a is None or top_b is None or top_a.mid == 0 or top_b.mid == 0:
            return []
        log_a = math.log(top_a.mid / PRICE_SCALE)
        log_b = math.log(top_b.mid / PRICE_SCALE)
        self._log_a.push(log_a)
        self._log_b.push(log_b)
        if self._log_a.full and (self.fit is None or self._since_fit >= self.refit_every):
            self._refit()
        self._since_fit += 1
        if self.fit is not None:
            self.z = self.fit.zscore(log_a, log_b)
            if self.z is not None:
                self._decide(self.z, top_a, top_b)
        return self.trade_toward(leg_a, self._target[leg_a], top_a) + self.trade_toward(
            leg_b, self._target[leg_b], top_b
        )

    def _refit(self) -> None:
        # A constant leg a cannot be regressed on: keep the previous fit, if any.
        with contextlib.suppress(ValueError):
            self.fit = fit_spread(self._log_a.values(), self._log_b.values())
        self._since_fit = 0

    def _decide(self, z: float, top_a: BookTop, top_b: BookTop) -> None:
        p = self.params
        size = abs(z)
        if self.state == STOPPED:
            if size < p.exit_z:
                self.state = FLAT
            return
        if size > p.stop_z:
            self._go(STOPPED, 0, 0)
            return
        if self.state != FLAT and size < p.exit_z:
            self._go(FLAT, 0, 0)
            return
        wanted = SHORT_SPREAD if z > 0 else LONG_SPREAD
        if size > p.entry_z and self.state != wanted:
            assert self.fit is not None
            qty_a, qty_b = leg_sizes(
                self.context.equity(),
                p.equity_fraction,
                self.fit.beta,
                top_a.mid / PRICE_SCALE,
                top_b.mid / PRICE_SCALE,
            )
            direction = 1 if wanted == LONG_SPREAD else -1
            self._go(wanted, -direction * qty_a, direction * qty_b)

    def _go(self, state: str, target_a: int, target_b: int) -> None:
        self.state = state
        self._target[self.params.leg_a] = target_a
        self._target[self.params.leg_b] = target_b
