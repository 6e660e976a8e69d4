"""`manage.py runresearch`: a Celery worker for research runs (backtests, sweep chunks, scans)."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run a Celery worker that takes research runs and sweep chunks from the Redis broker."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=1, help="tasks run at once")
        parser.add_argument(
            "--pool",
            choices=("prefork", "solo", "threads"),
            default="prefork",
            help="solo runs tasks in this very process (no child process)",
        )
        parser.add_argument("--name", default="research", help="worker name (before @host)")
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args, **options):
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1")
        from desk.celery import app

        app.worker_main(
            [
                "worker",
                "--concurrency", str(options["concurrency"]),
                "--pool", options["pool"],
                "--hostname", f"{options['name']}@%h",
                "--loglevel", options["loglevel"],
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ]
        )  # fmt: skip
