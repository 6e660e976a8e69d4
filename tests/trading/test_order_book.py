"""Specification of the limit order book (trading.order_book) and its plain-Python reference.

Prices are in 1e-4 dollars (5853300 = $585.33), the default tick is one cent (100).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trading.order_book import (
    ADD,
    BOOK_EVENT_DTYPE,
    BUY,
    CANCEL,
    DELETE,
    EXECUTE,
    FLAG_AMEND,
    FLAG_CANCEL,
    FLAG_IOC,
    FLAG_MARKET,
    ORDER_DTYPE,
    REPLACE,
    SELL,
    DuplicateOrderRef,
    Fill,
    InvalidOrderRef,
    InvalidPrice,
    InvalidQuantity,
    InvalidSide,
    OrderBook,
    OrderBookError,
    OrderInfo,
    RestingOrder,
    StaleResultError,
    UnknownOrderRef,
    apply_events,
    match_batch,
)
from trading.reference_book import ReferenceBook

P = 5853300  # $585.33
C = 100  # one cent


@pytest.fixture(params=["fast", "reference"])
def book(request):
    """Every behavioural spec below holds for both implementations."""
    return OrderBook() if request.param == "fast" else ReferenceBook()


def depth_lists(b, n=50):
    d = b.depth(n)
    return [list(map(int, a)) for a in d]


# ---------------------------------------------------------------------------------------------
# Reconstruction: add / execute / cancel / delete / replace
# ---------------------------------------------------------------------------------------------


def test_empty_book_has_zero_zero_best_prices_and_no_orders(book):
    assert book.best_bid() == (0, 0)
    assert book.best_ask() == (0, 0)
    assert len(book) == 0
    assert list(book) == []
    assert depth_lists(book) == [[], [], [], [], [], []]


def test_add_rests_orders_and_best_levels_report_price_and_total_qty(book):
    book.add(1, BUY, P, 100, owner=3, ts_ns=10)
    book.add(2, BUY, P, 50)
    book.add(3, BUY, P - C, 70)
    book.add(4, SELL, P + 2 * C, 40)
    assert book.best_bid() == (P, 150)
    assert book.best_ask() == (P + 2 * C, 40)
    assert len(book) == 4
    assert 1 in book and 5 not in book and 0 not in book
    assert book.order(0) is None
    assert book.order(1) == OrderInfo(BUY, P, 100, 3)
    assert book.order(5) is None


def test_execute_reduces_remaining_and_removes_the_order_at_zero(book):
    book.add(1, SELL, P, 100)
    assert book.execute(1, 30) == 70
    assert book.best_ask() == (P, 70)
    assert book.execute(1, 70) == 0
    assert 1 not in book
    assert book.best_ask() == (0, 0)


def test_partial_cancel_keeps_time_priority(book):
    book.add(1, BUY, P, 100)
    book.add(2, BUY, P, 100)
    assert book.cancel(1, 60) == 40
    assert [o.ref for o in book] == [1, 2]
    assert book.queue_ahead(2) == 40
    assert book.cancel(1, 40) == 0
    assert 1 not in book


def test_delete_returns_the_remaining_shares_and_frees_the_level(book):
    book.add(1, SELL, P, 100)
    book.execute(1, 25)
    assert book.delete(1) == 75
    assert len(book) == 0
    assert book.best_ask() == (0, 0)


def test_replace_puts_the_new_ref_at_the_back_with_same_side_and_owner(book):
    book.add(1, BUY, P, 100, owner=9)
    book.add(2, BUY, P, 100)
    book.replace(1, 11, 80, P, ts_ns=5)
    assert 1 not in book
    assert book.order(11) == OrderInfo(BUY, P, 80, 9)
    assert [o.ref for o in book] == [2, 11]


def test_best_level_moves_to_the_next_price_when_emptied(book):
    book.add(1, BUY, P, 10)
    book.add(2, BUY, P - 3 * C, 20)
    book.add(3, SELL, P + C, 30)
    book.add(4, SELL, P + 5 * C, 40)
    book.delete(1)
    book.delete(3)
    assert book.best_bid() == (P - 3 * C, 20)
    assert book.best_ask() == (P + 5 * C, 40)


def test_depth_lists_top_levels_best_first_with_order_counts(book):
    for i, (side, px, q) in enumerate(
        [
            (BUY, P, 10),
            (BUY, P, 5),
            (BUY, P - C, 7),
            (BUY, P - 4 * C, 1),
            (SELL, P + C, 3),
            (SELL, P + 2 * C, 4),
            (SELL, P + 2 * C, 6),
        ],
        start=1,
    ):
        book.add(i, side, px, q)
    assert depth_lists(book, 2) == [
        [P, P - C],
        [15, 7],
        [2, 1],
        [P + C, P + 2 * C],
        [3, 10],
        [1, 2],
    ]
    assert depth_lists(book, 10)[0] == [P, P - C, P - 4 * C]
    assert depth_lists(book, 0) == [[], [], [], [], [], []]


def test_iteration_yields_live_orders_in_priority_order_for_a_snapshot(book):
    book.add(1, SELL, P + 2 * C, 1, ts_ns=1)
    book.add(2, BUY, P - C, 2, ts_ns=2)
    book.add(3, SELL, P + C, 3, ts_ns=3)
    book.add(4, BUY, P, 4, owner=7, ts_ns=4)
    book.add(5, BUY, P - C, 5, ts_ns=5)
    book.add(6, SELL, P + C, 6, ts_ns=6)
    assert list(book) == [
        RestingOrder(4, BUY, P, 4, 7, 4),
        RestingOrder(2, BUY, P - C, 2, 0, 2),
        RestingOrder(5, BUY, P - C, 5, 0, 5),
        RestingOrder(3, SELL, P + C, 3, 0, 3),
        RestingOrder(6, SELL, P + C, 6, 0, 6),
        RestingOrder(1, SELL, P + 2 * C, 1, 0, 1),
    ]


def test_queue_ahead_counts_shares_in_front_at_the_same_level(book):
    book.add(1, BUY, P, 100)
    book.add(2, BUY, P - C, 500)
    book.add(3, BUY, P, 30)
    book.add(4, BUY, P, 7)
    assert book.queue_ahead(1) == 0
    assert book.queue_ahead(3) == 100
    assert book.queue_ahead(4) == 130
    book.execute(1, 60)
    assert book.queue_ahead(4) == 70
    with pytest.raises(UnknownOrderRef):
        book.queue_ahead(99)


# ---------------------------------------------------------------------------------------------
# Matching: submit
# ---------------------------------------------------------------------------------------------


def test_limit_order_that_does_not_cross_rests_whole(book):
    book.add(1, SELL, P + C, 100)
    r = book.submit(10, BUY, P, 40, owner=1, ts_ns=5)
    assert (r.filled, r.resting, r.cancelled) == (0, 40, 0)
    assert r.fill_list() == []
    assert book.best_bid() == (P, 40)


def test_fills_in_one_level_go_to_the_oldest_order_first(book):
    book.add(1, SELL, P, 100, owner=11)
    book.add(2, SELL, P, 100, owner=12)
    book.add(3, SELL, P, 100, owner=13)
    r = book.submit(10, BUY, P, 150, owner=1)
    assert r.fill_list() == [
        Fill(maker_ref=1, maker_owner=11, price=P, qty=100, match_number=1, maker_remaining=0),
        Fill(maker_ref=2, maker_owner=12, price=P, qty=50, match_number=2, maker_remaining=50),
    ]
    assert (r.filled, r.resting, r.cancelled) == (150, 0, 0)
    assert [(o.ref, o.qty) for o in book] == [(2, 50), (3, 100)]


def test_buy_sweeps_levels_at_the_makers_prices_and_rests_the_rest_at_its_limit(book):
    book.add(1, SELL, P, 100)
    book.add(2, SELL, P + C, 200)
    book.add(3, SELL, P + 3 * C, 300)
    r = book.submit(10, BUY, P + 2 * C, 500, owner=1)
    assert [(f.maker_ref, f.price, f.qty) for f in r.fill_list()] == [(1, P, 100), (2, P + C, 200)]
    assert (r.filled, r.resting, r.cancelled) == (300, 200, 0)
    assert book.best_bid() == (P + 2 * C, 200)
    assert book.best_ask() == (P + 3 * C, 300)


def test_sell_limit_stops_at_its_price(book):
    book.add(1, BUY, P, 10)
    book.add(2, BUY, P - C, 10)
    book.add(3, BUY, P - 2 * C, 10)
    r = book.submit(10, SELL, P - C, 100)
    assert [f.maker_ref for f in r.fill_list()] == [1, 2]
    assert r.resting == 80
    assert book.best_ask() == (P - C, 80)
    assert book.best_bid() == (P - 2 * C, 10)


def test_ioc_remainder_is_cancelled_not_rested(book):
    book.add(1, SELL, P, 30)
    r = book.submit(10, BUY, P, 100, ioc=True)
    assert (r.filled, r.resting, r.cancelled) == (30, 0, 70)
    assert 10 not in book
    assert book.best_bid() == (0, 0)


def test_market_order_ignores_price_and_cancels_what_the_book_cannot_fill(book):
    book.add(1, BUY, P, 30)
    book.add(2, BUY, 100 * C, 20)  # $1.00
    r = book.submit(10, SELL, 0, 80, market=True)
    assert [(f.price, f.qty) for f in r.fill_list()] == [(P, 30), (100 * C, 20)]
    assert (r.filled, r.resting, r.cancelled) == (50, 0, 30)
    assert len(book) == 0


def test_market_order_on_an_empty_side_is_cancelled_whole(book):
    r = book.submit(10, BUY, 0, 80, market=True)
    assert (r.filled, r.resting, r.cancelled) == (0, 0, 80)


def test_match_numbers_increase_by_one_per_fill_across_the_book(book):
    for i in range(1, 5):
        book.add(i, SELL, P, 10)
    a = book.submit(10, BUY, P, 25).fill_list()
    b = book.submit(11, BUY, P, 15).fill_list()
    assert [f.match_number for f in a] == [1, 2, 3]
    assert [f.match_number for f in b] == [4, 5]
    assert book.last_match_number == 5


def test_fills_array_columns_are_maker_ref_owner_price_qty_match_remaining(book):
    book.add(1, SELL, P, 10, owner=4)
    r = book.submit(10, BUY, P, 4)
    assert r.fills.tolist() == [[1, 4, P, 4, 1, 6]]


def test_fast_book_result_views_go_stale_after_the_next_change():
    b = OrderBook()
    b.add(1, SELL, P, 10)
    r = b.submit(10, BUY, P, 4)
    kept = r.fill_list()
    b.add(2, SELL, P, 10)
    with pytest.raises(StaleResultError):
        _ = r.fills
    assert kept[0].qty == 4 and r.filled == 4


# ---------------------------------------------------------------------------------------------
# Self-trade prevention
# ---------------------------------------------------------------------------------------------


def test_stp_cancel_newest_cancels_the_incoming_remainder_after_earlier_fills(book):
    book.add(1, SELL, P, 10, owner=2)
    book.add(2, SELL, P, 10, owner=1)  # same firm as the incoming order
    book.add(3, SELL, P, 10, owner=3)
    r = book.submit(10, BUY, P, 25, owner=1, self_trade="cancel_newest")
    assert [f.maker_ref for f in r.fill_list()] == [1]
    assert (r.filled, r.resting, r.cancelled, r.stp_cancelled) == (10, 0, 15, 15)
    assert [o.ref for o in book] == [2, 3]


def test_stp_cancel_oldest_cancels_the_resting_order_and_keeps_matching(book):
    book.add(1, SELL, P, 10, owner=2)
    book.add(2, SELL, P, 10, owner=1)
    book.add(3, SELL, P, 10, owner=3)
    r = book.submit(10, BUY, P, 25, owner=1, self_trade="cancel_oldest")
    assert [f.maker_ref for f in r.fill_list()] == [1, 3]
    assert r.stp_list() == [(2, 10)]
    assert (r.filled, r.resting, r.cancelled, r.stp_cancelled) == (20, 5, 0, 0)
    assert [(o.ref, o.side) for o in book] == [(10, BUY)]


def test_stp_cancel_both_cancels_resting_and_incoming(book):
    book.add(1, SELL, P, 10, owner=1)
    book.add(2, SELL, P, 10, owner=3)
    r = book.submit(10, BUY, P, 25, owner=1, self_trade="cancel_both")
    assert r.stp_list() == [(1, 10)]
    assert (r.filled, r.resting, r.cancelled, r.stp_cancelled) == (0, 0, 25, 25)
    assert [o.ref for o in book] == [2]


def test_owner_zero_never_triggers_stp(book):
    book.add(1, SELL, P, 10, owner=0)
    r = book.submit(10, BUY, P, 10, owner=0)
    assert r.filled == 10 and r.stp_cancelled == 0


def test_stp_none_lets_a_firm_trade_with_itself(book):
    book.add(1, SELL, P, 10, owner=5)
    r = book.submit(10, BUY, P, 10, owner=5, self_trade="none")
    assert r.filled == 10


def test_unknown_self_trade_mode_is_a_value_error(book):
    with pytest.raises(ValueError):
        book.submit(10, BUY, P, 10, owner=5, self_trade="decrement")


# ---------------------------------------------------------------------------------------------
# Amend (cancel/replace) priority rules
# ---------------------------------------------------------------------------------------------


def test_amend_size_down_at_the_same_price_keeps_time_priority(book):
    book.add(1, BUY, P, 100, ts_ns=1)
    book.add(2, BUY, P, 100, ts_ns=2)
    r = book.amend(1, 60, P, ts_ns=3)
    assert (r.filled, r.resting) == (0, 60)
    assert [(o.ref, o.qty, o.ts_ns) for o in book] == [(1, 60, 1), (2, 100, 2)]
    assert book.best_bid() == (P, 160)


def test_amend_size_up_loses_time_priority(book):
    book.add(1, BUY, P, 100)
    book.add(2, BUY, P, 100)
    book.amend(1, 101, P, ts_ns=3)
    assert [(o.ref, o.qty, o.ts_ns) for o in book] == [(2, 100, 0), (1, 101, 3)]


def test_amend_price_change_loses_time_priority_even_when_smaller(book):
    book.add(1, BUY, P - C, 100)
    book.add(2, BUY, P, 100)
    book.add(3, BUY, P - C, 100)
    book.amend(1, 50, P)
    assert [o.ref for o in book] == [2, 1, 3]
    assert book.queue_ahead(1) == 100


def test_amend_to_a_crossing_price_matches_and_rests_the_rest(book):
    book.add(1, SELL, P + C, 30, owner=2)
    book.add(2, BUY, P, 100, owner=1)
    r = book.amend(2, 100, P + C)
    assert [(f.maker_ref, f.qty, f.price) for f in r.fill_list()] == [(1, 30, P + C)]
    assert (r.filled, r.resting, r.cancelled) == (30, 70, 0)
    assert book.best_bid() == (P + C, 70)
    assert book.best_ask() == (0, 0)


def test_amend_replace_gives_a_new_ref_and_keeps_priority_on_size_down(book):
    book.add(1, SELL, P, 100, owner=4)
    book.add(2, SELL, P, 100)
    r = book.amend_replace(1, 21, 90, P)
    assert r.ref == 21
    assert 1 not in book
    assert book.order(21) == OrderInfo(SELL, P, 90, 4)
    assert [o.ref for o in book] == [21, 2]


def test_amend_replace_to_a_live_ref_is_a_duplicate(book):
    book.add(1, SELL, P, 100)
    book.add(2, SELL, P, 100)
    with pytest.raises(DuplicateOrderRef):
        book.amend_replace(1, 2, 50, P)
    assert book.order(1) == OrderInfo(SELL, P, 100, 0)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda b: b.add(1, BUY, P, 10), DuplicateOrderRef),
        (lambda b: b.submit(1, SELL, P + C, 10), DuplicateOrderRef),
        (lambda b: b.execute(99, 1), UnknownOrderRef),
        (lambda b: b.cancel(99, 1), UnknownOrderRef),
        (lambda b: b.delete(99), UnknownOrderRef),
        (lambda b: b.replace(99, 100, 1, P), UnknownOrderRef),
        (lambda b: b.amend(99, 1, P), UnknownOrderRef),
        (lambda b: b.add(2, BUY, P + 1, 10), InvalidPrice),  # $585.3301 is off the cent grid
        (lambda b: b.submit(2, BUY, 0, 10), InvalidPrice),
        (lambda b: b.submit(2, BUY, -C, 10), InvalidPrice),
        (lambda b: b.amend(1, 10, P + 50), InvalidPrice),
        (lambda b: b.submit(2, BUY, P, 0), InvalidQuantity),
        (lambda b: b.add(2, BUY, P, -5), InvalidQuantity),
        (lambda b: b.execute(1, 11), InvalidQuantity),
        (lambda b: b.cancel(1, 0), InvalidQuantity),
        (lambda b: b.amend(1, 0, P), InvalidQuantity),
        (lambda b: b.submit(2, 0, P, 10), InvalidSide),
        (lambda b: b.add(2, 2, P, 10), InvalidSide),
        (lambda b: b.submit(0, BUY, P, 10), InvalidOrderRef),
        (lambda b: b.add(-3, BUY, P, 10), InvalidOrderRef),
        (lambda b: b.submit(2**63, BUY, P, 10), InvalidOrderRef),
        (lambda b: b.submit(2, BUY, P, 2**64), InvalidQuantity),
        (lambda b: b.add(2, BUY, 2**64, 10), InvalidPrice),
        (lambda b: b.execute(2**64, 1), UnknownOrderRef),
        (lambda b: b.delete(-(2**64)), UnknownOrderRef),
        (lambda b: b.cancel(1, 2**70), InvalidQuantity),
        (lambda b: b.amend_replace(1, 2**63, 5, P), InvalidOrderRef),
        (lambda b: b.delete(0), UnknownOrderRef),  # 0 marks empty hash slots internally
        (lambda b: b.execute(0, 1), UnknownOrderRef),
        (lambda b: b.cancel(-1, 1), UnknownOrderRef),
        (lambda b: b.amend(0, 5, P), UnknownOrderRef),
        (lambda b: b.replace(0, 5, 5, P), UnknownOrderRef),
        (lambda b: b.queue_ahead(0), UnknownOrderRef),
    ],
)
def test_rejects_raise_a_specific_error_and_leave_the_book_unchanged(book, call, error):
    book.add(1, BUY, P, 10)
    before = (list(book), depth_lists(book))
    with pytest.raises(error):
        call(book)
    assert issubclass(error, OrderBookError)
    assert (list(book), depth_lists(book)) == before


def test_a_float_price_is_a_type_error_not_a_silent_truncation():
    b = OrderBook()
    with pytest.raises(TypeError):
        b.submit(1, BUY, 585.33, 10)
    assert len(b) == 0


def test_numpy_integers_are_accepted():
    b = OrderBook()
    r = b.submit(np.int64(1), np.int8(BUY), np.int64(P), np.int32(10), np.int64(3), np.int64(7))
    assert r.resting == 10 and b.order(1) == OrderInfo(BUY, P, 10, 3)


def test_tick_size_defines_the_price_grid():
    b = OrderBook(tick_size=1)
    b.add(1, BUY, P + 1, 10)  # $585.3301 is fine on a 1e-4 grid
    assert b.best_bid() == (P + 1, 10)
    b5 = ReferenceBook(tick_size=500)
    with pytest.raises(InvalidPrice):
        b5.add(1, BUY, P, 10)


# ---------------------------------------------------------------------------------------------
# Growth
# ---------------------------------------------------------------------------------------------


def test_pool_and_hash_grow_beyond_the_initial_capacity():
    b = OrderBook(capacity=16)
    rng = np.random.default_rng(1)
    refs = np.unique(rng.integers(1, 2**63 - 1, size=5200, dtype=np.int64))[:5000]
    rng.shuffle(refs)
    for i, ref in enumerate(refs.tolist()):
        b.add(ref, BUY if i % 2 else SELL, P + (1 if i % 2 else -1) * (1 + i % 50) * C, 1 + i)
    assert len(b) == 5000 and b.capacity >= 5000
    for ref in refs[::2].tolist():
        b.delete(ref)
    assert len(b) == 2500
    assert all(ref in b for ref in refs[1::2].tolist())
    assert not any(ref in b for ref in refs[::2].tolist())
    b.check_invariants(allow_crossed=True)


def test_hash_deletion_keeps_colliding_refs_reachable():
    # Multiples of a large power of two collide in the low bits of naive hashes.
    b = OrderBook(capacity=16)
    refs = [k << 40 for k in range(1, 400)]
    for r in refs:
        b.add(r, BUY, P, 1)
    for r in refs[::3]:
        b.delete(r)
    for r in refs[1::3]:
        b.execute(r, 1)
    assert [o.ref for o in b] == refs[2::3]
    b.check_invariants()


def test_prices_far_from_the_first_one_regrow_the_level_window():
    b = OrderBook()
    b.add(1, BUY, P, 10)
    b.add(2, SELL, P + C, 10)
    b.add(3, BUY, 100 * C, 5)  # $1.00
    b.add(4, SELL, 50_000_000, 7)  # $5000
    b.add(5, BUY, C, 1)  # $0.01
    assert b.depth(5).bid_prices.tolist() == [P, 100 * C, C]
    assert b.depth(5).ask_prices.tolist() == [P + C, 50_000_000]
    r = b.submit(6, BUY, 60_000_000, 20, ioc=True)  # IOC far away needs no window
    assert [f.price for f in r.fill_list()] == [P + C, 50_000_000]
    b.delete(1)
    assert b.best_bid() == (100 * C, 5)
    b.check_invariants()


def test_an_empty_book_recentres_on_any_price():
    b = OrderBook()
    for i, px in enumerate([P, 10_000 * 10_000, C, P], start=1):
        b.add(i, SELL, px, 1)
        b.delete(i)
    b.add(9, BUY, 3 * C, 2)
    assert b.best_bid() == (3 * C, 2)


def test_a_price_beyond_the_maximum_window_is_refused():
    b = OrderBook()
    b.add(1, BUY, P, 10)
    with pytest.raises(InvalidPrice):
        b.add(2, SELL, 100_000 * 10_000, 10)  # $100,000 with a book at $585
    assert len(b) == 1


# ---------------------------------------------------------------------------------------------
# Property tests: the fast book behaves exactly like the reference
# ---------------------------------------------------------------------------------------------

MID = st.integers(-2, 12).map(lambda k: 10_000 + k * C)
BAD_PRICES = st.sampled_from([1, 0, -C, 10_000 + 1])  # off the grid or not positive
PRICES = st.sampled_from(["mid"] * 9 + ["bad"]).flatmap(lambda k: MID if k == "mid" else BAD_PRICES)
FAR = st.sampled_from([C, 50_000 * C])  # $0.01 and $500: exercise window re-basing
SUBMIT_PRICES = st.sampled_from(["near"] * 9 + ["far"]).flatmap(
    lambda k: PRICES if k == "near" else FAR
)
QTY = st.integers(0, 60)
OWNERS = st.integers(0, 3)
STP = st.sampled_from(["cancel_newest", "cancel_oldest", "cancel_both", "none"])
SIDES = st.sampled_from([BUY, SELL] * 6 + [0])
IOC = st.sampled_from([False] * 4 + [True])
MARKET = st.sampled_from([False] * 9 + [True])

# Ops name orders and quantities symbolically, resolved against the reference book just before
# each step: ("fresh",) is an unused ref, ("live", k) the k-th live order (modulo their count),
# ("rel_qty", d) / ("rel_price", d) are relative to that order's remaining qty / price. So ops
# mostly hit live orders and the edge cases (one share less, all of it, same price) come up often.
# Plain integers are fixed refs, which may be unknown or duplicates.
FIXED_REF = st.integers(-1, 12)
NEW_REF = st.sampled_from(["fresh"] * 9 + ["fixed"]).flatmap(
    lambda k: st.just(("fresh",)) if k == "fresh" else FIXED_REF
)
LIVE_REF = st.sampled_from(["live"] * 9 + ["fixed"]).flatmap(
    lambda k: st.integers(0, 40).map(lambda i: ("live", i)) if k == "live" else FIXED_REF
)
REL_QTY = st.one_of(
    QTY.map(lambda q: ("abs", q)),
    st.sampled_from([-3, -1, -1, 0, 1, 2]).map(lambda d: ("rel_qty", d)),
    st.sampled_from([-1, 0, 2]).map(lambda d: ("rel_qty", d)),
)
REL_PRICE = st.one_of(
    PRICES.map(lambda p: ("abs", p)),
    st.just(("rel_price", 0)),
    st.sampled_from([0, 1, -1, 3]).map(lambda d: ("rel_price", d * C)),
)

_OP_ARGS = {
    "submit": (NEW_REF, SIDES, SUBMIT_PRICES, QTY, OWNERS, IOC, MARKET, STP),
    "amend": (LIVE_REF, REL_QTY, REL_PRICE, STP),
    "amend_replace": (LIVE_REF, NEW_REF, REL_QTY, REL_PRICE, STP),
    "delete": (LIVE_REF,),
    "cancel": (LIVE_REF, REL_QTY),
    "execute": (LIVE_REF, REL_QTY),
    "add": (NEW_REF, SIDES, SUBMIT_PRICES, QTY, OWNERS),
    "replace": (LIVE_REF, NEW_REF, REL_QTY, REL_PRICE),
}


def _ops(weights):
    """Op tuples (name, *args) with names drawn in proportion to `weights`."""
    names = [name for name, w in weights.items() for _ in range(w)]
    return st.sampled_from(names).flatmap(lambda name: st.tuples(st.just(name), *_OP_ARGS[name]))


MATCH_OPS = _ops(
    {"submit": 6, "amend": 3, "amend_replace": 1, "delete": 1, "cancel": 1, "execute": 1}
)
FEED_OPS = _ops(
    {
        "submit": 3,
        "add": 3,
        "replace": 2,
        "amend": 2,
        "amend_replace": 1,
        "delete": 1,
        "cancel": 1,
        "execute": 1,
    }
)


def _resolve(op, ref_book, fresh):
    """Turn the symbolic arguments of `op` into concrete ones (see above)."""
    live = [o.ref for o in ref_book]
    out = [op[0]]
    order = None
    for a in op[1:]:
        if isinstance(a, tuple):
            kind, *v = a
            if kind == "fresh":
                a = next(fresh)
            elif kind == "live":
                a = live[v[0] % len(live)] if live else 99
            elif kind == "abs":
                a = v[0]
            elif kind == "rel_qty":
                a = v[0] + (10 if order is None else order.remaining)
                if op[0] in ("cancel", "execute") and v[0] == 2 and order is not None:
                    a = order.remaining  # "all of it" rather than too many
            elif kind == "rel_price":
                a = v[0] + (10_000 if order is None else order.price)
        if len(out) == 1:
            order = ref_book.order(a)
        out.append(a)
    return tuple(out)


def _run(book, op, step):
    """Apply one op; return a comparable outcome (result fields or the exception type)."""
    name, *args = op
    try:
        if name == "submit":
            ref, side, price, qty, owner, ioc, market, stp = args
            r = book.submit(
                ref, side, price, qty, owner, step, ioc=ioc, market=market, self_trade=stp
            )
        elif name == "amend":
            ref, qty, price, stp = args
            r = book.amend(ref, qty, price, step, self_trade=stp)
        elif name == "amend_replace":
            ref, new_ref, qty, price, stp = args
            r = book.amend_replace(ref, new_ref, qty, price, step, self_trade=stp)
        elif name == "add":
            ref, side, price, qty, owner = args
            return book.add(ref, side, price, qty, owner, step)
        elif name == "replace":
            ref, new_ref, qty, price = args
            return book.replace(ref, new_ref, qty, price, step)
        else:
            return getattr(book, name)(*args)
    except OrderBookError as e:
        return type(e)
    assert r.filled + r.resting + r.cancelled == r.qty
    return (r.ref, r.filled, r.resting, r.cancelled, r.stp_cancelled, r.fill_list(), r.stp_list())


def _same_state(fast, ref):
    assert list(fast) == list(ref)
    assert depth_lists(fast, 100) == depth_lists(ref, 100)
    assert fast.best_bid() == ref.best_bid() and fast.best_ask() == ref.best_ask()
    assert len(fast) == len(ref)
    assert fast.last_match_number == ref.last_match_number


def _book_shares(book):
    return sum(o.qty for o in book)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(MATCH_OPS, min_size=10, max_size=80))
def test_matching_ops_agree_with_the_reference_and_keep_the_invariants(ops):
    fast, ref = OrderBook(capacity=16, levels=64), ReferenceBook()
    fresh = itertools.count(1)
    entered = traded = removed = 0
    for step, op in enumerate(ops, start=1):
        op = _resolve(op, ref, fresh)
        before = ref.order(op[1])
        outcome = _run(fast, op, step)
        assert outcome == _run(ref, op, step), op
        fast.check_invariants()
        _same_state(fast, ref)
        # Conservation of shares: every share entered is resting, traded (twice: taker and
        # maker side of a fill), executed, or cancelled.
        if isinstance(outcome, tuple):
            _, filled, resting, cancelled, _, _, stp = outcome
            if op[0] == "submit":
                entered += op[4]
                traded += 2 * filled
                removed += cancelled + sum(q for _, q in stp)
            elif op[-2] == before.price and op[-3] <= before.remaining:
                removed += before.remaining - op[-3]  # amended down in place, kept priority
            else:
                removed += before.remaining  # taken out and re-entered as a new order
                entered += op[-3]
                traded += 2 * filled
                removed += cancelled + sum(q for _, q in stp)
        elif op[0] == "delete" and isinstance(outcome, int):
            removed += outcome
        elif op[0] in ("cancel", "execute") and isinstance(outcome, int):
            removed += before.remaining - outcome
        assert entered == _book_shares(fast) + traded + removed


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(FEED_OPS, min_size=10, max_size=80))
def test_feed_and_matching_ops_mixed_agree_with_the_reference(ops):
    fast, ref = OrderBook(capacity=16, levels=64), ReferenceBook()
    fresh = itertools.count(1)
    for step, op in enumerate(ops, start=1):
        op = _resolve(op, ref, fresh)
        assert _run(fast, op, step) == _run(ref, op, step), op
        fast.check_invariants(allow_crossed=True)
        _same_state(fast, ref)
        for o in list(ref)[:3]:
            assert fast.queue_ahead(o.ref) == ref.queue_ahead(o.ref)


# ---------------------------------------------------------------------------------------------
# Batch kernels give the same book as the methods one by one
# ---------------------------------------------------------------------------------------------


def _feed_events(n, seed):
    """A random but mostly valid order-by-order feed, with some bad events mixed in."""
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, BOOK_EVENT_DTYPE)
    live: list[int] = []
    next_ref = 1
    for i in range(n):
        u = rng.random()
        ev[i]["ts_ns"] = i
        if u < 0.45 or not live:
            side = BUY if rng.random() < 0.5 else SELL
            far = rng.random() < 0.01
            px = (rng.integers(1, 20_000) if far else 10_000 + side * -rng.integers(1, 30)) * C
            ev[i] = (i, next_ref, 0, px, rng.integers(1, 500), rng.integers(0, 4), side, ADD)
            live.append(next_ref)
            next_ref += 1
        elif u < 0.97:
            k = rng.integers(len(live))
            ref = live[k]
            kind = [CANCEL, DELETE, EXECUTE, REPLACE][rng.integers(4)]
            ev[i]["kind"], ev[i]["ref"] = kind, ref
            ev[i]["qty"] = 1 if kind in (CANCEL, EXECUTE) else rng.integers(1, 500)
            if kind == DELETE:
                live.pop(k)
            elif kind == REPLACE:
                ev[i]["new_ref"] = next_ref
                ev[i]["price"] = (10_000 + rng.integers(-30, 30)) * C
                live[k] = next_ref
                next_ref += 1
        else:
            # Unknown refs (orders from before the feed started), a duplicate add, bad kind.
            ev[i] = [
                (i, 10**12 + i, 0, 0, 1, 0, 0, DELETE),
                (i, 10**12 + i, 0, 0, 1, 0, 0, EXECUTE),
                (i, live[0], 0, 10_000 * C, 1, 0, BUY, ADD),
                (i, 1, 0, 0, 0, 0, 0, 9),
                (i, 0, 0, 0, 1, 0, 0, EXECUTE),  # e.g. a hidden execution, which has no ref
            ][rng.integers(5)]
    return ev


def _apply_one_by_one(book, events):
    applied = errors = 0
    for e in events.tolist():
        ts, ref, new_ref, price, qty, owner, side, kind = e
        try:
            if kind == ADD:
                book.add(ref, side, price, qty, owner, ts)
            elif kind == CANCEL:
                book.cancel(ref, qty)
            elif kind == EXECUTE:
                book.execute(ref, qty)
            elif kind == DELETE:
                book.delete(ref)
            elif kind == REPLACE:
                book.replace(ref, new_ref, qty, price, ts)
            else:
                raise OrderBookError("bad kind")
        except OrderBookError:
            errors += 1
        else:
            applied += 1
    return applied, errors


def test_apply_events_builds_the_same_book_as_the_methods_and_counts_errors():
    events = _feed_events(6000, seed=7)
    fast = OrderBook(capacity=16, levels=64)
    n = apply_events(fast, events)
    one, ref = OrderBook(), ReferenceBook()
    assert _apply_one_by_one(one, events) == (n, fast.event_errors)
    assert _apply_one_by_one(ref, events) == (n, fast.event_errors)
    assert fast.event_error_counts.keys() == {"unknown_ref", "duplicate_ref", "invalid_kind"}
    assert fast.snapshot().tolist() == one.snapshot().tolist()
    assert list(fast) == list(ref)
    fast.check_invariants(allow_crossed=True)


def test_apply_events_rejects_arrays_of_another_dtype():
    with pytest.raises(TypeError):
        apply_events(OrderBook(), np.zeros(3, ORDER_DTYPE))


def _order_stream(n, seed):
    """Seeded order entry: a third of the orders cross, some IOC/market, cancels and amends."""
    rng = np.random.default_rng(seed)
    od = np.zeros(n, ORDER_DTYPE)
    for i in range(n):
        side = BUY if rng.random() < 0.5 else SELL
        cross = rng.random() < 1 / 3
        ticks = rng.integers(0, 5) if cross else -rng.integers(1, 40)
        px = (10_000 + side * ticks) * C
        flags = 0
        u = rng.random()
        if u < 0.05:
            flags = FLAG_IOC
        elif u < 0.07:
            flags = FLAG_MARKET
        elif u < 0.20 and i:
            flags = FLAG_CANCEL
        elif u < 0.25 and i:
            flags = FLAG_AMEND
        ref = i + 1 if flags not in (FLAG_CANCEL, FLAG_AMEND) else rng.integers(1, i + 1)
        od[i] = (ref, px, rng.integers(1, 300), rng.integers(0, 6), i, side, flags)
    return od


def test_match_batch_gives_the_same_book_and_totals_as_submit_one_by_one():
    orders = _order_stream(5000, seed=3)
    fast = OrderBook(capacity=16, levels=64)
    totals = match_batch(fast, orders, self_trade="cancel_oldest")

    one, ref = OrderBook(), ReferenceBook()
    for b in (one, ref):
        fills = traded = rested = cancelled = resting_cancelled = errors = 0
        for ref_, price, qty, owner, ts, side, flags in orders.tolist():
            try:
                if flags & FLAG_CANCEL:
                    resting_cancelled += b.delete(ref_)
                    continue
                if flags & FLAG_AMEND:
                    r = b.amend(ref_, qty, price, ts, self_trade="cancel_oldest")
                else:
                    r = b.submit(
                        ref_,
                        side,
                        price,
                        qty,
                        owner,
                        ts,
                        ioc=bool(flags & FLAG_IOC),
                        market=bool(flags & FLAG_MARKET),
                        self_trade="cancel_oldest",
                    )
            except OrderBookError:
                errors += 1
                continue
            fills += r.n_fills
            traded += r.filled
            rested += r.resting
            cancelled += r.cancelled
            resting_cancelled += sum(q for _, q in r.stp_list())
        assert tuple(totals) == (
            len(orders),
            fills,
            traded,
            rested,
            cancelled,
            resting_cancelled,
            errors,
        )
    assert totals.fills > 1000 and totals.errors > 0
    assert fast.snapshot().tolist() == one.snapshot().tolist()
    assert list(fast) == list(ref)
    assert fast.last_match_number == ref.last_match_number == totals.fills
    fast.check_invariants()
