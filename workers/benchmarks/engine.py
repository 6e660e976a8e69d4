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
from trading.protocols.soupbintcp import PacketType
from workers.benchmarks import engine_tcp
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


SEQUENCED = int(PacketType.SEQUENCED_DATA)


def _ticks(count: int) -> list[list[tuple[int, bytes]]]:
    """AAPL's book stepping up a cent a tick: a new best bid, a new best ask, old ones gone,
    each tick one batch of packets as one read from the feed socket would give it.

    The prices never repeat, so no order is a duplicate of a recent one (pre-trade risk
    would rightly refuse those), and every tick moves the market maker's quotes.
    """
    setup = [
        itch.StockDirectory(
            1, 0, 0, "AAPL", "Q", "N", 100, "N", "C", "Z", "P", " ", "N", "1", "N", 0, "N"
        ).encode(),  # fmt: skip
        itch.AddOrder(1, 0, 1, 1, "B", 500, "AAPL", 1_800_000).encode(),
        itch.AddOrder(1, 0, 2, 2, "S", 500, "AAPL", 1_800_200).encode(),
    ]
    batches = [[(SEQUENCED, payload) for payload in setup]]
    bid_ref, ask_ref = 1, 2
    ref = 3
    for i in range(1, count + 1):
        bid = 1_800_000 + i * 100
        ts = i * 1_000
        tick = [
            itch.AddOrder(1, 0, ts, ref, "B", 500, "AAPL", bid),
            itch.AddOrder(1, 0, ts, ref + 1, "S", 500, "AAPL", bid + 200),
            itch.OrderDelete(1, 0, ts, bid_ref),
            itch.OrderDelete(1, 0, ts, ask_ref),
        ]
        batches.append([(SEQUENCED, message.encode()) for message in tick])
        bid_ref, ask_ref = ref, ref + 1
        ref += 2
    return batches


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
    batches = _ticks(ticks)
    feed = engine.feed
    clock = time.monotonic_ns
    for batch in batches:
        feed.apply_batch(batch, clock())
        for event in engine.gateway.poll():
            engine._on_venue(event)
    latency = engine.latency.publish()["tick_to_order"]
    return latency["p50"], latency["p99"], engine.counters.orders


def run_suite(runs: int = 5, quick: bool = False) -> list[Figure]:
    figures = inproc_figures(runs, 2_000 if quick else 20_000)
    figures += tcp_figures(runs, 300 if quick else 2_000)
    figures += load_figures(
        runs=1 if quick else min(runs, 3),
        seconds=5.0 if quick else 60.0,
        soak_s=20.0 if quick else 600.0,
        warm_up_s=2.0 if quick else 60.0,
    )
    figures.append(recovery_figure(1 if quick else runs))
    return figures


def inproc_figures(runs: int, ticks: int) -> list[Figure]:
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
    p50.note = f"{orders:,} orders from {ticks:,} ticks (4 ITCH messages each) per run"
    return [p50, p99]


def tcp_figures(runs: int, ticks: int) -> list[Figure]:
    p50 = Figure("t2o_tcp_p50_us", "tick-to-order p50, loopback TCP", "us", 50,
                 higher_is_better=False)  # fmt: skip
    p99 = Figure("t2o_tcp_p99_us", "tick-to-order p99, loopback TCP", "us", 200,
                 higher_is_better=False)  # fmt: skip
    for latencies in engine_tcp.measure_t2o_tcp(ticks, runs):
        ordered = sorted(latencies)
        p50.samples.append(ordered[len(ordered) // 2])
        p99.samples.append(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))])
    p50.note = f"{ticks:,} ticks per run, simulator send -> order received, runengine process"
    return [p50, p99]


def load_figures(runs: int, seconds: float, soak_s: float, warm_up_s: float) -> list[Figure]:
    rate = Figure("sustained_orders_per_s", f"sustained orders/s over {seconds:g} s",
                  "orders/s", 25_000)  # fmt: skip
    ack_p50 = Figure("sustained_ack_p50_us", "order-to-ack p50 under that load", "us")
    ack_p99 = Figure("sustained_ack_p99_us", "order-to-ack p99 under that load", "us")
    for _ in range(runs):
        result = engine_tcp.measure_sustained(seconds, warm_up_s)
        if result.orders == 0 or result.risk_rejects:
            raise RuntimeError(f"the load measured nothing useful: {result}")
        rate.samples.append(result.orders_per_s)
        ack_p50.samples.append(result.ack_p50_us)
        ack_p99.samples.append(result.ack_p99_us)
    rate.note = "IOC orders, 32 in flight, each risk-checked, matched, executed and booked"
    soak = engine_tcp.measure_sustained(soak_s, warm_up_s)
    growth = Figure("soak_rss_growth_pct", f"RSS growth over a {soak_s:g} s soak", "%", 2.0,
                    higher_is_better=False)  # fmt: skip
    growth.samples.append((soak.rss_end_kb - soak.rss_start_kb) / soak.rss_start_kb * 100)
    growth.note = (
        f"{soak.rss_start_kb / 1024:.0f} MB after {warm_up_s:g} s warm-up -> "
        f"{soak.rss_end_kb / 1024:.0f} MB, {soak.orders:,} orders at {soak.orders_per_s:,.0f}/s"
    )
    return [rate, ack_p50, ack_p99, growth]


def recovery_figure(kills: int) -> Figure:
    figure = Figure("recovery_s", "restart after kill -9 to trading", "s", 1.0,
                    higher_is_better=False)  # fmt: skip
    figure.samples.extend(engine_tcp.measure_recovery(kills))
    figure.note = "process start -> positions restored, order session and feed in sequence"
    return figure
