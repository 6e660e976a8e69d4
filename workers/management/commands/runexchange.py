"""`manage.py runexchange`: the exchange simulator as its own process."""

import asyncio
import dataclasses
import signal

from django.core.management.base import BaseCommand, CommandError

from trading.exchange.server import ExchangeServer, UnsafeExposure
from trading.log_format import get_logger
from workers.config_options import add_config_arguments, load_config_or_fail

log = get_logger("EXCH")


class Command(BaseCommand):
    help = "Run the exchange simulator: OUCH 4.2 order entry, ITCH 5.0 feed, snapshot, metrics."

    def add_arguments(self, parser):
        add_config_arguments(parser)
        parser.add_argument("--host", help="address to bind (default from the config: 127.0.0.1)")
        parser.add_argument("--order-port", type=int, help="OUCH port (0: any free port)")
        parser.add_argument("--feed-port", type=int, help="ITCH port (0: any free port)")
        parser.add_argument("--snapshot-port", type=int, help="snapshot port (0: any free port)")
        parser.add_argument("--metrics-port", type=int, help="metrics port (0: any free port)")
        parser.add_argument(
            "--alpaca-port", type=int,
            help="Alpaca-compatible REST + WebSocket port (0: any free port, -1: not served)",
        )  # fmt: skip
        parser.add_argument(
            "--alpaca-faults", action="store_true",
            help="serve POST /_sim/faults on the Alpaca API (fault injection for tests)",
        )  # fmt: skip
        parser.add_argument("--seed", type=int, help="seed of the synthetic flow")
        parser.add_argument("--replay", metavar="LOBSTER_MESSAGE_FILE", help="replay a LOBSTER day")
        parser.add_argument(
            "--speed", type=float, default=1.0, help="replay speed (1 = real time, 0 = flat out)"
        )
        parser.add_argument("--rows", type=int, help="replay only the first ROWS rows of the day")
        parser.add_argument(
            "--lockstep", action="store_true",
            help="replay in lockstep with one engine (runengine --lockstep): deterministic",
        )  # fmt: skip
        parser.add_argument(
            "--entry-latency-ns", type=int, default=0,
            help="lockstep: from an order leaving the engine to the venue handling it",
        )  # fmt: skip
        parser.add_argument(
            "--response-latency-ns", type=int, default=0,
            help="lockstep: from the venue answering to the answer reaching the engine",
        )  # fmt: skip
        parser.add_argument(
            "--lockstep-journal", metavar="PATH",
            help="lockstep: write the orders received and answers delivered here (JSON)",
        )  # fmt: skip

    def handle(self, *args, **options):
        if options["seed"] is not None and options["seed"] < 0:
            raise CommandError("--seed must be >= 0")
        if options["speed"] < 0:
            raise CommandError("--speed must be >= 0")
        if options["rows"] is not None and options["rows"] < 1:
            raise CommandError("--rows must be >= 1")
        if options["lockstep"] and not options["replay"]:
            raise CommandError("--lockstep needs --replay")
        for name in ("entry_latency_ns", "response_latency_ns"):
            if options[name] < 0:
                raise CommandError(f"--{name.replace('_', '-')} must be >= 0")
        config = load_config_or_fail(options, log)
        if options["seed"] is not None:
            config = dataclasses.replace(
                config, exchange=dataclasses.replace(config.exchange, seed=options["seed"])
            )
            log.info("seed %d (from the command line)", options["seed"])
        if options["alpaca_port"] is not None and not -1 <= options["alpaca_port"] <= 65535:
            raise CommandError("--alpaca-port must be from -1 to 65535")
        if options["alpaca_faults"]:
            config = dataclasses.replace(
                config, exchange=dataclasses.replace(config.exchange, alpaca_faults=True)
            )
            log.warning("Alpaca API fault injection is on (POST /_sim/faults)")
        replay = None
        if options["replay"]:
            from trading.exchange.replay_source import ReplayLoadError, load_replay

            try:
                replay = load_replay(
                    options["replay"], config.exchange.tick_size, rows=options["rows"]
                )
            except ReplayLoadError as exc:
                raise CommandError(str(exc)) from None
            log.info(
                "replaying %s %s (%d levels, %d events) at %s",
                replay.symbol, replay.day.info.date, replay.day.levels, len(replay),
                "lockstep" if options["lockstep"]
                else f"{options['speed']:g}x" if options["speed"] else "full speed",
            )  # fmt: skip
        try:
            import uvloop

            runner = uvloop.run
        except ImportError:  # pragma: no cover - uvloop is in the lock file
            runner = asyncio.run
        runner(self._serve(config, replay, options))

    async def _serve(self, config, replay, options):
        if options["lockstep"]:
            from trading.exchange.lockstep_server import LockstepExchangeServer

            try:
                server = LockstepExchangeServer(
                    config, replay=replay, entry_latency_ns=options["entry_latency_ns"],
                    response_latency_ns=options["response_latency_ns"],
                    journal_path=options["lockstep_journal"],
                )  # fmt: skip
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        else:
            server = ExchangeServer(config, replay=replay, replay_speed=options["speed"])
        try:
            await server.start(
                host=options["host"],
                order_port=options["order_port"],
                feed_port=options["feed_port"],
                snapshot_port=options["snapshot_port"],
                metrics_port=options["metrics_port"],
                alpaca_port=self._alpaca_port(options),
            )
        except OSError as exc:
            raise CommandError(f"cannot listen: {exc}") from None
        except UnsafeExposure as exc:
            raise CommandError(str(exc)) from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        log.info("exchange ready (Ctrl-C to stop)")
        await stop.wait()
        log.info("stopping")
        await server.stop()

    @staticmethod
    def _alpaca_port(options) -> int | None:
        """A lockstep replay is paced by one engine alone: no Alpaca API unless asked for."""
        if options["alpaca_port"] is None and options["lockstep"]:
            return -1
        return options["alpaca_port"]
