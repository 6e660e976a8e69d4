"""Mean reversion: fade the mid when it strays from its rolling mean by more than `entry_z`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from trading.config import MeanReversionParams
from trading.model.market import BookTop
from trading.strategies.base import Intent, RollingIntStats, Strategy, StrategyContext, register

if TYPE_CHECKING:
    pass


def target_from_z(z: float, current: int, qty: int, entry_z: float, exit_z: float) -> int:
    """The position a z-score calls for: short above `entry_z`, long below `-entry_z`, flat
    inside `exit_z`, and otherwise whatever was wanted before (the band between is hysteresis,
    so the strategy does not flip in and out on noise)."""
    if z > entry_z:
        return -qty
    if z < -entry_z:
        return qty
    if abs(z) < exit_z:
        return 0
    return current


@register
class MeanReversion(Strategy):
    """Per symbol: rolling z-score of the mid over `window` book updates.

    z > entry_z targets a short of `order_qty`, z < -entry_z a long, |z| < exit_z flat. Orders
    are marketable IOC limits at the touch, sent only while position plus working orders differ
    from the target.
    """

    kind = "mean_reversion"

    def __init__(
        self,
        params: MeanReversionParams,
        symbols: Sequence[str],
        context: StrategyContext | None = None,
        *,
        name: str | None = None,
    ) -> None:
        super().__init__(symbols, context, name=name)
        self.params = params
        self._stats = {symbol: RollingIntStats(params.window) for symbol in self.symbols}
        self._target = dict.fromkeys(self.symbols, 0)
        self._z: dict[str, float | None] = dict.fromkeys(self.symbols)

    def zscore(self, symbol: str) -> float | None:
        """The latest z-score of `symbol`'s mid (None until the window is full)."""
        return self._z.get(symbol)

    def target(self, symbol: str) -> int:
        """The position the strategy currently wants in `symbol`."""
        return self._target.get(symbol, 0)

    def on_book(self, top: BookTop) -> list[Intent]:
        """Update the symbol's statistics and trade toward the target they imply."""
        stats = self._stats.get(top.symbol)
        mid = top.mid
        if stats is None or mid == 0:
            return []
        stats.push(mid)
        if not stats.full:
            return []
        z = stats.zscore(mid)
        self._z[top.symbol] = z
        if z is not None:
            p = self.params
            self._target[top.symbol] = target_from_z(
                z, self._target[top.symbol], p.order_qty, p.entry_z, p.exit_z
            )
        # A flat window has no z; keep the previous target rather than invent a signal.
        return self.trade_toward(top.symbol, self._target[top.symbol], top)
