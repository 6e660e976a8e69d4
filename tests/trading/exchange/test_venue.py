"""The venue's order-entry rules and matching, as NASDAQ applies them to OUCH 4.2 orders."""

import pytest

from tests.support.configs import make_config
from tests.support.orders import enter_order
from trading.exchange.synthetic_flow import CANCEL, ENTER, FlowAction
from trading.exchange.venue import Venue
from trading.order_book import SELL
from trading.protocols import itch, ouch

NOW = 34_200_000_000_000  # 09:30:00


class Recorder:
    def __init__(self) -> None:
        self.client: list[tuple[str, object]] = []
        self.feed: list[object] = []

    def to_client(self, username, message):
        if isinstance(message, bytes):
            message = ouch.decode_outbound(message)
        self.client.append((username, message))

    def to_feed(self, message):
        self.feed.append(itch.decode(message) if isinstance(message, bytes) else message)

    def take(self):
        client, feed = self.client, self.feed
        self.client, self.feed = [], []
        return client, feed


def make_venue(**exchange):
    recorder = Recorder()
    config = make_config(**exchange)
    venue = Venue(config.exchange, config.symbols, recorder.to_client, recorder.to_feed)
    recorder.take()
    return venue, recorder


enter = enter_order


def replace(old, new, shares, price, tif=ouch.TIF_SYSTEM_HOURS):
    return ouch.ReplaceOrder(old, new, shares, price, tif, "Y", "N", 0)


def types(messages):
    # Client output is (username, message) pairs; feed output is bare (NamedTuple) messages.
    return [type(m[1] if type(m) is tuple else m).__name__ for m in messages]


def test_a_resting_order_is_accepted_and_published_as_an_add_order():
    venue, out = make_venue()
    venue.handle("demo", enter("B1", "B", 300, 1_899_900), NOW)
    client, feed = out.take()
    ((username, accepted),) = client
    assert username == "demo" and isinstance(accepted, ouch.Accepted)
    assert (accepted.order_token, accepted.shares, accepted.price, accepted.firm) == (
        "B1",
        300,
        1_899_900,
        "DEMO",
    )
    (add,) = feed
    assert isinstance(add, itch.AddOrder)
    assert (add.order_reference_number, add.side, add.shares, add.stock, add.price) == (
        accepted.order_reference_number,
        "B",
        300,
        "AAPL",
        1_899_900,
    )
    assert venue.symbols["AAPL"].book.best_bid() == (1_899_900, 300)


def test_a_crossing_order_fills_both_sides_at_the_resting_price():
    venue, out = make_venue()
    venue.handle("alice", enter("S1", "S", 200, 1_900_000), NOW)
    venue.handle("alice", enter("S2", "S", 200, 1_900_100), NOW)
    out.take()
    venue.handle("demo", enter("B1", "B", 300, 1_900_100), NOW)
    client, feed = out.take()
    assert types(client) == ["Accepted", "Executed", "Executed", "Executed", "Executed"]
    taker = [m for u, m in client if u == "demo" and isinstance(m, ouch.Executed)]
    maker = [m for u, m in client if u == "alice"]
    assert [(m.executed_shares, m.execution_price, m.liquidity_flag) for m in taker] == [
        (200, 1_900_000, "R"),
        (100, 1_900_100, "R"),
    ]
    assert [(m.order_token, m.executed_shares, m.liquidity_flag) for m in maker] == [
        ("S1", 200, "A"),
        ("S2", 100, "A"),
    ]
    assert [m.match_number for m in taker] == [m.match_number for m in maker]
    assert types(feed) == ["OrderExecuted", "OrderExecuted"]
    assert [f.executed_shares for f in feed] == [200, 100]
    assert venue.symbols["AAPL"].book.best_ask() == (1_900_100, 100)
    assert "B1" not in {t for _, t in venue.live_tokens}


def test_an_ioc_remainder_is_cancelled_with_reason_i():
    venue, out = make_venue()
    venue.handle("alice", enter("S1", "S", 100, 1_900_000), NOW)
    out.take()
    venue.handle("demo", enter("B1", "B", 500, 1_900_000, tif=ouch.TIF_IMMEDIATE_OR_CANCEL), NOW)
    client, feed = out.take()
    canceled = client[-1][1]
    assert isinstance(canceled, ouch.Canceled)
    assert (canceled.decrement_shares, canceled.reason) == (400, "I")
    assert types(feed) == ["OrderExecuted"]


def test_a_market_order_stops_at_the_collar_and_says_so():
    venue, out = make_venue(collar_pct=1.0)
    venue.handle("alice", enter("S1", "S", 100, 1_900_000), NOW)
    venue.handle("alice", enter("B0", "B", 100, 1_890_000), NOW)
    venue.handle("alice", enter("S2", "S", 100, 1_930_000), NOW)  # beyond 1% of the mid
    out.take()
    venue.handle("demo", enter("M1", "B", 300, ouch.PRICE_MARKET_CROSS), NOW)
    client, _ = out.take()
    executed = [m for u, m in client if u == "demo" and isinstance(m, ouch.Executed)]
    assert [(m.executed_shares, m.execution_price) for m in executed] == [(100, 1_900_000)]
    assert (client[-1][1].decrement_shares, client[-1][1].reason) == (200, "K")


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (enter("R1", "B", 100, 1_900_000, stock="TSLA"), "S"),
        (enter("R2", "B", 0, 1_900_000), "Z"),
        (enter("R3", "B", 2_000_000, 1_900_000), "Z"),
        (enter("R4", "B", 100, 1_900_050), "X"),  # sub-penny
        (enter("R5", "B", 100, 0), "X"),
        (enter("R6", "B", 100, 2_500_000), "X"),  # through the 10% collar
        (enter("R7", "X", 100, 1_900_000), "O"),  # no such side
        (enter("R8", "B", 100, 1_900_000, display="Z"), "D"),
        (enter("", "B", 100, 1_900_000), "O"),  # a blank token
        (enter("T\x01", "B", 100, 1_900_000), "O"),  # a token that is not printable
    ],
)
def test_invalid_orders_are_rejected_with_nasdaqs_reason_code(message, reason):
    venue, out = make_venue()
    venue.handle("demo", message, NOW)
    client, feed = out.take()
    ((_, rejected),) = client
    assert isinstance(rejected, ouch.Rejected)
    assert (rejected.order_token, rejected.reason) == (message.order_token, reason)
    assert feed == []
    assert venue.counters.reject_reasons == {reason: 1}


def test_a_reused_token_is_ignored_as_the_spec_says():
    venue, out = make_venue()
    venue.handle("demo", enter("T1", "B", 100, 1_890_000), NOW)
    out.take()
    venue.handle("demo", enter("T1", "B", 500, 1_880_000), NOW)
    assert out.take() == ([], [])
    assert venue.counters.duplicate_tokens == 1
    # Tokens are per account: another account may use the same one.
    venue.handle("alice", enter("T1", "B", 100, 1_880_000), NOW)
    assert types(out.take()[0]) == ["Accepted"]


def test_cancel_to_a_smaller_size_keeps_the_order_and_publishes_order_cancel():
    venue, out = make_venue()
    venue.handle("demo", enter("B1", "B", 500, 1_890_000), NOW)
    out.take()
    venue.cancel_order("demo", "B1", 200, NOW)
    client, feed = out.take()
    assert (client[0][1].decrement_shares, client[0][1].reason) == (300, "U")
    assert isinstance(feed[0], itch.OrderCancel) and feed[0].cancelled_shares == 300
    assert venue.symbols["AAPL"].book.best_bid() == (1_890_000, 200)
    venue.cancel_order("demo", "B1", 0, NOW)
    client, feed = out.take()
    assert client[0][1].decrement_shares == 200 and isinstance(feed[0], itch.OrderDelete)
    assert venue.symbols["AAPL"].book.best_bid() == (0, 0)


def test_cancelling_an_unknown_or_dead_order_gets_cancel_reject():
    venue, out = make_venue()
    venue.cancel_order("demo", "NOPE", 0, NOW)
    ((_, reject),) = out.take()[0]
    assert isinstance(reject, ouch.CancelReject) and reject.order_token == "NOPE"


def test_replace_to_a_smaller_size_at_the_same_price_keeps_time_priority():
    venue, out = make_venue()
    venue.handle("demo", enter("B1", "B", 500, 1_890_000), NOW)
    venue.handle("alice", enter("A1", "B", 100, 1_890_000), NOW)
    out.take()
    venue.handle("demo", replace("B1", "B2", 300, 1_890_000), NOW)
    client, feed = out.take()
    replaced = client[0][1]
    assert isinstance(replaced, ouch.Replaced)
    assert (replaced.replacement_order_token, replaced.previous_order_token, replaced.shares) == (
        "B2",
        "B1",
        300,
    )
    assert types(feed) == ["OrderCancel"]
    book = venue.symbols["AAPL"].book
    assert book.queue_ahead(replaced.order_reference_number) == 0


def test_replace_to_a_new_price_loses_priority_with_a_new_reference():
    venue, out = make_venue()
    venue.handle("demo", enter("B1", "B", 500, 1_890_000), NOW)
    venue.handle("alice", enter("A1", "B", 100, 1_891_000), NOW)
    (_, accepted), _ = out.take()[0]
    venue.handle("demo", replace("B1", "B2", 500, 1_891_000), NOW)
    client, feed = out.take()
    replaced = client[0][1]
    assert replaced.order_reference_number != accepted.order_reference_number
    (move,) = feed
    assert isinstance(move, itch.OrderReplace)
    assert (move.original_order_reference_number, move.new_order_reference_number) == (
        accepted.order_reference_number,
        replaced.order_reference_number,
    )
    assert venue.symbols["AAPL"].book.queue_ahead(replaced.order_reference_number) == 100


def test_replace_to_a_larger_size_loses_priority():
    venue, out = make_venue()
    venue.handle("demo", enter("B1", "B", 100, 1_890_000), NOW)
    venue.handle("alice", enter("A1", "B", 100, 1_890_000), NOW)
    out.take()
    venue.handle("demo", replace("B1", "B2", 400, 1_890_000), NOW)
    replaced = out.take()[0][0][1]
    assert venue.symbols["AAPL"].book.queue_ahead(replaced.order_reference_number) == 100


def test_replace_to_a_crossing_price_trades():
    venue, out = make_venue()
    venue.handle("alice", enter("S1", "S", 100, 1_900_000), NOW)
    venue.handle("demo", enter("B1", "B", 300, 1_890_000), NOW)
    out.take()
    venue.handle("demo", replace("B1", "B2", 300, 1_900_000), NOW)
    client, feed = out.take()
    assert types(client) == ["Replaced", "Executed", "Executed"]
    assert types(feed) == ["OrderDelete", "OrderExecuted", "AddOrder"]
    assert feed[-1].shares == 200
    venue.cancel_order("demo", "B2", 0, NOW)
    assert out.take()[0][0][1].decrement_shares == 200


def test_self_trade_prevention_cancels_the_newest_order_of_the_same_firm():
    venue, out = make_venue()
    venue.handle("bob", enter("S1", "S", 100, 1_900_000), NOW)  # bob is firm DEMO too
    out.take()
    venue.handle("demo", enter("B1", "B", 100, 1_900_000), NOW)
    client, feed = out.take()
    assert types(client) == ["Accepted", "Canceled"]
    assert client[1][1].reason == "Q"
    assert feed == []
    assert venue.symbols["AAPL"].book.best_ask() == (1_900_000, 100)


def test_self_trade_prevention_can_cancel_the_oldest_instead():
    venue, out = make_venue(self_trade="cancel_oldest")
    venue.handle("bob", enter("S1", "S", 100, 1_900_000), NOW)
    venue.handle("alice", enter("S2", "S", 100, 1_900_000), NOW)
    out.take()
    venue.handle("demo", enter("B1", "B", 100, 1_900_000), NOW)
    client, feed = out.take()
    bob = [m for u, m in client if u == "bob"]
    assert types(bob) == ["Canceled"] and bob[0].reason == "Q"
    assert types(feed) == ["OrderDelete", "OrderExecuted"]


def test_a_halted_symbol_rejects_orders_but_accepts_cancels():
    venue, out = make_venue()
    venue.handle("demo", enter("B1", "B", 100, 1_890_000), NOW)
    venue.halt("AAPL", NOW)
    _, feed = out.take()
    assert feed[-1].trading_state == "H"
    venue.handle("demo", enter("B2", "B", 100, 1_890_000), NOW)
    assert out.take()[0][0][1].reason == "H"
    venue.cancel_order("demo", "B1", 0, NOW)
    assert isinstance(out.take()[0][0][1], ouch.Canceled)
    venue.halt("AAPL", NOW, halted=False)
    assert out.take()[1][-1].trading_state == "T"


def test_an_order_with_a_time_in_force_in_seconds_expires():
    venue, out = make_venue()
    venue.handle("demo", enter("B1", "B", 100, 1_890_000, tif=5), NOW)
    out.take()
    assert venue.expire(NOW + 4_999_999_999) == 0
    assert venue.expire(NOW + 5_000_000_000) == 1
    client, feed = out.take()
    assert client[0][1].reason == "T" and isinstance(feed[0], itch.OrderDelete)


def test_day_orders_end_with_the_day_and_system_hours_orders_stay():
    venue, out = make_venue()
    venue.handle("demo", enter("D1", "B", 100, 1_890_000, tif=ouch.TIF_MARKET_HOURS), NOW)
    venue.handle("demo", enter("G1", "B", 100, 1_880_000, tif=ouch.TIF_SYSTEM_HOURS), NOW)
    out.take()
    assert venue.end_of_day(NOW) == 1
    assert set(t for _, t in venue.live_tokens) == {"G1"}


def test_agent_flow_trades_with_clients_and_reports_its_orders_gone():
    venue, out = make_venue()
    gone = []
    venue.on_agent_done = lambda symbol, agent_id: gone.append((symbol, agent_id))
    venue.apply_flow(FlowAction(ENTER, "AAPL", 7, SELL, 1_900_000, 100), NOW)
    venue.apply_flow(FlowAction(ENTER, "AAPL", 8, SELL, 1_900_100, 100), NOW)
    venue.handle("demo", enter("B1", "B", 100, 1_900_000), NOW)
    assert gone == [("AAPL", 7)]
    venue.apply_flow(FlowAction(CANCEL, "AAPL", 8), NOW)
    assert gone == [("AAPL", 7), ("AAPL", 8)]
    assert venue.symbols["AAPL"].book.best_ask() == (0, 0)


def test_a_replace_that_meets_only_its_own_firm_cancels_the_resting_order_and_says_so():
    venue, out = make_venue(self_trade="cancel_oldest")
    venue.handle("demo", enter("S1", "S", 100, 1_900_000), NOW)
    venue.handle("bob", enter("B1", "B", 100, 1_899_000), NOW)  # bob is firm DEMO too
    out.take()
    venue.handle("bob", replace("B1", "B2", 100, 1_900_000), NOW)
    client, feed = out.take()
    demo = [m for u, m in client if u == "demo"]
    assert types(demo) == ["Canceled"] and demo[0].reason == "Q"
    assert types(feed) == ["OrderDelete", "OrderDelete", "AddOrder"]  # B1, S1, then B2 rests
    assert set(t for _, t in venue.live_tokens) == {"B2"}
    venue.symbols["AAPL"].book.assert_not_crossed()


def test_replace_shares_count_what_has_already_executed():
    venue, out = make_venue()
    venue.handle("demo", enter("B1", "B", 500, 1_900_000), NOW)
    venue.handle("alice", enter("S1", "S", 100, 1_900_000), NOW)  # executes 100 of B1
    out.take()
    venue.handle("demo", replace("B1", "B2", 500, 1_900_000), NOW)
    replaced = out.take()[0][0][1]
    assert replaced.shares == 400  # 500 in total, 100 of them already done
    venue.cancel_order("demo", "B2", 300, NOW)  # a total of 300: 200 left open
    canceled = out.take()[0][0][1]
    assert canceled.decrement_shares == 200
    assert venue.live_tokens[("demo", "B2")].open_shares == 200


def test_a_replace_moves_the_deadline_of_a_timed_order():
    venue, out = make_venue()
    venue.handle("demo", enter("B1", "B", 100, 1_890_000, tif=5), NOW)
    venue.handle("demo", replace("B1", "B2", 100, 1_890_000, tif=5), NOW + 3_000_000_000)
    out.take()
    assert venue.expire(NOW + 5_000_000_000) == 0
    assert venue.expire(NOW + 8_000_000_000) == 1


def test_a_replace_of_a_dead_order_or_with_a_used_token_is_ignored():
    venue, out = make_venue()
    venue.handle("demo", enter("B1", "B", 100, 1_890_000), NOW)
    venue.handle("demo", enter("B9", "B", 100, 1_880_000), NOW)
    out.take()
    venue.handle("demo", replace("GONE", "B2", 100, 1_890_000), NOW)
    venue.handle("demo", replace("B1", "B9", 100, 1_890_000), NOW)
    assert out.take() == ([], [])
    assert venue.counters.ignored_replaces == 2


def test_an_invalid_replace_of_a_live_order_cancels_it_and_keeps_the_token_free():
    venue, out = make_venue()
    venue.handle("demo", enter("B1", "B", 100, 1_890_000), NOW)
    out.take()
    venue.handle("demo", replace("B1", "B2", 100, 1_890_050), NOW)  # off the tick grid
    client, feed = out.take()
    assert types(client) == ["Canceled"] and client[0][1].order_token == "B1"
    assert types(feed) == ["OrderDelete"]
    venue.handle("demo", enter("B2", "B", 100, 1_890_000), NOW)
    assert types(out.take()[0]) == ["Accepted"]


def test_an_account_may_not_trade_for_another_firm():
    venue, out = make_venue()
    message = ouch.EnterOrder("F1", "B", 100, "AAPL", 1_890_000, ouch.TIF_SYSTEM_HOURS, "ALIC",
                              "Y", "P", "N", 0, "N", " ")  # fmt: skip
    venue.handle("demo", message, NOW)
    assert out.take()[0][0][1].reason == "L"


def test_a_minimum_quantity_is_for_ioc_orders_and_all_or_nothing_up_to_it():
    venue, out = make_venue()
    venue.handle("alice", enter("S1", "S", 100, 1_900_000), NOW)
    out.take()

    def ioc(token, shares, minimum, tif=ouch.TIF_IMMEDIATE_OR_CANCEL):
        return ouch.EnterOrder(token, "B", shares, "AAPL", 1_900_000, tif, "", "Y", "P", "N",
                               minimum, "N", " ")  # fmt: skip

    venue.handle("demo", ioc("M0", 300, 200, tif=ouch.TIF_SYSTEM_HOURS), NOW)
    assert out.take()[0][0][1].reason == "N"
    venue.handle("demo", ioc("M1", 300, 200), NOW)
    client, feed = out.take()
    assert types(client) == ["Accepted", "Canceled"] and client[1][1].decrement_shares == 300
    assert feed == []
    venue.handle("demo", ioc("M2", 300, 100), NOW)
    demo = [m for u, m in out.take()[0] if u == "demo"]
    assert types(demo) == ["Accepted", "Executed", "Canceled"]
