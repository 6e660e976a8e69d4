from django.apps import AppConfig


class LedgerConfig(AppConfig):
    """The engine's durable record, written off the hot path by `ledger.writer.LedgerWriter`."""

    name = "ledger"
    verbose_name = "Ledger"
