"""The Python face of the tick backtester: set up once, run (timed), read a result.

Preparation (rebuilding the order-by-order book from LOBSTER files, see
:mod:`trading.research.tick.events`) happens in the constructor; :meth:`TickBacktest.run`
times only the compiled replay, and :func:`warm_up` reports what compiling (or loading the
compiled cache) costs, apart from any run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from trading.config import MarketMakerParams
from trading.lobster import MESSAGE_DTYPE
from trading.research.tick import engine
from trading.research.tick.events import DEFAULT_TICK, TickEvents, prepare_events
from trading.research.tick.latency import ConstantLatency, LatencyModel
from trading.research.tick.strategy import MARKET_MAKER, market_maker_params

__all__ = ["FILL_DTYPE", "Fees", "TickBacktest", "TickResult", "run_tick_backtest", "warm_up"]

PRICE_SCALE = 10_000  # LOBSTER prices are 1e-4 dollars

QUEUE_MODELS = {
    "l3_fifo": engine.Q_L3_FIFO,
    "risk_averse": engine.Q_RISK_AVERSE,
    "power": engine.Q_PROB_POWER,
    "log": engine.Q_PROB_LOG,
    "power2": engine.Q_PROB_POWER2,
    "log2": engine.Q_PROB_LOG2,
    "power3": engine.Q_PROB_POWER3,
}

FILL_DTYPE = np.dtype(
    [
        ("ts_ns", np.int64),  # when the exchange filled us
        ("side", np.int8),  # 1 buy, -1 sell
        ("price", np.int64),  # LOBSTER units
        ("qty", np.int64),
        ("maker", np.bool_),
        ("fee", np.float64),  # dollars, negative for a rebate
        ("queue_at_entry", np.int64),  # visible shares ahead when the order rested (-1: taker)
        ("order_id", np.int64),
    ]
)


@dataclass(frozen=True)
class Fees:
    """Signed fee rates (negative is a rebate): per share in dollars, or per dollar of
    notional when ``per_share`` is False."""

    maker: float = 0.0
    taker: float = 0.0
    per_share: bool = False


@dataclass
class TickResult:
    """What a tick run produced. Money is in dollars, prices in LOBSTER units."""

    fills: np.ndarray
    orders_sent: int
    cancels_sent: int
    position: int
    cash: float
    fees: float
    realised_pnl: float
    unrealised_pnl: float
    final_mid: float
    equity_ts: np.ndarray
    equity: np.ndarray
    latency_ns: np.ndarray  # (orders, 2): entry and response latency of each new order
    queue_position: np.ndarray  # visible shares ahead of each order when it came to rest
    events_processed: int
    elapsed_s: float
    settings: dict = field(default_factory=dict)

    @property
    def total_pnl(self) -> float:
        """Cash plus the position at the last mid, net of fees."""
        return self.realised_pnl + self.unrealised_pnl

    @property
    def events_per_s(self) -> float:
        return self.events_processed / self.elapsed_s if self.elapsed_s > 0 else float("inf")


class TickBacktest:
    """A LOBSTER day, a queue model, latency, fees and the compiled market maker.

    ``interval_ns`` > 0 wakes the strategy every that many nanoseconds (as hftbacktest's
    ``elapse``); 0 wakes it on every change of the top of book it sees and on every fill.
    ``whole_fills`` fills a resting order completely on the event that reaches it and takes
    marketable orders whole at the touch (hftbacktest's no-partial-fill exchange);
    ``trade_through`` fills an order an execution priced beyond it passes;
    ``hidden_trades`` lets hidden executions at or through our price fill us.
    """

    def __init__(
        self,
        messages: np.ndarray,
        orderbook: np.ndarray | None = None,
        *,
        queue_model: str = "l3_fifo",
        prob_n: float = 3.0,
        latency: LatencyModel | None = None,
        feed_latency_ns: int | np.ndarray = 0,
        fees: Fees | None = None,
        strategy: MarketMakerParams | None = None,
        tick: int = DEFAULT_TICK,
        lot: int = 100,
        interval_ns: int = 100_000_000,
        equity_interval_ns: int = 1_000_000_000,
        whole_fills: bool = False,
        trade_through: bool = True,
        hidden_trades: bool = True,
        events: TickEvents | None = None,
    ) -> None:
        if queue_model not in QUEUE_MODELS:
            raise ValueError(
                f"queue_model must be one of {sorted(QUEUE_MODELS)}, got {queue_model!r}"
            )
        if prob_n <= 0:
            raise ValueError(f"prob_n must be > 0, got {prob_n}")
        if interval_ns < 0:
            raise ValueError(f"interval_ns must be >= 0, got {interval_ns}")
        if equity_interval_ns <= 0:
            raise ValueError(f"equity_interval_ns must be > 0, got {equity_interval_ns}")
        if messages.dtype != MESSAGE_DTYPE:
            raise ValueError(
                f"messages must have trading.lobster.MESSAGE_DTYPE, got {messages.dtype}"
            )
        self.events = (
            events if events is not None else prepare_events(messages, orderbook, tick=tick)
        )
        ev = self.events
        if np.ndim(feed_latency_ns) == 0:
            if int(feed_latency_ns) < 0:
                raise ValueError(f"feed_latency_ns must be >= 0, got {feed_latency_ns}")
            self.local_ts = ev.ts + int(feed_latency_ns)
        else:
            feed = np.asarray(feed_latency_ns, np.int64)
            if len(feed) != ev.n_messages:
                raise ValueError(f"{len(feed)} feed latencies for {ev.n_messages} messages")
            if feed.min() < 0:
                raise ValueError("feed latencies must be >= 0 ns")
            per_event = feed[np.maximum.accumulate(np.maximum(ev.message_row, 0))]
            # The feed delivers in order: a message is never seen before an earlier one.
            self.local_ts = np.maximum.accumulate(ev.ts + per_event)
        self.queue_model = queue_model
        self.prob_n = float(prob_n)
        self.latency = latency if latency is not None else ConstantLatency()
        self.fees = fees if fees is not None else Fees()
        self.strategy = strategy if strategy is not None else MarketMakerParams()
        self.params = market_maker_params(self.strategy, tick=tick, lot=lot)
        self.interval_ns = int(interval_ns)
        self.equity_interval_ns = int(equity_interval_ns)
        self.whole_fills = bool(whole_fills)
        self.trade_through = bool(trade_through)
        self.hidden_trades = bool(hidden_trades)
        self._caps = [8, 1 << 14, 1 << 15, 1 << 10]

    def run(self) -> TickResult:
        """Replay the day; ``elapsed_s`` covers the compiled replay only."""
        ev = self.events
        lat = self.latency.arrays()
        while True:
            max_orders, fill_cap, sample_cap, bus_cap = self._caps
            start = time.perf_counter()
            out = engine.run_core(
                ev.ts,
                self.local_ts,
                ev.kind,
                ev.oid,
                ev.qty,
                ev.price,
                ev.side,
                ev.add_index,
                ev.bid,
                ev.ask,
                ev.pmin,
                ev.tick,
                ev.levels,
                QUEUE_MODELS[self.queue_model],
                self.prob_n,
                self.whole_fills,
                self.trade_through,
                self.hidden_trades,
                float(self.fees.maker),
                float(self.fees.taker),
                bool(self.fees.per_share),
                lat[0],
                int(lat[1]),
                int(lat[2]),
                lat[3],
                lat[4],
                lat[5],
                MARKET_MAKER,
                self.params,
                self.interval_ns,
                self.equity_interval_ns,
                max_orders,
                fill_cap,
                sample_cap,
                bus_cap,
            )
            elapsed = time.perf_counter() - start
            status = out[0]
            if status == engine.OK:
                break
            grow = {
                engine.OVERFLOW_ORDERS: 0,
                engine.OVERFLOW_FILLS: 1,
                engine.OVERFLOW_SAMPLES: 2,
                engine.OVERFLOW_BUS: 3,
            }[status]
            self._caps[grow] *= 4
        return self._result(out, elapsed)

    def _result(self, out: tuple, elapsed: float) -> TickResult:
        (
            _,
            f_ts,
            f_side,
            f_price,
            f_qty,
            f_maker,
            f_fee,
            f_queue,
            f_order,
            lat_out,
            queue_out,
            eq_ts,
            eq_val,
            pos,
            cash,
            fees,
            orders_sent,
            cancels_sent,
            last_mid,
        ) = out
        fills = np.empty(len(f_ts), FILL_DTYPE)
        fills["ts_ns"] = f_ts
        fills["side"] = f_side
        fills["price"] = f_price
        fills["qty"] = f_qty
        fills["maker"] = f_maker
        fills["fee"] = f_fee / PRICE_SCALE
        fills["queue_at_entry"] = f_queue
        fills["order_id"] = f_order
        realised, unrealised = _pnl(fills, last_mid)
        return TickResult(
            fills=fills,
            orders_sent=int(orders_sent),
            cancels_sent=int(cancels_sent),
            position=int(pos),
            cash=float(cash) / PRICE_SCALE,
            fees=float(fees) / PRICE_SCALE,
            realised_pnl=realised,
            unrealised_pnl=unrealised,
            final_mid=float(last_mid),
            equity_ts=eq_ts.copy(),
            equity=eq_val / PRICE_SCALE,
            latency_ns=lat_out.copy(),
            queue_position=queue_out.copy(),
            events_processed=self.events.n_messages,
            elapsed_s=elapsed,
            settings={
                "queue_model": self.queue_model,
                "latency": type(self.latency).__name__,
                "interval_ns": self.interval_ns,
                "whole_fills": self.whole_fills,
                "trade_through": self.trade_through,
                "hidden_trades": self.hidden_trades,
                "fees": (self.fees.maker, self.fees.taker, self.fees.per_share),
            },
        )


def _pnl(fills: np.ndarray, mid: float) -> tuple[float, float]:
    """Realised P&L (average cost, net of all fees) and the open position marked at ``mid``."""
    position = 0
    cost = 0.0  # signed cost of the open position, price units
    realised = 0.0
    for side, price, qty in zip(
        fills["side"].tolist(), fills["price"].tolist(), fills["qty"].tolist(), strict=True
    ):
        signed = side * qty
        if position == 0 or (position > 0) == (signed > 0):
            cost += signed * price
            position += signed
            continue
        closing = min(abs(signed), abs(position))
        average = cost / position
        realised += closing * (price - average) * (1 if position > 0 else -1)
        cost -= average * closing * (1 if position > 0 else -1)
        position += signed
        if position == 0:
            cost = 0.0
        elif (position > 0) == (signed > 0):  # flipped: the rest opens at this price
            cost = position * price
    unrealised = position * mid - cost
    return (realised / PRICE_SCALE - float(fills["fee"].sum()), unrealised / PRICE_SCALE)


def run_tick_backtest(
    messages: np.ndarray, orderbook: np.ndarray | None = None, **settings
) -> TickResult:
    """Set up a :class:`TickBacktest` with ``settings`` and run it once."""
    return TickBacktest(messages, orderbook, **settings).run()


def warm_up() -> float:
    """Compile (or load from the cache) the preparation and replay kernels on a tiny day;
    returns the seconds it took."""
    start = time.perf_counter()
    msgs = np.zeros(6, MESSAGE_DTYPE)
    rows = [
        (1, 1, 100, 1_000_000, 1),
        (1, 2, 100, 1_000_200, -1),
        (1, 3, 50, 1_000_000, 1),
        (4, 2, 50, 1_000_200, -1),
        (3, 3, 50, 1_000_000, 1),
        (5, 0, 10, 1_000_100, 1),
    ]
    for k, (kind, oid, size, price, direction) in enumerate(rows):
        msgs[k] = (1_000_000 * (k + 1), kind, oid, size, price, direction)
    TickBacktest(msgs, interval_ns=1_000_000, latency=ConstantLatency(1000, 1000)).run()
    return time.perf_counter() - start
