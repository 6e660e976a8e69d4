"""The two WebSocket protocols: trade_updates (`/stream`) and stock data (`/v2/iex`, `/v2/sip`).

trade_updates speaks JSON: `{"action": "authenticate", "data": {"key_id", "secret_key"}}`, then
`{"action": "listen", "data": {"streams": ["trade_updates"]}}`; answers and events go out as
binary frames holding JSON, as Alpaca sends them (text frames are read as well).

The data stream greets with `[{"T": "success", "msg": "connected"}]`, takes
`{"action": "auth", "key", "secret"}` and `{"action": "subscribe" | "unsubscribe", "trades",
"quotes", "bars", ...}`, and sends arrays of messages: msgpack in binary frames when the client
asked for `Content-Type: application/msgpack` (as Alpaca's Python client does), else JSON text.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgpack
from aiohttp import WSMsgType, web

from trading.exchange.alpaca_api.market_data import CHANNELS, Subscriber

if TYPE_CHECKING:
    from trading.exchange.alpaca_api.endpoint import AlpacaEndpoint

AUTH_TIMEOUT_S = 10.0
# Channels Alpaca's stock stream knows; the simulator produces trades, quotes and bars.
QUIET_CHANNELS = ("updatedBars", "dailyBars", "statuses", "lulds")
MAX_SYMBOLS = 10_000


class StreamConnection:
    """One WebSocket client: an outgoing queue drained by its own writer task."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        self.request = request
        self.ws = ws
        self.queue: asyncio.Queue[bytes | str | None] = asyncio.Queue()
        self.writer = asyncio.create_task(self._write())

    def send(self, frame: bytes | str) -> None:
        self.queue.put_nowait(frame)

    async def _write(self) -> None:
        while True:
            frame = await self.queue.get()
            if frame is None:
                return
            try:
                if isinstance(frame, bytes):
                    await self.ws.send_bytes(frame)
                else:
                    await self.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                return

    def drop(self) -> None:
        """Cut the TCP connection without a close handshake, as a network failure would."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def finish(self) -> None:
        self.queue.put_nowait(None)
        try:
            await asyncio.wait_for(self.writer, 1.0)
        except (TimeoutError, asyncio.CancelledError):
            self.writer.cancel()


async def trade_updates(endpoint: AlpacaEndpoint, request: web.Request) -> web.WebSocketResponse:
    """GET /stream: the account's trade_updates."""
    ws = web.WebSocketResponse(heartbeat=None, max_msg_size=1 << 20)
    await ws.prepare(request)
    connection = StreamConnection(request, ws)
    endpoint.connections.add(connection)
    username: str | None = None
    listening = False

    def out(message: dict[str, Any]) -> None:
        connection.send(json.dumps(message).encode())

    def on_update(data: dict[str, Any]) -> None:
        out({"stream": "trade_updates", "data": data})

    try:
        async for frame in ws:
            if frame.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                break
            try:
                message = json.loads(frame.data)
                action = message.get("action")
                data = message.get("data") or {}
            except (ValueError, AttributeError):
                out({"stream": "error", "data": {"error_message": "invalid message"}})
                continue
            if action in ("authenticate", "auth"):
                key = data.get("key_id", message.get("key"))
                secret = data.get("secret_key", message.get("secret"))
                username = endpoint.authenticate(key, secret)
                status = "authorized" if username else "unauthorized"
                out({"stream": "authorization", "data": {"action": "authenticate",
                                                          "status": status}})  # fmt: skip
                if username is None:
                    break
            elif action == "listen":
                if username is None:
                    out({"stream": "authorization", "data": {"action": "listen",
                                                              "status": "unauthorized"}})  # fmt: skip
                    break
                streams = data.get("streams") or []
                wanted = isinstance(streams, list) and "trade_updates" in streams
                if wanted and not listening:
                    endpoint.broker.listen(username, on_update)
                elif not wanted and listening:
                    endpoint.broker.unlisten(username, on_update)
                listening = wanted
                out({"stream": "listening",
                     "data": {"streams": ["trade_updates"] if wanted else []}})  # fmt: skip
            else:
                out({"stream": "error", "data": {"error_message": f"unknown action {action!r}"}})
    finally:
        if username is not None:
            endpoint.broker.unlisten(username, on_update)
        endpoint.connections.discard(connection)
        await connection.finish()
    return ws


async def market_data(endpoint: AlpacaEndpoint, request: web.Request) -> web.WebSocketResponse:
    """GET /v2/iex and /v2/sip: Alpaca's real-time stock data stream."""
    use_msgpack = "msgpack" in request.headers.get("Content-Type", "")
    ws = web.WebSocketResponse(heartbeat=None, max_msg_size=1 << 20)
    await ws.prepare(request)
    connection = StreamConnection(request, ws)
    endpoint.connections.add(connection)
    encode = _msgpack_frame if use_msgpack else _json_frame

    def out(messages: list[dict[str, Any]]) -> None:
        connection.send(encode(messages))

    subscriber = Subscriber(out)
    quiet: dict[str, set[str]] = {c: set() for c in QUIET_CHANNELS}
    authenticated = False
    out([{"T": "success", "msg": "connected"}])
    try:
        while True:
            try:
                timeout = None if authenticated else AUTH_TIMEOUT_S
                frame = await ws.receive(timeout=timeout)
            except TimeoutError:
                out([{"T": "error", "code": 404, "msg": "auth timeout"}])
                break
            if frame.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                break
            try:
                message = _decode(frame.data)
                action = message.get("action")
            except (ValueError, AttributeError, msgpack.UnpackException):
                out([{"T": "error", "code": 400, "msg": "invalid syntax"}])
                continue
            if action == "auth":
                if authenticated:
                    out([{"T": "error", "code": 403, "msg": "already authenticated"}])
                    continue
                if endpoint.authenticate(message.get("key"), message.get("secret")) is None:
                    out([{"T": "error", "code": 402, "msg": "auth failed"}])
                    break
                authenticated = True
                endpoint.market.subscribe(subscriber)
                out([{"T": "success", "msg": "authenticated"}])
            elif action in ("subscribe", "unsubscribe"):
                if not authenticated:
                    out([{"T": "error", "code": 401, "msg": "not authenticated"}])
                    continue
                error = _change(subscriber.channels, quiet, message, action == "subscribe")
                if error:
                    out([{"T": "error", "code": error[0], "msg": error[1]}])
                    continue
                out([_subscription(subscriber.channels, quiet)])
            else:
                out([{"T": "error", "code": 400, "msg": "invalid syntax"}])
    finally:
        endpoint.market.unsubscribe(subscriber)
        endpoint.connections.discard(connection)
        await connection.finish()
    return ws


def _change(
    channels: dict[str, set[str]], quiet: dict[str, set[str]], message: dict, add: bool
) -> tuple[int, str] | None:
    updates: list[tuple[set[str], list[str]]] = []
    for name, target in [*channels.items(), *quiet.items()]:
        symbols = message.get(name) or []
        if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
            return 400, "invalid syntax"
        updates.append((target, [s.upper() if s != "*" else s for s in symbols]))
    for target, symbols in updates:
        if add:
            target.update(symbols)
        else:
            target.difference_update(symbols)
    if sum(len(s) for s in channels.values()) > MAX_SYMBOLS:
        return 405, "symbol limit exceeded"
    return None


def _subscription(channels: dict[str, set[str]], quiet: dict[str, set[str]]) -> dict[str, Any]:
    answer: dict[str, Any] = {"T": "subscription"}
    for name in CHANNELS:
        answer[name] = sorted(channels[name])
    for name in QUIET_CHANNELS:
        answer[name] = sorted(quiet[name])
    # Corrections and cancel errors come with a trades subscription, as Alpaca sends them.
    answer["corrections"] = sorted(channels["trades"])
    answer["cancelErrors"] = sorted(channels["trades"])
    return answer


def _decode(data: bytes | str) -> dict[str, Any]:
    if isinstance(data, bytes):
        try:
            message = msgpack.unpackb(data)
        except (ValueError, msgpack.UnpackException):
            message = json.loads(data)
    else:
        message = json.loads(data)
    if not isinstance(message, dict):
        raise ValueError("not an object")
    return message


def _msgpack_frame(messages: list[dict[str, Any]]) -> bytes:
    return msgpack.packb(messages)


def _json_frame(messages: list[dict[str, Any]]) -> str:
    return json.dumps(messages, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, msgpack.Timestamp):
        moment = value.to_datetime().astimezone(dt.UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.nanoseconds:09d}Z"
    raise TypeError(f"cannot encode {type(value).__name__}")


Handler = Callable[[web.Request], Any]
