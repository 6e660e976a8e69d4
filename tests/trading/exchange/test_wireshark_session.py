"""A real session with the exchange, captured on loopback with tshark: Wireshark's soupbintcp
and ouch dissectors decode every packet, with no malformed field, and show the tokens, shares
and prices that were sent; the feed's SoupBinTCP framing decodes the same way (its ITCH 5.0
payloads are checked with our own decoder, Wireshark's ITCH dissector predating 5.0)."""

from pathlib import Path

import pytest

from tests.support.orders import enter_order
from tests.support.tshark_capture import TSHARK
from tests.trading.protocols.test_wireshark_dissectors import (
    _assert_clean,
    _assert_ouch_matches,
    _char,
    _dissect,
    _layers_by_direction,
    _start_capture,
)
from trading.protocols import itch, ouch
from trading.protocols.soup_client import SoupClient

pytestmark = [pytest.mark.tcp, pytest.mark.slow]


def _capture(port: int, path: Path):
    if TSHARK is None:
        pytest.skip("tshark is not installed")
    return _start_capture(port, path)


def _order(token, side, shares, price, tif=ouch.TIF_SYSTEM_HOURS):
    return enter_order(token, side, shares, price, tif=tif)


SENT = [
    _order("S1", "S", 300, 1_900_000),
    _order("B1", "B", 500, 1_899_000),
    ouch.ReplaceOrder("B1", "B2", 400, 1_899_500, ouch.TIF_SYSTEM_HOURS, "Y", "N", 0),
    _order("X1", "B", 200, 1_900_000, tif=ouch.TIF_IMMEDIATE_OR_CANCEL),  # self-match: Q
    ouch.CancelOrder("B2", 100),
    ouch.CancelOrder("NOPE", 0),
    _order("R1", "B", 100, 1_899_950),  # sub-penny: rejected X
    ouch.CancelOrder("S1", 0),
]


def test_an_exchange_session_decodes_cleanly_in_wireshark(exchange, tmp_path):
    port = exchange.ports.order
    capture = _capture(port, tmp_path / "order.pcapng")
    received = []
    try:
        with SoupClient("127.0.0.1", port) as client:
            client.login("demo", "demo", 1)
            for message in SENT:
                client.send(message.encode())
            for _ in range(10):
                received.append(ouch.decode_outbound(client.receive_sequenced(5)))
            client.heartbeat()
            client.logout()
            while True:
                try:
                    client.receive(5)
                except ConnectionError:
                    break
        capture.sync()
    finally:
        capture.stop()
    kinds = [type(m).__name__ for m in received]
    assert kinds == [
        "SystemEvent", "Accepted", "Accepted", "Replaced", "Accepted", "Canceled", "Canceled",
        "CancelReject", "Rejected", "Canceled",
    ]  # fmt: skip
    assert (received[5].reason, received[8].reason) == ("Q", "X")

    packets = _dissect(capture)
    _assert_clean(packets)
    soups = _layers_by_direction(packets, port, "soupbintcp")
    assert [_char(s["soupbintcp.packet_type"]) for s in soups["to_server"]] == (
        ["L"] + ["U"] * len(SENT) + ["R", "O"]
    )
    to_client_types = [_char(s["soupbintcp.packet_type"]) for s in soups["to_client"]]
    assert to_client_types[0] == "A" and to_client_types.count("S") == len(received)
    ouch_layers = _layers_by_direction(packets, port, "ouch")
    assert len(ouch_layers["to_server"]) == len(SENT)
    for shown, sent in zip(ouch_layers["to_server"], SENT, strict=True):
        _assert_ouch_matches(shown, sent)
    assert len(ouch_layers["to_client"]) == len(received)
    for shown, got in zip(ouch_layers["to_client"], received, strict=True):
        _assert_ouch_matches(shown, got)


def test_the_feed_framing_decodes_cleanly_in_wireshark(exchange_factory, tmp_path):
    exchange = exchange_factory(flow=True)
    port = exchange.ports.feed
    capture = _capture(port, tmp_path / "feed.pcapng")
    payloads = []
    try:
        with SoupClient("127.0.0.1", port) as feed:
            feed.login("demo", "demo", 1)
            while len(payloads) < 300:
                payloads.append(feed.receive_sequenced(10))
            feed.logout()
        capture.sync()
    finally:
        capture.stop()
    messages = [itch.decode(p) for p in payloads]
    assert {"SystemEvent", "StockDirectory", "AddOrder"} <= {type(m).__name__ for m in messages}

    packets = _dissect(capture)
    _assert_clean(packets)
    soups = _layers_by_direction(packets, port, "soupbintcp")
    assert [_char(s["soupbintcp.packet_type"]) for s in soups["to_server"]][:1] == ["L"]
    shown = [_char(s["soupbintcp.packet_type"]) for s in soups["to_client"]]
    assert shown[0] == "A" and shown.count("S") >= len(payloads)
