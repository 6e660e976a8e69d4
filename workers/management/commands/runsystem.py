"""`manage.py runsystem`: the whole desk under one supervisor (the README's first command)."""

import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from trading.log_format import get_logger
from workers.config_options import add_config_arguments, load_config_or_fail
from workers.supervisor import EmbeddedRedis, ProcessSpec, Supervisor, manage_py_argv

log = get_logger("SYSTEM")


class Command(BaseCommand):
    help = "Start every process of the desk (Redis if REDIS_URL is unset, exchange, web)."

    def add_arguments(self, parser):
        add_config_arguments(parser)
        parser.add_argument("--web-port", type=int, default=8000)
        parser.add_argument("--no-web", action="store_true", help="do not start the web server")

    def handle(self, *args, **options):
        config = load_config_or_fail(options, log)
        # Every process below expects the current schema: bring the database up to it first.
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        log.info(
            "database %s is migrated", settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        )
        config_args = ["--config", config.source, "--profile", config.profile]

        redis = None
        base_env = {"DESK_VAR_DIR": str(settings.VAR_DIR)}
        if not os.environ.get("REDIS_URL"):
            redis = EmbeddedRedis(settings.VAR_DIR)
            try:
                redis.start()
            except RuntimeError as exc:
                raise CommandError(str(exc)) from None
            base_env["REDIS_URL"] = redis.url

        specs = [
            ProcessSpec("exchange", manage_py_argv("runexchange", *config_args)),
            ProcessSpec("engine", manage_py_argv("runengine", *config_args)),
        ]
        if not options["no_web"]:
            port = str(options["web_port"])
            specs.append(
                ProcessSpec(
                    "web",
                    [
                        sys.executable,
                        "-m",
                        "daphne",
                        "-b",
                        "127.0.0.1",
                        "-p",
                        port,
                        # Request lines go to a file, not between the trading log lines.
                        "--access-log",
                        str(settings.VAR_DIR / "web-access.log"),
                        "desk.asgi:application",
                    ],
                )
            )
            log.info("web on http://127.0.0.1:%s/ (admin at /admin/)", port)
        try:
            Supervisor(specs, base_env).run()
        finally:
            if redis is not None:
                redis.stop()
        log.info("all processes stopped")
