"""The data stream carries the simulator's own market: the synthetic flow or a LOBSTER replay."""

import contextlib
import datetime as dt
import time

import msgpack
import pytest
from websockets.sync.client import connect

from tests.support.data import LOBSTER_DIR
from trading.exchange.replay_source import load_replay

pytestmark = [pytest.mark.tcp, pytest.mark.slow]

AAPL = LOBSTER_DIR / "AAPL_2012-06-21_34200000_57600000_message_1.csv.gz"


@contextlib.contextmanager
def subscribed(port: int, **channels):
    """A msgpack data stream connection, authenticated and subscribed to `channels`."""
    headers = {"Content-Type": "application/msgpack"}
    with connect(f"ws://127.0.0.1:{port}/v2/iex", additional_headers=headers) as ws:
        msgpack.unpackb(ws.recv())
        ws.send(msgpack.packb({"action": "auth", "key": "demo", "secret": "demo"}))
        assert msgpack.unpackb(ws.recv())[0]["msg"] == "authenticated"
        ws.send(msgpack.packb({"action": "subscribe", **channels}))
        assert msgpack.unpackb(ws.recv())[0]["T"] == "subscription"
        yield ws


def collect(ws, kinds: set[str], timeout_s: float = 30.0) -> dict[str, list[dict]]:
    """Messages by kind until one of each of `kinds` arrived."""
    seen: dict[str, list[dict]] = {}
    deadline = time.monotonic() + timeout_s
    while not kinds <= set(seen):
        assert time.monotonic() < deadline, f"only {sorted(seen)} in time"
        for message in msgpack.unpackb(ws.recv(timeout=deadline - time.monotonic())):
            seen.setdefault(message["T"], []).append(message)
    return seen


def test_the_synthetic_flow_streams_quotes_and_trades(exchange_factory):
    exchange = exchange_factory(flow=True)
    with subscribed(exchange.ports.alpaca, trades=["*"], quotes=["AAPL"]) as ws:
        seen = collect(ws, {"t", "q"})
    quote = seen["q"][0]
    assert quote["S"] == "AAPL" and 0 < quote["bp"] < quote["ap"]
    trade = seen["t"][0]
    assert trade["p"] > 0 and trade["s"] > 0 and isinstance(trade["t"], msgpack.Timestamp)
    assert abs(trade["t"].to_unix() - time.time()) < 60


@pytest.mark.skipif(not AAPL.is_file(), reason=f"LOBSTER samples not in {LOBSTER_DIR}")
def test_a_lobster_replay_streams_its_days_trades_with_its_days_times(exchange_factory):
    source = load_replay(AAPL, 100, rows=20_000)
    exchange = exchange_factory(server_options={"replay": source, "replay_speed": 1.0})
    with subscribed(exchange.ports.alpaca, trades=["AAPL"], quotes=["AAPL"]) as ws:
        seen = collect(ws, {"t", "q"})
    trade = seen["t"][0]
    moment = trade["t"].to_datetime().astimezone(dt.timezone(dt.timedelta(hours=-4)))
    assert moment.date() == dt.date(2012, 6, 21) and moment.hour >= 9
    assert 500 < trade["p"] < 700  # AAPL that day
    quote = seen["q"][-1]
    assert 500 < quote["bp"] < quote["ap"] < 700
