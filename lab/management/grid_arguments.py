"""Command-line arguments of a crossover grid on one symbol (walk-forward, CPCV)."""

from __future__ import annotations

from typing import Any


def add_grid_arguments(parser) -> None:
    parser.add_argument("symbol", help="a stored daily symbol")
    parser.add_argument("--start")
    parser.add_argument("--end")
    parser.add_argument("--fast", type=int, nargs=2, default=[5, 50], metavar=("FIRST", "LAST"))
    parser.add_argument("--slow", type=int, nargs=2, default=[60, 200], metavar=("FIRST", "LAST"))
    parser.add_argument("--step", type=int, default=5, help="window step within each range")
    parser.add_argument("--fee", type=float, default=0.001)
    parser.add_argument("--long-short", action="store_true")


def grid_params(options: dict[str, Any]) -> dict[str, Any]:
    return {
        "symbol": options["symbol"],
        "start": options["start"],
        "end": options["end"],
        "fast": options["fast"],
        "slow": options["slow"],
        "step": options["step"],
        "fee": options["fee"],
        "long_only": not options["long_short"],
    }
