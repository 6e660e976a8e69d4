"""An exchange serving the Alpaca-compatible API on a free loopback port, and its clients."""

import time

import pytest
from alpaca.trading.client import TradingClient

from tests.support.orders import enter_order
from trading.protocols import ouch
from trading.protocols.soup_client import SoupClient

PASSWORDS = {"demo": "demo", "alice": "secret1", "bob": "secret2"}


@pytest.fixture
def alpaca_exchange(exchange_factory):
    """A quiet exchange (no flow) with the Alpaca API and its fault injection."""
    return exchange_factory(alpaca_faults=True)


@pytest.fixture
def base_url(alpaca_exchange) -> str:
    return f"http://127.0.0.1:{alpaca_exchange.ports.alpaca}"


@pytest.fixture
def client(base_url) -> TradingClient:
    return TradingClient("demo", "demo", paper=True, url_override=base_url)


@pytest.fixture
def raw_client(base_url) -> TradingClient:
    """The same client answering with the JSON as sent, to compare it with Alpaca's schemas."""
    return TradingClient("demo", "demo", paper=True, raw_data=True, url_override=base_url)


@pytest.fixture
def ouch_session(alpaca_exchange):
    """OUCH order-entry sessions over SoupBinTCP, by username; all closed after the test."""
    sessions: dict[str, SoupClient] = {}

    def session(username: str) -> SoupClient:
        if username not in sessions:
            client = SoupClient("127.0.0.1", alpaca_exchange.ports.order)
            client.login(username, PASSWORDS[username], 1)
            sessions[username] = client
        return sessions[username]

    yield session
    for client in sessions.values():
        client.close()


def ouch_until(client: SoupClient, kind, timeout_s: float = 5.0) -> list:
    """OUCH messages up to and including the first of `kind`."""
    seen = []
    while True:
        message = ouch.decode_outbound(client.receive_sequenced(timeout_s))
        seen.append(message)
        if isinstance(message, kind):
            return seen


def rest(session: SoupClient, token: str, side: str, shares: int, price: int, stock="AAPL"):
    """Enter an OUCH GTC limit order and wait for its Accepted."""
    session.send(enter_order(token, side, shares, price, stock).encode())
    return ouch_until(session, ouch.Accepted)[-1]


def eventually(condition, timeout_s: float = 10.0, what: str = "condition"):
    """Poll `condition()` until it is truthy; returns its value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
