"""The dashboard's live stream: the engine's state, coalesced to one message per tick.

On connect the client gets the full current state (a reconnect is a resync). Then the consumer
wakes on the engine's PUBLISH of a new state (or every `TICK_S` without one, to notice an engine
gone silent), reads the latest state and sends it only when something changed (a new `seq`, or
the state turning stale or absent). Messages are at least `MIN_GAP_S` apart, and whatever was
published meanwhile is folded into the next one: a burst of any size costs a few messages
carrying the latest state, and a fill reaches the browser within one publish of the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import redis
import redis.asyncio as aioredis
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from dashboard import live_view
from dashboard.selectors import dashboard_account
from trading.engine.state_publisher import state_key

TICK_S = 0.2
MIN_GAP_S = 0.05
UNAUTHORISED = 4401


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    # No groups are used: each socket reads the state key itself, so it needs no channel of its
    # own on the channel layer (an alias that is not configured means none).
    channel_layer_alias = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHORISED)
            return
        self.account = dashboard_account()
        self.redis = aioredis.Redis.from_url(
            settings.REDIS_URL,
            decode_responses=True,
            socket_timeout=1.0,
            socket_connect_timeout=1.0,
        )
        await self.accept()
        self.pump = asyncio.create_task(self._forward())

    async def disconnect(self, code: int) -> None:
        pump = getattr(self, "pump", None)
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump
        client = getattr(self, "redis", None)
        if client is not None:
            await client.aclose()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The client may ask for a resync at any time; anything else is ignored.
        if isinstance(content, dict) and content.get("type") == "resync":
            envelope = await self._read()
            await self.send_json(live_view.live_message(envelope))

    async def _read(self) -> dict[str, Any] | None:
        raw = await self.redis.get(state_key(self.account))
        if raw is None:
            return None
        try:
            envelope = json.loads(raw)
        except ValueError:
            return None
        return envelope if isinstance(envelope, dict) else None

    async def _forward(self) -> None:
        previous: dict[str, Any] | None = None
        sent: tuple[Any, ...] | None = None
        redis_down = False
        pubsub = None
        while True:
            try:
                if pubsub is None:
                    pubsub = self.redis.pubsub()
                    await pubsub.subscribe(state_key(self.account))
                envelope = await self._read()
            except (redis.RedisError, OSError) as exc:
                if not redis_down:
                    await self.send_json({"type": "error", "error": f"Redis unreachable: {exc}"})
                redis_down = True
                await _close(pubsub)
                pubsub = None
                await asyncio.sleep(TICK_S)
                continue
            redis_down = False
            message = live_view.live_message(envelope, previous)
            key = (message["boot"], message["seq"], message["stale"], message["engine"])
            if key != sent:
                await self.send_json(message)
                sent = key
                previous = envelope
                await asyncio.sleep(MIN_GAP_S)
            try:
                await _next_publish(pubsub, TICK_S)
            except (redis.RedisError, OSError):
                await _close(pubsub)
                pubsub = None


async def _next_publish(pubsub: Any, timeout_s: float) -> None:
    """Wait for the engine's next PUBLISH (or `timeout_s`), then drop any queued behind it:
    the key is read afresh anyway, so they would only repeat it."""
    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout_s)
    while message is not None:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0)


async def _close(pubsub: Any) -> None:
    if pubsub is not None:
        with contextlib.suppress(Exception):
            await pubsub.aclose()
