"""`manage.py fetchdata --source polygon SYMBOL... --from --to --timespan`: download history."""

from __future__ import annotations

from pathlib import Path

from lab.command_base import ResearchCommand


class Command(ResearchCommand):
    help = (
        "Download Polygon history (aggregates, and trades/quotes where the plan allows) into "
        "the research store, paced to the plan's rate limit and resumable: run the same "
        "command again after an interruption and it continues where it stopped. The API key "
        "is read from POLYGON_API_KEY."
    )
    kind = "fetchdata"

    def add_run_arguments(self, parser):
        parser.add_argument("symbols", nargs="+", metavar="SYMBOL", help="ticker symbols")
        parser.add_argument("--source", choices=("polygon",), default="polygon")
        parser.add_argument("--from", dest="start", required=True, help="first day (YYYY-MM-DD)")
        parser.add_argument("--to", dest="end", required=True, help="last day (YYYY-MM-DD)")
        parser.add_argument("--timespan", choices=("day", "minute", "hour"), default="day")
        parser.add_argument("--multiplier", type=int, default=1, help="bar size in timespans")
        adjusted = parser.add_mutually_exclusive_group()
        adjusted.add_argument(
            "--adjusted", dest="adjusted", action="store_true", default=True,
            help="split-adjusted bars (the default)",
        )  # fmt: skip
        adjusted.add_argument("--unadjusted", dest="adjusted", action="store_false")
        parser.add_argument("--trades", action="store_true", help="also each day's trades")
        parser.add_argument("--quotes", action="store_true", help="also each day's quotes")
        parser.add_argument(
            "--rate-per-minute", type=float, default=5.0,
            help="requests per minute the plan allows (5 on the free plan; 0: no pacing)",
        )  # fmt: skip
        parser.add_argument("--limit", type=int, default=50000, help="results per page")
        parser.add_argument("--max-retries", type=int, default=5)
        parser.add_argument("--store", metavar="DIR", help="store folder (default: configured)")
        parser.add_argument(
            "--refresh", action="store_true", help="fetch again what was already stored"
        )

    def params_from(self, options):
        return {
            "source": options["source"],
            "symbols": options["symbols"],
            "start": options["start"],
            "end": options["end"],
            "timespan": options["timespan"],
            "multiplier": options["multiplier"],
            "adjusted": options["adjusted"],
            "trades": options["trades"],
            "quotes": options["quotes"],
            "rate_per_minute": options["rate_per_minute"],
            "limit": options["limit"],
            "max_retries": options["max_retries"],
            "store": str(Path(options["store"]).resolve()) if options["store"] else None,
            "refresh": options["refresh"],
        }

    def text_output(self, run):
        figures = run.figures
        lines = [
            f"fetchdata run {run.pk}: {len(figures['stored'])} of {figures['units']} units stored "
            f"({figures['skipped']} done earlier, {len(figures['empty'])} without data), "
            f"{figures['pages']} pages, {figures['rows']} rows, {figures['requests']} requests "
            f"({figures['retries']} retries) in {run.elapsed_s:.2f} s into {figures['store']}"
        ]
        for kind, message in figures["refused"].items():
            lines.append(f"  {kind} not downloaded: {message}")
        return "\n".join(lines)
