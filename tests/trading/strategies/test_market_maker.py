"""The market maker quotes passively around the mid, skews with inventory, and does not churn."""

from trading.config import MarketMakerParams
from trading.model.market import BookTop
from trading.model.orders import BUY, SELL, CancelIntent, Fill, OrderIntent, TimeInForce
from trading.strategies import MarketMaker, SimpleContext, WorkingOrder, desired_quotes

# two ticks either side, half a tick of skew per 100-share lot, at most 300 shares either way
PARAMS = MarketMakerParams(
    half_spread_ticks=2, order_qty=100, max_inventory=300, skew_ticks_per_lot=0.5
)
TICK = 100  # $0.01
LOT = 100

# $100.00 x $100.10: mid $100.05
BOOK = BookTop("AAA", 1_000_000, 500, 1_001_000, 500, 0)


def quote(side: int, price: int) -> OrderIntent:
    return OrderIntent("AAA", side, 100, price, TimeInForce.DAY, "market_maker")


def test_flat_inventory_quotes_two_ticks_either_side_of_the_mid():
    assert desired_quotes(BOOK, 0, PARAMS, TICK, LOT) == (1_000_300, 1_000_700)


def test_long_inventory_lowers_both_quotes_and_short_raises_them():
    # +200 shares = 2 lots * 0.5 tick = one tick lower on both sides
    assert desired_quotes(BOOK, 200, PARAMS, TICK, LOT) == (1_000_200, 1_000_600)
    assert desired_quotes(BOOK, -200, PARAMS, TICK, LOT) == (1_000_400, 1_000_800)
    # a half-tick skew rounds away from the mid: the bid down, the ask up
    assert desired_quotes(BOOK, 100, PARAMS, TICK, LOT) == (1_000_200, 1_000_700)


def test_stops_quoting_the_side_that_would_exceed_max_inventory():
    # at +300 another bought lot would make 400 > 300: no bid; the ask is skewed 1.5 ticks down
    assert desired_quotes(BOOK, 300, PARAMS, TICK, LOT) == (None, 1_000_600)
    assert desired_quotes(BOOK, 250, PARAMS, TICK, LOT) == (None, 1_000_600)
    assert desired_quotes(BOOK, 200, PARAMS, TICK, LOT)[0] == 1_000_200  # 300 is still allowed
    assert desired_quotes(BOOK, -300, PARAMS, TICK, LOT) == (1_000_400, None)


def test_never_crosses_the_touch():
    heavy = MarketMakerParams(
        half_spread_ticks=2, order_qty=100, max_inventory=1_000, skew_ticks_per_lot=2.0
    )
    narrow = BookTop("AAA", 1_000_000, 500, 1_000_200, 500, 0)  # $100.00 x $100.02
    # short 300: skew is 6 ticks up, which would put the bid at $100.05 above the $100.02 ask
    assert desired_quotes(narrow, -300, heavy, TICK, LOT) == (1_000_100, 1_000_900)
    assert desired_quotes(narrow, 300, heavy, TICK, LOT) == (999_300, 1_000_100)
    assert desired_quotes(BookTop("AAA", 0, 0, 1_000_200, 500, 0), 0, heavy, TICK, LOT) == (
        None,
        None,
    )


def test_requotes_only_the_side_whose_price_moved():
    context = SimpleContext()
    maker = MarketMaker(PARAMS, ["AAA"], context, tick=TICK, lot=LOT)
    assert maker.on_book(BOOK) == [quote(BUY, 1_000_300), quote(SELL, 1_000_700)]
    context.add_order("market_maker", WorkingOrder(1, "AAA", BUY, 100, 1_000_300))
    context.add_order("market_maker", WorkingOrder(2, "AAA", SELL, 100, 1_000_700))
    # the same book, and a book whose mid moved too little to change the bid: no churn
    assert maker.on_book(BOOK) == []
    wider = BookTop("AAA", 1_000_000, 500, 1_001_100, 500, 1)  # mid $100.055
    assert maker.on_book(wider) == [CancelIntent(2, "market_maker"), quote(SELL, 1_000_800)]
    # the cancel is pending: it is not sent again and its order does not count as our ask
    context.add_order("market_maker", WorkingOrder(3, "AAA", SELL, 100, 1_000_800))
    assert maker.on_book(wider) == []


def test_a_fill_skews_the_quotes_at_once():
    context = SimpleContext()
    maker = MarketMaker(PARAMS, ["AAA"], context, tick=TICK, lot=LOT)
    maker.on_book(BOOK)
    context.add_order("market_maker", WorkingOrder(1, "AAA", BUY, 100, 1_000_300))
    context.add_order("market_maker", WorkingOrder(2, "AAA", SELL, 100, 1_000_700))
    # our bid filled: long 100 -> half a tick of skew; the bid drops, the ask keeps its place
    context.positions["AAA"] = 100
    context.remove_order("market_maker", 1)
    fill = Fill(1, "AAA", BUY, 100, 1_000_300, 5, liquidity="A", strategy="market_maker")
    assert maker.on_fill(fill) == [quote(BUY, 1_000_200)]


def test_cancels_the_bid_at_max_inventory():
    context = SimpleContext(positions={"AAA": 300})
    maker = MarketMaker(PARAMS, ["AAA"], context, tick=TICK, lot=LOT)
    context.add_order("market_maker", WorkingOrder(1, "AAA", BUY, 100, 1_000_300))
    assert maker.on_book(BOOK) == [CancelIntent(1, "market_maker"), quote(SELL, 1_000_600)]


def test_ignores_other_symbols_and_one_sided_books():
    maker = MarketMaker(PARAMS, ["AAA"], SimpleContext(), tick=TICK, lot=LOT)
    assert maker.on_book(BookTop("ZZZ", 1_000_000, 1, 1_001_000, 1, 0)) == []
    assert maker.on_book(BookTop("AAA", 1_000_000, 1, 0, 0, 0)) == []
    assert maker.on_fill(Fill(9, "AAA", BUY, 1, 1, 0)) == []
