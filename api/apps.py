from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The JSON API over the ledger and the running engine, with API-key authentication."""

    name = "api"
    verbose_name = "API"
