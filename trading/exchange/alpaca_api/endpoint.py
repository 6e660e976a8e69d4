"""The Alpaca-compatible endpoint: one HTTP + WebSocket port on the exchange's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import web

from trading.exchange.alpaca_api.broker import AlpacaBroker
from trading.exchange.alpaca_api.faults import Faults
from trading.exchange.alpaca_api.http_api import build_app
from trading.exchange.alpaca_api.market_data import MarketData

if TYPE_CHECKING:
    from trading.exchange.alpaca_api.streams import StreamConnection
    from trading.exchange.server import ExchangeServer


class RateLimit:
    """Alpaca's per-key request limit over a sliding minute, and its response headers."""

    def __init__(self, per_minute: int) -> None:
        """`per_minute` requests per key in any 60 seconds (0: no limit, no headers)."""
        self.per_minute = per_minute
        self.calls: dict[str, deque[float]] = {}

    def take(self, key: str) -> tuple[dict[str, str], int | None]:
        """Count a call; returns the headers and, when over the limit, the seconds to wait."""
        if not self.per_minute:
            return {}, None
        now = time.time()
        calls = self.calls.setdefault(key, deque())
        while calls and calls[0] <= now - 60:
            calls.popleft()
        retry_after = None
        if len(calls) >= self.per_minute:
            retry_after = max(1, int(calls[0] + 60 - now + 0.999))
        else:
            calls.append(now)
        reset = int((calls[0] if calls else now) + 60)
        headers = {
            "X-Ratelimit-Limit": str(self.per_minute),
            "X-Ratelimit-Remaining": str(max(0, self.per_minute - len(calls))),
            "X-Ratelimit-Reset": str(reset),
        }
        return headers, retry_after


class AlpacaEndpoint:
    """Alpaca's trading REST API, trade_updates stream and stock data stream on one port."""

    def __init__(self, exchange: ExchangeServer, faults_enabled: bool = False) -> None:
        self.exchange = exchange
        self.logger = exchange.logger
        self.passwords = {a.username: a.password for a in exchange.ex.accounts}
        self.broker = AlpacaBroker(exchange)
        self.market = MarketData(exchange, self.broker.on_trade)
        self.faults_enabled = faults_enabled
        self.faults = Faults()
        self.rate_limit = RateLimit(exchange.ex.alpaca_rate_limit_per_min)
        self.connections: set[StreamConnection] = set()
        self.runner: web.AppRunner | None = None
        self._bars: asyncio.Task | None = None

    def authenticate(self, key_id: Any, secret: Any) -> str | None:
        """The account a key pair stands for (username and password), or None."""
        if not isinstance(key_id, str) or not isinstance(secret, str):
            return None
        password = self.passwords.get(key_id)
        if password is None or not hmac.compare_digest(password.encode(), secret.encode()):
            return None
        return key_id

    # -- taps from the exchange -----------------------------------------------------------

    def on_client_message(self, username: str, payload: bytes) -> bool:
        """An OUCH answer on its way to `username`; True if it belonged to an Alpaca order."""
        return self.broker.on_client_message(username, payload)

    def on_feed(self, message: Any) -> None:
        self.market.on_feed(message)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> int:
        """Listen on `port` (0: any free port); returns the bound port."""
        self.runner = web.AppRunner(build_app(self), access_log=None, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port, reuse_address=True)
        await site.start()
        self._bars = asyncio.create_task(self._close_bars(), name="alpaca-bars")
        return int(self.runner.addresses[0][1])

    async def stop(self) -> None:
        if self._bars is not None:
            self._bars.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._bars
        for connection in list(self.connections):
            with contextlib.suppress(Exception):
                await connection.ws.close(code=1001, message=b"exchange stopping")
        if self.runner is not None:
            await self.runner.cleanup()

    def drop_streams(self) -> int:
        """Cut every WebSocket connection (fault injection); returns how many."""
        connections = list(self.connections)
        for connection in connections:
            connection.drop()
        return len(connections)

    async def _close_bars(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                self.market.close_bars()
            except Exception:
                self.logger.exception("Alpaca bars failed")
