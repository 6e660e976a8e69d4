"""`manage.py runengine`: the trading engine of one account, pinned to its core."""

import gc
import os
import signal
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ledger.recovery import load_recovery
from ledger.risk_limits import LimitsUpdate, LimitsWatcher, current_limits, read_limits
from ledger.strategy_settings import current_strategies
from ledger.writer import AuditRecord, EquityRecord, GatewayRecord, LedgerWriter, PortfolioRecord
from trading.config import Account, ConfigError
from trading.engine.control_bus import CommandBus, CommandInbox
from trading.engine.engine import TradingEngine
from trading.engine.lockstep import DataClock, LockstepEngine
from trading.engine.state_publisher import StatePublisher
from trading.log_format import BackgroundLogging, get_logger
from trading.venues.alpaca.errors import classify
from trading.venues.alpaca.session import attach_alpaca, restore_reconciled
from trading.venues.alpaca.settings import ALPACA_VENUES, AlpacaSetupError, alpaca_settings
from workers.config_options import add_config_arguments, load_config_or_fail
from workers.engine_metrics import start_engine_metrics

log = get_logger("SYSTEM")
perf = get_logger("PERF")
strat = get_logger("STRAT")
risk = get_logger("RISK")

STATUS_INTERVAL_S = 5.0
HOT_LOOP_SWITCH_INTERVAL_S = 0.0005
CONTROL_INTERVAL_S = 0.1  # commands, checkpoints and published state, ten times a second
EQUITY_INTERVAL_S = 1.0


class Command(BaseCommand):
    help = "Run the trading engine for the configured account against its venue."

    def add_arguments(self, parser):
        add_config_arguments(parser)
        parser.add_argument(
            "--exchange-host",
            default=os.environ.get("DESK_EXCHANGE_HOST"),
            help="the venue's address (default: DESK_EXCHANGE_HOST, else the config's host)",
        )
        parser.add_argument("--order-port", type=int, help="the venue's OUCH port")
        parser.add_argument("--feed-port", type=int, help="the venue's ITCH port")
        parser.add_argument("--snapshot-port", type=int, help="the venue's snapshot port")
        parser.add_argument(
            "--metrics-port", type=int, help="Prometheus port (default: engine.metrics_port)"
        )
        parser.add_argument(
            "--lockstep", action="store_true",
            help="follow a lockstep replay (runexchange --lockstep): the data's clock, one step "
            "at a time",
        )  # fmt: skip
        parser.add_argument(
            "--live", action="store_true",
            help='trade real money: only with engine.venue = "alpaca-live" (paper is the default)',
        )  # fmt: skip
        parser.add_argument(
            "--status-interval",
            type=float,
            default=STATUS_INTERVAL_S,
            help="seconds between status lines",
        )

    def handle(self, *args, **options):
        config = load_config_or_fail(options, log)
        # From here on, log lines are formatted and written by a thread of their own.
        background_logging = BackgroundLogging()
        try:
            self.run_engine(config, options)
        finally:
            background_logging.stop()
            if background_logging.dropped:
                log.warning("%d log lines dropped (the terminal was too slow)",
                            background_logging.dropped)  # fmt: skip

    def run_engine(self, config, options):
        # The hot loop shares the interpreter with the ledger writer, the state publisher, the
        # command inbox and the log thread: when it wakes with a packet, whoever holds the
        # GIL must hand it over within a fraction of a millisecond, not the default 5 ms.
        sys.setswitchinterval(HOT_LOOP_SWITCH_INTERVAL_S)
        engine_config = config.engine
        on_alpaca = engine_config.venue in ALPACA_VENUES
        if engine_config.data == "polygon":
            raise CommandError(
                'engine.data = "polygon" is a history source (fetchdata, backtests), not a live '
                'feed: use "simulator", "replay" or "alpaca"'
            )
        if options["live"] and engine_config.venue != "alpaca-live":
            raise CommandError('--live is only for engine.venue = "alpaca-live"')
        alpaca = None
        if on_alpaca or engine_config.data == "alpaca":
            if options["lockstep"]:
                raise CommandError("--lockstep follows the simulator's replay: not with Alpaca")
            try:
                alpaca = alpaca_settings(config, os.environ, live=options["live"], logger=log)
            except AlpacaSetupError as exc:
                raise CommandError(str(exc)) from None
        account = config.account(engine_config.account)
        if account is None and on_alpaca:
            # The broker holds the account; the ledger still files it under this name.
            account = Account(engine_config.account, "-")
        if account is None:
            raise CommandError(f"engine.account {engine_config.account!r} has no exchange account")
        try:
            config, origin = current_strategies(account.username, config)
        except ConfigError as exc:
            raise CommandError(f"the stored strategies cannot be used: {exc}") from None
        log.info("strategies %s %s", ", ".join(config.engine.strategies) or "(none)", origin)
        pin_to_core(engine_config.cpu_core)
        ex = config.exchange
        venue_address = {
            "host": options["exchange_host"] or ex.host,
            "order_port": options["order_port"] or ex.order_port,
            "feed_port": options["feed_port"] or ex.feed_port,
            "snapshot_port": options["snapshot_port"] or ex.snapshot_port,
            "username": account.username,
            "password": account.password,
        }
        if options["lockstep"]:
            # The replayed day's clock for everything time-based the strategies and risk see.
            clock = DataClock()
            engine = TradingEngine(config, **venue_address, clock_ns=clock)
            step = LockstepEngine(engine, clock, **venue_address).run_once
            log.info("lockstep: following the exchange's replay step by step")
        else:
            engine = TradingEngine(config, **venue_address)
            step = engine.run_once
        gateway = None
        if alpaca is not None:
            gateway = attach_alpaca(
                engine, alpaca, orders=on_alpaca, market_data=engine_config.data == "alpaca"
            )
            log.info(
                "venue %s, market data %s: %s", engine_config.venue, engine_config.data,
                alpaca.describe(),
            )  # fmt: skip
        writer = LedgerWriter(account.username)
        engine.record = writer.submit
        recovery = load_recovery(account.username)
        if gateway is not None:
            try:
                reconciled = restore_reconciled(
                    engine, gateway, recovery.portfolio_snapshot, recovery.gateway_session,
                    recovery.next_sequence, recovery.open_orders, recovery.next_order_id,
                    recovery.strategy_positions, logger=log,
                )  # fmt: skip
            except Exception as exc:  # the broker could not be asked: do not trade blind
                raise CommandError(
                    f"cannot reconcile with the broker ({classify(exc)}): not starting"
                ) from None
            log.info(
                "reconciled with the broker: %d positions, %d open orders, %d differences",
                len(engine.portfolio.open_positions()), len(reconciled.open_orders),
                len(reconciled.differences),
            )  # fmt: skip
        else:
            engine.restore(
                recovery.portfolio_snapshot, recovery.gateway_session, recovery.next_sequence,
                recovery.open_orders, recovery.next_order_id, recovery.strategy_positions,
            )  # fmt: skip
        if recovery.portfolio_snapshot is not None or recovery.gateway_session:
            log.info(
                "recovered: %d positions, %d open orders, venue session %s from sequence %d",
                len(engine.portfolio.open_positions()), len(recovery.open_orders),
                recovery.gateway_session or "(new)", recovery.next_sequence,
            )  # fmt: skip
        stored, seeded = current_limits(account.username, config.risk)
        ok, reason = engine.set_limits(stored.values, stored.updated_by)
        if not ok:
            raise CommandError(f"the stored risk limits cannot be used: {reason}")
        risk.info(
            "risk limits %s (%s)",
            "seeded from the config file" if seeded else "from the database", reason,
        )  # fmt: skip
        watcher = LimitsWatcher(account.username, stored.version).start()
        metrics_port = options["metrics_port"]
        metrics = start_engine_metrics(
            account.username, "127.0.0.1",
            engine_config.metrics_port if metrics_port is None else metrics_port,
        )  # fmt: skip
        # Everything built so far (Django, numba, the books) lives as long as the process:
        # moved out of the collector's sight, it is not walked again by every full collection,
        # which would otherwise stall the hot loop for milliseconds.
        gc.collect()
        gc.freeze()
        stopping = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda signum, frame: stopping.append(signum))
        log.info(
            "engine for %s: strategies %s", account.username,
            ", ".join(s.name for s in engine.strategies) or "(none)",
        )  # fmt: skip
        bus = CommandInbox(CommandBus(settings.REDIS_URL, account.username)).start()
        publisher = StatePublisher(
            settings.REDIS_URL, account.username, min_interval_s=CONTROL_INTERVAL_S
        )
        checkpoints = Checkpoints(engine, writer)
        usage = ProcessUsage()
        next_status = time.monotonic() + options["status_interval"]
        next_control = 0.0
        trading = False
        while not stopping and not engine.stop_requested:
            step(0.001)
            if not trading and engine.gateway.connected and engine.feed.next_sequence:
                trading = True
                log.info(
                    "trading %.2f s after start: order session %s at %d, feed at %d, "
                    "%d positions", process_age_s(), engine.gateway.session,
                    engine.gateway.next_sequence, engine.feed.next_sequence,
                    len(engine.portfolio.open_positions()),
                )  # fmt: skip
            now = time.monotonic()
            if now >= next_control:
                # Commands and state a few times a second, between events, off the hot path.
                next_control = now + CONTROL_INTERVAL_S
                step_started_ns = time.monotonic_ns()
                for update in watcher.take():
                    apply_limits(engine, update, writer)
                for command in bus.take():
                    if command.kind == "reload_limits":
                        update = read_limits(account.username)
                        if update is None:
                            ok, reason = False, "no stored limits for this account"
                        else:
                            ok, reason = engine.set_limits(update.values, command.who)
                    elif command.kind == "submit_order":
                        ok, reason = engine.ticket(command.args, command.who)
                    elif command.kind == "cancel_order":
                        ok, reason = engine.cancel_order(command.args.get("order_id"), command.who)
                    else:
                        ok, reason = engine.operate(str(command.kind), command.who)
                    (log.info if ok else log.warning)("command %s: %s", command.kind, reason)
                    bus.ack(command, engine.state, reason, ok)
                    writer.submit(
                        AuditRecord(command.who, str(command.kind), {"id": command.id, **command.args},
                                    f"{'ok' if ok else 'refused'}: {reason}; {engine.state}")
                    )  # fmt: skip
                checkpoints.take()
                status = engine.status()
                status["process"] = usage.sample()
                publisher.publish(status)
                if metrics is not None:
                    metrics.update(status)
                engine.latency.add("control_step", time.monotonic_ns() - step_started_ns)
            if now >= next_status:
                next_status = now + options["status_interval"]
                log_status(engine)
        log.info("stopping: cancelling working orders")
        engine.shutdown()
        checkpoints.take(force=True)
        watcher.stop()
        writer.close()
        log_status(engine)
        publisher.publish(engine.status())
        publisher.stop()
        bus.close()
        if metrics is not None:
            metrics.close()
        log.info("engine stopped")


def apply_limits(engine: TradingEngine, update: LimitsUpdate, writer: LedgerWriter) -> None:
    """Limits changed in the database, put in force between events and audited."""
    ok, reason = engine.set_limits(update.values, update.updated_by)
    (risk.info if ok else risk.error)("%s", reason)
    writer.submit(
        AuditRecord(update.updated_by, "reload_limits", {"version": update.version},
                    f"{'ok' if ok else 'refused'}: {reason}; {engine.state}")
    )  # fmt: skip


class Checkpoints:
    """The portfolio and the venue sequence, saved together (what a restart resumes from),
    and the equity curve.

    A checkpoint is written only when the venue's sequence moved (every fill, ack and cancel
    moves it), so a quiet engine adds no rows; equity gets a point a second.
    """

    def __init__(self, engine: TradingEngine, writer: LedgerWriter) -> None:
        self.engine = engine
        self.writer = writer
        self.saved: tuple[str, int] | None = None
        self.next_equity = 0.0

    def take(self, force: bool = False) -> None:
        engine, writer = self.engine, self.writer
        venue = (engine.gateway.session, engine.gateway.next_sequence)
        if force or venue != self.saved:
            snapshot, session, next_sequence = engine.checkpoint()
            writer.submit(PortfolioRecord(snapshot))
            writer.submit(GatewayRecord(session, next_sequence))
            self.saved = venue
        now = time.monotonic()
        if force or now >= self.next_equity:
            self.next_equity = now + EQUITY_INTERVAL_S
            portfolio = engine.portfolio
            writer.submit(EquityRecord(portfolio.equity, portfolio.realised, portfolio.unrealised))


class ProcessUsage:
    """This process's pid, resident memory and CPU share since the last sample (for the
    dashboard's health view), read from /proc."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.page_size = os.sysconf("SC_PAGE_SIZE")
        self.last = (time.monotonic(), time.process_time())
        self.cpu_pct = 0.0
        self.next_cpu = 0.0

    def sample(self) -> dict[str, float | int]:
        now = time.monotonic()
        if now >= self.next_cpu:  # a share over a second says more than one over 100 ms
            cpu = time.process_time()
            wall, last_cpu = self.last
            self.cpu_pct = (cpu - last_cpu) / max(now - wall, 1e-9) * 100
            self.last = (now, cpu)
            self.next_cpu = now + 1.0
        with open("/proc/self/statm") as statm:
            rss = int(statm.read().split()[1]) * self.page_size
        return {"pid": self.pid, "rss_bytes": rss, "cpu_pct": round(self.cpu_pct, 1)}


def process_age_s() -> float:
    """Seconds since this process started (the kernel's record, 10 ms resolution)."""
    with open("/proc/self/stat") as stat:
        # The command name may hold spaces; the fields after it are fixed.
        fields = stat.read().rsplit(")", 1)[1].split()
    start_s = int(fields[19]) / os.sysconf("SC_CLK_TCK")
    with open("/proc/uptime") as uptime:
        return float(uptime.read().split()[0]) - start_s


def pin_to_core(core: int) -> None:
    """Pin this process to one CPU core (config `engine.cpu_core`; -1 leaves it free)."""
    if core < 0:
        return
    try:
        available = os.sched_getaffinity(0)
        if core not in available:
            log.warning("core %d is not available (cores %s): not pinned", core, sorted(available))
            return
        os.sched_setaffinity(0, {core})
        log.info("pinned to core %d", core)
    except (AttributeError, OSError) as exc:
        log.warning("the OS refused to pin the engine to core %d (%s): running unpinned", core, exc)


def log_status(engine: TradingEngine) -> None:
    status = engine.status()
    positions = " ".join(
        f"{s} {p['qty']:+d}@{p['avg_price']:.2f}" for s, p in status["positions"].items()
    )
    counters = status["counters"]
    strat.info(
        "positions %s | P&L realised $%.2f unrealised $%.2f | orders %d fills %d working %d",
        positions or "flat", status["realised"], status["unrealised"], counters["orders"],
        counters["fills"], status["working_orders"],
    )  # fmt: skip
    risk.info(
        "state %s%s | risk rejects %d venue rejects %d",
        status["risk_state"], f" ({status['risk_reason']})" if status["risk_reason"] else "",
        counters["risk_rejects"], counters["venue_rejects"],
    )  # fmt: skip
    latency = status["latency_us"]
    perf.info(
        "tick-to-order p50 %.1f p99 %.1f us | order-to-ack p50 %.1f p99 %.1f us | "
        "control step p50 %.0f max %.0f us | md msgs %d",
        latency["tick_to_order"]["p50"], latency["tick_to_order"]["p99"],
        latency["order_to_ack"]["p50"], latency["order_to_ack"]["p99"],
        latency["control_step"]["p50"], latency["control_step"]["max"],
        status["feed"]["messages"],
    )  # fmt: skip
