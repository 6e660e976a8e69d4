"""`bench engine` over loopback TCP: the engine as a process of its own against the simulator.

The simulator runs in this process (its event loop on a thread, pinned with this process to
one core); the engine runs in another process pinned to the other core, as in production.

- t2o_tcp: the real `runengine` (ledger, Redis bus and publisher, metrics, all on) quoting
  with the market maker. A second account moves the top of AAPL's book once per tick; the
  simulator stamps the moment the tick's ITCH leaves for the engine's feed connection and
  the moment the engine's next Enter Order arrives at the order port. Ticks are sent one at a
  time, after the engine's answer to the last has settled.
- sustained orders/s and the soak: the engine's core (risk, order manager, gateway,
  portfolio, feed handler) in a child process, keeping a window of IOC orders in flight
  against resting liquidity, so every order is risk-checked, matched, executed, and its
  execution booked; the simulator's ITCH for every trade is applied to the engine's book too.
  The ledger writer is left out here: the figure is the trading path's capacity.
- recovery: the real `runengine` is killed with SIGKILL while trading and started again; the
  figure is the time from the new process's start to its order session and feed being back
  in sequence with the positions restored.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from trading.config import DEFAULT_CONFIG_PATH, SystemConfig, deep_merge, parse_config
from trading.exchange.embedded import ExchangeThread
from trading.model.orders import BUY, SELL, OrderIntent, TimeInForce
from trading.protocols import ouch
from trading.protocols.soup_client import SoupClient
from workers.managed_process import ROOT, ManagedProcess

FLOW_ACCOUNT = {"username": "flow1", "password": "flow1", "firm": "FLOW"}
ENTER_ORDER = ord("O")
PHASE = 1_000  # orders per side in the sustained load
BENCH_LIMITS = {
    "max_position_shares": 10**9,
    "max_total_position_shares": 10**9,
    "max_order_shares": 10**6,
    "max_order_notional": 1e12,
    "max_gross_exposure": 1e13,
    "max_orders_per_s": 1e6,
    "daily_loss_limit": 1e12,
    "price_collar_pct": 50.0,
}


def _cores() -> tuple[int, int]:
    """(the simulator's core, the engine's core): two different ones where there are two."""
    cores = sorted(os.sched_getaffinity(0))
    return cores[0], cores[-1]


def exchange_config() -> SystemConfig:
    """The shipped configuration with no background flow and a liquidity account."""
    document = tomllib.loads(DEFAULT_CONFIG_PATH.read_text())
    document["exchange"] = deep_merge(
        document["exchange"],
        {
            "accounts": [*document["exchange"]["accounts"], FLOW_ACCOUNT],
            "flow": {"enabled": False},
            "status_interval_s": 0.0,
            "collar_pct": 50.0,
        },
    )
    return parse_config(document, source="bench")


def engine_config_text(strategies: list[str], core: int, flow: bool = False) -> str:
    """The shipped file, edited as an operator would for a benchmark run."""
    text = DEFAULT_CONFIG_PATH.read_text()
    text = text.replace('strategies = ["mean_reversion", "pairs"]', f"strategies = {strategies!r}")
    text = text.replace("metrics_port = 15104", "metrics_port = 0")
    text = re.sub(r"(?m)^cpu_core = \d+", f"cpu_core = {core}", text)
    text = re.sub(r"(?m)^max_orders_per_s = .*$", "max_orders_per_s = 1000000.0", text)
    text = re.sub(r"(?m)^price_collar_pct = .*$", "price_collar_pct = 50.0", text)
    if not flow:
        text = text.replace("[exchange.flow]\nenabled = true", "[exchange.flow]\nenabled = false")
    text = text.replace(
        '[[exchange.accounts]]\nusername = "demo"',
        '[[exchange.accounts]]\nusername = "flow1"\npassword = "flow1"\nfirm = "FLOW"\n\n'
        '[[exchange.accounts]]\nusername = "demo"',
    )
    return text


@contextmanager
def pinned(core: int) -> Iterator[None]:
    """This process (and its threads) on one core for the duration."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@contextmanager
def unpinned() -> Iterator[None]:
    """Every core for the calling thread for the duration (processes started inherit it)."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, range(os.cpu_count() or 1))
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


class EngineProcess:
    """A scratch database and Redis, and `runengine` against the given exchange ports."""

    def __init__(self, exchange: ExchangeThread, strategies: list[str], core: int) -> None:
        from workers.supervisor import EmbeddedRedis

        self.exchange = exchange
        self.dir = Path(tempfile.mkdtemp(prefix="bench-engine-"))
        self.redis = EmbeddedRedis(self.dir / "redis")
        self.config_path = self.dir / "desk.toml"
        self.config_path.write_text(engine_config_text(strategies, core))
        self.env = {
            "DATABASE_URL": f"sqlite:///{self.dir / 'ledger.sqlite3'}",
            "DESK_VAR_DIR": str(self.dir / "var"),
            "REDIS_URL": self.redis.url,
        }
        self.process: ManagedProcess | None = None
        self.status_interval_s = 3600.0

    def __enter__(self) -> EngineProcess:
        self.redis.start()
        migrate = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v", "0"],
            cwd=ROOT, env={**os.environ, **self.env}, capture_output=True, text=True,
            timeout=600,
        )  # fmt: skip
        if migrate.returncode:
            self.__exit__()
            raise RuntimeError(f"migrate failed: {migrate.stderr}")
        return self

    def start(self) -> ManagedProcess:
        ports = self.exchange.ports
        assert ports is not None
        with unpinned():  # the engine picks its own core
            self.process = ManagedProcess(
            "runengine", "--config", str(self.config_path), "--order-port", str(ports.order),
            "--feed-port", str(ports.feed), "--snapshot-port", str(ports.snapshot),
            "--status-interval", str(self.status_interval_s), env=self.env,
            )  # fmt: skip
        return self.process

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            if self.process.popen.poll() is None:
                self.process.stop(signal.SIGTERM, timeout_s=30)
            self.process.kill()
        self.redis.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class TickProbe:
    """Stamps, on the simulator's loop, a tick's ITCH leaving for the engine and the engine's
    next Enter Order arriving (both monotonic ns, the clock every process shares)."""

    def __init__(self, exchange: ExchangeThread, username: str = "demo") -> None:
        self.exchange = exchange
        self.username = username
        self.armed = False
        self.sent_ns = 0
        self.received_ns = 0
        self.done = threading.Event()
        exchange.call(self._install)

    def _install(self) -> None:
        server = self.exchange.server
        assert server is not None
        feed = next(c for c in server.feed_server.connections if c.username == self.username)
        write = feed._write
        clock = time.monotonic_ns

        def stamped_write(data: bytes) -> None:
            if self.armed and not self.sent_ns:
                self.sent_ns = clock()
            write(data)

        feed._write = stamped_write  # type: ignore[method-assign]
        service = server.order_entry
        on_unsequenced = service.on_unsequenced

        def stamped_on_unsequenced(connection: Any, payload: bytes) -> None:
            if (
                self.sent_ns
                and not self.received_ns
                and payload[0] == ENTER_ORDER
                and connection.username == self.username
            ):
                self.received_ns = clock()
                self.armed = False
                self.done.set()
            on_unsequenced(connection, payload)

        service.on_unsequenced = stamped_on_unsequenced  # type: ignore[method-assign]

    def arm(self) -> None:
        self.sent_ns = self.received_ns = 0
        self.done.clear()
        self.armed = True


class FlowAccount:
    """The second account: moves AAPL's top a cent a tick, or rests liquidity."""

    def __init__(self, exchange: ExchangeThread) -> None:
        assert exchange.ports is not None
        self.client = SoupClient("127.0.0.1", exchange.ports.order)
        self.client.login(FLOW_ACCOUNT["username"], FLOW_ACCOUNT["password"], 0)
        self.client.sock.setblocking(False)
        self.tokens = 0
        self.resting: dict[str, str] = {}

    def _enter(self, side: str, qty: int, price: int) -> tuple[str, bytes]:
        self.tokens += 1
        token = f"F{self.tokens}"
        message = ouch.EnterOrder(
            token, side, qty, "AAPL", price, ouch.TIF_SYSTEM_HOURS, "", "Y", "P", "N", 0, "N",
            " ",
        )  # fmt: skip
        return token, message.encode()

    def quote(self, bid: int, ask: int, qty: int = 500) -> None:
        """A new bid and ask, and the old ones cancelled, in one write."""
        from trading.protocols import soupbintcp as soup

        payloads = []
        for side, price in (("B", bid), ("S", ask)):
            token, payload = self._enter(side, qty, price)
            payloads.append(payload)
            old = self.resting.pop(side, None)
            self.resting[side] = token
            if old is not None:
                payloads.append(ouch.CancelOrder(old, 0).encode())
        data = b"".join(soup.encode_unsequenced_data(p) for p in payloads)
        self.client.sock.setblocking(True)
        self.client.sock.sendall(data)
        self.client.sock.setblocking(False)
        self.drain()

    def drain(self) -> None:
        """Read and forget our own answers, so the venue never waits on us."""
        try:
            while self.client.sock.recv(1 << 16):
                pass
        except BlockingIOError:
            pass

    def close(self) -> None:
        self.client.close()


def measure_t2o_tcp(ticks: int, runs: int) -> list[list[float]]:
    """Per run, the tick-to-order latencies in microseconds."""
    exchange_core, engine_core = _cores()
    results: list[list[float]] = []
    with (
        pinned(exchange_core),
        ExchangeThread(exchange_config()) as exchange,
        EngineProcess(exchange, ["market_maker"], engine_core) as rig,
    ):
        rig.status_interval_s = float(os.environ.get("BENCH_STATUS_S", 3600))
        engine = rig.start()
        engine.wait_for(r"\[GW\] order session", timeout_s=120)
        engine.wait_for(r"\[MD\] feed connected", timeout_s=120)
        flow = FlowAccount(exchange)
        price = 1_000_000  # $100.00, a cent a tick upwards
        flow.quote(price, price + 200)
        time.sleep(1.0)
        probe = TickProbe(exchange)
        warm_up = min(500, ticks)
        for run in range(-1, runs):
            latencies = []
            for _ in range(warm_up if run < 0 else ticks):
                price += 100
                probe.arm()
                flow.quote(price, price + 200)
                if probe.done.wait(1.0):
                    latencies.append((probe.received_ns - probe.sent_ns) / 1000)
                probe.armed = False
                time.sleep(0.002)  # the rest of the engine's answer (cancels, the other side)
                flow.drain()
            if run >= 0:
                if len(latencies) < ticks * 0.9:
                    raise RuntimeError(
                        f"the engine answered {len(latencies)} of {ticks} ticks: measured nothing"
                    )
                results.append(latencies)
        flow.close()
        if os.environ.get("BENCH_SHOW_ENGINE"):
            import urllib.request

            port = engine.wait_for(r"engine metrics on http://127.0.0.1:(\d+)").group(1)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as response:
                print(
                    "\n".join(
                        line
                        for line in response.read().decode().splitlines()
                        if "latency" in line and "p50" in line
                    )
                )
            print("\n".join(line for line in engine.lines if "PERF" in line or "WARN" in line))
    return results


@dataclass
class LoadResult:
    orders: int
    seconds: float
    orders_per_s: float
    ack_p50_us: float
    ack_p99_us: float
    rss_start_kb: int
    rss_end_kb: int
    risk_rejects: dict[str, int]
    fills: int
    rss_trace_kb: list[int]  # every 10 s after the warm-up


def _rss_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _load_child(
    config: SystemConfig, ports: Any, seconds: float, warm_up_s: float, window: int, core: int,
    results: Any,
) -> None:  # fmt: skip
    """The engine's trading path at full speed: a window of IOC orders always in flight."""
    from trading.engine.engine import TradingEngine
    from trading.log_format import configure_logging

    configure_logging("WARNING")
    os.sched_setaffinity(0, {core})
    engine = TradingEngine(
        config, host="127.0.0.1", order_port=ports.order, feed_port=ports.feed,
        snapshot_port=ports.snapshot, username="demo", password="demo",
    )  # fmt: skip
    engine.set_limits(BENCH_LIMITS, "bench")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (engine.gateway.connected and engine.tops):
        engine.run_once(0.01)
    (bid, _, ask, _), = engine.tops.values()  # fmt: skip
    tick = config.exchange.tick_size
    sent_at = engine.sent_at
    submit = engine.submit
    run_once = engine.run_once
    n = side_phase = 0
    start = time.monotonic()
    measuring_from = start + warm_up_s
    end = measuring_from + seconds
    orders_at_mark = 0
    rss_start = 0
    rss_trace: list[int] = []
    next_trace = measuring_from
    now = start
    while now < end:
        run_once(0.0)
        # Buys and sells in phases of PHASE orders: an IOC buy through the offer while one of
        # our IOC sells through the bid is still in flight would cross our own order, which
        # self-trade prevention rightly refuses. Each phase starts once the last has settled.
        if (n // PHASE) % 2 != side_phase and not sent_at:
            side_phase = (n // PHASE) % 2
        while len(sent_at) < window and (n // PHASE) % 2 == side_phase:
            # Within a phase, price and size walk through 1,000 combinations, so no order
            # repeats a recent one (the duplicate guard would stop it), and each phase buys
            # or sells the same shares, so the position swings but never drifts. An IOC limit
            # through the touch trades at the touch.
            step = n % PHASE
            offset = step % 500 * tick
            qty = 1 + step // 250
            if side_phase == 0:
                submit(OrderIntent("AAPL", BUY, qty, ask + offset, TimeInForce.IOC, "load"))
            else:
                submit(OrderIntent("AAPL", SELL, qty, bid - offset, TimeInForce.IOC, "load"))
            n += 1
        now = time.monotonic()
        if now >= next_trace:
            next_trace += 10.0
            rss_trace.append(_rss_kb())
        if not rss_start and now >= measuring_from:
            rss_start = _rss_kb()
            orders_at_mark = engine.counters.orders
            engine.latency.publish()
            engine.latency = type(engine.latency)()  # percentiles under load only
    orders = engine.counters.orders - orders_at_mark
    latency = engine.latency.publish()["order_to_ack"]
    results.put(
        LoadResult(
            orders,
            seconds,
            orders / seconds,
            latency["p50"],
            latency["p99"],
            rss_start,
            _rss_kb(),
            dict(engine.counters.reject_reasons),
            engine.counters.fills,
            rss_trace,
        )  # fmt: skip
    )
    engine.shutdown()


def measure_sustained(seconds: float, warm_up_s: float, window: int = 32) -> LoadResult:
    """Orders per second through the trading path, with latency and memory under that load."""
    exchange_core, engine_core = _cores()
    context = mp.get_context("spawn")
    results = context.Queue()
    config = exchange_config()
    with pinned(exchange_core), ExchangeThread(config) as exchange:
        flow = FlowAccount(exchange)
        payloads = []
        for _ in range(20):  # twenty million shares a side: more than a soak can take
            payloads.append(flow._enter("B", 1_000_000, 999_900)[1])
            payloads.append(flow._enter("S", 1_000_000, 1_000_100)[1])
        for payload in payloads:
            flow.client.send(payload)
        time.sleep(0.5)
        flow.drain()
        engine_config = replace(config, engine=replace(config.engine, strategies=[]))
        child = context.Process(
            target=_load_child,
            args=(engine_config, exchange.ports, seconds, warm_up_s, window, engine_core,
                  results),
        )  # fmt: skip
        with unpinned():
            child.start()
        try:
            deadline = time.monotonic() + seconds + warm_up_s + 120
            while child.is_alive() and results.empty() and time.monotonic() < deadline:
                time.sleep(0.5)
                flow.drain()
            result: LoadResult = results.get(timeout=10)
        finally:
            child.join(30)
            if child.is_alive():
                child.kill()
            flow.close()
    return result


def measure_recovery(kills: int) -> list[float]:
    """Per SIGKILL, the seconds from the new engine process's start to its trading again:
    positions restored, order session resumed in sequence, books in sequence (the engine's
    own figure, from its process start time)."""
    exchange_core, engine_core = _cores()
    config = exchange_config()
    flowing = replace(config, exchange=replace(config.exchange, flow=replace(
        config.exchange.flow, enabled=True)))  # fmt: skip
    times = []
    with (
        pinned(exchange_core),
        ExchangeThread(flowing) as exchange,
        EngineProcess(exchange, ["market_maker"], engine_core) as rig,
    ):
        for attempt in range(kills + 1):
            engine = rig.start()
            resumed = engine.wait_for(r"\[SYSTEM\] trading (\d+\.\d+) s after start", 120)
            if attempt:  # the first start is not a recovery
                times.append(float(resumed.group(1)))
            engine.wait_for(r"\[STRAT\] FILL", timeout_s=120)
            engine.popen.send_signal(signal.SIGKILL)
            engine.popen.wait(30)
    return times
