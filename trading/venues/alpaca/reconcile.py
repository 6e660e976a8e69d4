"""Start-up reconciliation: what the engine's ledger says against what the broker holds.

After a restart (kill -9 included) the engine resumes from its last checkpoint: a portfolio
snapshot and the orders still open. With a real broker that checkpoint can be behind (fills
while the engine was down) or wrong (orders placed or positions changed by hand). The broker
wins: each position is set to the broker's quantity and average price, each of our open
orders to the broker's state, and orders open at the broker that the engine did not know are
adopted so their fills count. Every difference is a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from trading.model.orders import BUY, SELL, TimeInForce
from trading.portfolio.order_manager import ManagedOrder, OrderState
from trading.portfolio.positions import Portfolio
from trading.venues.alpaca import translate as tr

EXTERNAL_STRATEGY = "external"  # owns what no strategy of the engine explains


@dataclass(slots=True, frozen=True)
class BrokerPosition:
    symbol: str
    qty: int  # signed
    avg_price: int  # 1e-4 dollars


@dataclass(slots=True, frozen=True)
class BrokerOrder:
    """An order open at the broker."""

    broker_id: str
    client_id: str
    symbol: str
    side: int
    qty: int
    filled_qty: int
    filled_avg_price: int
    limit_price: int
    tif: TimeInForce
    status: str


@dataclass(slots=True, frozen=True)
class BrokerAccount:
    """What the broker holds for the account: positions and open orders."""

    positions: tuple[BrokerPosition, ...]
    open_orders: tuple[BrokerOrder, ...]


@dataclass(slots=True)
class Reconciled:
    """The checkpoint corrected to the broker's view, and what was corrected."""

    portfolio_snapshot: dict[str, Any] | None
    open_orders: list[ManagedOrder]
    next_order_id: int
    strategy_positions: dict[tuple[str, str], int]
    # Engine order id -> the broker's order, for the gateway to track.
    tracked: dict[int, BrokerOrder] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)


def broker_account(client: Any) -> BrokerAccount:
    """Positions and open orders from alpaca-py's TradingClient (raises on broker errors:
    the engine must not start trading on a view it could not check)."""
    from alpaca.trading.enums import QueryOrderStatus
    from alpaca.trading.requests import GetOrdersRequest

    positions = []
    for p in client.get_all_positions():
        qty = tr.to_shares(p.qty, "qty")
        side = str(getattr(p.side, "value", p.side))
        if side == "short" and qty > 0:
            qty = -qty
        positions.append(BrokerPosition(p.symbol, qty, tr.to_price(p.avg_entry_price)))
    orders = []
    for o in client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, limit=500)):
        side = str(getattr(o.side, "value", o.side))
        tif = tr.TIF_FROM_ALPACA.get(str(getattr(o.time_in_force, "value", o.time_in_force)))
        orders.append(
            BrokerOrder(
                str(o.id),
                o.client_order_id,
                o.symbol or "",
                BUY if side == "buy" else SELL,
                tr.to_shares(o.qty),
                tr.to_shares(o.filled_qty),
                tr.to_price(o.filled_avg_price),
                tr.to_price(o.limit_price),
                tif or TimeInForce.DAY,
                str(getattr(o.status, "value", o.status)),
            )  # fmt: skip
        )
    return BrokerAccount(tuple(positions), tuple(orders))


def reconcile(
    portfolio_snapshot: dict[str, Any] | None,
    open_orders: Iterable[ManagedOrder],
    next_order_id: int,
    strategy_positions: dict[tuple[str, str], int],
    broker: BrokerAccount,
    *,
    client_id_prefix: str = tr.DEFAULT_CLIENT_ID_PREFIX,
    starting_cash: int = 0,
    logger: logging.Logger | None = None,
) -> Reconciled:
    """The checkpoint made to agree with `broker` (the broker wins), every change logged."""
    log = logger or logging.getLogger("SYSTEM")
    diffs: list[str] = []
    portfolio = (
        Portfolio.restore(portfolio_snapshot)
        if portfolio_snapshot is not None
        else Portfolio(starting_cash)
    )
    held = {p.symbol: p for p in broker.positions if p.qty}
    for symbol in sorted(set(held) | {p.symbol for p in portfolio.open_positions()}):
        ours = portfolio.positions.get(symbol)
        our_qty = ours.qty if ours is not None else 0
        our_avg = round(ours.avg_price) if ours is not None and our_qty else 0
        theirs = held.get(symbol)
        their_qty = theirs.qty if theirs is not None else 0
        their_avg = theirs.avg_price if theirs is not None else 0
        if (our_qty, our_avg) == (their_qty, their_avg):
            continue
        diffs.append(
            f"position {symbol}: ledger {our_qty:+d} @ {our_avg / 10_000:.4f}, "
            f"broker {their_qty:+d} @ {their_avg / 10_000:.4f}: broker's kept"
        )
        _set_position(portfolio, symbol, their_qty, their_avg)
    positions = dict(strategy_positions)
    for symbol in sorted({s for _, s in positions} | set(held)):
        explained = sum(q for (strategy, s), q in positions.items() if s == symbol)
        explained -= positions.get((EXTERNAL_STRATEGY, symbol), 0)
        rest = (held[symbol].qty if symbol in held else 0) - explained
        positions.pop((EXTERNAL_STRATEGY, symbol), None)
        if rest:
            positions[(EXTERNAL_STRATEGY, symbol)] = rest
            diffs.append(f"{symbol}: {rest:+d} shares no strategy placed (held as external)")
    at_broker = {o.client_id: o for o in broker.open_orders}
    kept: list[ManagedOrder] = []
    tracked: dict[int, BrokerOrder] = {}
    for order in open_orders:
        client_id = tr.client_order_id(order.order_id, client_id_prefix)
        open_there = at_broker.pop(client_id, None)
        if open_there is None:
            diffs.append(f"order {order.order_id} is no longer open at the broker: dropped")
            continue
        if open_there.filled_qty != order.filled_qty:
            diffs.append(
                f"order {order.order_id}: ledger filled {order.filled_qty}, broker "
                f"{open_there.filled_qty}: broker's kept"
            )
        kept.append(_as_managed(open_there, order.order_id, order.strategy, order.price))
        tracked[order.order_id] = open_there
    next_id = next_order_id
    for unknown in at_broker.values():
        own_id = tr.order_id_from_client(unknown.client_id, client_id_prefix)
        if own_id and own_id < next_order_id:
            order_id, strategy = own_id, EXTERNAL_STRATEGY
        else:
            order_id, strategy = next_id, EXTERNAL_STRATEGY
            next_id += 1
        diffs.append(
            f"order {unknown.client_id} ({unknown.symbol} {unknown.qty - unknown.filled_qty} "
            f"open) is at the broker but not in the ledger: adopted as order {order_id}"
        )
        kept.append(_as_managed(unknown, order_id, strategy, unknown.limit_price))
        tracked[order_id] = unknown
    next_id = max(next_id, max((o.order_id for o in kept), default=0) + 1)
    for line in diffs:
        log.warning("reconcile: %s", line)
    if not diffs:
        log.info(
            "reconcile: ledger and broker agree (%d positions, %d open orders)",
            len(held), len(kept),
        )  # fmt: skip
    snapshot = (
        portfolio.snapshot().as_dict() if portfolio_snapshot is not None or held or diffs else None
    )
    return Reconciled(snapshot, kept, next_id, positions, tracked, diffs)


def _set_position(portfolio: Portfolio, symbol: str, qty: int, avg_price: int) -> None:
    """The position as one lot of the broker's quantity at its average price (realised
    P&L so far is kept: the broker's average says nothing about it)."""
    position = portfolio.position(symbol)
    snapshot = position.snapshot()
    lots = ((qty, avg_price),) if qty else ()
    restored = type(position).restore(replace(snapshot, lots=lots, mark=snapshot.mark or avg_price))
    portfolio.positions[symbol] = restored


def _as_managed(order: BrokerOrder, order_id: int, strategy: str, price: int) -> ManagedOrder:
    state = OrderState.PARTIALLY_FILLED if order.filled_qty else OrderState.ACCEPTED
    return ManagedOrder(
        order_id=order_id,
        symbol=order.symbol,
        side=order.side,
        qty=order.qty,
        price=price or order.limit_price,
        sent_ns=0,
        tif=order.tif,
        strategy=strategy,
        state=state,
        filled_qty=order.filled_qty,
        fill_notional=order.filled_avg_price * order.filled_qty,
        accepted=True,
    )
