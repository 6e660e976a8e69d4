"""`manage.py cpcv SYMBOL`: combinatorial purged cross-validation of crossover selection."""

from __future__ import annotations

from lab.command_base import ResearchCommand
from lab.management.grid_arguments import add_grid_arguments, grid_params


class Command(ResearchCommand):
    help = (
        "Combinatorial purged cross-validation (with embargo) of choosing the best crossover: "
        "the distribution of out-of-sample paths, PBO and the deflated Sharpe ratio."
    )
    kind = "cpcv"

    def add_run_arguments(self, parser):
        add_grid_arguments(parser)
        parser.add_argument("--groups", type=int, default=6, help="N contiguous groups")
        parser.add_argument("--test-groups", type=int, default=2, help="k groups tested per split")
        parser.add_argument("--embargo", type=float, default=0.01, help="fraction of the bars")
        parser.add_argument("--label-days", type=int, default=1)
        parser.add_argument("--pbo-partitions", type=int, default=16)

    def params_from(self, options):
        return grid_params(options) | {
            "n_groups": options["groups"],
            "n_test_groups": options["test_groups"],
            "embargo": options["embargo"],
            "label_days": options["label_days"],
            "pbo_partitions": options["pbo_partitions"],
        }
