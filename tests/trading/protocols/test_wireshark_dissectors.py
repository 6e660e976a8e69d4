"""Check our wire bytes against Wireshark's own SoupBinTCP and OUCH dissectors.

A real TCP connection on loopback is captured with tshark; the capture is then dissected with
``tshark -r FILE -d tcp.port==PORT,soupbintcp --enable-heuristic ouch_soupbintcp -T json``.
The ``-d`` rule is needed because SoupBinTCP has no well-known port; OUCH needs no rule of its
own, since packet-ouch.c registers a heuristic on the "soupbintcp" sub-dissector table that
recognises OUCH by (type letter, exact length).  Wireshark has no ITCH 5.0 dissector, so ITCH
payloads are only checked at the SoupBinTCP layer and decoded with our own decoder.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.tshark_capture import (
    TSHARK,
    TsharkCapture,
    TsharkUnavailable,
    layer_items,
    walk,
)
from trading.protocols import itch, ouch
from trading.protocols import soupbintcp as soup

pytestmark = [pytest.mark.tcp]

EXPERT_SEVERITY_ERROR = 0x00800000  # PI_ERROR in Wireshark's expert.h
T_NS = 34_200_000_000_001

CLIENT_MESSAGES: list[Any] = [
    ouch.EnterOrder(
        "ORD00000000001",
        "B",
        300,
        "AAPL",
        1_912_500,
        ouch.TIF_MARKET_HOURS,
        "ACME",
        "Y",
        "A",
        "N",
        100,
        "N",
        " ",
    ),
    ouch.ReplaceOrder("ORD00000000001", "ORD00000000002", 200, 1_913_000, 30, "Y", "N", 0),
    ouch.CancelOrder("ORD00000000002", 0),
    ouch.ModifyOrder("ORD00000000003", "T", 150),
]
SERVER_MESSAGES: list[Any] = [
    ouch.SystemEvent(T_NS, ouch.EVENT_START_OF_DAY),
    ouch.Accepted(
        T_NS + 1,
        "ORD00000000001",
        "B",
        300,
        "AAPL",
        1_912_500,
        99_998,
        "ACME",
        "Y",
        987_654_321,
        "A",
        "N",
        100,
        "N",
        "L",
        " ",
    ),
    ouch.Replaced(
        T_NS + 2,
        "ORD00000000002",
        "B",
        200,
        "AAPL",
        1_913_000,
        30,
        "ACME",
        "Y",
        987_654_322,
        "A",
        "N",
        0,
        "N",
        "L",
        "ORD00000000001",
        " ",
    ),
    ouch.Executed(T_NS + 3, "ORD00000000002", 100, 1_913_000, "A", 123_456_789),
    ouch.Canceled(T_NS + 4, "ORD00000000002", 100, ouch.CancelReason.USER_REQUESTED),
    ouch.Rejected(T_NS + 5, "ORD00000000009", ouch.RejectReason.INVALID_PRICE),
    ouch.CancelReject(T_NS + 6, "ORD00000000007"),
    ouch.CancelPending(T_NS + 7, "ORD00000000008"),
    ouch.BrokenTrade(T_NS + 8, "ORD00000000002", 123_456_789, "E"),
    ouch.AiqCanceled(T_NS + 9, "ORD00000000004", 50, "Q", 50, 1_912_400, "R"),
    ouch.OrderPriorityUpdate(T_NS + 10, "ORD00000000005", 1_912_600, "Y", 987_654_323),
    ouch.OrderModified(T_NS + 11, "ORD00000000003", "S", 150),
]

# Our field name -> Wireshark field name.  "reason" depends on the message.
DISSECTOR_FIELDS = {
    "order_token": "ouch.order_token",
    "existing_order_token": "ouch.existing_order_token",
    "replacement_order_token": "ouch.replacement_order_token",
    "previous_order_token": "ouch.previous_order_token",
    "side": "ouch.buy_sell_indicator",
    "shares": "ouch.shares",
    "stock": "ouch.stock",
    "price": "ouch.price",
    "time_in_force_s": "ouch.tif",
    "firm": "ouch.firm",
    "display": "ouch.display",
    "capacity": "ouch.capacity",
    "intermarket_sweep_eligibility": "ouch.iso_eligible",
    "minimum_quantity": "ouch.min_quantity",
    "cross_type": "ouch.cross_type",
    "customer_type": "ouch.customer_type",
    "order_reference_number": "ouch.order_reference_number",
    "order_state": "ouch.order_state",
    "bbo_weight_indicator": "ouch.bbo_weight_indicator",
    "event_code": "ouch.event_code",
    "executed_shares": "ouch.executed_shares",
    "execution_price": "ouch.execution_price",
    "decrement_shares": "ouch.decrement_shares",
    "quantity_prevented_from_trading": "ouch.quantity_prevented_from_trading",
    "liquidity_flag": "ouch.liquidity_flag",
    "match_number": "ouch.match_number",
    "timestamp_ns": "ouch.timestamp",
}
REASON_FIELDS = {
    ouch.Canceled: "ouch.cancel_reason",
    ouch.AiqCanceled: "ouch.cancel_reason",
    ouch.Rejected: "ouch.reject_reason",
    ouch.BrokenTrade: "ouch.broken_trade_reason",
}


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    if TSHARK is None:
        pytest.skip("tshark is not installed")
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    yield server
    server.close()


def _start_capture(port: int, path: Path) -> TsharkCapture:
    try:
        capture = TsharkCapture(port, path)
        capture.start()
    except TsharkUnavailable as exc:
        pytest.skip(f"cannot capture on loopback: {exc}")
    return capture


def _connect(server: socket.socket) -> tuple[socket.socket, socket.socket]:
    client = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    for sock in (client, accepted):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(10)
    return client, accepted


def _finish(client: socket.socket, server_side: socket.socket) -> tuple[bytes, bytes]:
    """Half-close both ways and read everything, so the connection ends without a RST."""
    client.shutdown(socket.SHUT_WR)
    to_server = _read_to_eof(server_side)
    server_side.shutdown(socket.SHUT_WR)
    to_client = _read_to_eof(client)
    client.close()
    server_side.close()
    return to_server, to_client


def _read_to_eof(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _dissect(capture: TsharkCapture) -> list[Any]:
    packets = capture.dissect(
        decode_as=[f"tcp.port=={capture.port},soupbintcp"],
        extra_args=["--enable-heuristic", "ouch_soupbintcp"],
    )
    assert packets, "tshark dissected no packets"
    return packets


def _assert_clean(packets: list[Any]) -> None:
    for packet in packets:
        for key, value in walk(packet):
            assert key != "_ws.malformed", f"malformed packet: {packet}"
            if key == "_ws.expert.severity":
                assert int(value) < EXPERT_SEVERITY_ERROR, f"expert error: {packet}"


def _layers_by_direction(packets: list[Any], port: int, layer: str) -> dict[str, list[Any]]:
    """Every occurrence of ``layer``, in capture order, keyed 'to_server' / 'to_client'."""
    result: dict[str, list[Any]] = {"to_server": [], "to_client": []}
    for packet in packets:
        layers = packet["_source"]["layers"]
        tcp = layers["tcp"]
        if int(tcp["tcp.len"]) == 0:
            continue
        if "soupbintcp" not in layers and _is_retransmission(tcp):
            continue  # loopback TCP does retransmit (tail-loss probes); Wireshark skips dupes
        assert "soupbintcp" in layers, f"TCP payload not decoded as soupbintcp: {layers}"
        direction = "to_client" if int(tcp["tcp.srcport"]) == port else "to_server"
        result[direction].extend(layer_items(packet, layer))
    return result


def _is_retransmission(tcp: dict[str, Any]) -> bool:
    return any(key.endswith("retransmission") for key, _ in walk(tcp.get("tcp.analysis", {})))


def _char(value: str) -> str:
    # FT_CHAR fields come out as "'B'".
    return value[1:-1] if len(value) == 3 and value[0] == value[-1] == "'" else value


def _clock(timestamp_ns: int) -> str:
    seconds, nanos = divmod(timestamp_ns, 1_000_000_000)
    hours, rest = divmod(int(timedelta(seconds=seconds).total_seconds()), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}.{nanos:09d}"


# Newer packet-ouch.c versions show the two outbound messages that reuse an inbound letter
# under a disambiguating letter of their own; 4.0 shows the wire letter.
SHOWN_TYPE = {ouch.Replaced: ("U", "R"), ouch.OrderModified: ("M", "m")}


def _assert_ouch_matches(shown: dict[str, str], sent: Any) -> None:
    name_of = type(sent).__name__
    expected_types = SHOWN_TYPE.get(type(sent), (sent.MESSAGE_TYPE.decode(),))
    assert _char(shown["ouch.packet_type"]) in expected_types, shown
    kinds = {f.name: f.kind for f in type(sent).LAYOUT.fields}
    for name, value in sent._asdict().items():
        field = REASON_FIELDS[type(sent)] if name == "reason" else DISSECTOR_FIELDS.get(name)
        assert field is not None, f"no dissector field mapped for {name}"
        assert field in shown, f"{name_of}.{name}: {field} missing in {shown}"
        got = shown[field]
        if name == "timestamp_ns":
            assert got == _clock(value), f"{name_of}.{name}"
        elif kinds[name] == "uint":
            assert int(got) == value, f"{name_of}.{name}"
        elif kinds[name] == "char":
            assert _char(got) == value, f"{name_of}.{name}"
        else:  # alpha: Wireshark shows the padded text
            assert got.rstrip(" ") == value, f"{name_of}.{name}"


def test_soupbintcp_and_ouch_decode_in_wireshark(listener: socket.socket, tmp_path: Path) -> None:
    port = listener.getsockname()[1]
    capture = _start_capture(port, tmp_path / "ouch.pcapng")
    try:
        client, server_side = _connect(listener)
        client.sendall(soup.encode_login_request("bob", "secret", "", 1))
        server_side.sendall(soup.encode_login_accepted("SESS1", 1))
        for msg in CLIENT_MESSAGES:
            client.sendall(soup.encode_unsequenced_data(msg.encode()))
        for msg in SERVER_MESSAGES:
            server_side.sendall(soup.encode_sequenced_data(msg.encode()))
        server_side.sendall(soup.encode_server_heartbeat())
        client.sendall(soup.encode_client_heartbeat() + soup.encode_logout_request())
        to_server, to_client = _finish(client, server_side)
        capture.sync()
    finally:
        capture.stop()

    # Both ends received exactly what was sent (sanity check of our own decoder).
    assert [
        ouch.decode_inbound(p) for t, p in soup.FrameDecoder().feed(to_server) if t == 85
    ] == CLIENT_MESSAGES
    assert [
        ouch.decode_outbound(p) for t, p in soup.FrameDecoder().feed(to_client) if t == 83
    ] == SERVER_MESSAGES

    packets = _dissect(capture)
    _assert_clean(packets)
    soups = _layers_by_direction(packets, port, "soupbintcp")
    assert [_char(s["soupbintcp.packet_type"]) for s in soups["to_server"]] == (
        ["L"] + ["U"] * len(CLIENT_MESSAGES) + ["R", "O"]
    )
    assert [_char(s["soupbintcp.packet_type"]) for s in soups["to_client"]] == (
        ["A"] + ["S"] * len(SERVER_MESSAGES) + ["H"]
    )
    login = soups["to_server"][0]
    assert login["soupbintcp.username"] == "bob   "  # left-justified, as Wireshark reads it
    assert login["soupbintcp.password"] == "secret    "
    assert login["soupbintcp.session"] == " " * 10
    assert soups["to_client"][0]["soupbintcp.session"] == "     SESS1"  # right-justified

    ouch_layers = _layers_by_direction(packets, port, "ouch")
    assert len(ouch_layers["to_server"]) == len(CLIENT_MESSAGES)
    assert len(ouch_layers["to_client"]) == len(SERVER_MESSAGES)
    for shown, sent in zip(ouch_layers["to_server"], CLIENT_MESSAGES, strict=True):
        _assert_ouch_matches(shown, sent)
    for shown, sent in zip(ouch_layers["to_client"], SERVER_MESSAGES, strict=True):
        _assert_ouch_matches(shown, sent)


ITCH_MESSAGES: list[Any] = [
    itch.SystemEvent(0, 0, T_NS, "Q"),
    itch.AddOrder(13, 0, T_NS + 1, 1_000_001, "B", 300, "AAPL", 1_912_500),
    itch.AddOrderMpid(13, 0, T_NS + 2, 1_000_002, "S", 200, "AAPL", 1_913_000, "GSCO"),
    itch.OrderExecuted(13, 0, T_NS + 3, 1_000_001, 100, 5_000_001),
    itch.OrderExecutedWithPrice(13, 0, T_NS + 4, 1_000_002, 50, 5_000_002, "Y", 1_912_900),
    itch.OrderCancel(13, 0, T_NS + 5, 1_000_001, 100),
    itch.OrderReplace(13, 0, T_NS + 6, 1_000_002, 1_000_003, 150, 1_913_100),
    itch.OrderDelete(13, 0, T_NS + 7, 1_000_003),
    itch.Trade(13, 0, T_NS + 8, 0, "B", 400, "AAPL", 1_913_200, 5_000_003),
    itch.CrossTrade(13, 0, T_NS + 9, 12_345, "AAPL", 1_913_300, 5_000_004, "C"),
    itch.BrokenTrade(13, 0, T_NS + 10, 5_000_003),
]


def test_itch_in_soupbintcp_decodes_in_wireshark(listener: socket.socket, tmp_path: Path) -> None:
    port = listener.getsockname()[1]
    capture = _start_capture(port, tmp_path / "itch.pcapng")
    try:
        client, server_side = _connect(listener)
        client.sendall(soup.encode_login_request("feed", "pw", "", 0))
        server_side.sendall(soup.encode_login_accepted("ITCHSESS", 1))
        for msg in ITCH_MESSAGES:
            server_side.sendall(soup.encode_sequenced_data(msg.encode()))
        server_side.sendall(soup.encode_server_heartbeat() + soup.encode_end_of_session())
        _finish(client, server_side)
        capture.sync()
    finally:
        capture.stop()

    packets = _dissect(capture)
    _assert_clean(packets)
    soups = _layers_by_direction(packets, port, "soupbintcp")
    assert [_char(s["soupbintcp.packet_type"]) for s in soups["to_server"]] == ["L"]
    to_client = soups["to_client"]
    assert [_char(s["soupbintcp.packet_type"]) for s in to_client] == (
        ["A"] + ["S"] * len(ITCH_MESSAGES) + ["H", "Z"]
    )
    assert not _layers_by_direction(packets, port, "ouch")["to_client"], "ITCH taken for OUCH"
    sequenced = to_client[1 : 1 + len(ITCH_MESSAGES)]
    for shown, sent in zip(sequenced, ITCH_MESSAGES, strict=True):
        assert int(shown["soupbintcp.packet_length"]) == 1 + type(sent).SIZE
        payload = bytes.fromhex(shown["soupbintcp.message"].replace(":", ""))
        assert payload == sent.encode()
        assert itch.decode(payload) == sent
