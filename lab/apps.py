from django.apps import AppConfig


class LabConfig(AppConfig):
    """Research runs: launched from commands, the API or Celery beat; results and reports kept."""

    name = "lab"
    verbose_name = "Research lab"
    default_auto_field = "django.db.models.BigAutoField"
