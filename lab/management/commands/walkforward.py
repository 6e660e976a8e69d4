"""`manage.py walkforward SYMBOL`: walk-forward optimisation of the crossover on daily bars."""

from __future__ import annotations

from lab.command_base import ResearchCommand
from lab.management.grid_arguments import add_grid_arguments, grid_params


class Command(ResearchCommand):
    help = (
        "Choose the best crossover in each rolling (or anchored) in-sample window, apply it to "
        "the next out-of-sample window, and report the stitched out-of-sample curve."
    )
    kind = "walkforward"

    def add_run_arguments(self, parser):
        add_grid_arguments(parser)
        parser.add_argument("--train-days", type=int, default=756)
        parser.add_argument("--test-days", type=int, default=252)
        parser.add_argument(
            "--anchored", action="store_true", help="in-sample grows from the start"
        )
        parser.add_argument("--score", choices=("sharpe", "total_return"), default="sharpe")

    def params_from(self, options):
        return grid_params(options) | {
            "train_days": options["train_days"],
            "test_days": options["test_days"],
            "anchored": options["anchored"],
            "score": options["score"],
        }
