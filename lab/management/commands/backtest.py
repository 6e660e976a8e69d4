"""`manage.py backtest`: one bar backtest on stored daily bars, with its report.

`--tick` runs the tick-level backtester on a stored LOBSTER day instead.
"""

from __future__ import annotations

from lab.command_base import ResearchCommand


class Command(ResearchCommand):
    help = (
        "Backtest the moving-average crossover (one symbol) or the pairs strategy (two) on "
        "stored daily bars; with --tick, the passive market maker on a stored LOBSTER day."
    )
    kind = "backtest"

    def add_run_arguments(self, parser):
        parser.add_argument(
            "symbols", nargs="+", help="one symbol (crossover, tick) or two (pairs)"
        )
        parser.add_argument("--strategy", choices=("ma_crossover", "pairs"), default=None)
        parser.add_argument("--start")
        parser.add_argument("--end")
        parser.add_argument("--fast", type=int, default=10)
        parser.add_argument("--slow", type=int, default=50)
        parser.add_argument("--lookback", type=int, default=60)
        parser.add_argument("--entry-z", type=float, default=2.0)
        parser.add_argument("--exit-z", type=float, default=0.5)
        parser.add_argument("--stop-z", type=float, default=3.0)
        parser.add_argument("--fee", type=float, default=0.001, help="fraction of notional")
        parser.add_argument("--slippage", type=float, default=0.0, help="fraction of the price")
        parser.add_argument("--borrow-rate", type=float, default=0.0, help="annual, on shorts")
        parser.add_argument("--init-cash", type=float, default=100_000.0)
        parser.add_argument("--long-short", action="store_true", help="crossover goes short too")
        parser.add_argument("--fill", choices=("close", "next_open"), default="close")
        parser.add_argument("--stop-loss", type=float, help="fraction below entry (e.g. 0.05)")
        parser.add_argument("--take-profit", type=float, help="fraction above entry")
        parser.add_argument("--trailing", action="store_true", help="the stop-loss trails")
        tick = parser.add_argument_group("tick backtest")
        tick.add_argument("--tick", action="store_true", help="tick-level run on a LOBSTER day")
        tick.add_argument("--date", help="the LOBSTER day (YYYY-MM-DD; default: the first stored)")
        tick.add_argument(
            "--queue-model", default="l3_fifo", choices=("l3_fifo", "risk_averse", "power", "log")
        )
        tick.add_argument("--entry-latency-us", type=float, default=50.0)
        tick.add_argument("--response-latency-us", type=float, default=50.0)

    def handle(self, *args, **options):
        if options["tick"]:
            self.kind = "tick_backtest"
        return super().handle(*args, **options)

    def params_from(self, options):
        if options["tick"]:
            from lab.jobs.tick_backtest import params_from_options

            return params_from_options(options)
        symbols = options["symbols"]
        strategy = options["strategy"] or ("pairs" if len(symbols) == 2 else "ma_crossover")
        return {
            "strategy": strategy,
            "symbols": symbols,
            "start": options["start"],
            "end": options["end"],
            "fast": options["fast"],
            "slow": options["slow"],
            "lookback": options["lookback"],
            "entry_z": options["entry_z"],
            "exit_z": options["exit_z"],
            "stop_z": options["stop_z"],
            "fee": options["fee"],
            "slippage": options["slippage"],
            "borrow_rate": options["borrow_rate"],
            "init_cash": options["init_cash"],
            "long_only": not options["long_short"],
            "fill": options["fill"],
            "stop_loss": options["stop_loss"],
            "take_profit": options["take_profit"],
            "trailing_stop": options["trailing"],
        }
