"""The simulated exchange's queue and fill rules, on hand-written days.

The maker wakes at 1 s (interval 1 s) and, with zero latency, rests a bid at BID behind A
and an ask at ASK behind B (100 shares ahead of each). Each day ends before 2 s, so no
re-quote interferes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.trading.research.tick.scenario import ASK, BID, JOIN_TOUCH, S, day, opening
from trading.research.tick.backtest import Fees, TickBacktest, run_tick_backtest
from trading.research.tick.latency import ConstantLatency


def run(rows, **settings):
    settings.setdefault("strategy", JOIN_TOUCH)
    settings.setdefault("interval_ns", S)
    return run_tick_backtest(day(opening() + rows), **settings)


def fills(result):
    return [
        (int(f["ts_ns"]), int(f["side"]), int(f["price"]), int(f["qty"]), bool(f["maker"]))
        for f in result.fills
    ]


# A 40-share execution of A (ahead of us), its deletion, then an execution of C (behind us).
QUEUE_DAY = [
    (1.1, 1, 3, 50, BID, 1),  # C joins behind our bid
    (1.2, 4, 1, 40, BID, 1),  # A (ahead) executes 40: no fill, 60 ahead
    (1.3, 3, 1, 60, BID, 1),  # A deleted: nothing ahead
    (1.4, 4, 3, 30, BID, 1),  # C (behind us) executes: the seller met us first
]


def test_l3_fifo_fills_when_an_order_behind_us_executes():
    result = run(QUEUE_DAY)
    assert fills(result) == [(int(1.4 * S), 1, BID, 30, True)]
    assert result.queue_position.tolist() == [100, 100]  # A ahead of our bid, B of our ask
    assert result.fills["queue_at_entry"].tolist() == [100]
    assert result.position == 30
    assert result.cash == pytest.approx(-30 * BID / 10_000)


def test_l3_fifo_whole_fills_take_the_whole_order():
    assert fills(run(QUEUE_DAY, whole_fills=True)) == [(int(1.4 * S), 1, BID, 100, True)]


def test_l3_fifo_no_fill_while_orders_ahead_trade():
    # Only A (ahead of us) trades: the queue shrinks, nothing reaches us.
    assert fills(run([(1.2, 4, 1, 40, BID, 1), (1.3, 4, 1, 60, BID, 1)])) == []


def test_risk_averse_cancels_do_not_advance_the_queue():
    # 100 ahead; A trades 40 (60 ahead); A's delete shrinks the level to C's 50, capping us
    # at 50 ahead; C's 30-share trade leaves 20 ahead: no fill, where L3 FIFO filled 30.
    assert fills(run(QUEUE_DAY, queue_model="risk_averse")) == []
    # A further 30 traded at our price goes 10 past the front of the queue: 10 filled.
    more = QUEUE_DAY + [(1.5, 4, 3, 20, BID, 1), (1.6, 1, 4, 100, BID, 1), (1.7, 4, 4, 10, BID, 1)]
    assert fills(run(more, queue_model="risk_averse")) == [(int(1.7 * S), 1, BID, 10, True)]


def _prob_queue_fill(n: float, log: bool) -> int:
    """hftbacktest's ProbQueueModel (queue.rs) replayed by hand on CANCEL_DAY for our bid."""
    front, cum = 100.0, 0.0
    level = 100 + 300  # A + D

    def depth(prev, new):
        nonlocal front, cum
        chg = prev - new - cum
        cum = 0.0
        if chg < 0:
            front = min(front, new)
            return
        back = prev - front
        f = (lambda x: math.log(1 + x)) if log else (lambda x: x**n)
        p = f(back) / (f(back) + f(front))
        p = 1.0 if not math.isfinite(p) else p
        front = min(front - (1 - p) * chg + min(back - p * chg, 0), new)

    depth(level, level - 150)  # D cancels 150 (behind us in fact, unknown to an L2 model)
    level -= 150
    front -= 60  # a 60-share trade at our price
    cum += 60
    fill = 0
    if front < 0:
        fill = round(-front)
        front = 0.0
    depth(level, level - 60)
    return min(fill, 100)


CANCEL_DAY = [
    (1.1, 1, 4, 300, BID, 1),  # D joins behind us
    (1.2, 2, 4, 150, BID, 1),  # D cancels half
    (1.3, 4, 1, 60, BID, 1),  # A trades 60
]


@pytest.mark.parametrize(
    ("model", "n", "log"), [("power", 3.0, False), ("power", 0.5, False), ("log", 0.0, True)]
)
def test_probabilistic_queue_matches_hftbacktest_formula(model, n, log):
    expected = _prob_queue_fill(n, log)
    got = fills(run(CANCEL_DAY, queue_model=model, prob_n=n or 3.0))
    assert sum(f[3] for f in got) == expected
    # L3 FIFO knows D was behind us: A's 60 leaves 40 ahead, no fill.
    assert fills(run(CANCEL_DAY)) == []


def test_trade_through_fills_and_can_be_switched_off():
    # A leaves, so our bid is alone above the market's best (D); a seller hitting D passed us.
    rows = [(0.5, 1, 5, 100, BID - 100, 1), (1.2, 3, 1, 100, BID, 1), (1.5, 4, 5, 70, BID - 100, 1)]
    assert fills(run(rows)) == [(int(1.5 * S), 1, BID, 70, True)]
    # hftbacktest's rule only fills orders between an execution and a *better* market best.
    assert fills(run(rows, trade_through=False)) == []
    rows_behind_best = [(0.5, 1, 5, 100, BID - 100, 1), (1.5, 4, 5, 70, BID - 100, 1)]
    assert fills(run(rows_behind_best, trade_through=False)) == [(int(1.5 * S), 1, BID, 100, True)]


def test_hidden_execution_at_our_price_fills_us():
    rows = [(1.5, 5, 0, 25, BID, 1)]
    assert fills(run(rows)) == [(int(1.5 * S), 1, BID, 25, True)]
    assert fills(run(rows, hidden_trades=False)) == []


def test_crossing_quote_fills_resting_order():
    # A seller posts at our bid after A is gone: it would have traded with us.
    rows = [(1.2, 3, 1, 100, BID, 1), (1.3, 1, 6, 40, BID, -1)]
    assert fills(run(rows)) == [(int(1.3 * S), 1, BID, 40, True)]


def test_marketable_order_takes_the_book_and_pays_taker_fee():
    # With 0.5 s entry latency the ask drops to BID (40 shares) before our bid arrives: it
    # takes those 40 at the book's price and rests the other 60.
    rows = [(0.5, 1, 5, 100, BID - 100, 1), (1.2, 3, 1, 100, BID, 1), (1.3, 1, 6, 40, BID, -1)]
    result = run(
        rows,
        latency=ConstantLatency(S // 2, 0),
        fees=Fees(maker=-0.0020, taker=0.0030, per_share=True),
    )
    taker = result.fills[~result.fills["maker"]]
    assert [(int(f["ts_ns"]), int(f["price"]), int(f["qty"])) for f in taker] == [
        (int(1.5 * S), BID, 40)
    ]
    assert taker["fee"].tolist() == pytest.approx([0.0030 * 40])
    assert taker["queue_at_entry"].tolist() == [-1]


def test_latency_delays_arrival_and_fills_reach_us_late():
    # Entry 0.3 s: our bid rests at 1.3 s, after C (1.1 s) joined, so C is ahead of us now
    # and its execution does not fill us.
    assert fills(run(QUEUE_DAY, latency=ConstantLatency(3 * S // 10, 0))) == []
    result = run(QUEUE_DAY, latency=ConstantLatency(0, S // 2))
    assert fills(result) == [(int(1.4 * S), 1, BID, 30, True)]
    assert result.position == 30  # the answer came back at 1.9 s, before the end


def test_pnl_identity_and_equity_curve():
    result = run(QUEUE_DAY + [(1.8, 1, 7, 10, ASK - 100, -1)], fees=Fees(maker=0.0001))
    expected = result.cash + result.position * result.final_mid / 10_000 - result.fees
    assert result.total_pnl == pytest.approx(expected)
    assert result.fees == pytest.approx(0.0001 * 30 * BID / 10_000)
    assert len(result.equity) == len(result.equity_ts) >= 1


def test_event_driven_wakes_requote_on_book_changes():
    result = run(QUEUE_DAY, interval_ns=0)
    assert result.orders_sent >= 2
    assert result.events_processed == len(QUEUE_DAY) + 2


def test_bad_settings_are_rejected():
    msgs = day(opening())
    with pytest.raises(ValueError, match="queue_model"):
        TickBacktest(msgs, queue_model="lifo")
    with pytest.raises(ValueError, match="interval_ns"):
        TickBacktest(msgs, interval_ns=-1)
    with pytest.raises(ValueError, match="MESSAGE_DTYPE"):
        TickBacktest(np.zeros(3))
    with pytest.raises(ValueError, match="latencies must be"):
        ConstantLatency(-1, 0)


def test_samples_beyond_the_first_buffers_are_kept_not_dropped():
    """A whole day at one equity mark a second outgrows any fixed buffer: the run grows its
    buffers and replays rather than silently keeping only the first marks."""
    from trading.lobster import load_day
    from trading.research.tick.backtest import TickBacktest
    from trading.shared_data import shared_data_dir

    day = load_day(
        shared_data_dir() / "lobster" / "AMZN_2012-06-21_34200000_57600000_message_5.csv.gz"
    )
    rows = slice(0, 20_000)
    backtest = TickBacktest(day.messages[rows], day.orderbook[rows], equity_interval_ns=1_000_000)
    backtest._caps[2] = 16  # far fewer than the run's marks, orders and resting orders
    result = backtest.run()
    last_event = int(day.messages["ts_ns"][rows.stop - 1])
    # Marks are taken when the strategy wakes (every 100 ms): the last is within one wake-up.
    assert len(result.equity) > 16 and result.equity_ts[-1] > last_event - 200_000_000
    assert len(result.latency_ns) == result.orders_sent
