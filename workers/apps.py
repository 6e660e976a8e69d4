from django.apps import AppConfig


class WorkersConfig(AppConfig):
    """The system's processes: supervisor, exchange simulator, benchmarks, Celery tasks."""

    name = "workers"
    verbose_name = "Processes"
