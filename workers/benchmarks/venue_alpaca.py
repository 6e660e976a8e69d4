"""Order-to-ack latency through the Alpaca path, against the simulator's local endpoint.

- alpaca_ack_p50_us / alpaca_ack_p99_us: one limit order at a time, far enough from the market
  never to trade, from `AlpacaGateway.send_enter` to its Accepted coming out of `poll`: the
  engine's queue, the REST worker, alpaca-py's TradingClient (requests) over loopback HTTP to
  the simulator's Alpaca API (aiohttp) and its matching engine, and back.

The simulator enforces Alpaca's 200 requests a minute per key, so each run spreads its orders
over a few accounts (keys), below that limit each, and the gateway's own token bucket is
opened wide: the figure is latency, not pacing.
"""

from __future__ import annotations

import time

import numpy as np

from trading.model.orders import BUY, OrderIntent, TimeInForce
from trading.protocols import ouch
from workers.benchmarks.figures import Figure

PRICE = 1_880_000  # AAPL at $188.00: 1% under the simulator's start, never filled
ORDERS_PER_KEY = 150  # below the endpoint's 200 a minute, with room for the stream's lookups
KEYS = 4


def _accounts(count: int) -> list[dict[str, str]]:
    return [
        {"username": f"bench{i}", "password": f"benchpw{i}", "firm": "BNCH"}
        for i in range(1, count + 1)
    ]


def measure_ack_latencies(orders_per_key: int, keys: int) -> np.ndarray:
    """Order-to-ack times (microseconds) of `orders_per_key` orders on each of `keys` keys."""
    import tomllib

    from trading.config import DEFAULT_CONFIG_PATH, parse_config
    from trading.exchange.embedded import ExchangeThread
    from trading.venues.alpaca.gateway import AlpacaGateway
    from trading.venues.alpaca.settings import AlpacaSettings

    accounts = _accounts(keys)
    latencies: list[float] = []
    # The shipped configuration, quiet (no flow: nothing but our orders), with the keys added.
    document = tomllib.loads(DEFAULT_CONFIG_PATH.read_text())
    document["exchange"]["accounts"] += accounts
    document["exchange"]["flow"]["enabled"] = False
    document["exchange"]["status_interval_s"] = 0.0
    config = parse_config(document, source="bench")
    with ExchangeThread(config) as exchange:
        port = exchange.ports.alpaca
        for account in accounts:
            gateway = AlpacaGateway(
                AlpacaSettings(
                    venue="alpaca-paper",
                    api_key=account["username"],
                    secret_key=account["password"],
                    trading_url=f"http://127.0.0.1:{port}",
                    trade_stream_url=f"ws://127.0.0.1:{port}/stream",
                    data_stream_url=f"ws://127.0.0.1:{port}/v2/iex",
                    rate_limit_per_min=100_000.0,
                    rate_limit_burst=1_000,
                )  # fmt: skip
            )
            try:
                gateway.poll()
                deadline = time.monotonic() + 10
                while not gateway.connected:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the trade updates stream did not connect")
                    time.sleep(0.001)
                intent = OrderIntent("AAPL", BUY, 1, PRICE, TimeInForce.DAY, "bench")
                for order_id in range(1, orders_per_key + 1):
                    sent = time.monotonic_ns()
                    gateway.send_enter(order_id, intent)
                    latencies.append(_ack(gateway, order_id, sent) / 1_000)
            finally:
                gateway.close()
    return np.asarray(latencies)


def _ack(gateway, order_id: int, sent_ns: int) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for event in gateway.poll(0.0005):
            if event.order_id != order_id:
                continue
            if type(event.message) is ouch.Accepted:
                return event.t5_ns - sent_ns
            raise RuntimeError(f"order {order_id}: {event.message}")
    raise RuntimeError(f"order {order_id} unanswered for 10 s")


def measure(runs: int, quick: bool) -> list[Figure]:
    """The figures of this suite, each over `runs` runs (`quick`: a quarter of the orders)."""
    p50 = Figure("alpaca_ack_p50_us", "Alpaca order-to-ack p50 (local endpoint)", "us",
                 higher_is_better=False)  # fmt: skip
    p99 = Figure("alpaca_ack_p99_us", "Alpaca order-to-ack p99 (local endpoint)", "us",
                 higher_is_better=False)  # fmt: skip
    orders = ORDERS_PER_KEY // 4 if quick else ORDERS_PER_KEY
    for _ in range(runs):
        latencies = measure_ack_latencies(orders, KEYS)
        p50.samples.append(float(np.percentile(latencies, 50)))
        p99.samples.append(float(np.percentile(latencies, 99)))
    note = f"{orders * KEYS} orders a run, one at a time"
    p50.note = p99.note = note
    return [p50, p99]


run_suite = measure  # the name `manage.py bench` looks for
