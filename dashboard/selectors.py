"""Reads for the dashboard: the engine's envelope, the equity series, the health of the parts."""

from __future__ import annotations

import functools
import os
import time
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, connection

from ledger.engine_control import default_account
from ledger.models import EquityPoint, RiskLimitSet
from trading.config import load_config
from trading.engine.state_publisher import read_state
from trading.log_format import TAGS

EQUITY_MAX_POINTS = 600


@functools.cache
def _configured_account() -> str:
    return default_account()


def dashboard_account() -> str:
    """The account the dashboard watches: settings.DESK_ACCOUNT, else the configured engine's."""
    return getattr(settings, "DESK_ACCOUNT", "") or _configured_account()


def engine_envelope(account: str) -> dict[str, Any] | None:
    """The engine's last published envelope, or None; raises `redis.RedisError` if Redis is
    unreachable."""
    return read_state(settings.REDIS_URL, account)


@functools.cache
def engine_symbols() -> tuple[str, ...]:
    """The symbols the configured engine trades (for the order ticket's choices)."""
    return tuple(load_config().symbols)


def equity_points(account: str, max_points: int = EQUITY_MAX_POINTS) -> list[dict[str, float]]:
    """The account's equity curve as chart points ({time: unix seconds, value}), oldest first,
    thinned to at most `max_points` by keeping the last point of each bucket."""
    rows = list(
        EquityPoint.objects.filter(account=account).order_by("ts").values_list("ts", "equity")
    )
    if not rows:
        return []
    step = max(1, -(-len(rows) // max_points))
    kept = rows[step - 1 :: step]
    if kept[-1] is not rows[-1]:
        kept.append(rows[-1])
    points: list[dict[str, float]] = []
    for ts, equity in kept:
        second = int(ts.timestamp())
        # The chart needs strictly increasing times: a later point in the same second wins.
        if points and points[-1]["time"] >= second:
            points[-1]["value"] = float(equity)
        else:
            points.append({"time": second, "value": float(equity)})
    return points


def risk_limits(account: str) -> RiskLimitSet | None:
    return RiskLimitSet.objects.filter(account=account).first()


def _resident_memory_bytes() -> int | None:
    try:
        with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def process_health() -> list[dict[str, Any]]:
    """The web process itself, Redis and the database: up or not, with memory where known."""
    processes: list[dict[str, Any]] = [
        {
            "name": "web",
            "state": "up",
            "memory": _resident_memory_bytes(),
            "detail": f"pid {os.getpid()}",
        }
    ]
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0
    )
    try:
        started = time.perf_counter()
        client.ping()
        ping_ms = (time.perf_counter() - started) * 1e3
        memory = client.info("memory").get("used_memory")
        processes.append(
            {"name": "redis", "state": "up", "memory": memory, "detail": f"ping {ping_ms:.1f} ms"}
        )
    except redis.RedisError as exc:
        processes.append({"name": "redis", "state": "down", "memory": None, "detail": str(exc)})
    finally:
        client.close()
    try:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        ping_ms = (time.perf_counter() - started) * 1e3
        processes.append(
            {
                "name": f"database ({connection.vendor})",
                "state": "up",
                "memory": None,
                "detail": f"ping {ping_ms:.1f} ms",
            }
        )
    except DatabaseError as exc:
        processes.append({"name": "database", "state": "down", "memory": None, "detail": str(exc)})
    return processes


LOG_TAIL_BYTES = 256 * 1024
LOG_TAGS = TAGS


def log_tail(tag: str = "", text: str = "", limit: int = 200) -> list[str]:
    """The last `limit` lines of the desk's log file (every process appends to it), keeping
    only those of one component tag and/or containing `text` (case-insensitive)."""
    path = settings.VAR_DIR / "desk.log"
    try:
        with open(path, "rb") as log_file:
            log_file.seek(0, os.SEEK_END)
            size = log_file.tell()
            log_file.seek(max(0, size - LOG_TAIL_BYTES))
            chunk = log_file.read()
    except FileNotFoundError:
        return []
    lines = chunk.decode("utf-8", "replace").splitlines()
    if size > LOG_TAIL_BYTES:
        lines = lines[1:]  # the first line read is probably cut
    if tag in LOG_TAGS:
        lines = [line for line in lines if f"] [{tag}] " in line]
    if text:
        needle = text.lower()
        lines = [line for line in lines if needle in line.lower()]
    return lines[-limit:]
