"""`bench exchange`: the simulator's book, matcher, order entry and feed.

- book_ops_per_s: the AMZN LOBSTER day (adds, cancels, deletes, executions) applied to a book
  in-process, one compiled loop;
- match_orders_per_s: a seeded synthetic stream of limit orders, a third of them crossing,
  through the matcher in one compiled loop;
- ouch_orders_per_s: Enter Orders from one client over loopback TCP to an exchange in another
  process, pipelined, until every Accepted is back;
- itch_msgs_per_s: ITCH messages from the exchange's feed log to one subscriber over loopback
  TCP, decoded by the subscriber (numba);
- ack_p50_us / ack_p99_us: one order at a time, Enter Order sent to Accepted received.
"""

from __future__ import annotations

import multiprocessing as mp
import socket
import threading
import time

import numpy as np

from trading import order_book as ob
from trading.lobster import load_messages
from trading.protocols import itch, ouch
from trading.protocols import soupbintcp as soup
from trading.protocols.soup_client import SoupClient
from trading.shared_data import shared_data_dir
from workers.benchmarks.figures import Figure, repeat

AMZN_MESSAGES = shared_data_dir() / "lobster" / "AMZN_2012-06-21_34200000_57600000_message_5.csv.gz"

_LOBSTER_TO_BOOK = {1: ob.ADD, 2: ob.CANCEL, 3: ob.DELETE, 4: ob.EXECUTE}


def lobster_book_events(messages: np.ndarray) -> np.ndarray:
    """LOBSTER messages (types 1-4) as BOOK_EVENT_DTYPE events; hidden executions are left out."""
    visible = messages[np.isin(messages["kind"], list(_LOBSTER_TO_BOOK))]
    events = np.zeros(len(visible), dtype=ob.BOOK_EVENT_DTYPE)
    events["ts_ns"] = visible["ts_ns"]
    events["ref"] = visible["order_id"]
    events["price"] = visible["price"]
    events["qty"] = visible["size"]
    events["side"] = visible["direction"]
    kinds = np.zeros(256, dtype=np.uint8)
    for lobster_kind, book_kind in _LOBSTER_TO_BOOK.items():
        kinds[lobster_kind] = book_kind
    events["kind"] = kinds[visible["kind"]]
    return events


def synthetic_orders(count: int, seed: int, crossing_fraction: float = 1 / 3) -> np.ndarray:
    """Limit orders around a $100 mid: passive ones 1-20 ticks away, crossing ones IOC."""
    rng = np.random.default_rng(seed)
    orders = np.zeros(count, dtype=ob.ORDER_DTYPE)
    mid = 1_000_000
    tick = 100
    side = np.where(rng.random(count) < 0.5, ob.BUY, ob.SELL).astype(np.int8)
    crossing = rng.random(count) < crossing_fraction
    distance = rng.integers(1, 21, count)
    passive_price = np.where(side == ob.BUY, mid - distance * tick, mid + distance * tick)
    crossing_price = np.where(side == ob.BUY, mid + 25 * tick, mid - 25 * tick)
    orders["ref"] = np.arange(1, count + 1)
    orders["side"] = side
    orders["price"] = np.where(crossing, crossing_price, passive_price)
    orders["qty"] = rng.integers(1, 6, count) * 100
    orders["owner"] = 0
    orders["ts_ns"] = np.arange(count)
    orders["flags"] = np.where(crossing, ob.FLAG_IOC, 0)
    return orders


def measure_book_ops(events: np.ndarray) -> float:
    book = ob.OrderBook(100, capacity=1 << 16)
    start = time.perf_counter()
    ob.apply_events(book, events)
    return len(events) / (time.perf_counter() - start)


def measure_replay_generation() -> float:
    """ITCH messages/s the exchange generates replaying the AMZN day flat out, in-process:
    LOBSTER rows to replay events (with the synthetic hydration) to encoded ITCH in the
    sequenced feed log, as the replay task does, without the sockets."""
    from trading.config import load_config
    from trading.exchange.replay_source import load_replay
    from trading.exchange.sequenced_log import SequencedLog
    from trading.exchange.venue import Venue

    source = load_replay(AMZN_MESSAGES, 100)
    log = SequencedLog()
    config = load_config()
    venue = Venue(
        config.exchange, [source.symbol], lambda u, m: None,
        lambda m: log.append(m if m.__class__ is bytes else m.encode()),
        books={source.symbol: source.book},
    )  # fmt: skip
    locate = venue.symbols[source.symbol].locate
    start = time.perf_counter()
    for row in range(len(source)):
        for event in source.events_for(row):
            venue.publish(source.to_itch(event, locate))
    return (log.next_sequence - 1) / (time.perf_counter() - start)


def measure_match(orders: np.ndarray) -> float:
    book = ob.OrderBook(100, capacity=1 << 20)
    start = time.perf_counter()
    totals = ob.match_batch(book, orders)
    elapsed = time.perf_counter() - start
    if totals.errors:
        raise RuntimeError(f"{totals.errors} orders were refused by the matcher")
    return len(orders) / elapsed


# -- the exchange in its own process ---------------------------------------------------------


def _serve(conn, preload_steps: int) -> None:
    """Child process: an exchange on ephemeral ports, its feed preloaded with agent flow."""
    import asyncio

    import uvloop

    from trading.config import load_config
    from trading.exchange.server import ExchangeServer
    from trading.exchange.synthetic_flow import SyntheticFlow

    async def main() -> None:
        config = load_config()
        server = ExchangeServer(config)
        server.flow = None  # no live flow: the measured traffic is the client's own
        if preload_steps:
            flow = SyntheticFlow(
                {s: config.exchange.symbols[s] for s in config.symbols},
                config.exchange.flow, config.exchange.tick_size, config.exchange.seed,
            )  # fmt: skip
            venue = server.venue
            venue.on_agent_done, venue.on_agent_rested = flow.order_done, flow.order_rested
            for step in range(preload_steps):
                for action in flow.step(venue.quotes()):
                    venue.apply_flow(action, step * 10_000_000)
        ports = await server.start(
            host="127.0.0.1", order_port=0, feed_port=0, snapshot_port=0, metrics_port=0
        )
        conn.send((ports.order, ports.feed, server.feed_log.next_sequence - 1))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        await server.stop()

    uvloop.run(main())


class ExchangeProcess:
    """An exchange in a child process (the benchmark's client gets the other core)."""

    def __init__(self, preload_steps: int = 0) -> None:
        context = mp.get_context("spawn")
        self.parent, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, preload_steps), daemon=True)

    def __enter__(self) -> tuple[int, int, int]:
        self.process.start()
        if not self.parent.poll(300):
            raise RuntimeError("the exchange process did not start")
        return self.parent.recv()

    def __exit__(self, *exc: object) -> None:
        self.parent.send("stop")
        self.process.join(30)
        if self.process.is_alive():
            self.process.kill()


def _enter(token: str, price: int) -> bytes:
    return soup.encode_unsequenced_data(
        ouch.EnterOrder(
            token, "B", 100, "AAPL", price, ouch.TIF_SYSTEM_HOURS, "", "Y", "P", "N", 0, "N", " "
        ).encode()
    )


def _count_accepted(client: SoupClient, wanted: int, timeout_s: float) -> int:
    """Read until `wanted` Accepted messages have arrived (type byte only, no full decode)."""
    deadline = time.monotonic() + timeout_s
    accepted = 0
    sock = client.sock
    decoder = client.decoder
    sequenced = soup.PacketType.SEQUENCED_DATA
    while accepted < wanted:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {accepted} of {wanted} orders acknowledged")
        # Small reads: a 1 MiB recv buffer is an mmap per call, which costs more than the data.
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("the exchange closed the order session")
        for packet_type, payload in decoder.feed(data):
            if packet_type == sequenced and payload[:1] == b"A":
                accepted += 1
    return accepted


def measure_ouch(order_port: int, run: int, count: int) -> float:
    """Orders per second from first send to last Accepted, pipelined by a sender thread."""
    frames = [_enter(f"R{run}N{i}", 1_000_000 - (i % 200) * 100) for i in range(count)]
    chunks = [b"".join(frames[i : i + 500]) for i in range(0, count, 500)]
    with SoupClient("127.0.0.1", order_port, timeout_s=60) as client:
        client.login("demo", "demo", 0)

        def send() -> None:
            for chunk in chunks:
                client.sock.sendall(chunk)

        sender = threading.Thread(target=send)
        start = time.perf_counter()
        sender.start()
        _count_accepted(client, count, timeout_s=120)
        elapsed = time.perf_counter() - start
        sender.join()
    return count / elapsed


def measure_ack_latency(order_port: int, run: int, samples: int) -> np.ndarray:
    """Round trips (us) of one order at a time: send Enter Order, wait for its Accepted."""
    latencies = np.empty(samples)
    with SoupClient("127.0.0.1", order_port, timeout_s=10) as client:
        client.login("demo", "demo", 0)
        sock = client.sock
        for i in range(samples):
            frame = _enter(f"L{run}N{i}", 900_000 - (i % 100) * 100)
            start = time.perf_counter_ns()
            sock.sendall(frame)
            _count_accepted(client, 1, timeout_s=10)
            latencies[i] = (time.perf_counter_ns() - start) / 1000
    return latencies


def measure_itch(feed_port: int, messages: int) -> float:
    """Messages per second from login to the last message decoded by the subscriber."""
    out = np.empty(1 << 16, dtype=itch.ITCH_RECORD_DTYPE)
    pending = bytearray()
    sequenced_seen = 0
    sock = socket.create_connection(("127.0.0.1", feed_port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    try:
        start = time.perf_counter()
        sock.sendall(soup.encode_login_request("demo", "demo", "", 1))
        while sequenced_seen < messages:
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("the exchange closed the feed")
            pending += data
            buffer = np.frombuffer(pending, dtype=np.uint8)
            consumed_total = 0
            while True:
                _, consumed, _, sequenced = itch.decode_soup_itch(
                    buffer[consumed_total:], out, True
                )
                consumed_total += consumed
                sequenced_seen += sequenced
                if consumed == 0 or sequenced < len(out):
                    break
            del buffer
            del pending[:consumed_total]
        return messages / (time.perf_counter() - start)
    finally:
        sock.close()


def run_suite(runs: int = 5, quick: bool = False) -> list[Figure]:
    """Measure every figure of the suite; `quick` shrinks the workloads (for smoke tests)."""
    events = lobster_book_events(load_messages(AMZN_MESSAGES))
    orders = synthetic_orders(100_000 if quick else 1_000_000, seed=7)
    measure_book_ops(events[:1000])  # compile (cached on disk after the first run)
    measure_match(orders[:1000])
    figures = [
        repeat(
            Figure("book_ops_per_s", "book ops/s (AMZN day, in-process)", "ops/s", 1_000_000),
            runs, lambda: measure_book_ops(events),
        ),
        repeat(
            Figure("match_orders_per_s", "matched orders/s (1/3 crossing)", "ord/s", 1_000_000),
            runs, lambda: measure_match(orders),
        ),
    ]  # fmt: skip
    ouch_count = 5_000 if quick else 50_000
    with ExchangeProcess(preload_steps=2_000 if quick else 30_000) as (order_port, feed_port, n):
        measure_ouch(order_port, -1, 1000)  # warm up the path
        run_ids = iter(range(runs))
        figures.append(
            repeat(
                Figure("ouch_orders_per_s", "OUCH orders/s over TCP to acks", "ord/s", 50_000),
                runs,
                lambda: measure_ouch(order_port, next(run_ids), ouch_count),
            )  # fmt: skip
        )
        figures.append(
            repeat(
                Figure(
                    "itch_msgs_per_s",
                    "ITCH msgs/s to one subscriber",
                    "msg/s",
                    500_000,
                    note=f"{n:,} messages from the feed log",
                ),
                runs,
                lambda: measure_itch(feed_port, n),
            )  # fmt: skip
        )
        figures.append(
            repeat(
                Figure(
                    "replay_itch_msgs_per_s",
                    "ITCH msgs/s generated replaying AMZN",
                    "msg/s",
                    note="LOBSTER to encoded ITCH in the feed log, in-process",
                ),
                max(1, runs // 2),
                measure_replay_generation,
            )  # fmt: skip
        )
        p50 = Figure("ack_p50_us", "ack latency p50 (round trip)", "us", higher_is_better=False)
        p99 = Figure("ack_p99_us", "ack latency p99 (round trip)", "us", higher_is_better=False)
        for run in range(runs):
            latencies = measure_ack_latency(order_port, run, 300 if quick else 2_000)
            p50.samples.append(float(np.percentile(latencies, 50)))
            p99.samples.append(float(np.percentile(latencies, 99)))
        figures += [p50, p99]
    return figures
