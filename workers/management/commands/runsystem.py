"""`manage.py runsystem`: the whole desk under one supervisor (the README's first command)."""

import os
import secrets
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from trading.log_format import get_logger
from workers.config_options import add_config_arguments, load_config_or_fail
from workers.supervisor import EmbeddedRedis, ProcessSpec, Supervisor, manage_py_argv

log = get_logger("SYSTEM")


class Command(BaseCommand):
    help = (
        "Start every process of the desk (Redis if REDIS_URL is unset, exchange, engine, web, "
        "research worker and beat)."
    )

    def add_arguments(self, parser):
        add_config_arguments(parser)
        parser.add_argument("--web-port", type=int, default=8000, help="pages, API, admin")
        parser.add_argument(
            "--ws-port", type=int, help="the dashboard's WebSockets (default: web port + 1)"
        )
        parser.add_argument(
            "--web-workers", type=int, default=2, help="granian worker processes for HTTP"
        )
        parser.add_argument("--no-web", action="store_true", help="do not start the web server")
        parser.add_argument(
            "--research-workers",
            type=int,
            default=1,
            help="Celery worker processes for research runs (0: none, and no beat)",
        )

    def handle(self, *args, **options):
        config = load_config_or_fail(options, log)
        # Every process below expects the current schema: bring the database up to it first.
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        log.info(
            "database %s is migrated", settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        )
        ensure_first_user()
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
            specs += web_specs(options["web_port"], options["ws_port"], options["web_workers"])
        if options["research_workers"] < 0:
            raise CommandError("--research-workers must be >= 0")
        if options["research_workers"]:
            specs += research_specs(options["research_workers"])
        try:
            Supervisor(specs, base_env).run()
        finally:
            if redis is not None:
                redis.stop()
        log.info("all processes stopped")


def ensure_first_user() -> None:
    """On a fresh database, a staff user to log in with, its password printed once."""
    from django.contrib.auth import get_user_model

    users = get_user_model()
    if users.objects.exists():
        return
    password = secrets.token_urlsafe(12)
    users.objects.create_superuser("admin", "", password)
    log.info("first start: log in as admin with password %s (change it in the admin)", password)


def web_specs(web_port: int, ws_port: int | None, workers: int) -> list[ProcessSpec]:
    """Pages, API and admin from granian (WSGI); the dashboard's WebSockets from daphne.

    Django's HTTP under ASGI pays a thread hop per sync middleware: a WSGI server serves the
    same pages several times faster, and daphne keeps only the long-lived sockets.
    """
    ws_port = ws_port or web_port + 1
    env = {"DESK_WS_PORT": str(ws_port)}
    log.info("web on http://127.0.0.1:%d/ (admin at /admin/, API at /api/docs)", web_port)
    return [
        ProcessSpec(
            "web",
            [
                sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
                "--port", str(web_port), "--workers", str(workers), "--log-level", "warning",
                "--no-ws", "desk.wsgi:application",
            ],
            env,
        ),
        ProcessSpec(
            "ws",
            [
                sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(ws_port),
                # Request lines go to a file, not between the trading log lines.
                "--access-log", str(settings.VAR_DIR / "ws-access.log"),
                "desk.asgi:application",
            ],
            env,
        ),
    ]  # fmt: skip


def research_specs(concurrency: int) -> list[ProcessSpec]:
    """A Celery worker for research runs and beat for the nightly pair re-selection."""
    schedule = settings.VAR_DIR / "celerybeat-schedule"
    return [
        ProcessSpec(
            "research",
            manage_py_argv("runresearch", "--concurrency", str(concurrency), "--loglevel", "WARNING"),
        ),
        ProcessSpec(
            "beat",
            [
                sys.executable, "-m", "celery", "-A", "desk", "beat", "--loglevel", "WARNING",
                "--schedule", str(schedule),
            ],
        ),
    ]  # fmt: skip
