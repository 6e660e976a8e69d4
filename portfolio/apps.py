from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "portfolio"
    verbose_name = "Public portfolio"

    def ready(self) -> None:
        from portfolio import signals

        signals.connect()
