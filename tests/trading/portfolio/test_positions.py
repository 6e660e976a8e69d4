"""Positions and P&L: FIFO lots, flips, shorts, marks, daily reset, duplicates, recovery.

Amounts are in 1e-4 $ (price units x shares): 10_000 = $1.00.
"""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading.model.market import BookTop
from trading.model.orders import BUY, SELL, Fill
from trading.portfolio import Portfolio, PortfolioSnapshot, Position, to_dollars
from trading.prices import to_price

_match = iter(range(1, 1_000_000))


def fill(side: int, qty: int, dollars: float, symbol: str = "AAPL", order_id: int = 1) -> Fill:
    return Fill(order_id, symbol, side, qty, to_price(dollars), 0, match_number=next(_match))


def book(bid: float, ask: float, symbol: str = "AAPL") -> BookTop:
    return BookTop(symbol, to_price(bid), 100, to_price(ask), 100, 0)


def test_acceptance_trace_buy_at_the_ask_then_marked_at_the_new_mid():
    portfolio = Portfolio()
    portfolio.on_book(book(150.00, 150.02))
    portfolio.on_book(book(150.01, 150.02))
    assert portfolio.on_fill(fill(BUY, 100, 150.02))

    position = portfolio.positions["AAPL"]
    assert position.qty == 100
    assert position.avg_price == 1_500_200
    assert position.mark == 1_500_150  # mid 150.015
    assert position.unrealised == -5_000  # -0.005 $ x 100 shares
    assert to_dollars(portfolio.unrealised) == -0.50
    assert portfolio.realised == 0
    assert to_dollars(portfolio.total_pnl) == -0.50


def test_fifo_closes_oldest_lots_first_then_a_bigger_sell_flips_the_position():
    portfolio = Portfolio()
    portfolio.on_fill(fill(BUY, 100, 10))
    portfolio.on_fill(fill(BUY, 100, 11))
    position = portfolio.positions["AAPL"]
    assert position.qty == 200
    assert position.avg_price == to_price(10.5)

    portfolio.on_fill(fill(SELL, 150, 12))
    assert to_dollars(position.realised) == 100 * (12 - 10) + 50 * (12 - 11) == 250
    assert position.qty == 50
    assert position.avg_price == to_price(11)
    assert [(lot.qty, lot.price) for lot in position.lots] == [(50, to_price(11))]

    portfolio.on_fill(fill(SELL, 100, 9))
    assert position.qty == -50
    assert position.avg_price == to_price(9)
    assert [(lot.qty, lot.price) for lot in position.lots] == [(-50, to_price(9))]
    assert to_dollars(position.realised) == 250 + 50 * (9 - 11) == 150


def test_partial_fills_of_one_order_are_just_fills():
    portfolio = Portfolio()
    for qty in (30, 30, 40):
        portfolio.on_fill(fill(BUY, qty, 20.00, order_id=7))
    position = portfolio.positions["AAPL"]
    assert position.qty == 100
    assert position.avg_price == to_price(20)
    assert len(position.lots) == 3


def test_short_position_gains_when_the_price_falls():
    portfolio = Portfolio()
    portfolio.on_fill(fill(SELL, 200, 50.00))
    portfolio.mark("AAPL", to_price(49.50))
    position = portfolio.positions["AAPL"]
    assert position.qty == -200
    assert position.avg_price == to_price(50)
    assert to_dollars(position.unrealised) == 100.0  # 200 x 0.50
    portfolio.on_fill(fill(BUY, 50, 49.00))
    assert to_dollars(position.realised) == 50.0  # 50 x 1.00
    assert position.qty == -150
    assert to_dollars(position.unrealised) == 75.0  # 150 x 0.50


def test_a_flat_position_after_round_trip_has_only_realised_pnl():
    portfolio = Portfolio()
    portfolio.on_fill(fill(BUY, 100, 10.00))
    portfolio.on_fill(fill(SELL, 100, 10.25))
    position = portfolio.positions["AAPL"]
    assert position.qty == 0
    assert position.avg_price == 0.0
    assert position.unrealised == 0
    assert to_dollars(portfolio.total_pnl) == 25.0
    assert portfolio.open_positions() == []


def test_before_any_mid_a_position_is_valued_at_its_last_fill_price():
    portfolio = Portfolio()
    portfolio.on_fill(fill(BUY, 10, 100.00))
    assert portfolio.unrealised == 0
    assert to_dollars(portfolio.gross_exposure) == 1_000.0


def test_one_sided_book_keeps_the_previous_mark():
    portfolio = Portfolio()
    portfolio.on_book(book(10.00, 10.02))
    portfolio.on_book(BookTop("AAPL", to_price(9.0), 100, 0, 0, 0))
    assert portfolio.positions["AAPL"].mark == to_price(10.01)


def test_exposures_equity_and_fees_across_symbols():
    portfolio = Portfolio(starting_cash=to_price(100_000))
    portfolio.on_fill(fill(BUY, 100, 10.00, "AAA"), fee=to_price(1.00))
    portfolio.on_fill(fill(SELL, 50, 20.00, "BBB"))
    portfolio.mark("AAA", to_price(11.00))
    portfolio.mark("BBB", to_price(19.00))

    assert to_dollars(portfolio.gross_exposure) == 100 * 11 + 50 * 19 == 2_050
    assert to_dollars(portfolio.net_exposure) == 100 * 11 - 50 * 19 == 150
    assert to_dollars(portfolio.unrealised) == 100 + 50
    assert to_dollars(portfolio.fees) == 1.0
    assert to_dollars(portfolio.total_pnl) == 149.0
    assert to_dollars(portfolio.equity) == 100_149.0
    assert [p.symbol for p in portfolio.open_positions()] == ["AAA", "BBB"]


def test_daily_pnl_counts_from_the_last_start_of_day():
    portfolio = Portfolio()
    portfolio.on_fill(fill(BUY, 100, 10.00))
    portfolio.mark("AAPL", to_price(10.50))
    assert to_dollars(portfolio.daily_pnl) == 50.0
    portfolio.start_of_day()
    assert portfolio.daily_pnl == 0
    portfolio.mark("AAPL", to_price(10.20))
    assert to_dollars(portfolio.daily_pnl) == -30.0
    assert to_dollars(portfolio.total_pnl) == 20.0


def test_a_replayed_fill_is_ignored_and_counted():
    portfolio = Portfolio()
    first = Fill(5, "AAPL", BUY, 100, to_price(10), 0, match_number=42)
    assert portfolio.on_fill(first)
    assert not portfolio.on_fill(first)  # the gateway replays after a reconnect
    assert portfolio.positions["AAPL"].qty == 100
    assert portfolio.duplicate_fills == 1
    # the same match number on another order is a different execution
    assert portfolio.on_fill(Fill(6, "AAPL", BUY, 1, to_price(10), 0, match_number=42))


def test_fills_without_a_match_number_cannot_be_deduplicated_and_are_applied():
    portfolio = Portfolio()
    portfolio.on_fill(Fill(5, "AAPL", BUY, 10, to_price(10), 0))
    portfolio.on_fill(Fill(5, "AAPL", BUY, 10, to_price(10), 0))
    assert portfolio.positions["AAPL"].qty == 20


def test_bad_fills_raise():
    with pytest.raises(ValueError):
        Position("AAPL").apply(BUY, 0, 100)
    with pytest.raises(ValueError):
        Position("AAPL").apply(2, 10, 100)


def _busy_portfolio() -> Portfolio:
    portfolio = Portfolio(starting_cash=to_price(50_000))
    portfolio.on_fill(fill(BUY, 100, 10, order_id=1))
    portfolio.on_fill(fill(BUY, 100, 11, order_id=2))
    portfolio.on_fill(fill(SELL, 150, 12, order_id=3), fee=25)
    portfolio.on_fill(fill(SELL, 70, 30, "MSFT", order_id=4))
    portfolio.on_book(book(29.90, 29.95, "MSFT"))
    portfolio.start_of_day()
    portfolio.on_book(book(11.50, 11.52))
    replay = Fill(9, "AAPL", BUY, 1, to_price(11), 0, match_number=999)
    portfolio.on_fill(replay)
    portfolio.on_fill(replay)
    return portfolio


def test_restore_of_a_snapshot_gives_back_the_same_state_lots_included():
    portfolio = _busy_portfolio()
    snap = portfolio.snapshot()
    restored = Portfolio.restore(snap)
    assert restored.snapshot() == snap
    assert [(lot.qty, lot.price) for lot in restored.positions["AAPL"].lots] == [
        (50, to_price(11)),
        (1, to_price(11)),
    ]
    assert restored.totals() == portfolio.totals()
    # the restored portfolio still remembers which fills it has applied
    assert not restored.on_fill(Fill(9, "AAPL", BUY, 1, to_price(11), 0, match_number=999))
    assert restored.duplicate_fills == 2


def test_snapshot_survives_a_json_round_trip():
    portfolio = _busy_portfolio()
    text = json.dumps(portfolio.snapshot().as_dict())
    restored = Portfolio.restore(json.loads(text))
    assert restored.snapshot() == portfolio.snapshot()
    assert PortfolioSnapshot.from_dict(json.loads(text)) == portfolio.snapshot()


fills_strategy = st.lists(
    st.tuples(
        st.sampled_from([BUY, SELL]),
        st.integers(min_value=1, max_value=500),
        st.integers(min_value=1, max_value=2_000_000),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(fills=fills_strategy, mark=st.integers(min_value=1, max_value=2_000_000))
def test_fifo_pnl_equals_cash_flow_pnl_and_position_is_the_sum_of_fills(fills, mark):
    portfolio = Portfolio()
    for i, (side, qty, price) in enumerate(fills):
        portfolio.on_fill(Fill(i, "X", side, qty, price, 0, match_number=1))
    portfolio.mark("X", mark)
    position = portfolio.positions["X"]

    signed = sum(side * qty for side, qty, _ in fills)
    cash = sum(-side * qty * price for side, qty, price in fills)
    assert position.qty == signed
    assert position.realised + position.unrealised == cash + signed * mark
    assert all((lot.qty > 0) == (signed > 0) and lot.qty != 0 for lot in position.lots)
    assert Portfolio.restore(portfolio.snapshot()).snapshot() == portfolio.snapshot()


def test_the_duplicate_guard_remembers_a_bounded_window_of_fills():
    portfolio = Portfolio(remembered_fills=3)
    fills = [Fill(i, "AAPL", BUY, 10, to_price(100.0), 0, match_number=i) for i in range(1, 6)]
    assert all(portfolio.on_fill(fill) for fill in fills)
    assert portfolio.on_fill(fills[4]) is False  # recent: a duplicate
    assert portfolio.on_fill(fills[0]) is True  # too old to remember
    assert portfolio.snapshot().applied_fills == ((1, 1), (4, 4), (5, 5))
