"""The lockstep schedule: one queue ordered by (time, kind, sequence), rows at their own time,
orders at send time plus entry latency, answers at decision time plus response latency."""

import numpy as np
import pytest

from tests.support.configs import make_config
from tests.support.data import LOBSTER_DIR
from trading import lobster
from trading.exchange.lockstep import ARRIVAL, RESPONSE, ROW, EventQueue, LockstepVenue
from trading.exchange.replay_row import publish_replay_row
from trading.exchange.replay_source import ReplaySource
from trading.exchange.venue import Venue
from trading.protocols import ouch
from trading.protocols import soupbintcp as soup

AMZN = LOBSTER_DIR / "AMZN_2012-06-21_34200000_57600000_message_5.csv.gz"
ROWS = 400
needs_data = pytest.mark.skipif(not AMZN.is_file(), reason=f"LOBSTER samples not in {LOBSTER_DIR}")


# -- the tie rule -----------------------------------------------------------------------------


def test_items_come_out_by_time_first_whatever_their_kind():
    queue = EventQueue()
    queue.push(30, RESPONSE, "response at 30")
    queue.push(10, ARRIVAL, "arrival at 10")
    queue.push(20, ROW, "row at 20")
    assert [queue.pop()[2] for _ in range(3)] == ["arrival at 10", "row at 20", "response at 30"]


def test_at_equal_times_answers_come_before_rows_and_rows_before_arriving_orders():
    queue = EventQueue()
    queue.push(5, ARRIVAL, "arrival")
    queue.push(5, ROW, "row")
    queue.push(5, RESPONSE, "response")
    assert [queue.pop()[1:] for _ in range(3)] == [
        (RESPONSE, "response"), (ROW, "row"), (ARRIVAL, "arrival"),
    ]  # fmt: skip


def test_at_equal_time_and_kind_items_keep_the_order_they_were_queued_in():
    queue = EventQueue()
    for name in ("first", "second", "third"):
        queue.push(7, ARRIVAL, name)
    queue.push(7, RESPONSE, "answer")
    assert [queue.pop()[2] for _ in range(4)] == ["answer", "first", "second", "third"]
    assert len(queue) == 0
    with pytest.raises(IndexError):
        queue.pop()


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown item kind 3"):
        EventQueue().push(1, 3, None)


# -- the schedule over a real day -------------------------------------------------------------


@pytest.fixture(scope="module")
def day():
    loaded = lobster.load_day(AMZN)
    return loaded.messages[:ROWS], loaded.orderbook[:ROWS], loaded.info


def schedule(day, entry_ns=0, response_ns=0):
    messages, orderbook, info = day
    replay = ReplaySource(lobster.LobsterDay(info, messages, orderbook), 100)
    return LockstepVenue.for_replay(
        make_config().exchange, replay, entry_latency_ns=entry_ns, response_latency_ns=response_ns
    )


def enter(token, side, price, shares=100):
    return ouch.EnterOrder(
        token, side, shares, "AMZN", price, ouch.TIF_MARKET_HOURS, "", "Y", "P", "N", 0, "N", " "
    ).encode()


@needs_data
def test_without_orders_the_steps_are_the_rows_as_the_ordinary_replay_publishes_them(day):
    messages, orderbook, info = day
    # The reference: each row through the replay step the exchange's ordinary replay uses.
    replay = ReplaySource(lobster.LobsterDay(info, messages, orderbook), 100)
    published: list[bytes] = []
    venue = Venue(
        make_config().exchange, ["AMZN"], lambda *a: None, lambda m: published.append(m.encode()),
        books={"AMZN": replay.book}, first_ref=replay.first_client_ref,
    )  # fmt: skip
    venue.on_house_fill = replay.note_execution
    expected = []
    for row in range(ROWS):
        published.clear()
        publish_replay_row(venue, replay, row, 1)
        if published:
            expected.append((int(messages["ts_ns"][row]), list(published)))

    core = schedule(day)
    steps = []
    while (step := core.step()) is not None:
        assert step.kind == ROW and not step.responses
        steps.append((step.time_ns, step.feed))
    assert steps == expected
    assert core.done and core.rows_done == ROWS and core.steps == len(expected)


@needs_data
@pytest.mark.parametrize(("entry_ns", "response_ns"), [(0, 0), (50_000, 80_000), (7, 1_000_000)])
def test_orders_arrive_entry_latency_after_the_step_they_were_sent_in_and_answers_come_response_latency_after_the_venue_decided(  # noqa: E501
    day, entry_ns, response_ns
):
    core = schedule(day, entry_ns, response_ns)
    sent = 0
    times = []
    while (step := core.step()) is not None:
        times.append(step.time_ns)
        if step.number % 40 == 1:  # now and then, a bid far below and an ask far above
            sent += 1
            core.submit("demo", enter(f"B{sent}", "B", 1_000_000))
            core.submit("demo", enter(f"S{sent}", "S", 9_000_000))
    assert times == sorted(times)  # data time never goes back
    assert len(core.orders) == 2 * sent > 10
    by_token = {o.token: o for o in core.orders}
    accepted = [d for d in core.deliveries if d.kind == "Accepted"]
    assert len(accepted) == 2 * sent
    for answer in accepted:
        order = by_token[answer.token]
        assert order.arrival_ns == order.sent_ns + entry_ns
        assert answer.venue_ns == order.arrival_ns
        assert answer.time_ns == answer.venue_ns + response_ns
    # Both orders sent in one step traveled together, bid first.
    assert [d.token for d in accepted[:2]] == ["B1", "S1"]


@needs_data
def test_an_order_arriving_with_rows_of_the_same_nanosecond_comes_after_all_of_them(day):
    messages = day[0]
    times = messages["ts_ns"].tolist()
    # A burst: the first timestamp shared by several rows, after the first row.
    burst = next(t for t in times[1:] if times.count(t) > 1)
    core = schedule(day, entry_ns=burst - times[0], response_ns=1)
    first = core.step()
    assert first is not None and first.time_ns == times[0]
    core.submit("demo", enter("T1", "B", 1_000_000))
    kinds_at_burst = []
    while (step := core.step()) is not None:
        if step.time_ns == burst:
            kinds_at_burst.append(step.kind)
    rows_in_burst = sum(1 for t in times if t == burst)
    assert kinds_at_burst[-1] == ARRIVAL
    assert kinds_at_burst[:-1] == [ROW] * (len(kinds_at_burst) - 1)
    assert 1 <= len(kinds_at_burst) - 1 <= rows_in_burst


@needs_data
def test_an_answer_due_with_a_row_is_delivered_before_the_row(day):
    messages = day[0]
    times = messages["ts_ns"].tolist()
    later = next(t for t in times if t > times[0])
    core = schedule(day, entry_ns=0, response_ns=later - times[0])
    first = core.step()
    assert first is not None
    core.submit("demo", enter("T1", "B", 1_000_000))
    steps = []
    while (step := core.step()) is not None and step.time_ns <= later:
        steps.append((step.time_ns, step.kind))
    at_later = [kind for time_ns, kind in steps if time_ns == later]
    assert at_later[0] == RESPONSE and ROW in at_later[1:]


@needs_data
def test_a_marketable_order_trades_against_the_replayed_book_and_its_fill_is_journalled(day):
    core = schedule(day, 1_000, 2_000)
    for _ in range(50):
        core.step()
    ask = core.venue.symbols["AMZN"].book.best_ask()[0]
    core.submit("demo", enter("X1", "B", ask, 1))
    while core.step() is not None:
        pass
    fills = [d for d in core.deliveries if d.kind == "Executed"]
    assert [(f.token, f.qty, f.price) for f in fills] == [("X1", 1, ask)]
    journal = core.journal()
    assert journal["orders"][0]["token"] == "X1" and journal["rows"] == ROWS
    assert any(d["kind"] == "Executed" for d in journal["deliveries"])


@needs_data
def test_bad_latencies_and_malformed_orders_are_refused(day):
    with pytest.raises(ValueError, match="entry latency"):
        schedule(day, entry_ns=-1)
    with pytest.raises(ValueError, match="response latency"):
        schedule(day, response_ns=1.5)
    core = schedule(day)
    with pytest.raises(soup.MalformedMessage):
        core.submit("demo", b"Zgarbage")
    assert np.all(np.diff(day[0]["ts_ns"]) >= 0)
