"""Market making: passive quotes around the mid, skewed against inventory."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from trading.config import MarketMakerParams
from trading.model.market import BookTop
from trading.model.orders import BUY, SELL, Fill, OrderIntent, TimeInForce
from trading.strategies.base import Intent, Strategy, StrategyContext, register

if TYPE_CHECKING:
    from trading.config import StrategyParams


def desired_quotes(
    top: BookTop,
    inventory: int,
    params: MarketMakerParams,
    tick: int,
    lot: int,
) -> tuple[int | None, int | None]:
    """The (bid, ask) prices to quote, None for a side not to quote.

    bid = mid - half_spread_ticks*tick - skew and ask = mid + half_spread_ticks*tick - skew, with
    skew = inventory/lot * skew_ticks_per_lot * tick, so a long inventory lowers both quotes
    (sell more eagerly, buy less). Prices are rounded away from the mid onto the tick grid and
    kept off the opposite touch so the quotes rest rather than take. A side whose fill would
    take inventory past `max_inventory` is not quoted.
    """
    mid = top.mid
    if mid == 0:
        return None, None
    skew = inventory / lot * params.skew_ticks_per_lot * tick
    half = params.half_spread_ticks * tick
    bid = min(math.floor((mid - half - skew) / tick) * tick, top.ask - tick)
    ask = max(math.ceil((mid + half - skew) / tick) * tick, top.bid + tick)
    can_buy = bid > 0 and inventory + params.order_qty <= params.max_inventory
    can_sell = inventory - params.order_qty >= -params.max_inventory
    return (bid if can_buy else None, ask if can_sell else None)


@register
class MarketMaker(Strategy):
    """Per symbol: one resting DAY bid and ask of `order_qty` around the mid.

    A quote is replaced (cancel + new) only when its desired price moves, so an unchanged quote
    keeps its place in the queue; a side that must not be quoted is cancelled.
    """

    kind = "market_maker"

    def __init__(
        self,
        params: MarketMakerParams,
        symbols: Sequence[str],
        context: StrategyContext | None = None,
        *,
        name: str | None = None,
        tick: int = 100,
        lot: int = 100,
    ) -> None:
        super().__init__(symbols, context, name=name)
        if tick < 1 or lot < 1:
            raise ValueError("tick and lot must be positive")
        self.params = params
        self.tick = tick
        self.lot = lot
        # The last book per symbol, so a fill (which changes the skew) can re-quote at once.
        self._tops: dict[str, BookTop] = {}

    @classmethod
    def from_config(
        cls,
        params: StrategyParams,
        symbols: Sequence[str],
        context: StrategyContext | None = None,
        *,
        tick_size: int = 100,
        lot: int = 100,
    ) -> MarketMaker:
        """Build from the configuration's `StrategyParams.market_maker`."""
        return cls(params.market_maker, symbols, context, tick=tick_size, lot=lot)

    def quotes(self, top: BookTop) -> tuple[int | None, int | None]:
        """The (bid, ask) this strategy wants for `top` at the current inventory."""
        inventory = self.context.position(top.symbol)
        return desired_quotes(top, inventory, self.params, self.tick, self.lot)

    def on_book(self, top: BookTop) -> list[Intent]:
        """Re-quote the symbol if the desired prices moved."""
        if top.symbol not in self.symbols:
            return []
        self._tops[top.symbol] = top
        return self._requote(top)

    def on_fill(self, fill: Fill) -> list[Intent]:
        """Inventory changed: re-quote with the new skew."""
        top = self._tops.get(fill.symbol)
        return self._requote(top) if top is not None else []

    def _requote(self, top: BookTop) -> list[Intent]:
        if top.mid == 0:
            # A one-sided book says nothing new about value; leave the quotes alone.
            return []
        bid, ask = self.quotes(top)
        live, _pending = self.open_orders(top.symbol)
        intents: list[Intent] = []
        for side, price in ((BUY, bid), (SELL, ask)):
            kept = False
            for order in live:
                if order.side != side:
                    continue
                if not kept and price is not None and order.price == price:
                    kept = True
                else:
                    intents.append(self.cancel(order))
            if price is not None and not kept:
                intents.append(
                    OrderIntent(
                        symbol=top.symbol,
                        side=side,
                        qty=self.params.order_qty,
                        price=price,
                        tif=TimeInForce.DAY,
                        strategy=self.name,
                    )
                )
        return intents
