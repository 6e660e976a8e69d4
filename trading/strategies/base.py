"""The strategy interface, the host context strategies read, and the strategy registry.

A strategy is a plain object fed market events one at a time; it answers each with a list of
intents (orders to place, orders to cancel). It knows nothing of venues, sockets, clocks or
threads, so the same object runs unchanged in the live engine and in a backtester. State the host
owns (positions, equity, working orders) is read through a `StrategyContext` at the moment it is
needed, never copied, so a strategy cannot act on a stale view.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeAlias, TypeVar

from trading.model.market import BookTop, TradePrint
from trading.model.orders import BUY, SELL, CancelIntent, Fill, OrderIntent, TimeInForce

if TYPE_CHECKING:
    from trading.config import StrategyParams

Intent: TypeAlias = OrderIntent | CancelIntent


@dataclass(slots=True, frozen=True)
class WorkingOrder:
    """One of a strategy's orders that may still trade: `qty` is what remains open."""

    order_id: int
    symbol: str
    side: int
    qty: int
    price: int

    @property
    def signed_qty(self) -> int:
        return self.side * self.qty


class StrategyContext(Protocol):
    """What the host knows and a strategy may ask, always current at the time of the call.

    The host applies a fill to positions and working orders before it calls `on_fill`, and
    registers the orders a strategy returned as working before it delivers the next event, so a
    strategy never sees its own order missing.
    """

    def position(self, symbol: str) -> int:
        """The signed position in shares (positive long)."""
        ...

    def equity(self) -> float:
        """The account's equity in dollars."""
        ...

    def working_orders(self, strategy: str) -> Sequence[WorkingOrder]:
        """The strategy's orders that are still open (sent and not yet done)."""
        ...


@dataclass
class SimpleContext:
    """A dictionary-backed `StrategyContext`, for tests and simple hosts such as a backtester."""

    positions: dict[str, int] = field(default_factory=dict)
    equity_dollars: float = 0.0
    orders: dict[str, list[WorkingOrder]] = field(default_factory=dict)

    def position(self, symbol: str) -> int:
        """The signed position in shares (0 when unknown)."""
        return self.positions.get(symbol, 0)

    def equity(self) -> float:
        """The account's equity in dollars."""
        return self.equity_dollars

    def working_orders(self, strategy: str) -> Sequence[WorkingOrder]:
        """The strategy's open orders."""
        return self.orders.get(strategy, [])

    def add_order(self, strategy: str, order: WorkingOrder) -> None:
        """Record an open order of `strategy`."""
        self.orders.setdefault(strategy, []).append(order)

    def remove_order(self, strategy: str, order_id: int) -> None:
        """Forget an order (filled, cancelled or expired)."""
        self.orders[strategy] = [o for o in self.orders.get(strategy, []) if o.order_id != order_id]


class RollingStats:
    """Mean and population variance of the last `size` values, O(1) per `push`.

    The window slides with an exact Welford-style replace update; because rounding still
    accumulates over millions of updates, the sums are recomputed from the buffer once per full
    turn of the ring, which keeps the cost amortised O(1).
    """

    __slots__ = ("size", "_buf", "_next", "_mean", "_m2", "_since_resync")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"window size must be >= 1, got {size}")
        self.size = size
        self._buf: list[float] = []
        self._next = 0
        self._mean = 0.0
        self._m2 = 0.0
        self._since_resync = 0

    def push(self, value: float) -> None:
        """Add a value, dropping the oldest once the window is full."""
        x = float(value)
        n = len(self._buf)
        if n < self.size:
            self._buf.append(x)
            delta = x - self._mean
            self._mean += delta / (n + 1)
            self._m2 += delta * (x - self._mean)
            return
        old = self._buf[self._next]
        self._buf[self._next] = x
        self._next = (self._next + 1) % self.size
        new_mean = self._mean + (x - old) / n
        self._m2 += (x - old) * (x - new_mean + old - self._mean)
        self._mean = new_mean
        if self._m2 < 0.0:  # rounding can push a zero variance just below zero
            self._m2 = 0.0
        self._since_resync += 1
        if self._since_resync >= self.size:
            self._resync()

    def _resync(self) -> None:
        n = len(self._buf)
        mean = math.fsum(self._buf) / n
        self._mean = mean
        self._m2 = math.fsum((v - mean) ** 2 for v in self._buf)
        self._since_resync = 0

    @property
    def count(self) -> int:
        """How many values the window holds (at most `size`)."""
        return len(self._buf)

    @property
    def full(self) -> bool:
        """Whether the window holds `size` values."""
        return len(self._buf) == self.size

    @property
    def mean(self) -> float:
        """The mean of the window (0 when empty)."""
        return self._mean

    @property
    def variance(self) -> float:
        """The population variance (ddof=0) of the window (0 when empty)."""
        n = len(self._buf)
        return self._m2 / n if n else 0.0

    @property
    def std(self) -> float:
        """The population standard deviation (ddof=0) of the window."""
        return math.sqrt(self.variance)

    def oldest(self) -> float:
        """The oldest value in the window."""
        if not self._buf:
            raise IndexError("empty window")
        return self._buf[self._next] if self.full else self._buf[0]

    def values(self) -> list[float]:
        """The window's values, oldest first (O(size); for refits, not per event)."""
        return self._buf[self._next :] + self._buf[: self._next]


class RollingIntStats:
    """Mean and population variance of the last `size` integers, exact and O(1) per `push`.

    Prices are integers, so running sums of values and squares can be kept exactly in Python
    integers: no drift, and a flat window has a variance of exactly zero (a float running sum
    would leave a residue there and turn noise into a huge z-score).
    """

    __slots__ = ("size", "_buf", "_next", "_sum", "_sumsq")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"window size must be >= 1, got {size}")
        self.size = size
        self._buf: list[int] = []
        self._next = 0
        self._sum = 0
        self._sumsq = 0

    def push(self, value: int) -> None:
        """Add a value, dropping the oldest once the window is full."""
        if len(self._buf) < self.size:
            self._buf.append(value)
        else:
            old = self._buf[self._next]
            self._buf[self._next] = value
            self._next = (self._next + 1) % self.size
            self._sum -= old
            self._sumsq -= old * old
        self._sum += value
        self._sumsq += value * value

    @property
    def count(self) -> int:
        """How many values the window holds (at most `size`)."""
        return len(self._buf)

    @property
    def full(self) -> bool:
        """Whether the window holds `size` values."""
        return len(self._buf) == self.size

    @property
    def mean(self) -> float:
        """The mean of the window (0 when empty)."""
        n = len(self._buf)
        return self._sum / n if n else 0.0

    @property
    def variance(self) -> float:
        """The population variance (ddof=0) of the window (0 when empty)."""
        n = len(self._buf)
        return (n * self._sumsq - self._sum * self._sum) / (n * n) if n else 0.0

    @property
    def std(self) -> float:
        """The population standard deviation (ddof=0) of the window."""
        return math.sqrt(self.variance)

    def zscore(self, value: int) -> float | None:
        """(value - mean) / std, computed from exact integers; None for a flat window."""
        n = len(self._buf)
        spread = n * self._sumsq - self._sum * self._sum
        if n == 0 or spread <= 0:
            return None
        # (v - S/n) / sqrt(spread/n^2) == (n*v - S) / sqrt(spread)
        return (n * value - self._sum) / math.sqrt(spread)

    def oldest(self) -> int:
        """The oldest value in the window."""
        if not self._buf:
            raise IndexError("empty window")
        return self._buf[self._next] if self.full else self._buf[0]

    def values(self) -> list[int]:
        """The window's values, oldest first (O(size))."""
        return self._buf[self._next :] + self._buf[: self._next]


def sign(x: float) -> int:
    """-1, 0 or 1."""
    return (x > 0) - (x < 0)


class Strategy:
    """The interface every strategy implements, with the order bookkeeping they share.

    Subclasses set `kind` (their registry name) and override the callbacks they need; each
    callback returns the intents to send, possibly none. A strategy is bound to a host context at
    construction or later with `bind`.
    """

    kind: ClassVar[str] = ""

    def __init__(
        self,
        symbols: Sequence[str],
        context: StrategyContext | None = None,
        *,
        name: str | None = None,
    ) -> None:
        self.name = name or self.kind
        self.symbols: tuple[str, ...] = tuple(symbols)
        self._context = context
        # Orders we asked to cancel: the host keeps listing them until the venue confirms, and
        # without this we would cancel them again on every event.
        self._cancelling: set[int] = set()

    @classmethod
    def from_config(
        cls,
        params: StrategyParams,
        symbols: Sequence[str],
        context: StrategyContext | None = None,
        *,
        tick_size: int = 100,
        lot: int = 100,
    ) -> Strategy:
        """Build the strategy from its own table of `StrategyParams` (the one named after its
        kind); a kind that needs more (tick size, lot) overrides this."""
        own = getattr(params, cls.kind, None)
        if own is None:
            raise TypeError(f"{cls.__name__} cannot be built from the configuration")
        concrete: Any = cls  # every concrete kind takes its parameters first
        return concrete(own, symbols, context)

    def bind(self, context: StrategyContext) -> None:
        """Attach (or replace) the host context."""
        self._context = context

    @property
    def context(self) -> StrategyContext:
        """The host context; an error when the strategy was never bound."""
        if self._context is None:
            raise RuntimeError(f"strategy {self.name!r} has no context; call bind() first")
        return self._context

    def on_book(self, top: BookTop) -> list[Intent]:
        """The top of a book changed."""
        return []

    def on_trade(self, trade: TradePrint) -> list[Intent]:
        """A trade printed on the venue."""
        return []

    def on_fill(self, fill: Fill) -> list[Intent]:
        """One of this strategy's orders traded (the context already reflects it)."""
        return []

    def on_timer(self, now_ns: int) -> list[Intent]:
        """The host's periodic tick, with its notion of the current time."""
        return []

    # -- shared order bookkeeping -------------------------------------------------------------

    def open_orders(self, symbol: str) -> tuple[list[WorkingOrder], bool]:
        """This strategy's working orders on `symbol` not being cancelled, and whether any
        cancel on `symbol` is still awaiting confirmation."""
        working = self.context.working_orders(self.name)
        if self._cancelling:
            self._cancelling.intersection_update(o.order_id for o in working)
        live: list[WorkingOrder] = []
        pending = False
        for order in working:
            if order.symbol != symbol:
                continue
            if order.order_id in self._cancelling:
                pending = True
            else:
                live.append(order)
        return live, pending

    def cancel(self, order: WorkingOrder) -> CancelIntent:
        """A cancel for `order`, remembered so it is not sent twice."""
        self._cancelling.add(order.order_id)
        return CancelIntent(order.order_id, self.name)

    def trade_toward(
        self,
        symbol: str,
        target: int,
        top: BookTop,
        tif: TimeInForce = TimeInForce.IOC,
    ) -> list[Intent]:
        """Intents that move position plus working orders to `target` shares with a marketable
        limit order at the touch; none when they already add up to it.

        Working orders that point the wrong way or overshoot are cancelled first, and nothing
        new is sent until those cancels are confirmed: if an old order filled while a new one
        was working, the position would overshoot the target.
        """
        position = self.context.position(symbol)
        need = target - position
        live, pending = self.open_orders(symbol)
        intents: list[Intent] = []
        committed = 0
        for order in live:
            if need and order.side == sign(need) and abs(committed + order.signed_qty) <= abs(need):
                committed += order.signed_qty
            else:
                intents.append(self.cancel(order))
        if intents or pending:
            return intents
        remaining = need - committed
        if remaining == 0:
            return []
        side = BUY if remaining > 0 else SELL
        price = top.ask if side == BUY else top.bid
        if price <= 0:  # no touch to trade against; a market order here could trade anywhere
            return []
        reduce_only = position != 0 and sign(need) == -sign(position) and abs(need) <= abs(position)
        intents.append(
            OrderIntent(
                symbol=symbol,
                side=side,
                qty=abs(remaining),
                price=price,
                tif=tif,
                strategy=self.name,
                reduce_only=reduce_only,
            )
        )
        return intents


S = TypeVar("S", bound=type[Strategy])

registry: dict[str, type[Strategy]] = {}


def register(cls: S) -> S:
    """Class decorator: make a strategy buildable by its `kind`."""
    if not cls.kind:
        raise ValueError(f"{cls.__name__} has no kind")
    registry[cls.kind] = cls
    return cls


def build_strategies(
    names: Iterable[str],
    params: StrategyParams,
    symbols: Sequence[str],
    context: StrategyContext | None = None,
    *,
    tick_size: int = 100,
    lot: int = 100,
) -> list[Strategy]:
    """One strategy per name, built from the configuration's parameters and bound to `context`.

    `tick_size` and `lot` are the venue's price increment and round lot (the market maker's
    quoting grid and skew unit); other strategies ignore them.
    """
    built: list[Strategy] = []
    for name in names:
        cls = registry.get(name)
        if cls is None:
            known = ", ".join(sorted(registry))
            raise ValueError(f"unknown strategy {name!r}; known: {known}")
        built.append(cls.from_config(params, symbols, context, tick_size=tick_size, lot=lot))
    return built
