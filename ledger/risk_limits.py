"""The live risk limits of an account: read, seeded and watched for changes.

The database row is the one source of truth; the config file only seeds it the first time an
engine starts for the account. A watcher thread in the engine process notices any change
(admin, API, SQL) within `POLL_INTERVAL_S` and hands the new limits to the engine's loop
through a queue, so the hot path never waits for the database.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, close_old_connections, connection

from ledger.models import _RISK_FIELDS, RiskLimitSet
from trading.config import RiskConfig
from trading.handoff import take_all

POLL_INTERVAL_S = 0.25


@dataclass(frozen=True, slots=True)
class LimitsUpdate:
    """Limits as stored, with who changed them last."""

    values: dict[str, Any]
    updated_by: str
    version: str


def _update(row: RiskLimitSet) -> LimitsUpdate:
    values = {name: getattr(row, name) for name in _RISK_FIELDS}
    return LimitsUpdate(values, row.updated_by or "admin", row.updated_at.isoformat())


def current_limits(account: str, seed: RiskConfig) -> tuple[LimitsUpdate, bool]:
    """The account's stored limits, creating them from `seed` when there are none yet.

    Returns the limits and whether they were just seeded.
    """
    row, created = RiskLimitSet.objects.get_or_create(
        account=account,
        defaults={
            **{name: getattr(seed, name) for name in _RISK_FIELDS},
            "updated_by": "config",
        },
    )
    return _update(row), created


def read_limits(account: str) -> LimitsUpdate | None:
    """The account's stored limits, or None when it has none."""
    row = RiskLimitSet.objects.filter(account=account).first()
    return None if row is None else _update(row)


class LimitsWatcher:
    """Polls the account's limits row; every change lands in `updates` once."""

    def __init__(self, account: str, version: str, *, interval_s: float = POLL_INTERVAL_S) -> None:
        self.account = account
        self.version = version
        self.interval_s = interval_s
        self.updates: queue.SimpleQueue[LimitsUpdate] = queue.SimpleQueue()
        self.log = logging.getLogger("RISK")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="limits-watcher", daemon=True)

    def start(self) -> LimitsWatcher:
        self._thread.start()
        return self

    def poke(self) -> None:
        """Look now rather than at the next interval (a reload_limits command)."""
        self._wake.set()

    def take(self) -> list[LimitsUpdate]:
        return take_all(self.updates)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=2.0)

    def _run(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                update = read_limits(self.account)
                if failing:
                    self.log.info("risk limits readable again")
                failing = False
            except DatabaseError as exc:
                if not failing:
                    self.log.warning("cannot read risk limits (%s): keeping those in force", exc)
                failing = True
                close_old_connections()
                update = None
            if update is not None and update.version != self.version:
                self.version = update.version
                self.updates.put(update)
            self._wake.wait(self.interval_s)
            self._wake.clear()
        connection.close()  # this thread's own connection
