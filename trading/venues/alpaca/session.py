"""Putting an engine on Alpaca: its gateway (and feed), and the start-up reconciliation."""

from __future__ import annotations

import logging
from typing import Any, cast

from trading.engine.engine import TradingEngine
from trading.portfolio.order_manager import ManagedOrder
from trading.prices import PRICE_SCALE
from trading.venues.alpaca.feed import AlpacaFeed
from trading.venues.alpaca.gateway import AlpacaGateway
from trading.venues.alpaca.reconcile import Reconciled, broker_account, reconcile
from trading.venues.alpaca.settings import AlpacaSettings


def attach_alpaca(
    engine: TradingEngine,
    settings: AlpacaSettings,
    *,
    orders: bool = True,
    market_data: bool = True,
) -> AlpacaGateway | None:
    """Give `engine` an Alpaca order gateway (with `orders`) and Alpaca's data stream as its
    feed (with `market_data`); what is not replaced stays as it was (the simulator's).
    Nothing connects before the first poll. Returns the gateway, if one was attached."""
    gateway = None
    if orders:
        gateway = AlpacaGateway(settings, clock_ns=engine.clock_ns)
        # The engine only uses the gateway's and feed's interfaces, which these provide.
        engine.gateway = cast(Any, gateway)
    if market_data:
        engine.feed = cast(
            Any,
            AlpacaFeed(
                settings, engine.config.symbols, tick_size=engine.config.exchange.tick_size,
                on_message=engine._on_market_data, on_snapshot=engine._on_snapshot,
                on_batch=engine._on_feed_batch, clock_ns=engine.clock_ns,
            ),
        )  # fmt: skip
    return gateway


def restore_reconciled(
    engine: TradingEngine,
    gateway: AlpacaGateway,
    portfolio_snapshot: dict[str, Any] | None,
    session: str,
    next_sequence: int,
    open_orders: list[ManagedOrder],
    next_order_id: int,
    strategy_positions: dict[tuple[str, str], int],
    *,
    starting_equity: float = 1_000_000.0,
    logger: logging.Logger | None = None,
) -> Reconciled:
    """`engine.restore` from the ledger's checkpoint made to agree with the broker's account
    (positions and open orders; the broker wins), and the open orders handed to the gateway
    so their fills reach the engine. Raises when the broker cannot be asked."""
    account = broker_account(gateway.client)
    result = reconcile(
        portfolio_snapshot, open_orders, next_order_id, strategy_positions, account,
        client_id_prefix=gateway.settings.client_id_prefix,
        starting_cash=int(round(starting_equity * PRICE_SCALE)), logger=logger,
    )  # fmt: skip
    engine.restore(
        result.portfolio_snapshot, session, next_sequence, result.open_orders,
        result.next_order_id, result.strategy_positions,
    )  # fmt: skip
    for order_id, theirs in result.tracked.items():
        gateway.adopt(
            order_id, theirs.client_id, theirs.broker_id, symbol=theirs.symbol,
            side=theirs.side, qty=theirs.qty, price=theirs.limit_price, tif=theirs.tif,
            filled_qty=theirs.filled_qty,
            filled_notional=theirs.filled_avg_price * theirs.filled_qty,
        )  # fmt: skip
    return result
