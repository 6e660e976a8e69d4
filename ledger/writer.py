"""`LedgerWriter`: the engine's records written to the database off the hot path.

The engine calls `submit(record)`, which never blocks and never touches the database; a
background thread takes records from a bounded queue and writes them in batches (every
`interval_ms` or `batch_size` records, whichever comes first).

Overflow policy, when the queue is full:

* fills and order snapshots are never dropped: they go to an unbounded overflow list,
  which the writer drains before the queue on every cycle (they are the books of record;
  losing one would make the ledger disagree with the venue);
* everything else (portfolio snapshots, equity points, audit events, gateway state) is
  dropped and counted in `stats.dropped`: each is superseded by the next one, so losing one
  under overload costs detail, not correctness.

Within a batch records are written in submission order. A newer order snapshot that took the
overflow path may be written before an older one still in the queue, so the writer remembers
the last sequence written per order and skips the stale one.

Fills are inserted with `ignore_conflicts=True` against the (account, order_id, match_number,
ts) key, so an exact replay is stored once; a replay that carries another wall time (the
gateway re-received it after a reconnect) is caught by looking up (order_id, match_number)
first, for non-zero match numbers only (0 means the venue gave none, as in `Portfolio`).
Pass the venue's execution time as `FillRecord.at` where there is one: then the database
key alone makes replays harmless.

A batch that fails to write is logged; its fills and orders are retried (up to
`max_retries` times) and the rest counted in `stats.failed`.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import close_old_connections, connection, transaction

from trading.model.orders import Fill
from trading.portfolio.order_manager import ManagedOrder
from trading.portfolio.positions import PortfolioSnapshot

logger = logging.getLogger("SYSTEM")

ORDER = "order"
FILL = "fill"
PORTFOLIO = "portfolio"
EQUITY = "equity"
AUDIT = "audit"
GATEWAY = "gateway"
CRITICAL = frozenset({ORDER, FILL})
POLL_S = 0.02  # how often the writer looks at its queue between batches


@dataclass(slots=True, frozen=True)
class FillRecord:
    """A fill with an explicit wall-clock time (e.g. the venue's execution time)."""

    fill: Fill
    at: datetime


@dataclass(slots=True, frozen=True)
class PortfolioRecord:
    """A portfolio snapshot dict (`PortfolioSnapshot.as_dict()`)."""

    snapshot: dict[str, Any]


@dataclass(slots=True, frozen=True)
class EquityRecord:
    """Equity, realised and unrealised P&L, each in 1e-4 $ like the rest of the core."""

    equity: int
    realised: int
    unrealised: int


@dataclass(slots=True, frozen=True)
class AuditRecord:
    """An audit event: who did what, with what result."""

    who: str
    action: str
    detail: dict[str, Any] = field(default_factory=dict)
    result: str = ""


@dataclass(slots=True, frozen=True)
class GatewayRecord:
    """The venue session and the next sequence number expected from it."""

    session: str
    next_sequence: int


@dataclass(slots=True)
class WriterStats:
    """Counters, read by monitoring; written by `submit` and the writer thread."""

    submitted: int = 0
    written: int = 0
    dropped: int = 0  # non-critical records lost to a full queue
    overflowed: int = 0  # critical records that took the overflow path
    duplicate_fills: int = 0  # replayed fills skipped
    failed: int = 0  # records lost to database errors
    batches: int = 0


# (sequence, kind, wall time as ns since the epoch or an aware datetime, payload)
_Item = tuple[int, str, int | datetime, Any]


class _Marker:
    """Placed in the queue by `flush`/`close`; set once everything before it is written."""

    __slots__ = ("done", "stop")

    def __init__(self, stop: bool = False) -> None:
        self.done = threading.Event()
        self.stop = stop


def _order_values(order: ManagedOrder) -> tuple[Any, ...]:
    # Copied at submit time: the OMS keeps mutating the order, and the writer must store the
    # state as it was, not a half-updated one read from another thread.
    return (
        order.order_id,
        order.symbol,
        order.side,
        order.qty,
        order.price,
        str(order.tif),
        order.strategy,
        str(order.state),
        order.filled_qty,
        order.avg_fill_price,
        order.reason,
    )


def _dt(wall: int | datetime) -> datetime:
    if isinstance(wall, datetime):
        return wall
    # Integer arithmetic: a float of epoch seconds cannot hold every microsecond.
    seconds, ns = divmod(wall, 1_000_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC) + timedelta(microseconds=ns // 1000)


def _dollars(amount: int) -> Decimal:
    return Decimal(int(amount)).scaleb(-4)


class LedgerWriter:
    """Writes one account's records from a background thread; see the module docstring."""

    def __init__(
        self,
        account: str,
        *,
        max_queue: int = 10_000,
        batch_size: int = 500,
        interval_ms: float = 200.0,
        max_retries: int = 3,
        start: bool = True,
    ) -> None:
        self.account = account
        self.batch_size = batch_size
        self.interval_s = interval_ms / 1000.0
        self.max_retries = max_retries
        self.stats = WriterStats()
        self._queue: queue.Queue[_Item | _Marker] = queue.Queue(maxsize=max_queue)
        self._overflow: deque[_Item] = deque()
        self._seq = itertools.count(1)
        self._order_seq: dict[int, int] = {}
        self._retries: dict[int, int] = {}
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"ledger-{account}", daemon=True)
        if start:
            self.start()

    # -- the engine's side ---------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread (done by the constructor unless `start=False`)."""
        self._thread.start()

    def submit(self, record: Any) -> bool:
        """Hand a record to the writer without blocking; False if it was dropped.

        Accepted: `ManagedOrder`, `Fill`, `FillRecord`, `PortfolioSnapshot`, a portfolio
        snapshot dict, `PortfolioRecord`, `EquityRecord`, `AuditRecord`, `GatewayRecord`.
        """
        if self._closed:
            raise RuntimeError("LedgerWriter is closed")
        wall: int | datetime = time.time_ns()
        kind: str
        payload: Any
        if isinstance(record, ManagedOrder):
            kind, payload = ORDER, _order_values(record)
        elif isinstance(record, Fill):
            kind, payload = FILL, record
        elif isinstance(record, FillRecord):
            kind, payload = FILL, record.fill
            wall = record.at
        elif isinstance(record, PortfolioSnapshot):
            kind, payload = PORTFOLIO, record.as_dict()
        elif isinstance(record, PortfolioRecord):
            kind, payload = PORTFOLIO, record.snapshot
        elif isinstance(record, dict):
            kind, payload = PORTFOLIO, record
        elif isinstance(record, EquityRecord):
            kind, payload = EQUITY, record
        elif isinstance(record, AuditRecord):
            kind, payload = AUDIT, record
        elif isinstance(record, GatewayRecord):
            kind, payload = GATEWAY, record
        else:
            raise TypeError(f"LedgerWriter cannot store {type(record).__name__}")
        item: _Item = (next(self._seq), kind, wall, payload)
        self.stats.submitted += 1
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            if kind in CRITICAL:
                self._overflow.append(item)
                self.stats.overflowed += 1
            else:
                self.stats.dropped += 1
                return False
        return True

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until everything submitted before this call is written; False on timeout.

        "Written" includes given up on: records lost to database errors after their retries
        are counted in `stats.failed` rather than holding the flush forever.
        """
        marker = _Marker()
        self._queue.put(marker, timeout=timeout)
        return marker.done.wait(timeout)

    def close(self, timeout: float | None = 30.0) -> None:
        """Write everything submitted, stop the thread and refuse further records."""
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            marker = _Marker(stop=True)
            self._queue.put(marker, timeout=timeout)
            marker.done.wait(timeout)
            self._thread.join(timeout)

    @property
    def pending(self) -> int:
        """Records waiting to be written (approximate)."""
        return self._queue.qsize() + len(self._overflow)

    # -- the writer thread ---------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                batch, marker = self._collect()
                self._write(batch)
                if marker is not None:
                    # A flush must not return while fills or orders await a retry; each
                    # record's retries are bounded, so this ends.
                    while self._overflow:
                        batch = []
                        self._drain_overflow(batch)
                        self._write(batch)
                    marker.done.set()
                    if marker.stop:
                        return
        finally:
            connection.close()

    def _drain_overflow(self, batch: list[_Item]) -> None:
        while True:
            try:
                batch.append(self._overflow.popleft())
            except IndexError:
                return

    def _collect(self) -> tuple[list[_Item], _Marker | None]:
        # The writer polls rather than blocking on the queue: a blocked `get` would be woken
        # by every record the engine puts, and each wake-up takes the GIL from the hot loop.
        batch: list[_Item] = []
        self._drain_overflow(batch)
        deadline = time.monotonic() + self.interval_s
        take = self._queue.get_nowait
        while True:
            while len(batch) < self.batch_size:
                try:
                    item = take()
                except queue.Empty:
                    break
                if isinstance(item, _Marker):
                    # Anything that overflowed before the marker was queued is in the
                    # overflow list by now, so draining it again completes "everything
                    # before flush()".
                    self._drain_overflow(batch)
                    return batch, item
                batch.append(item)
            remaining = deadline - time.monotonic()
            if len(batch) >= self.batch_size or remaining <= 0:
                return batch, None
            time.sleep(min(remaining, POLL_S))

    def _write(self, batch: list[_Item]) -> None:
        if not batch:
            return
        batch.sort(key=lambda item: item[0])
        close_old_connections()
        try:
            with transaction.atomic():
                written = self._write_batch(batch)
        except Exception:
            logger.exception("ledger: writing a batch of %d records failed", len(batch))
            self._requeue_critical(batch)
            return
        self.stats.written += written
        self.stats.batches += 1

    def _requeue_critical(self, batch: list[_Item]) -> None:
        for item in batch:
            tries = self._retries.get(item[0], 0) + 1
            if item[1] in CRITICAL and tries <= self.max_retries:
                self._retries[item[0]] = tries
                self._overflow.append(item)
            else:
                self._retries.pop(item[0], None)
                self.stats.failed += 1
        # Give a failing database a moment rather than spinning on it.
        time.sleep(min(self.interval_s, 1.0))

    def _write_batch(self, batch: list[_Item]) -> int:
        from ledger import models

        by_kind: dict[str, list[_Item]] = {}
        for item in batch:
            by_kind.setdefault(item[1], []).append(item)
            self._retries.pop(item[0], None)
        written = 0
        if ORDER in by_kind:
            written += self._write_orders(models, by_kind[ORDER])
        if FILL in by_kind:
            written += self._write_fills(models, by_kind[FILL])
        if PORTFOLIO in by_kind:
            models.PositionSnapshot.objects.bulk_create(
                models.PositionSnapshot(ts=_dt(ns), account=self.account, snapshot=snap)
                for _, _, ns, snap in by_kind[PORTFOLIO]
            )
            written += len(by_kind[PORTFOLIO])
        if EQUITY in by_kind:
            models.EquityPoint.objects.bulk_create(
                models.EquityPoint(
                    ts=_dt(ns),
                    account=self.account,
                    equity=_dollars(rec.equity),
                    realised=_dollars(rec.realised),
                    unrealised=_dollars(rec.unrealised),
                )
                for _, _, ns, rec in by_kind[EQUITY]
            )
            written += len(by_kind[EQUITY])
        if AUDIT in by_kind:
            models.AuditEvent.objects.bulk_create(
                models.AuditEvent(
                    ts=_dt(ns), who=rec.who, action=rec.action, detail=rec.detail, result=rec.result
                )
                for _, _, ns, rec in by_kind[AUDIT]
            )
            written += len(by_kind[AUDIT])
        if GATEWAY in by_kind:
            # Only the latest state matters for recovery.
            _, _, ns, rec = by_kind[GATEWAY][-1]
            models.GatewayState.objects.update_or_create(
                account=self.account,
                defaults={
                    "session": rec.session,
                    "next_sequence": rec.next_sequence,
                    "updated_at": _dt(ns),
                },
            )
            written += len(by_kind[GATEWAY])
        return written

    def _write_orders(self, models: Any, items: list[_Item]) -> int:
        latest: dict[int, _Item] = {}
        for item in items:
            order_id = item[3][0]
            if item[0] < self._order_seq.get(order_id, 0):
                continue  # an older snapshot than one already written (overflow reordering)
            latest[order_id] = item
        rows = []
        for _, _, ns, values in latest.values():
            (oid, symbol, side, qty, price, tif, strategy, state, filled, avg, reason) = values
            at = _dt(ns)
            rows.append(
                models.Order(
                    account=self.account,
                    order_id=oid,
                    symbol=symbol,
                    side=side,
                    qty=qty,
                    price=price,
                    tif=tif,
                    strategy=strategy,
                    state=state,
                    filled_qty=filled,
                    avg_fill_price=avg,
                    reason=reason[:255],
                    created_at=at,
                    updated_at=at,
                )
            )
        if rows:
            models.Order.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["account", "order_id"],
                update_fields=[
                    "symbol",
                    "side",
                    "qty",
                    "price",
                    "tif",
                    "strategy",
                    "state",
                    "filled_qty",
                    "avg_fill_price",
                    "reason",
                    "updated_at",
                ],
            )
        # Recorded only here, inside the transaction's success path, via on_commit.
        seqs = {oid: item[0] for oid, item in latest.items()}
        transaction.on_commit(lambda: self._order_seq.update(seqs))
        return len(items)

    def _write_fills(self, models: Any, items: list[_Item]) -> int:
        keyed = {(item[3].order_id, item[3].match_number) for item in items}
        order_ids = {order_id for order_id, match in keyed if match}
        seen: set[tuple[int, int]] = set()
        if order_ids:
            seen = set(
                models.Fill.objects.filter(
                    account=self.account, order_id__in=order_ids, match_number__gt=0
                ).values_list("order_id", "match_number")
            )
        rows = []
        for _, _, ns, fill in items:
            key = (fill.order_id, fill.match_number)
            if fill.match_number and key in seen:
                self.stats.duplicate_fills += 1
                continue
            seen.add(key)
            rows.append(
                models.Fill(
                    ts=_dt(ns),
                    account=self.account,
                    order_id=fill.order_id,
                    symbol=fill.symbol,
                    side=fill.side,
                    qty=fill.qty,
                    price=fill.price,
                    match_number=fill.match_number,
                    liquidity=fill.liquidity,
                    strategy=fill.strategy,
                )
            )
        if rows:
            models.Fill.objects.bulk_create(rows, ignore_conflicts=True)
        return len(items)
