"""Property: whatever clients send, the venue's books stay sound and its feed tells the truth.

Random sequences of OUCH requests from three accounts (two of them one firm, for self-trade
prevention) on two symbols: limit, IOC and market orders, cancels, replaces, modifies, halts,
expiries. After every request:
- no book is crossed;
- a client that rebuilds every book from the ITCH messages alone holds exactly the venue's;
- each order's shares are conserved: accepted = executed + cancelled + still open, and the
  venue's record of every live order agrees with its book;
- every fill between two clients is reported to both, with the same match number.
"""

from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.configs import make_config
from trading.book_builder import BookBuilder
from trading.exchange.venue import Venue
from trading.protocols import itch, ouch

ACCOUNTS = ("demo", "alice", "bob")
SYMBOLS = ("AAPL", "MSFT")
PRICES = [1_899_800 + 100 * i for i in range(5)]

account = st.sampled_from(("demo", "demo", "alice", "bob"))
symbol = st.sampled_from(SYMBOLS)
# Cancels, replaces and modifies name one of the account's earlier tokens by position, so
# most of them find a live order; new tokens are always fresh (tokens are day-unique).
token_no = st.integers(0, 7)
price = st.sampled_from(PRICES * 3 + [ouch.PRICE_MARKET_CROSS])
limit_price = st.sampled_from(PRICES)
shares = st.integers(1, 6).map(lambda lots: lots * 100)
tif = st.sampled_from([ouch.TIF_SYSTEM_HOURS] * 4 + [ouch.TIF_IMMEDIATE_OR_CANCEL, 2])

KINDS = {
    "enter": st.tuples(account, token_no, st.sampled_from("BS"), shares, symbol, price, tif),
    "cancel": st.tuples(account, token_no, st.sampled_from([0, 100, 200, 300])),
    "replace": st.tuples(account, token_no, token_no, st.integers(0, 6).map(lambda n: n * 100),
                         limit_price),
    "modify": st.tuples(account, token_no, st.sampled_from([0, 100, 200])),
    "halt": st.tuples(symbol, st.booleans()),
    "tick": st.tuples(st.integers(1, 3)),
}  # fmt: skip
WEIGHTED_KINDS = ["enter"] * 6 + ["cancel"] * 3 + ["replace"] * 2 + ["modify", "halt", "tick"]
request = st.sampled_from(WEIGHTED_KINDS).flatmap(
    lambda kind: KINDS[kind].map(lambda params: (kind, *params))
)


class Client:
    """Everything the clients and a feed subscriber saw."""

    def __init__(self) -> None:
        self.feed = BookBuilder()
        self.accepted: dict[tuple[str, str], int] = {}
        self.done: dict[tuple[str, str], int] = defaultdict(int)
        self.fills: dict[int, list[tuple[str, int, int, str]]] = defaultdict(list)
        self.replaced_to: dict[tuple[str, str], tuple[str, str]] = {}

    def to_client(self, username, message):
        if isinstance(message, bytes):
            message = ouch.decode_outbound(message)
        kind = type(message)
        if kind is ouch.Accepted:
            self.accepted[(username, message.order_token)] = message.shares
        elif kind is ouch.Replaced:
            old = (username, message.previous_order_token)
            new = (username, message.replacement_order_token)
            # A replace carries the order's open shares over to the new token.
            self.accepted[new] = message.shares
            self.done[old] += self.accepted[old] - self.done[old]
            self.replaced_to[old] = new
        elif kind is ouch.Executed:
            self.done[(username, message.order_token)] += message.executed_shares
            self.fills[message.match_number].append(
                (username, message.executed_shares, message.execution_price,
                 message.liquidity_flag)
            )  # fmt: skip
        elif kind is ouch.Canceled:
            self.done[(username, message.order_token)] += message.decrement_shares
        elif kind is ouch.OrderModified:
            key = (username, message.order_token)
            # Modify states the new open size; what it took off counts as cancelled.
            self.done[key] += self.accepted[key] - self.done[key] - message.shares

    def to_feed(self, message):
        self.feed.apply(itch.decode(message) if isinstance(message, bytes) else message)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(request, min_size=10, max_size=80), st.sampled_from(["cancel_newest", "cancel_oldest"])
)
def test_any_request_sequence_keeps_books_sound_and_the_feed_truthful(requests, self_trade):
    seen = Client()
    config = make_config(collar_pct=5.0, self_trade=self_trade)
    venue = Venue(config.exchange, list(SYMBOLS), seen.to_client, seen.to_feed)
    now = 34_200_000_000_000
    tokens: dict[str, list[str]] = defaultdict(list)

    def earlier(user: str, no: int) -> str:
        return tokens[user][-1 - no % len(tokens[user])] if tokens[user] else "NONE"

    for n, step in enumerate(requests):
        now += 1_000_000
        kind = step[0]
        if kind == "enter":
            _, user, _, side, qty, sym, px, tif_s = step
            tokens[user].append(f"T{n}")
            message = ouch.EnterOrder(f"T{n}", side, qty, sym, px, tif_s, "", "Y", "P", "N", 0,
                                      "N", " ")  # fmt: skip
            venue.handle(user, message, now)
        elif kind == "cancel":
            _, user, no, qty = step
            venue.handle(user, ouch.CancelOrder(earlier(user, no), qty), now)
        elif kind == "replace":
            _, user, old, _, qty, px = step
            previous = earlier(user, old)
            tokens[user].append(f"R{n}")
            message = ouch.ReplaceOrder(previous, f"R{n}", qty, px, ouch.TIF_SYSTEM_HOURS, "Y",
                                        "N", 0)  # fmt: skip
            venue.handle(user, message, now)
        elif kind == "modify":
            _, user, no, qty = step
            token = earlier(user, no)
            order = venue.live_tokens.get((user, token))
            side = order.side_code if order else "B"
            venue.handle(user, ouch.ModifyOrder(token, side, qty), now)
        elif kind == "halt":
            _, sym, halted = step
            venue.halt(sym, now, halted)
        else:
            now += step[1] * 1_000_000_000
            venue.expire(now)

        for state in venue.symbols.values():
            state.book.assert_not_crossed()
            rebuilt = seen.feed.book(state.locate)
            assert [(o.ref, o.side, o.price, o.qty) for o in rebuilt] == [
                (o.ref, o.side, o.price, o.qty) for o in state.book
            ]
        # The venue's record of each live order is the book's.
        for (user, token), order in venue.live_tokens.items():
            info = venue.symbols[order.symbol].book.order(order.ref)
            assert info is not None and info.remaining == order.open_shares, (user, token)
            assert venue.client_orders[order.ref] is order
        assert len(venue.client_orders) == len(venue.live_tokens)
        assert sum(len(s.book) for s in venue.symbols.values()) == len(venue.client_orders)
        for key, accepted in seen.accepted.items():
            live = venue.live_tokens.get(key)
            open_shares = live.open_shares if live else 0
            if key in seen.replaced_to:
                assert open_shares == 0
                continue
            assert accepted == seen.done[key] + open_shares, key
        for match, sides in seen.fills.items():
            if len(sides) == 2:
                (_, qty_a, px_a, flag_a), (_, qty_b, px_b, flag_b) = sides
                assert (qty_a, px_a) == (qty_b, px_b) and {flag_a, flag_b} == {"A", "R"}, match
            else:
                assert len(sides) == 1, (match, sides)
