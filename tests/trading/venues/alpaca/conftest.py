"""A simulator serving its Alpaca-compatible API on loopback, and the gateway pointed at it.

The account's key id and secret are a simulator login made up for these tests, so that a test
can look for them in everything logged.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from alpaca.trading.client import TradingClient

from tests.support.configs import TEST_ACCOUNTS, make_config
from tests.support.orders import enter_order
from trading.exchange.embedded import ExchangeThread
from trading.protocols import ouch
from trading.protocols.soup_client import SoupClient
from trading.venues.alpaca.gateway import AlpacaGateway
from trading.venues.alpaca.settings import AlpacaSettings

KEY_ID = "PKq7Zx"  # the simulator login is the key id...
SECRET = "s3Cr3tZq9!"  # ...and its password the secret
ACCOUNTS = [*TEST_ACCOUNTS, {"username": KEY_ID, "password": SECRET, "firm": "ALPC"}]


@pytest.fixture
def alpaca_venue() -> Iterator[ExchangeThread]:
    """A quiet simulator (no flow) with the Alpaca API and its fault injection."""
    with ExchangeThread(make_config(alpaca_faults=True, accounts=ACCOUNTS)) as exchange:
        yield exchange


def venue_settings(exchange: ExchangeThread, **overrides: Any) -> AlpacaSettings:
    port = exchange.ports.alpaca
    values: dict[str, Any] = {
        "venue": "alpaca-paper",
        "api_key": KEY_ID,
        "secret_key": SECRET,
        "trading_url": f"http://127.0.0.1:{port}",
        "trade_stream_url": f"ws://127.0.0.1:{port}/stream",
        "data_stream_url": f"ws://127.0.0.1:{port}/v2/iex",
        "reconnect_min_s": 0.1,
        "reconnect_max_s": 1.0,
        "http_timeout_s": 5.0,
    }
    values.update(overrides)
    return AlpacaSettings(**values)


@pytest.fixture
def open_gateway(alpaca_venue) -> Iterator[Callable[..., AlpacaGateway]]:
    """Gateways on the simulator's endpoint, started and connected; all closed afterwards."""
    opened: list[AlpacaGateway] = []

    def open_(**overrides: Any) -> AlpacaGateway:
        gateway = AlpacaGateway(venue_settings(alpaca_venue, **overrides))
        opened.append(gateway)
        gateway.poll()
        eventually(lambda: gateway.connected, what="the trade updates stream")
        return gateway

    yield open_
    for gateway in opened:
        gateway.close()


@pytest.fixture
def broker(alpaca_venue) -> TradingClient:
    """alpaca-py's own client on the same account: the broker's view, for the assertions."""
    return TradingClient(
        KEY_ID, SECRET, paper=True, url_override=f"http://127.0.0.1:{alpaca_venue.ports.alpaca}"
    )


@pytest.fixture
def alice(alpaca_venue) -> Iterator[SoupClient]:
    """Another firm trading over OUCH: the liquidity our orders meet."""
    client = SoupClient("127.0.0.1", alpaca_venue.ports.order)
    client.login("alice", "secret1", 1)
    yield client
    client.close()


def rest(client: SoupClient, token: str, side: str, shares: int, price: int) -> Any:
    """Alice's GTC limit order, once the venue has accepted it."""
    client.send(enter_order(token, side, shares, price).encode())
    while True:
        message = ouch.decode_outbound(client.receive_sequenced(5.0))
        if isinstance(message, ouch.Accepted | ouch.Rejected):
            return message


def inject(exchange: ExchangeThread, **fault: Any) -> dict[str, Any]:
    """POST /_sim/faults on the simulator's Alpaca endpoint."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{exchange.ports.alpaca}/_sim/faults",
        data=json.dumps(fault).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def eventually(condition: Callable[[], Any], timeout_s: float = 10.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.01)


def answers_until(
    gateway: AlpacaGateway, done: Callable[[list], bool], timeout_s: float = 10.0
) -> list:
    """The gateway's VenueMessages until `done(messages)`."""
    events: list = []
    deadline = time.monotonic() + timeout_s
    while not done(events):
        if time.monotonic() > deadline:
            raise AssertionError(f"answers so far: {events}")
        events.extend(gateway.poll(0.02))
    return events


def drain(gateway: AlpacaGateway, seconds: float) -> list:
    """Everything the gateway answers within `seconds`."""
    events: list = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        events.extend(gateway.poll(0.02))
    return events


def of_kind(events: list, kind: Any) -> list:
    return [e for e in events if type(e.message) is kind]
