"""`manage.py importdata PATH... [--store DIR] [--json]`, and `importdata --list`.

Imports LOBSTER days (message and orderbook files, any depth) and daily OHLCV CSV files
(Alpha Vantage's TIME_SERIES_DAILY_ADJUSTED, plain or gzip) into the market data store, with a
progress bar on stderr and one summary line per file.  Folders are searched for ``*.csv`` and
``*.csv.gz``.  A missing, unknown or malformed file is reported and the others are still
imported; the command then fails naming every file that did not go in.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from trading.research.importers import ImportOutcome, import_paths
from trading.research.store import MarketDataStore, default_store_root


class Command(BaseCommand):
    help = "Import LOBSTER days and daily bar CSVs into the market data store (or --list it)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", metavar="PATH", help="files or folders")
        parser.add_argument(
            "--store",
            default=None,
            help=f"store folder (default: $DESK_MARKET_DATA or {default_store_root()})",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON document")
        parser.add_argument("--list", action="store_true", help="print the catalogue")

    def handle(self, *args, **options):
        store = MarketDataStore(options["store"])
        if options["list"]:
            if options["paths"]:
                raise CommandError("--list takes no PATH")
            self._list(store, as_json=options["json"])
            return
        if not options["paths"]:
            raise CommandError("give at least one PATH to import, or --list")
        outcomes = self._import(store, options)
        failed = [outcome for outcome in outcomes if not outcome.ok]
        if options["json"]:
            document = {
                "store": str(store.root),
                "imported": sum(outcome.ok for outcome in outcomes),
                "failed": len(failed),
                "files": [outcome.as_dict() for outcome in outcomes],
            }
            self.stdout.write(json.dumps(document))
        else:
            self.stdout.write(
                f"{len(outcomes) - len(failed)} of {len(outcomes)} files imported into {store.root}"
            )
        if failed:
            reasons = "\n".join(f"  {outcome.error}" for outcome in failed)
            raise CommandError(f"{len(failed)} of {len(outcomes)} files not imported:\n{reasons}")

    def _import(self, store: MarketDataStore, options) -> list[ImportOutcome]:
        out = options.get("stdout") or sys.stdout
        err = options.get("stderr") or sys.stderr
        bar: tqdm | None = None

        def progress(done: int, total: int, outcome: ImportOutcome | None) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(total=total, unit="file", desc="importdata", file=err)
            if outcome is None:
                return
            bar.update(1)
            bar.set_postfix_str(outcome.path.name, refresh=False)
            if not options["json"]:
                # tqdm.write keeps the bar intact while the line is printed.
                tqdm.write(outcome.summary(), file=out)

        try:
            return import_paths(store, options["paths"], progress=progress, keep_going=True)
        finally:
            if bar is not None:
                bar.close()

    def _list(self, store: MarketDataStore, *, as_json: bool) -> None:
        entries = store.catalogue()
        if as_json:
            document = {"store": str(store.root), "entries": [e.as_dict() for e in entries]}
            self.stdout.write(json.dumps(document))
            return
        if not entries:
            self.stdout.write(f"{store.root}: empty")
            return
        self.stdout.write(f"{store.root}: {len(entries)} entries")
        header = f"{'kind':<8}{'symbol':<8}{'first':<12}{'last':<12}{'rows':>10}{'levels':>8}"
        self.stdout.write(f"{header}  source")
        for e in entries:
            levels = "-" if e.levels is None else str(e.levels)
            self.stdout.write(
                f"{e.kind:<8}{e.symbol:<8}{e.first.isoformat():<12}{e.last.isoformat():<12}"
                f"{e.rows:>10,}{levels:>8}  {e.source} ({', '.join(e.source_files)})"
            )
