"""`manage.py monitor [--account A] [--interval S]`: the engine's live state in a terminal."""

from django.core.management.base import BaseCommand, CommandError

from ledger.engine_control import default_account


class Command(BaseCommand):
    help = "Watch one account's engine in the terminal; P pause, R resume, F flatten, Q quit."

    def add_arguments(self, parser):
        parser.add_argument("--account", help="engine account (default: the configured one)")
        parser.add_argument(
            "--interval", type=float, default=0.25, help="seconds between refreshes"
        )

    def handle(self, *args, **options):
        interval = options["interval"]
        if not interval > 0:
            raise CommandError("--interval must be a positive number of seconds")
        # Imported here so other management commands never pay for loading Textual.
        from dashboard.monitor.app import MonitorApp

        MonitorApp(options["account"] or default_account(), interval_s=interval).run()
