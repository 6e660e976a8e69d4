"""Momentum: follow the mid's return over the last `lookback` updates."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

from trading.config import MomentumParams
from trading.model.market import BookTop
from trading.strategies.base import Intent, Strategy, StrategyContext, register

if TYPE_CHECKING:
    pass


def return_bps(now: float, then: float) -> float:
    """The return from `then` to `now` in basis points."""
    return (now / then - 1.0) * 10_000.0


@register
class Momentum(Strategy):
    """Per symbol: long `order_qty` when the mid rose more than `threshold_bps` over `lookback`
    book updates, short when it fell more than that, flat otherwise; same order discipline as
    mean reversion (marketable IOC at the touch, never stacked)."""

    kind = "momentum"

    def __init__(
        self,
        params: MomentumParams,
        symbols: Sequence[str],
        context: StrategyContext | None = None,
        *,
        name: str | None = None,
    ) -> None:
        super().__init__(symbols, context, name=name)
        self.params = params
        # lookback updates ago is lookback + 1 values back, counting the current one
        self._mids = {s: deque[int](maxlen=params.lookback + 1) for s in self.symbols}
        self._target = dict.fromkeys(self.symbols, 0)
        self._ret: dict[str, float | None] = dict.fromkeys(self.symbols)

    def last_return_bps(self, symbol: str) -> float | None:
        """The latest lookback return of `symbol` in bps (None until there is history)."""
        return self._ret.get(symbol)

    def target(self, symbol: str) -> int:
        """The position the strategy currently wants in `symbol`."""
        return self._target.get(symbol, 0)

    def on_book(self, top: BookTop) -> list[Intent]:
        """Record the mid and trade toward the position its return calls for."""
        mids = self._mids.get(top.symbol)
        mid = top.mid
        if mids is None or mid == 0:
            return []
        mids.append(mid)
        if len(mids) <= self.params.lookback:
            return []
        ret = return_bps(mid, mids[0])
        self._ret[top.symbol] = ret
        p = self.params
        if ret > p.threshold_bps:
            target = p.order_qty
        elif ret < -p.threshold_bps:
            target = -p.order_qty
        else:
            target = 0
        self._target[top.symbol] = target
        return self.trade_toward(top.symbol, target, top)
