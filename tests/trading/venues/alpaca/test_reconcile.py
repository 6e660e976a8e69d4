"""Start-up reconciliation: the ledger's checkpoint made to agree with the broker's account."""

import logging

from trading.model.orders import BUY, SELL, Fill, TimeInForce
from trading.portfolio.order_manager import ManagedOrder, OrderState
from trading.portfolio.positions import Portfolio
from trading.venues.alpaca.reconcile import (
    EXTERNAL_STRATEGY,
    BrokerAccount,
    BrokerOrder,
    BrokerPosition,
    broker_account,
    reconcile,
)

from .fakes import ScriptedClient
from .payloads import order


def snapshot(*fills):
    portfolio = Portfolio(1_000_000_0000)
    for i, (symbol, side, qty, price) in enumerate(fills, 1):
        portfolio.on_fill(Fill(i, symbol, side, qty, price, 0, i))
    return portfolio.snapshot().as_dict()


def open_order(order_id, symbol="AAPL", qty=100, filled=0):
    return ManagedOrder(order_id, symbol, BUY, qty, 1_900_000, 0, TimeInForce.DAY,
                        "mean_reversion", state=OrderState.ACCEPTED, filled_qty=filled,
                        accepted=True)  # fmt: skip


def broker_order(client_id, symbol="AAPL", qty=100, filled=0):
    return BrokerOrder("b-" + client_id, client_id, symbol, BUY, qty, filled, 1_900_000 if filled
                       else 0, 1_900_000, TimeInForce.DAY, "new")  # fmt: skip


def positions_of(result):
    return {p.symbol: p.qty for p in Portfolio.restore(result.portfolio_snapshot).open_positions()}


def test_when_ledger_and_broker_agree_nothing_changes(caplog):
    ledger = snapshot(("AAPL", BUY, 100, 1_900_000))
    broker = BrokerAccount((BrokerPosition("AAPL", 100, 1_900_000),), (broker_order("desk-5"),))
    with caplog.at_level(logging.INFO):
        result = reconcile(ledger, [open_order(5)], 6, {("mean_reversion", "AAPL"): 100}, broker)
    assert result.differences == []
    assert "agree" in caplog.text
    assert positions_of(result) == {"AAPL": 100}
    assert [o.order_id for o in result.open_orders] == [5]
    assert result.strategy_positions == {("mean_reversion", "AAPL"): 100}


def test_the_broker_wins_on_positions_and_every_difference_is_logged(caplog):
    ledger = snapshot(("AAPL", BUY, 100, 1_900_000), ("MSFT", SELL, 50, 4_100_000))
    broker = BrokerAccount(
        (BrokerPosition("AAPL", 300, 1_910_000), BrokerPosition("GOOG", 10, 1_700_000)), ()
    )
    with caplog.at_level(logging.WARNING):
        result = reconcile(ledger, [], 1, {("mean_reversion", "AAPL"): 100}, broker)
    assert positions_of(result) == {"AAPL": 300, "GOOG": 10}
    restored = Portfolio.restore(result.portfolio_snapshot)
    assert restored.positions["AAPL"].avg_price == 1_910_000
    assert len(result.differences) == 5  # AAPL, MSFT, GOOG positions; AAPL, GOOG external
    for symbol in ("AAPL", "MSFT", "GOOG"):
        assert f"position {symbol}" in caplog.text
    assert result.strategy_positions == {
        ("mean_reversion", "AAPL"): 100, (EXTERNAL_STRATEGY, "AAPL"): 200,
        (EXTERNAL_STRATEGY, "GOOG"): 10,
    }  # fmt: skip


def test_open_orders_follow_the_broker_and_unknown_ones_are_adopted():
    broker = BrokerAccount(
        (), (broker_order("desk-5", filled=40), broker_order("manual-1", "MSFT", qty=10))
    )
    result = reconcile(None, [open_order(5), open_order(6)], 7, {}, broker)
    by_id = {o.order_id: o for o in result.open_orders}
    assert set(by_id) == {5, 7}  # 6 is closed at the broker; the manual order is adopted as 7
    assert by_id[5].filled_qty == 40 and by_id[5].state == OrderState.PARTIALLY_FILLED
    assert by_id[7].symbol == "MSFT" and by_id[7].strategy == EXTERNAL_STRATEGY
    assert result.next_order_id == 8
    assert result.tracked[7].client_id == "manual-1"
    assert any("order 6 is no longer open" in d for d in result.differences)


def test_the_account_is_read_through_alpaca_py_models():
    client = ScriptedClient(
        get_all_positions=[],
        get_orders=[order("desk-3", qty=100, filled_qty=20, filled_avg_price="190.1",
                          side="sell", status="partially_filled", time_in_force="gtc")],
    )  # fmt: skip
    account = broker_account(client)
    (o,) = account.open_orders
    assert (o.client_id, o.side, o.qty, o.filled_qty, o.filled_avg_price, o.tif) == (
        "desk-3", SELL, 100, 20, 1_901_000, TimeInForce.GTC
    )  # fmt: skip
