from tests.trading.exchange.conftest import exchange, exchange_factory  # noqa: F401
