"""Rebuilding the order-by-order book from a LOBSTER level-5 day."""

from __future__ import annotations

import numpy as np
import pytest

from tests.trading.research.tick.scenario import BID, day, opening
from trading.lobster import load_day
from trading.research.tick.events import EV_ADD, prepare_events
from trading.shared_data import shared_data_dir

AMZN = shared_data_dir() / "lobster" / "AMZN_2012-06-21_34200000_57600000_message_5.csv.gz"


@pytest.fixture(scope="module")
def amzn():
    lobster = load_day(AMZN)
    return lobster, prepare_events(lobster.messages, lobster.orderbook)


def test_rebuilt_top_of_book_equals_lobster_snapshots_on_every_row(amzn):
    lobster, ev = amzn
    rows = np.flatnonzero(ev.message_row >= 0)
    assert ev.message_row[rows].tolist() == list(range(len(lobster.messages)))
    # The book after message r: its last event before message r+1, leaving out the synthetic
    # add made just before message r+1 for an order first seen there.
    at = np.r_[rows[1:] - 1, ev.n_events - 1]
    nxt = rows[1:]
    fallback = (ev.kind[nxt - 1] == EV_ADD) & (ev.oid[nxt - 1] == ev.oid[nxt])
    fallback &= ev.message_row[nxt - 1] < 0
    at[:-1][fallback] -= 1
    book = lobster.orderbook
    np.testing.assert_array_equal(ev.ask[at], book[:, 0])
    np.testing.assert_array_equal(ev.ask_qty[at], book[:, 1])
    np.testing.assert_array_equal(ev.bid[at], book[:, 2])
    np.testing.assert_array_equal(ev.bid_qty[at], book[:, 3])


def test_every_order_is_added_once_before_anything_else_happens_to_it(amzn):
    _, ev = amzn
    assert (ev.add_index >= 0).all()
    named = ev.oid >= 0
    first = np.full(ev.n_orders, ev.n_events)
    np.minimum.at(first, ev.oid[named], np.flatnonzero(named))
    np.testing.assert_array_equal(first, ev.add_index)
    assert (ev.kind[ev.add_index] == EV_ADD).all()


def test_messages_only_day_and_bad_input():
    msgs = day(opening() + [(0.5, 3, 9, 30, BID, 1)])  # order 9 first seen when deleted
    ev = prepare_events(msgs)
    assert ev.n_synthetic == 1
    assert ev.bid.tolist()[-1] == BID and ev.bid_qty.tolist()[-1] == 100
    with pytest.raises(ValueError, match="MESSAGE_DTYPE"):
        prepare_events(np.zeros(2))
    with pytest.raises(ValueError, match="tick grid"):
        prepare_events(msgs, tick=300)
    with pytest.raises(ValueError, match="orderbook rows"):
        prepare_events(msgs, np.zeros((2, 4), np.int64))
