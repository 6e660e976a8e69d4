"""`bench engine`: the engine's hot path, tick to order.

t2o_inproc: ITCH bytes in -> OUCH bytes out through the feed decoder, the book, a strategy
(the market maker, which re-quotes whenever the top moves), pre-trade risk and the order
manager, with no sockets: the venue's side is an in-memory gateway that acknowledges at once.
Each tick moves the top of the book, so each tick produces orders; the figures are the
engine's own T1 -> T4 histogram over the run.
"""

from __future__ import annotations

import dataclasses
import time

from trading.config import load_config
from trading.engine.engine import TradingEngine
from trading.engine.gateway import OuchGateway, VenueMessage
from trading.protocols import itch, ouch
from workers.benchmarks.figures import Figure


class InMemoryGateway(OuchGateway):
    """The gateway with the socket replaced by a list, and a venue that accepts at once."""

    def __init__(self, engine_ref: list[TradingEngine]) -> None:
        super().__init__("127.0.0.1", 0, "demo", "demo")
        self.engine_ref = engine_ref
        self.wire: list[bytes] = []
        self.sock = True  # type: ignore[assignment]  # "connected": sends go to the list

    def _send(self, payload: bytes) -> int:
        self.wire.append(payload)
        t4 = self.clock_ns()
        message = ouch.decode_inbound(payload)
        if isinstance(message, ouch.EnterOrder):
            self.pending.append(VenueMessage(int(message.order_token), _accepted(message), 0, t4))
        elif isinstance(message, ouch.CancelOrder):
            order = self.engine_ref[0].oms.get(int(message.order_token))
            shares = order.working_qty if order is not None else 0
            self.pending.append(
                VenueMessage(
                    int(message.order_token),
                    ouch.Canceled(t4, message.order_token, shares, "U"),
                    0,
                    t4,
                )
            )
        return t4

    def poll(self, timeout_s: float = 0.0):  # type: ignore[override]
        return self._take()

    def close(self) -> None:
        self.sock = None


def _accepted(m) -> object:
    return ouch.Accepted(
        0, m.order_token, m.side, m.shares, m.stock, m.price, m.time_in_force_s, "DEMO",
        m.display, 1, m.capacity, m.intermarket_sweep_eligibility, m.minimum_quantity,
        m.cross_type, "L", " ",
    )  # fmt: skip


def _ticks(count: int) -> list[bytes]:
    """AAPL's book stepping up a cent a tick: a new best bid, a new best ask, old ones gone.

    The prices never repeat, so no order is a duplicate of a recent one (pre-trade risk
    would rightly refuse those), and every tick moves the market maker's quotes.
    """
    messages = [
        itch.StockDirectory(
            1, 0, 0, "AAPL", "Q", "N", 100, "N", "C", "Z", "P", " ", "N", "1", "N", 0, "N"
        ).encode(),  # fmt: skip
        itch.AddOrder(1, 0, 1, 1, "B", 500, "AAPL", 1_800_000).encode(),
        itch.AddOrder(1, 0, 2, 2, "S", 500, "AAPL", 1_800_200).encode(),
    ]
    bid_ref, ask_ref = 1, 2
    ref = 3
    for i in range(1, count + 1):
        bid = 1_800_000 + i * 100
        ts = i * 1_000
        messages.append(itch.AddOrder(1, 0, ts, ref, "B", 500, "AAPL", bid).encode())
        messages.append(itch.AddOrder(1, 0, ts, ref + 1, "S", 500, "AAPL", bid + 200).encode())
        messages.append(itch.OrderDelete(1, 0, ts, bid_ref).encode())
        messages.append(itch.OrderDelete(1, 0, ts, ask_ref).encode())
        bid_ref, ask_ref = ref, ref + 1
        ref += 2
    return messages


def measure_t2o_inproc(ticks: int) -> tuple[float, float, int]:
    """p50 and p99 of T1 -> T4 in microseconds, and the number of orders sent."""
    config = load_config()
    config = dataclasses.replace(
        config,
        engine=dataclasses.replace(config.engine, strategies=["market_maker"]),
        risk=dataclasses.replace(config.risk, max_orders_per_s=1e6),
    )
    holder: list[TradingEngine] = []
    engine = TradingEngine(
        config, host="127.0.0.1", order_port=0, feed_port=0, snapshot_port=0,
        username="demo", password="demo",
    )  # fmt: skip
    holder.append(engine)
    engine.gateway = InMemoryGateway(holder)
    payloads = _ticks(ticks)
    feed = engine.feed
    clock = time.monotonic_ns
    for payload in payloads:
        feed._apply(payload, clock())
        for event in engine.gateway.poll():
            engine._on_venue(event)
    latency = engine.latency.publish()["tick_to_order"]
    return latency["p50"], latency["p99"], engine.counters.orders


def run_suite(runs: int = 5, quick: bool = False) -> list[Figure]:
    ticks = 2_000 if quick else 20_000
    measure_t2o_inproc(500)  # warm up (numba kernels, caches)
    p50 = Figure("t2o_inproc_p50_us", "tick-to-order p50, in-process", "us", 10,
                 higher_is_better=False)  # fmt: skip
    p99 = Figure("t2o_inproc_p99_us", "tick-to-order p99, in-process", "us", 40,
                 higher_is_better=False)  # fmt: skip
    for _ in range(runs):
        a, b, orders = measure_t2o_inproc(ticks)
        if not orders:
            raise RuntimeError("the engine sent no orders: the benchmark measured nothing")
        p50.samples.append(a)
        p99.samples.append(b)
    p50.note = f"{orders:,} orders from {ticks:,} ticks ({4 * ticks:,} ITCH messages) per run"
    return [p50, p99]
