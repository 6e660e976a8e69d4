"""The web tier's side of a running engine: read its published state, send it commands.

Every command the web tier sends (dashboard, API, monitor) goes through `send_command`, which
also stores the audit row of who asked for what and what came of it; the engine stores its own
row when it applies the command. `read_state` gives the last state the engine published, with
its age, so callers can tell a live engine from a silent one.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings

from ledger.models import AuditEvent
from trading.config import load_config
from trading.engine.control_bus import Ack, CommandBus, CommandKind
from trading.engine.state_publisher import state_key

STALE_AFTER_S = 2.0  # an engine publishes several times a second; silence this long is news
ACK_TIMEOUT_S = 3.0


def default_account() -> str:
    """The account of the configured engine (the desk runs one by default)."""
    return load_config().engine.account


@dataclass(frozen=True, slots=True)
class EngineState:
    """The engine's last published state and how old it is."""

    account: str
    state: dict[str, Any] | None  # None: the engine has never published
    published_at: float  # wall-clock seconds, 0 when never
    seq: int

    @property
    def age_s(self) -> float:
        return time.time() - self.published_at if self.published_at else float("inf")

    @property
    def stale(self) -> bool:
        return self.age_s > STALE_AFTER_S


def _redis() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL, decode_responses=True, socket_timeout=1.0, socket_connect_timeout=1.0
    )


def read_state(account: str) -> EngineState:
    """The engine's last published state; raises `redis.RedisError` if Redis is unreachable."""
    raw = _redis().get(state_key(account))
    if not raw:
        return EngineState(account, None, 0.0, 0)
    envelope = json.loads(raw)
    return EngineState(
        account, envelope.get("state"), float(envelope.get("ts", 0)), int(envelope.get("seq", 0))
    )


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """What became of a command: sent at all, acknowledged, and the engine's answer."""

    command_id: str
    ack: Ack | None

    @property
    def acknowledged(self) -> bool:
        return self.ack is not None

    @property
    def ok(self) -> bool:
        return self.ack is not None and self.ack.ok


def send_command(
    account: str,
    kind: CommandKind | str,
    who: str,
    args: dict[str, Any] | None = None,
    timeout_s: float = ACK_TIMEOUT_S,
) -> CommandOutcome:
    """Send a command and wait for the engine's ack, auditing the outcome either way.

    Raises ValueError for an unknown kind and `redis.RedisError` when Redis is unreachable
    (both also audited), so the caller can say the command never left.
    """
    detail: dict[str, Any] = {"account": account, "args": dict(args or {})}
    try:
        kind = CommandKind(kind)
    except ValueError:
        AuditEvent.objects.create(
            who=who, action=str(kind), detail=detail, result="refused: unknown command"
        )
        raise
    bus = CommandBus(settings.REDIS_URL, account)
    try:
        try:
            command_id = bus.send(kind, who, args)
        except redis.RedisError as exc:
            AuditEvent.objects.create(
                who=who, action=kind.value, detail=detail, result=f"not sent: {exc}"[:255]
            )
            raise
        ack = bus.wait_ack(command_id, timeout_s)
    finally:
        bus.close()
    detail["id"] = command_id
    if ack is None:
        result = f"sent; no answer within {timeout_s:g} s (is the engine running?)"
    else:
        result = f"{'ok' if ack.ok else 'refused'}: {ack.reason}; {ack.state}"
    AuditEvent.objects.create(who=who, action=kind.value, detail=detail, result=result[:255])
    return CommandOutcome(command_id, ack)
