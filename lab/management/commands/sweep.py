"""`manage.py sweep`: a moving-average crossover grid over stored daily tickers."""

from __future__ import annotations

from lab.command_base import ResearchCommand


class Command(ResearchCommand):
    help = (
        "Backtest every (fast, slow) moving-average crossover on every symbol as one compiled "
        "array job; with --queue, fanned out in chunks over the Celery workers."
    )
    kind = "sweep"

    def add_run_arguments(self, parser):
        parser.add_argument(
            "--symbols", default="", help="comma-separated store symbols (default: all stored)"
        )
        parser.add_argument("--start")
        parser.add_argument("--end")
        parser.add_argument(
            "--fast", type=int, nargs=2, default=[2, 101], metavar=("FIRST", "LAST")
        )
        parser.add_argument(
            "--slow", type=int, nargs=2, default=[102, 201], metavar=("FIRST", "LAST")
        )
        parser.add_argument("--fee", type=float, default=0.001)
        parser.add_argument("--long-short", action="store_true")
        parser.add_argument("--init-cash", type=float, default=100.0)
        parser.add_argument("--chunks", type=int, default=8, help="pieces of work (fan-out)")
        parser.add_argument(
            "--no-fan-out", action="store_true", help="with --queue: one worker runs it whole"
        )

    def params_from(self, options):
        symbols = [s for s in options["symbols"].replace(",", " ").split() if s]
        return {
            "symbols": symbols,
            "start": options["start"],
            "end": options["end"],
            "fast": options["fast"],
            "slow": options["slow"],
            "fee": options["fee"],
            "long_only": not options["long_short"],
            "init_cash": options["init_cash"],
            "chunks": options["chunks"],
            "fan_out": not options["no_fan_out"],
        }

    def json_output(self, run):
        figures = {k: v for k, v in run.figures.items() if k != "mean_total_return"}
        return {"run": run.pk, "kind": run.kind, "elapsed_s": run.elapsed_s, **figures}
