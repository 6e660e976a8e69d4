"""Alpaca quotes and trades as the engine's ITCH records: the top of the book is the quote."""

from datetime import UTC, datetime

from alpaca.data.models import Quote, Trade

from trading.protocols import itch
from trading.venues.alpaca.feed import AlpacaFeed, QuoteBook, itch_timestamp

from .payloads import settings

T = datetime(2026, 11, 23, 14, 30, 0, 123456, tzinfo=UTC)


def quote(symbol="AAPL", bp=190.5, bs=300, ap=190.52, as_=200):
    """A quote as alpaca-py's StockDataStream hands it over (Alpaca's field names)."""
    return Quote(symbol, {"t": T, "bp": bp, "bs": bs, "ap": ap, "as": as_, "bx": "V", "ax": "V",
                          "c": ["R"], "z": "C"})  # fmt: skip


def trade(symbol="AAPL", price=190.51, size=100, trade_id=52983525029461):
    return Trade(symbol, {"t": T, "p": price, "s": size, "x": "V", "i": trade_id, "c": ["@"],
                          "z": "C"})  # fmt: skip


def make_feed():
    seen, batches, snapshots = [], [], []
    feed = AlpacaFeed(
        settings(), ["AAPL", "MSFT"], on_message=lambda m, t1: seen.append(m),
        on_batch=batches.append, on_snapshot=snapshots.append,
    )  # fmt: skip
    return feed, seen, batches, snapshots


def top(feed, symbol):
    book = feed.builder.book(feed.locates[symbol])
    return (*book.best_bid(), *book.best_ask())


def test_the_books_know_the_symbols_before_any_quote():
    feed, *_ = make_feed()
    assert feed.builder.symbols == {1: "AAPL", 2: "MSFT"}


def test_a_quote_becomes_the_top_of_the_book():
    feed, seen, *_ = make_feed()
    assert feed.apply_quote(quote(), 1) == 2
    assert top(feed, "AAPL") == (1_905_000, 300, 1_905_200, 200)
    assert [type(m) for m in seen] == [itch.AddOrder, itch.AddOrder]
    assert [m.side for m in seen] == ["B", "S"]
    assert all(m.timestamp_ns == itch_timestamp(T) for m in seen)


def test_a_new_quote_replaces_the_old_one_side_by_side():
    feed, seen, *_ = make_feed()
    feed.apply_quote(quote(), 1)
    seen.clear()
    assert feed.apply_quote(quote(bp=190.49, bs=100), 2) == 2  # only the bid moved
    assert [type(m) for m in seen] == [itch.OrderDelete, itch.AddOrder]
    assert top(feed, "AAPL") == (1_904_900, 100, 1_905_200, 200)
    assert feed.apply_quote(quote(bp=190.49, bs=100), 3) == 0  # unchanged: nothing


def test_an_empty_side_leaves_the_book():
    feed, *_ = make_feed()
    feed.apply_quote(quote(), 1)
    feed.apply_quote(quote(bp=0, bs=0), 2)
    assert top(feed, "AAPL") == (0, 0, 1_905_200, 200)


def test_symbols_do_not_share_books_or_references():
    feed, seen, *_ = make_feed()
    feed.apply_quote(quote("AAPL"), 1)
    feed.apply_quote(quote("MSFT", bp=410.0, ap=410.05), 2)
    refs = [m.order_reference_number for m in seen]
    assert len(set(refs)) == 4
    assert top(feed, "MSFT")[0] == 4_100_000
    assert top(feed, "AAPL")[0] == 1_905_000


def test_a_trade_is_a_trade_print():
    feed, seen, *_ = make_feed()
    assert feed.apply_trade(trade(), 5) == 1
    (print_,) = seen
    assert type(print_) is itch.Trade
    assert (print_.stock, print_.price, print_.shares) == ("AAPL", 1_905_100, 100)
    assert print_.match_number == 52983525029461


def test_records_for_other_symbols_or_unreadable_ones_are_counted_and_skipped():
    feed, seen, *_ = make_feed()
    assert feed.apply_quote(quote("TSLA"), 1) == 0
    assert feed.apply_trade(trade("TSLA"), 1) == 0
    bad = quote()
    bad.bid_size = float("nan")
    assert feed.apply_quote(bad, 1) == 0
    assert seen == []
    assert feed.stats.malformed == 3


def test_poll_applies_what_the_stream_thread_queued_then_reports_the_batch():
    feed, seen, batches, snapshots = make_feed()
    feed._stream = object()  # started: no real stream in this test
    feed._inbox.put(("up", None, 10))
    feed._inbox.put(("quote", quote(), 11))
    feed._inbox.put(("trade", trade(), 12))
    assert feed.poll(0.01) == 3
    assert snapshots == [10]
    assert batches == [12]
    assert feed.next_sequence == 4


def test_a_reconnect_starts_the_books_afresh_with_new_references():
    feed, seen, batches, snapshots = make_feed()
    feed._stream = object()
    feed._inbox.put(("up", None, 1))
    feed._inbox.put(("quote", quote(), 2))
    feed.poll(0.01)
    first_refs = {m.order_reference_number for m in seen}
    feed._inbox.put(("up", None, 3))
    feed.poll(0.01)
    assert top(feed, "AAPL") == (0, 0, 0, 0)
    assert feed.stats.resyncs == 1
    feed._inbox.put(("quote", quote(), 4))
    feed.poll(0.01)
    assert top(feed, "AAPL") == (1_905_000, 300, 1_905_200, 200)
    assert not first_refs & {m.order_reference_number for m in seen[2:]}


def test_quote_book_alone():
    book = QuoteBook(1, "AAPL", 1)
    assert book.quote(0, 0, 0, 0, 0) == []
