"""LOBSTER replay: a client rebuilding the book from published events alone sees LOBSTER's book.

The full-day tests replay AAPL (level 1) and AMZN (level 5) completely, apply every published
event to a *fresh* book (never the replay's own), and compare its top levels with the
orderbook file after every row and after every timestamp group.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.support.data import LOBSTER_DIR
from trading import lobster
from trading.exchange.lobster_replay import (
    ADD,
    CANCEL,
    CROSS,
    DELETE,
    EXECUTE,
    REPLACE,
    SYNTHETIC_REF_BASE,
    TRADE,
    TRADING_ACTION,
    EventKind,
    LobsterReplay,
    ReplayError,
    ReplayEvent,
    book_events,
    to_itch,
)
from trading.order_book import BUY, SELL, OrderBook
from trading.protocols import itch
from trading.reference_book import ReferenceBook

DATA = LOBSTER_DIR
DAYS = {
    "AAPL": DATA / "AAPL_2012-06-21_34200000_57600000_message_1.csv.gz",
    "AMZN": DATA / "AMZN_2012-06-21_34200000_57600000_message_5.csv.gz",
}
needs_data = pytest.mark.skipif(
    not all(p.exists() for p in DAYS.values()), reason=f"LOBSTER samples not in {DATA}"
)

E_ASK, E_BID = lobster.EMPTY_ASK, lobster.EMPTY_BID


# --------------------------------------------------------------------------------------------
# A client that knows nothing but the published events
# --------------------------------------------------------------------------------------------


def apply(book: OrderBook | ReferenceBook, event: ReplayEvent) -> None:
    """What a feed client does with one event."""
    kind = event.kind
    if kind == ADD:
        book.add(event.ref, event.side, event.price, event.shares, 0, event.ts_ns)
    elif kind == CANCEL:
        book.cancel(event.ref, event.shares)
    elif kind == EXECUTE:
        book.execute(event.ref, event.shares)
    elif kind == DELETE:
        book.delete(event.ref)
    elif kind == REPLACE:
        book.replace(event.ref, event.new_ref, event.shares, event.price, event.ts_ns)


def top_row(book: OrderBook | ReferenceBook, levels: int) -> list[int]:
    """A book's top levels in LOBSTER's orderbook-row layout, with its empty-level values."""
    d = book.depth(levels)
    row = np.empty(4 * levels, np.int64)
    row[0::4], row[1::4], row[2::4], row[3::4] = E_ASK, 0, E_BID, 0
    row[0 : 4 * len(d.ask_prices) : 4] = d.ask_prices
    row[1 : 4 * len(d.ask_qtys) : 4] = d.ask_qtys
    row[2 : 4 * len(d.bid_prices) : 4] = d.bid_prices
    row[3 : 4 * len(d.bid_qtys) : 4] = d.bid_qtys
    return row.tolist()


class Replayed:
    """A whole replayed day: the events grouped by row, the counts and the time it took."""

    def __init__(self, ticker: str) -> None:
        self.day = lobster.load_day(DAYS[ticker])
        replay = LobsterReplay.from_day(self.day)
        start = time.perf_counter()
        self.by_row = [events for _, events in replay.rows()]
        self.seconds = time.perf_counter() - start
        self.synthetic = replay.synthetic_counts
        self.reasons = replay.synthetic_reasons
        self.replay = replay

    def events(self) -> list[ReplayEvent]:
        return [e for events in self.by_row for e in events]


@pytest.fixture(scope="module", params=sorted(DAYS))
def replayed(request: pytest.FixtureRequest) -> Replayed:
    if not all(p.exists() for p in DAYS.values()):
        pytest.skip(f"LOBSTER samples not in {DATA}")
    result = Replayed(request.param)
    print(
        f"\n{request.param}: {len(result.events())} events in {result.seconds:.2f} s; "
        f"synthetic {result.synthetic}; reasons {result.reasons}"
    )
    return result


# --------------------------------------------------------------------------------------------
# Whole days
# --------------------------------------------------------------------------------------------


@needs_data
@pytest.mark.slow
def test_client_book_equals_lobster_after_every_row(replayed: Replayed) -> None:
    ob = replayed.day.orderbook
    levels = replayed.day.levels
    ts = replayed.day.messages["ts_ns"]
    group_ends = np.flatnonzero(np.append(np.diff(ts) != 0, True)).tolist()
    client = OrderBook(100)
    bad_rows = []
    for i, events in enumerate(replayed.by_row):
        for event in events:
            apply(client, event)
        if top_row(client, levels) != ob[i].tolist():
            bad_rows.append(i)
    assert bad_rows == []
    # Grouping by timestamp (what a client sees between bursts) is then exact too.
    client = OrderBook(100)
    events = replayed.events()
    k = 0
    for end in group_ends:
        while k < len(events) and events[k].ts_ns <= ts[end]:
            apply(client, events[k])
            k += 1
        assert top_row(client, levels) == ob[end].tolist(), end
    assert k == len(events)
    client.check_invariants()


@needs_data
@pytest.mark.slow
def test_reference_book_client_agrees_on_a_prefix(replayed: Replayed) -> None:
    """The plain-Python book as a client, on the first rows (it is too slow for a whole day)."""
    ob = replayed.day.orderbook
    client = ReferenceBook(100)
    for i, events in enumerate(replayed.by_row[:8000]):
        for event in events:
            apply(client, event)
        assert top_row(client, replayed.day.levels) == ob[i].tolist(), i


@needs_data
@pytest.mark.slow
def test_every_execution_is_published_exactly_and_in_order(replayed: Replayed) -> None:
    m = replayed.day.messages
    executions = m[(m["kind"] == 4) | (m["kind"] == 5)]
    expected = list(
        zip(
            executions["kind"].tolist(),
            executions["price"].tolist(),
            executions["size"].tolist(),
            strict=True,
        )
    )
    published = [
        (4 if e.kind == EXECUTE else 5, e.price, e.shares)
        for e in replayed.events()
        if e.kind in (EXECUTE, TRADE) and not e.synthetic
    ]
    assert published == expected
    assert not any(e.synthetic for e in replayed.events() if e.kind in (EXECUTE, TRADE))
    matches = [e.match_number for e in replayed.events() if e.kind in (EXECUTE, TRADE)]
    assert matches == list(range(1, len(expected) + 1))
    trades = [e for e in replayed.events() if e.kind == TRADE]
    hidden = m[m["kind"] == 5]
    assert [e.side for e in trades] == hidden["direction"].tolist()
    assert all(e.ref == 0 for e in trades)


@needs_data
@pytest.mark.slow
def test_stream_shape(replayed: Replayed) -> None:
    m = replayed.day.messages
    ts = m["ts_ns"].tolist()
    kinds = m["kind"].tolist()
    real_kind = {1: ADD, 2: CANCEL, 3: DELETE, 4: EXECUTE, 5: TRADE}
    lobster_ids = set(m["order_id"].tolist())
    for i, events in enumerate(replayed.by_row):
        real = [e for e in events if not e.synthetic]
        # Exactly one published event per LOBSTER row, with its kind and time.
        assert len(real) == 1, i
        assert real[0].kind == real_kind[kinds[i]], i
        assert all(e.ts_ns == ts[i] and e.lobster_row == i for e in events), i
    for e in replayed.events():
        if e.synthetic and e.kind == ADD and e.ref < SYNTHETIC_REF_BASE:
            assert e.ref in lobster_ids  # a LOBSTER order surfacing, under its own id
        if e.kind == REPLACE:
            assert e.new_ref >= SYNTHETIC_REF_BASE or e.new_ref in lobster_ids
    counted: dict[str, int] = {}
    for e in replayed.events():
        if e.synthetic:
            counted[e.kind.name] = counted.get(e.kind.name, 0) + 1
    assert counted == replayed.synthetic
    assert sum(replayed.reasons.values()) == sum(replayed.synthetic.values())


@needs_data
@pytest.mark.slow
def test_replay_is_fast(replayed: Replayed) -> None:
    # About 2 s per day on a laptop; the bound is generous for slow CI machines.
    assert replayed.seconds < 15


@needs_data
@pytest.mark.slow
def test_replays_own_book_matches_the_published_book(replayed: Replayed) -> None:
    client = OrderBook(100)
    client.apply_events(book_events(replayed.events()))
    assert client.event_errors == 0
    assert replayed.replay.book.snapshot()[:, :4].tolist() == client.snapshot()[:, :4].tolist()
    assert len(replayed.replay.book) == len(client)


@needs_data
def test_itch_messages_round_trip() -> None:
    day = lobster.load_day(DAYS["AMZN"])
    replay = LobsterReplay(day.messages[:3000], day.orderbook[:3000], 5)
    seen = set()
    for event in replay:
        msg = to_itch(event, 7, "AMZN")
        assert itch.decode(msg.encode()) == msg
        assert msg.timestamp_ns == event.ts_ns and msg.stock_locate == 7
        seen.add(type(msg).__name__)
    assert {"AddOrder", "OrderExecuted", "OrderDelete", "OrderCancel", "Trade"} <= seen


# --------------------------------------------------------------------------------------------
# Small hand-made days
# --------------------------------------------------------------------------------------------


def make_day(rows: list[tuple], books: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Messages (ts_ns, kind, id, size, price, direction) and orderbook rows as arrays."""
    messages = np.array(rows, dtype=lobster.MESSAGE_DTYPE)
    return messages, np.array(books, dtype=np.int64)


def run(replay: LobsterReplay) -> list[list[ReplayEvent]]:
    return [events for _, events in replay.rows()]


def test_unknown_order_surfaces_under_its_lobster_id() -> None:
    # Row 0 shows 30 shares at $10.00 that no message added (they rested before the file).
    # Row 1 executes 10 of them under id 42, which the replay has never seen.
    messages, books = make_day(
        [(1, 1, 5, 10, 100_100, -1), (2, 4, 42, 10, 100_000, 1)],
        [[100_100, 10, 100_000, 30], [100_100, 10, 100_000, 20]],
    )
    replay = LobsterReplay(messages, books, 1)
    row0, row1 = run(replay)
    assert [(e.kind, e.synthetic) for e in row0] == [(ADD, False), (ADD, True)]
    # The synthetic 30 shares are renamed to id 42, then executed: one synthetic event.
    assert [(e.kind, e.ref, e.synthetic) for e in row1] == [
        (REPLACE, row0[1].ref, True),
        (EXECUTE, 42, False),
    ]
    assert row1[0].new_ref == 42 and row1[1].shares == 10
    assert replay.own_levels() == [100_100, 10, 100_000, 20]
    assert replay.published_ref(42) == 42


def test_short_order_is_replaced_to_a_fresh_ref() -> None:
    # Id 9 is added with 5 shares, but LOBSTER later cancels 8 of it (it grew unseen).
    messages, books = make_day(
        [(1, 1, 9, 5, 100_000, 1), (2, 2, 9, 8, 100_000, 1), (3, 3, 9, 2, 100_000, 1)],
        [[E_ASK, 0, 100_000, 5], [E_ASK, 0, 100_000, 2], [E_ASK, 0, E_BID, 0]],
    )
    replay = LobsterReplay(messages, books, 1)
    _, row1, row2 = run(replay)
    replace, cancel, level_up = row1
    assert (replace.kind, replace.ref, replace.shares, replace.synthetic) == (REPLACE, 9, 8, True)
    assert replace.new_ref >= SYNTHETIC_REF_BASE
    assert (cancel.kind, cancel.ref, cancel.shares, cancel.synthetic) == (
        CANCEL,
        replace.new_ref,
        8,
        False,
    )
    assert (level_up.kind, level_up.shares, level_up.synthetic) == (ADD, 2, True)
    # The cancel took all the shares under the new ref, so id 9 is unknown again when it is
    # deleted: the synthetic 2 shares of row 1 are renamed to id 9 and deleted with it.
    assert [(e.kind, e.synthetic) for e in row2] == [(REPLACE, True), (DELETE, False)]
    assert replay.own_levels() == [E_ASK, 0, E_BID, 0]
    assert len(replay.book) == 0
    assert replay.synthetic_counts == {"REPLACE": 2, "ADD": 1}


def test_levels_beyond_an_empty_side_and_gone_levels_are_removed() -> None:
    messages, books = make_day(
        [
            (1, 1, 1, 10, 100_000, 1),
            (1, 1, 2, 10, 99_900, 1),
            (1, 1, 3, 10, 99_800, 1),
            (2, 1, 4, 5, 100_500, -1),
            (3, 3, 1, 10, 100_000, 1),
        ],
        [
            [E_ASK, 0, 100_000, 10, E_ASK, 0, E_BID, 0],
            [E_ASK, 0, 100_000, 10, E_ASK, 0, 99_900, 10],
            [E_ASK, 0, 100_000, 10, E_ASK, 0, 99_900, 10],
            [100_500, 5, 100_000, 10, E_ASK, 0, 99_900, 10],
            # Only one bid level left: 99_900 vanished unseen and 99_800 with it.
            [100_500, 5, 99_700, 3, E_ASK, 0, E_BID, 0],
        ],
    )
    replay = LobsterReplay(messages, books)
    events = run(replay)
    assert all(e.synthetic is False for e in events[2] + events[3])
    last = [(e.kind, e.ref, e.synthetic) for e in events[4]]
    assert last[0] == (DELETE, 1, False)
    assert set(last[1:3]) == {(DELETE, 2, True), (DELETE, 3, True)}
    assert last[3][0] == ADD and events[4][3].price == 99_700
    assert replay.own_levels() == books[-1].tolist()
    assert replay.synthetic_reasons == {"level_gone": 2, "level_up": 1}


def test_shrinking_takes_synthetic_orders_first_then_the_newest_real_ones() -> None:
    messages, books = make_day(
        [(1, 1, 1, 10, 100_000, 1), (2, 1, 2, 10, 100_000, 1), (3, 1, 3, 10, 100_000, 1)],
        [[E_ASK, 0, 100_000, 14], [E_ASK, 0, 100_000, 24], [E_ASK, 0, 100_000, 13]],
    )
    replay = LobsterReplay(messages, books, 1)
    row0, row1, row2 = run(replay)
    assert [(e.kind, e.shares, e.synthetic) for e in row0] == [(ADD, 10, False), (ADD, 4, True)]
    assert [(e.kind, e.synthetic) for e in row1] == [(ADD, False)]
    # 34 shown vs 13 wanted: the synthetic 4 first, then id 3 (newest), then 7 of id 2.
    assert [(e.kind, e.ref, e.shares) for e in row2[1:]] == [
        (DELETE, row0[1].ref, 4),
        (DELETE, 3, 10),
        (CANCEL, 2, 7),
    ]
    assert replay.book.order(1) == (BUY, 100_000, 10, 0)


def test_client_orders_are_neither_compared_nor_cancelled() -> None:
    book = OrderBook(100)
    client_ref = 1 << 50
    book.add(client_ref, BUY, 100_000, 500, owner=7)
    book.add(client_ref + 1, SELL, 100_300, 50, owner=7)  # a level LOBSTER does not have
    messages, books = make_day(
        [(1, 1, 1, 10, 100_000, 1), (2, 1, 2, 10, 100_200, -1), (3, 2, 1, 4, 100_000, 1)],
        [[E_ASK, 0, 100_000, 10], [100_200, 10, 100_000, 10], [100_200, 10, 100_000, 6]],
    )
    replay = LobsterReplay(messages, books, 1, book=book)
    events = [e for row in run(replay) for e in row]
    assert not any(e.synthetic for e in events)
    assert client_ref not in {e.ref for e in events}
    assert book.order(client_ref) == (BUY, 100_000, 500, 7)
    assert book.best_bid() == (100_000, 506)  # the client's 500 plus LOBSTER's 6
    assert replay.own_levels() == [100_200, 10, 100_000, 6]


def test_note_execution_keeps_the_mirror_in_step() -> None:
    messages, books = make_day(
        [(1, 1, 1, 10, 100_000, 1), (2, 2, 1, 2, 100_000, 1)],
        [[E_ASK, 0, 100_000, 10], [E_ASK, 0, 100_000, 8]],
    )
    replay = LobsterReplay(messages, books, 1)
    replay.events_for(0)
    # An exchange client sells 6 into LOBSTER's bid.
    result = replay.book.submit(1 << 50, SELL, 100_000, 6, owner=3)
    for fill in result.fill_list():
        replay.note_execution(fill.maker_ref, fill.qty)
    assert replay.own_levels() == [E_ASK, 0, 100_000, 4]
    row1 = replay.events_for(1)
    # LOBSTER still has the shares the client took, so they come back as a synthetic order.
    assert [(e.kind, e.shares, e.synthetic) for e in row1] == [
        (CANCEL, 2, False),
        (ADD, 6, True),
    ]
    with pytest.raises(KeyError):
        replay.note_execution(12345, 1)


def test_hidden_trades_crosses_and_halts() -> None:
    noon = 12 * 3600 * 10**9
    messages, books = make_day(
        [
            (1, 6, 0, 1000, 100_000, -1),
            (2, 5, 0, 30, 100_050, -1),
            (3, 7, 0, 0, -1, -1),
            (4, 7, 0, 0, 0, -1),
            (5, 7, 0, 0, 1, -1),
            (noon, 6, 0, 200, 100_100, -1),
        ],
        [[E_ASK, 0, E_BID, 0]] * 6,
    )
    events = [e for row in run(LobsterReplay(messages, books, 1)) for e in row]
    assert [(e.kind, e.code) for e in events] == [
        (CROSS, "O"),
        (TRADE, ""),
        (TRADING_ACTION, "H"),
        (TRADING_ACTION, "Q"),
        (TRADING_ACTION, "T"),
        (CROSS, "C"),
    ]
    trade = events[1]
    assert (trade.ref, trade.side, trade.price, trade.shares) == (0, -1, 100_050, 30)
    assert trade.aggressor_side == BUY  # LOBSTER direction -1: a buyer-initiated trade
    assert [e.match_number for e in events if e.match_number] == [1, 2, 3]
    msgs = [to_itch(e, 1, "TEST") for e in events]
    assert isinstance(msgs[0], itch.CrossTrade) and msgs[0].cross_type == "O"
    assert msgs[0].shares == 1000 and msgs[0].cross_price == 100_000
    assert isinstance(msgs[1], itch.Trade) and msgs[1].side == "S"
    assert msgs[1].order_reference_number == 0 and msgs[1].price == 100_050
    assert [m.trading_state for m in msgs[2:5]] == ["H", "Q", "T"]
    for m in msgs:
        assert itch.decode(m.encode()) == m


def test_rows_must_be_replayed_in_order() -> None:
    messages, books = make_day([(1, 1, 1, 10, 100_000, 1)], [[E_ASK, 0, 100_000, 10]])
    replay = LobsterReplay(messages, books, 1)
    with pytest.raises(ValueError, match="expected row 0"):
        replay.events_for(1)
    assert replay.events_for(0)[0].kind is EventKind.ADD
    assert replay.next_row == 1
    assert list(replay) == []


def test_a_row_the_book_refuses_names_the_row() -> None:
    messages, books = make_day(
        [(1, 1, 1, 10, 100_000, 1), (2, 1, 2, 10, 100_050, -1)],
        [[E_ASK, 0, 100_000, 10], [100_050, 10, 100_000, 10]],
    )
    replay = LobsterReplay(messages, books, 1)  # one-cent ticks: $10.005 is off the grid
    replay.events_for(0)
    with pytest.raises(ReplayError, match="LOBSTER row 1: price 100050"):
        replay.events_for(1)
    fine = LobsterReplay(messages, books, 1, tick_size=50)
    assert [e.kind for _, row in fine.rows() for e in row] == [ADD, ADD]


def test_constructor_checks() -> None:
    messages, books = make_day([(1, 1, 1, 10, 100_000, 1)], [[E_ASK, 0, 100_000, 10]])
    with pytest.raises(ValueError, match="orderbook rows"):
        LobsterReplay(messages, np.zeros((2, 4), np.int64))
    with pytest.raises(ValueError, match="levels"):
        LobsterReplay(messages, books, 2)


def test_rows_without_shares_publish_nothing() -> None:
    messages, books = make_day(
        [(1, 1, 1, 0, 100_000, 1), (2, 2, 1, 0, 100_000, 1)],
        [[E_ASK, 0, E_BID, 0], [E_ASK, 0, E_BID, 0]],
    )
    replay = LobsterReplay(messages, books, 1)
    assert run(replay) == [[], []]
    assert replay.skipped_counts == {
        "add without shares or id": 1,
        "cancel/execution without shares": 1,
    }
