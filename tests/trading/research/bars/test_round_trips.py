"""Pairing fills into trades: FIFO lots, partial closes, reversals, fees shared by quantity."""

import numpy as np
import pytest

from trading.research.bars.portfolio import ORDER_DTYPE
from trading.research.bars.round_trips import round_trips
from trading.research.bars.strategies import backtest_ma_crossover

DAYS = np.arange("2020-01-01", "2020-01-11", dtype="datetime64[D]")


def orders(*rows):
    out = np.zeros(len(rows), dtype=ORDER_DTYPE)
    for i, (bar, column, side, size, price, fees) in enumerate(rows):
        out[i] = (bar, column, side, size, price, fees, False)
    return out


def test_a_long_closed_in_two_parts_is_two_trades_sharing_the_entry_fee():
    trades = round_trips(orders((0, 0, 1, 10, 100.0, 1.0), (2, 0, -1, 4, 110.0, 0.4),
                                (5, 0, -1, 6, 90.0, 0.6)), DAYS)  # fmt: skip
    assert trades["qty"].tolist() == [4, 6]
    assert trades["fees"] == pytest.approx([0.4 + 0.4, 0.6 + 0.6])
    assert trades["pnl"] == pytest.approx([4 * 10 - 0.8, 6 * -10 - 1.2])
    assert trades["entry_ts"][0] == DAYS[0].astype("datetime64[ns]").astype(np.int64)
    assert trades["exit_ts"][1] == DAYS[5].astype("datetime64[ns]").astype(np.int64)


def test_a_reversal_closes_the_long_and_opens_a_short_with_the_rest():
    trades = round_trips(orders((0, 0, 1, 5, 100.0, 0.0), (1, 0, -1, 8, 104.0, 0.0),
                                (3, 0, 1, 3, 101.0, 0.0)), DAYS)  # fmt: skip
    assert trades["side"].tolist() == [1, -1]
    assert trades["pnl"] == pytest.approx([5 * 4, 3 * 3])


def test_columns_are_paired_separately_and_open_lots_are_not_trades():
    trades = round_trips(orders((0, 0, 1, 1, 10.0, 0.0), (0, 1, -1, 2, 20.0, 0.0),
                                (1, 1, 1, 2, 18.0, 0.0)), DAYS)  # fmt: skip
    assert len(trades) == 1 and trades["side"][0] == -1 and trades["pnl"][0] == pytest.approx(4)


def test_trades_of_a_flat_backtest_add_up_to_its_equity_change():
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 400)))
    result = backtest_ma_crossover(close, 5, 20, fees=0.001)
    dates = np.arange(400).astype("datetime64[D]")
    trades = round_trips(result.orders, dates)
    assert len(trades) > 3
    open_at_end = result.position[-1] != 0
    if open_at_end:
        last_entry_bar = int(result.orders["bar"][-1])
        flat_value = result.value[last_entry_bar - 1] if last_entry_bar else result.init_cash
        assert trades["pnl"].sum() == pytest.approx(flat_value - result.init_cash, rel=1e-9)
    else:
        assert trades["pnl"].sum() == pytest.approx(result.final_value - result.init_cash)
