"""The engine's own order book: ids, state transitions, fills, cancels, timeouts, anomalies."""

from trading.model.orders import BUY, SELL, Fill, OrderIntent, TimeInForce
from trading.portfolio import Anomaly, AnomalyKind, OpenExposure, OrderManager, OrderState
from trading.prices import to_price

MS = 1_000_000
PX = to_price(150.02)


def kind(anomaly: Anomaly | None) -> AnomalyKind | None:
    return anomaly.kind if anomaly else None


def buy(qty: int = 100, price: int = PX, symbol: str = "AAPL") -> OrderIntent:
    return OrderIntent(symbol, BUY, qty, price, TimeInForce.DAY, "mm")


def fill_of(order_id: int, qty: int, price: int = PX, match: int = 0, side: int = BUY) -> Fill:
    return Fill(order_id, "AAPL", side, qty, price, 5 * MS, match_number=match)


def test_order_ids_are_monotonic_and_a_new_order_is_working_but_unacked():
    oms = OrderManager(first_order_id=100)
    a = oms.new_order(buy(), now_ns=1 * MS)
    b = oms.new_order(buy(), now_ns=2 * MS)
    assert (a.order_id, b.order_id) == (100, 101)
    assert a.state is OrderState.NEW
    assert not a.is_acked
    assert a.working_qty == 100
    assert oms.working_orders() == [a, b]
    assert oms.get(100) is a


def test_acceptance_trace_buy_acked_then_filled():
    oms = OrderManager()
    order = oms.new_order(buy(100, PX), now_ns=0)
    assert oms.on_accepted(order.order_id, now_ns=1 * MS) is None
    assert order.state is OrderState.ACCEPTED
    assert order.is_acked and order.acked_ns == 1 * MS
    assert oms.on_fill(fill_of(order.order_id, 100, match=1)) is None
    assert order.state is OrderState.FILLED
    assert order.filled_qty == 100
    assert order.avg_fill_price == PX
    assert order.working_qty == 0
    assert oms.working_orders() == []


def test_partial_fills_accumulate_quantity_and_average_price():
    oms = OrderManager()
    order = oms.new_order(buy(100, to_price(10.05)), 0)
    oms.on_accepted(order.order_id, 1)
    oms.on_fill(fill_of(order.order_id, 30, to_price(10.00), match=1))
    assert order.state is OrderState.PARTIALLY_FILLED
    assert (order.filled_qty, order.working_qty) == (30, 70)
    oms.on_fill(fill_of(order.order_id, 50, to_price(10.04), match=2))
    assert order.state is OrderState.PARTIALLY_FILLED
    assert order.avg_fill_price == (30 * 100_000 + 50 * 100_400) / 80
    oms.on_fill(fill_of(order.order_id, 20, to_price(10.05), match=3))
    assert order.state is OrderState.FILLED
    assert order not in oms.working_orders()


def test_a_fill_before_the_ack_counts_as_the_ack():
    oms = OrderManager()
    order = oms.new_order(buy(), 0)
    oms.on_fill(fill_of(order.order_id, 40, match=1))
    assert order.state is OrderState.PARTIALLY_FILLED
    assert order.is_acked
    assert oms.on_accepted(order.order_id, 2) is None  # the late ack is fine
    assert order.state is OrderState.PARTIALLY_FILLED


def test_cancel_of_a_partially_filled_order():
    oms = OrderManager()
    order = oms.new_order(buy(100), 0)
    oms.on_accepted(order.order_id, 1)
    oms.on_fill(fill_of(order.order_id, 40, match=1))
    assert oms.request_cancel(order.order_id, now_ns=2)
    assert order.state is OrderState.CANCEL_PENDING
    assert order.working_qty == 60  # still on the venue until it confirms
    assert oms.on_cancelled(order.order_id, 60, reason="U", now_ns=3) is None
    assert order.state is OrderState.CANCELLED
    assert (order.filled_qty, order.cancelled_qty, order.working_qty) == (40, 60, 0)
    assert order.reason == "U" and order.done_ns == 3
    assert oms.working_orders() == []
    assert not oms.request_cancel(order.order_id, now_ns=4)  # nothing left to cancel


def test_a_fill_racing_the_cancel_is_applied_and_a_full_fill_wins():
    oms = OrderManager()
    order = oms.new_order(buy(100), 0)
    oms.on_accepted(order.order_id, 1)
    oms.request_cancel(order.order_id, 2)
    assert oms.on_fill(fill_of(order.order_id, 30, match=1)) is None
    assert order.state is OrderState.CANCEL_PENDING
    assert oms.on_fill(fill_of(order.order_id, 70, match=2)) is None
    assert order.state is OrderState.FILLED
    late = oms.on_cancelled(order.order_id, 0, "too late")
    assert late is not None and late.kind is AnomalyKind.TERMINAL_ORDER


def test_a_partial_cancel_reduces_the_order_which_keeps_working():
    oms = OrderManager()
    order = oms.new_order(buy(100), 0)
    oms.on_accepted(order.order_id, 1)
    oms.request_cancel(order.order_id, 2)
    assert oms.on_cancelled(order.order_id, 30) is None
    assert order.state is OrderState.ACCEPTED
    assert order.working_qty == 70


def test_an_unsolicited_cancel_ends_an_ioc_remainder():
    oms = OrderManager()
    order = oms.new_order(OrderIntent("AAPL", SELL, 100, PX, TimeInForce.IOC), 0)
    oms.on_accepted(order.order_id, 1)
    oms.on_fill(fill_of(order.order_id, 25, match=1, side=SELL))
    assert oms.on_cancelled(order.order_id, 75, reason="I") is None
    assert order.state is OrderState.CANCELLED
    assert (order.filled_qty, order.cancelled_qty) == (25, 75)


def test_a_rejected_cancel_puts_the_order_back_where_it_was():
    oms = OrderManager()
    order = oms.new_order(buy(100), 0)
    oms.on_accepted(order.order_id, 1)
    oms.on_fill(fill_of(order.order_id, 10, match=1))
    oms.request_cancel(order.order_id, 2)
    assert oms.on_cancel_rejected(order.order_id, "busy") is None
    assert order.state is OrderState.PARTIALLY_FILLED
    assert kind(oms.on_cancel_rejected(order.order_id)) is AnomalyKind.UNEXPECTED


def test_a_cancel_that_crossed_the_last_fill_on_the_wire_is_no_anomaly():
    oms = OrderManager()
    order = oms.new_order(buy(100), 0)
    oms.on_accepted(order.order_id, 1)
    oms.request_cancel(order.order_id, 2)
    assert oms.on_fill(fill_of(order.order_id, 100, match=1)) is None
    assert order.state is OrderState.FILLED
    assert oms.on_cancel_rejected(order.order_id, "too late") is None
    assert order.state is OrderState.FILLED
    assert kind(oms.on_cancel_rejected(999)) is AnomalyKind.UNKNOWN_ORDER


def test_a_cancel_sent_before_the_ack_and_then_rejected_leaves_the_order_accepted():
    oms = OrderManager()
    order = oms.new_order(buy(100), 0)
    oms.request_cancel(order.order_id, 1)
    oms.on_accepted(order.order_id, 2)
    assert order.state is OrderState.CANCEL_PENDING
    oms.on_cancel_rejected(order.order_id)
    assert order.state is OrderState.ACCEPTED


def test_reject_ends_a_new_order_with_its_reason():
    oms = OrderManager()
    order = oms.new_order(buy(), 0)
    assert oms.on_rejected(order.order_id, "S", now_ns=7) is None
    assert order.state is OrderState.REJECTED
    assert order.reason == "S"
    assert order.working_qty == 0
    assert oms.working_orders() == []
    assert oms.open_exposure("AAPL") == OpenExposure()


def test_reject_of_an_accepted_order_is_an_anomaly():
    oms = OrderManager()
    order = oms.new_order(buy(), 0)
    oms.on_accepted(order.order_id, 1)
    anomaly = oms.on_rejected(order.order_id, "S")
    assert anomaly is not None and anomaly.kind is AnomalyKind.UNEXPECTED
    assert order.state is OrderState.ACCEPTED
    assert kind(oms.on_accepted(order.order_id, 2)) is AnomalyKind.UNEXPECTED  # twice


def test_replace_moves_the_order_to_a_new_id_and_the_old_one_leaves_the_working_set():
    oms = OrderManager()
    old = oms.new_order(buy(100, to_price(10.00)), 0)
    oms.on_accepted(old.order_id, 1)
    oms.on_fill(fill_of(old.order_id, 20, to_price(10.00), match=1))
    new = oms.request_replace(old.order_id, qty=80, price=to_price(10.01), now_ns=2)
    assert new.order_id == old.order_id + 1 and new.replaces == old.order_id
    # both count while the venue has not answered: risk over-counts, never under-counts
    assert oms.open_exposure("AAPL").buy_qty == 80 + 80
    assert oms.on_replaced(old.order_id, new.order_id, 80, to_price(10.01), now_ns=3) is None
    assert old.state is OrderState.REPLACED and old.replaced_by == new.order_id
    assert new.state is OrderState.ACCEPTED
    assert (new.working_qty, new.price) == (80, to_price(10.01))
    assert oms.working_orders() == [new]
    assert kind(oms.on_fill(fill_of(old.order_id, 5, match=2))) is AnomalyKind.TERMINAL_ORDER


def test_a_rejected_replace_leaves_the_original_working():
    oms = OrderManager()
    old = oms.new_order(buy(100), 0)
    oms.on_accepted(old.order_id, 1)
    new = oms.request_replace(old.order_id, qty=50, price=PX, now_ns=2)
    oms.on_rejected(new.order_id, "X")
    assert old.state is OrderState.ACCEPTED
    assert oms.working_orders() == [old]


def test_in_flight_quantities_count_unacked_orders_and_drop_finished_ones():
    oms = OrderManager()
    b1 = oms.new_order(buy(100, to_price(10.00)), 0)
    oms.new_order(buy(50, to_price(9.99)), 0)
    s1 = oms.new_order(OrderIntent("AAPL", SELL, 30, to_price(10.02)), 0)
    oms.new_order(buy(10, to_price(300.00), symbol="MSFT"), 0)

    before = oms.open_exposure("AAPL")
    assert before == OpenExposure(
        buy_qty=150,
        sell_qty=30,
        buy_notional=100 * 100_000 + 50 * 99_900,
        sell_notional=30 * 100_200,
        unacked_orders=3,
    )
    oms.on_accepted(b1.order_id, 1)
    oms.on_accepted(s1.order_id, 1)
    after_acks = oms.open_exposure("AAPL")
    assert (after_acks.buy_qty, after_acks.sell_qty, after_acks.unacked_orders) == (150, 30, 1)
    oms.on_fill(fill_of(b1.order_id, 60, to_price(10.00), match=1))
    oms.on_fill(fill_of(s1.order_id, 30, to_price(10.02), match=2, side=SELL))
    after_fills = oms.open_exposure("AAPL")
    assert (after_fills.buy_qty, after_fills.sell_qty) == (90, 0)
    assert after_fills.buy_notional == 40 * 100_000 + 50 * 99_900
    assert oms.open_exposure("MSFT").buy_qty == 10


def test_unacked_orders_time_out_once_per_request():
    oms = OrderManager()
    slow = oms.new_order(buy(), now_ns=0)
    quick = oms.new_order(buy(), now_ns=0)
    late_sent = oms.new_order(buy(), now_ns=40 * MS)
    oms.on_accepted(quick.order_id, 1 * MS)

    assert oms.expire_unacked(now_ns=49 * MS, timeout_ns=50 * MS) == []
    assert oms.expire_unacked(now_ns=50 * MS, timeout_ns=50 * MS) == [slow]
    assert oms.expire_unacked(now_ns=60 * MS, timeout_ns=50 * MS) == []  # reported already
    assert oms.expire_unacked(now_ns=90 * MS, timeout_ns=50 * MS) == [late_sent]
    assert slow.state is OrderState.NEW  # the engine decides: cancel or query

    # a cancel request that gets no answer times out too
    oms.request_cancel(slow.order_id, now_ns=100 * MS)
    assert oms.expire_unacked(now_ns=140 * MS, timeout_ns=50 * MS) == []
    assert oms.expire_unacked(now_ns=150 * MS, timeout_ns=50 * MS) == [slow]
    oms.on_cancelled(slow.order_id, 100)
    assert slow not in oms.working_orders()


def test_fills_for_unknown_or_finished_orders_and_replays_are_anomalies_not_applied():
    oms = OrderManager()
    order = oms.new_order(buy(100), 0)
    oms.on_accepted(order.order_id, 1)

    unknown = oms.on_fill(fill_of(999, 10, match=1))
    assert unknown is not None and unknown.kind is AnomalyKind.UNKNOWN_ORDER
    assert unknown.fill is not None and unknown.fill.qty == 10

    assert oms.on_fill(fill_of(order.order_id, 40, match=7)) is None
    replay = oms.on_fill(fill_of(order.order_id, 40, match=7))
    assert replay is not None and replay.kind is AnomalyKind.DUPLICATE_FILL
    assert order.filled_qty == 40

    wrong_side = oms.on_fill(fill_of(order.order_id, 10, match=8, side=SELL))
    assert wrong_side is not None and wrong_side.kind is AnomalyKind.MISMATCH
    assert order.filled_qty == 40

    oms.on_fill(fill_of(order.order_id, 60, match=9))
    after_done = oms.on_fill(fill_of(order.order_id, 5, match=10))
    assert after_done is not None and after_done.kind is AnomalyKind.TERMINAL_ORDER
    assert order.filled_qty == 100
    assert oms.anomaly_counts[AnomalyKind.DUPLICATE_FILL] == 1
    assert sum(oms.anomaly_counts.values()) == 4


def test_an_overfill_is_applied_because_the_venue_says_so_and_reported():
    oms = OrderManager()
    order = oms.new_order(buy(100), 0)
    oms.on_accepted(order.order_id, 1)
    anomaly = oms.on_fill(fill_of(order.order_id, 120, match=1))
    assert anomaly is not None and anomaly.kind is AnomalyKind.OVERFILL
    assert order.filled_qty == 120
    assert order.state is OrderState.FILLED


def test_events_for_unknown_orders_are_anomalies():
    oms = OrderManager()
    assert kind(oms.on_accepted(5, 0)) is AnomalyKind.UNKNOWN_ORDER
    assert kind(oms.on_cancelled(5, 10)) is AnomalyKind.UNKNOWN_ORDER
    assert kind(oms.on_rejected(5, "X")) is AnomalyKind.UNKNOWN_ORDER
    assert kind(oms.on_replaced(5, 6, 10, PX, 0)) is AnomalyKind.UNKNOWN_ORDER


def test_finished_orders_are_forgotten_beyond_the_retention_so_memory_stays_flat():
    oms = OrderManager(retained_finished=3)
    ids = []
    for _ in range(5):
        order = oms.new_order(OrderIntent("AAPL", BUY, 100, to_price(150.0)), 1)
        oms.on_rejected(order.order_id, "test", 2)
        ids.append(order.order_id)
    live = oms.new_order(OrderIntent("AAPL", BUY, 100, to_price(150.0)), 3)
    assert [oms.get(i) is not None for i in ids] == [False, False, True, True, True]
    assert oms.get(live.order_id) is live  # a working order is never forgotten
    late = oms.on_accepted(ids[0], 4)  # a late answer for a forgotten order is still noticed
    assert late is not None and late.kind is AnomalyKind.UNKNOWN_ORDER
