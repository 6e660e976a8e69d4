"""`manage.py bench SUITE [--json] [--runs N] [--quick]`: figures with median and spread."""

import json
import os
import platform

from django.core.management.base import BaseCommand, CommandError

from workers.benchmarks.figures import as_json

SUITES = ("exchange", "engine", "web", "research", "venues")


class Command(BaseCommand):
    help = "Measure a benchmark suite; prints each figure's median and spread beside its target."

    def add_arguments(self, parser):
        parser.add_argument("suite", choices=SUITES)
        parser.add_argument("--runs", type=int, default=5, help="repetitions per figure")
        parser.add_argument("--quick", action="store_true", help="smaller workloads")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        if options["runs"] < 1:
            raise CommandError("--runs must be at least 1")
        import importlib

        suite = importlib.import_module(f"workers.benchmarks.{options['suite']}")
        figures = suite.run_suite(runs=options["runs"], quick=options["quick"])
        if options["json"]:
            document = as_json(figures)
            document["suite"] = options["suite"]
            document["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
            self.stdout.write(json.dumps(document))
            return
        self.stdout.write(f"bench {options['suite']}: {options['runs']} runs per figure")
        for figure in figures:
            self.stdout.write("  " + figure.line())
