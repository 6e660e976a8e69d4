import pytest

from tests.support.configs import make_config
from trading.exchange.embedded import ExchangeThread


@pytest.fixture
def exchange_factory():
    """Start exchanges on ephemeral loopback ports; every one is stopped after the test."""
    started: list[ExchangeThread] = []

    def start(flow: bool = False, server_options=None, **exchange) -> ExchangeThread:
        running = ExchangeThread(make_config(flow=flow, **exchange), **(server_options or {}))
        running.start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def exchange(exchange_factory) -> ExchangeThread:
    return exchange_factory()
