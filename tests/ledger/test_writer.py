"""LedgerWriter: batching, flush, overflow policy, replays, close; recovery round trip.

The writer thread uses its own database connection, hence transactional test databases.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ledger.models import AuditEvent, EquityPoint, Fill, GatewayState, Order, PositionSnapshot
from ledger.recovery import load_recovery
from ledger.writer import (
    AuditRecord,
    EquityRecord,
    FillRecord,
    GatewayRecord,
    LedgerWriter,
    PortfolioRecord,
)
from trading.model.orders import BUY, SELL, OrderIntent, TimeInForce
from trading.model.orders import Fill as CoreFill
from trading.portfolio.order_manager import OrderManager, OrderState
from trading.portfolio.positions import Portfolio

pytestmark = pytest.mark.django_db(transaction=True)


def _core_fill(order_id: int = 1, match: int = 1, qty: int = 100) -> CoreFill:
    return CoreFill(
        order_id=order_id,
        symbol="SYNA",
        side=BUY,
        qty=qty,
        price=1_000_000,
        ts_ns=123,
        match_number=match,
        liquidity="A",
        strategy="mean_reversion",
    )


def _wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.fixture
def writers():
    made: list[LedgerWriter] = []

    def make(**kwargs) -> LedgerWriter:
        writer = LedgerWriter("demo", **kwargs)
        made.append(writer)
        return writer

    yield make
    for writer in made:
        writer.close()


def test_flush_writes_every_kind_of_record(writers):
    writer = writers(interval_ms=10_000)
    manager = OrderManager()
    order = manager.new_order(OrderIntent("SYNA", BUY, 100, 1_000_000), now_ns=1)
    writer.submit(order)
    writer.submit(_core_fill())
    writer.submit({"starting_cash": 0, "positions": []})
    writer.submit(EquityRecord(equity=1_000_012_345, realised=-5, unrealised=10_000))
    writer.submit(AuditRecord(who="alice", action="halt", detail={"n": 1}, result="ok"))
    writer.submit(GatewayRecord(session="S1", next_sequence=17))
    assert writer.flush()
    assert Order.objects.get().order_id == order.order_id
    fill = Fill.objects.get()
    assert (fill.account, fill.qty, fill.price, fill.liquidity) == ("demo", 100, 1_000_000, "A")
    assert PositionSnapshot.objects.get().snapshot == {"starting_cash": 0, "positions": []}
    point = EquityPoint.objects.get()
    assert (point.equity, point.realised, point.unrealised) == (
        Decimal("100001.2345"),
        Decimal("-0.0005"),
        Decimal("1.0000"),
    )
    assert AuditEvent.objects.get().detail == {"n": 1}
    assert GatewayState.objects.get().next_sequence == 17
    assert writer.stats.written == 6


def test_records_are_written_in_batches_of_batch_size(writers):
    writer = writers(batch_size=3, interval_ms=10_000, start=False)
    for match in range(1, 8):
        writer.submit(_core_fill(match=match))
    writer.start()
    # A full batch is written at once; the remainder waits for the interval (or a flush).
    assert _wait_for(lambda: Fill.objects.count() == 6)
    time.sleep(0.1)
    assert Fill.objects.count() == 6
    assert writer.stats.batches == 2
    assert writer.flush()
    assert Fill.objects.count() == 7
    assert writer.stats.batches == 3


def test_a_partial_batch_is_written_after_the_interval(writers):
    writer = writers(batch_size=1000, interval_ms=20)
    writer.submit(_core_fill())
    assert _wait_for(lambda: Fill.objects.count() == 1, timeout=2.0)


def test_full_queue_drops_and_counts_others_but_never_fills_or_orders(writers):
    writer = writers(max_queue=2, start=False)
    manager = OrderManager()
    order = manager.new_order(OrderIntent("SYNA", SELL, 50, 990_000), now_ns=1)
    assert writer.submit(EquityRecord(1, 0, 0))
    assert writer.submit(EquityRecord(2, 0, 0))
    # The queue is full from here on.
    assert writer.submit(EquityRecord(3, 0, 0)) is False
    assert writer.submit(AuditRecord(who="x", action="y")) is False
    assert writer.submit(GatewayRecord("S", 1)) is False
    assert writer.submit(PortfolioRecord({"a": 1})) is False
    for match in range(1, 51):
        assert writer.submit(_core_fill(match=match))
    assert writer.submit(order)
    assert writer.stats.dropped == 4
    assert writer.stats.overflowed == 51
    writer.start()
    assert writer.flush()
    assert Fill.objects.count() == 50
    assert Order.objects.count() == 1
    assert EquityPoint.objects.count() == 2
    assert AuditEvent.objects.count() == 0
    assert writer.stats.submitted == 57
    assert writer.stats.written == 53


def test_a_newer_order_state_from_overflow_is_not_overwritten_by_an_older_one(writers):
    writer = writers(max_queue=1, batch_size=1, start=False)
    manager = OrderManager()
    order = manager.new_order(OrderIntent("SYNA", BUY, 100, 1_000_000), now_ns=1)
    writer.submit(order)  # queued: NEW
    manager.on_accepted(order.order_id, now_ns=2)
    manager.on_fill(_core_fill(order_id=order.order_id, qty=40))
    writer.submit(order)  # overflow: PARTIALLY_FILLED, written first
    writer.start()
    assert writer.flush()
    row = Order.objects.get()
    assert (row.state, row.filled_qty, row.avg_fill_price) == ("PARTIALLY_FILLED", 40, 1_000_000)


def test_order_snapshots_upsert_one_row_per_order(writers):
    writer = writers()
    manager = OrderManager()
    order = manager.new_order(OrderIntent("SYNA", BUY, 100, 1_000_000), now_ns=1)
    writer.submit(order)
    assert writer.flush()
    created = Order.objects.get().created_at
    manager.on_accepted(order.order_id, now_ns=2)
    manager.on_fill(_core_fill(order_id=order.order_id, qty=100))
    writer.submit(order)
    assert writer.flush()
    row = Order.objects.get()
    assert row.state == OrderState.FILLED
    assert row.filled_qty == 100
    assert row.created_at == created
    assert row.updated_at >= created


def test_replayed_fills_are_stored_once(writers):
    writer = writers()
    at = datetime(2026, 1, 5, 14, 30, 0, 123456, tzinfo=UTC)
    writer.submit(FillRecord(_core_fill(match=5), at))
    writer.submit(FillRecord(_core_fill(match=5), at))  # exact replay: the database key
    assert writer.flush()
    writer.submit(_core_fill(match=5))  # replay with a new wall time: the writer's check
    writer.submit(_core_fill(match=6))
    # Match number 0 means "none given": two such fills are two executions.
    writer.submit(_core_fill(match=0))
    writer.submit(_core_fill(match=0))
    assert writer.flush()
    assert sorted(Fill.objects.values_list("match_number", flat=True)) == [0, 0, 5, 6]
    assert Fill.objects.get(match_number=5).ts == at
    assert writer.stats.duplicate_fills == 2


def test_close_writes_everything_and_refuses_more():
    writer = LedgerWriter("demo", interval_ms=10_000)
    for match in range(1, 4):
        writer.submit(_core_fill(match=match))
    writer.close()
    assert Fill.objects.count() == 3
    assert not writer._thread.is_alive()
    with pytest.raises(RuntimeError):
        writer.submit(_core_fill(match=9))
    writer.close()  # idempotent


def test_submit_refuses_unknown_records(writers):
    writer = writers()
    with pytest.raises(TypeError):
        writer.submit(42)


def test_recovery_round_trip(writers):
    writer = writers()
    manager = OrderManager()
    portfolio = Portfolio(starting_cash=100_000 * 10_000)
    working = manager.new_order(
        OrderIntent("SYNA", BUY, 300, 1_000_000, TimeInForce.GTC, "mm"), now_ns=1
    )
    manager.on_accepted(working.order_id, now_ns=2)
    part = _core_fill(order_id=working.order_id, match=11, qty=100)
    manager.on_fill(part)
    portfolio.on_fill(part)
    done = manager.new_order(OrderIntent("SYNA", SELL, 100, 1_010_000), now_ns=3)
    manager.on_accepted(done.order_id, now_ns=4)
    manager.on_fill(CoreFill(done.order_id, "SYNA", SELL, 100, 1_010_000, ts_ns=5, match_number=12))
    unsent = manager.new_order(OrderIntent("SYNB", SELL, 10, 500_000), now_ns=6)
    for order in (working, done, unsent):
        writer.submit(order)
    writer.submit(portfolio.snapshot())
    writer.submit(GatewayRecord(session="OLD", next_sequence=5))
    portfolio.mark("SYNA", 1_005_000)
    writer.submit(portfolio.snapshot())
    writer.submit(GatewayRecord(session="S20260105", next_sequence=42))
    assert writer.flush()

    state = load_recovery("demo")
    assert state.gateway_session == "S20260105"
    assert state.next_sequence == 42
    assert state.portfolio_snapshot == portfolio.snapshot().as_dict()
    restored = Portfolio.restore(state.portfolio_snapshot)
    assert restored.snapshot() == portfolio.snapshot()
    assert [o.order_id for o in state.open_orders] == [working.order_id, unsent.order_id]
    got = state.open_orders[0]
    for name in ("symbol", "side", "qty", "price", "tif", "strategy", "state", "filled_qty"):
        assert getattr(got, name) == getattr(working, name), name
    assert got.fill_notional == working.fill_notional
    assert got.working_qty == working.working_qty == 200
    assert state.open_orders[1].state == OrderState.NEW


def test_recovery_of_an_unknown_account_is_empty():
    state = load_recovery("nobody")
    assert state.portfolio_snapshot is None
    assert (state.gateway_session, state.next_sequence, state.open_orders) == ("", 1, [])


def test_a_failed_batch_retries_fills_and_orders_and_counts_the_rest(writers, monkeypatch):
    writer = writers(interval_ms=10, start=False)
    real = writer._write_batch
    calls = []

    def flaky(batch):
        calls.append(len(batch))
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real(batch)

    monkeypatch.setattr(writer, "_write_batch", flaky)
    writer.submit(_core_fill(match=1))
    writer.submit(EquityRecord(1, 0, 0))
    writer.start()
    assert writer.flush()
    assert Fill.objects.count() == 1
    assert EquityPoint.objects.count() == 0
    assert writer.stats.failed == 1
