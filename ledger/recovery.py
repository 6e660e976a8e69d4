"""What the engine needs from the ledger to carry on after a crash (kill -9 included)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trading.model.orders import TimeInForce
from trading.portfolio.order_manager import TERMINAL_STATES, ManagedOrder, OrderState


@dataclass(slots=True, frozen=True)
class RecoveryState:
    """The last portfolio snapshot, the venue session to resume, and the orders still open."""

    portfolio_snapshot: dict[str, Any] | None
    gateway_session: str = ""
    next_sequence: int = 1
    open_orders: list[ManagedOrder] = field(default_factory=list)
    next_order_id: int = 1
    strategy_positions: dict[tuple[str, str], int] = field(default_factory=dict)


def _managed_order(row: Any) -> ManagedOrder:
    state = OrderState(row.state)
    return ManagedOrder(
        order_id=row.order_id,
        symbol=row.symbol,
        side=row.side,
        qty=row.qty,
        price=row.price,
        # Monotonic engine times do not survive a restart; the new engine restamps.
        sent_ns=0,
        tif=TimeInForce(row.tif),
        strategy=row.strategy,
        state=state,
        filled_qty=row.filled_qty,
        # avg = notional / filled exactly as the OMS computed it, so this recovers it.
        fill_notional=round(row.avg_fill_price * row.filled_qty),
        accepted=state != OrderState.NEW,
        reason=row.reason,
    )


def load_recovery(account: str) -> RecoveryState:
    """The latest recovery state of `account` as written by `LedgerWriter`.

    With nothing stored yet: no snapshot, an empty session, sequence 1 and no open orders.
    Open orders are those not in a terminal state, oldest order id first.
    """
    from django.db.models import Max

    from ledger.models import Fill, GatewayState, Order, PositionSnapshot

    snapshot = PositionSnapshot.objects.filter(account=account).order_by("-ts", "-id").first()
    gateway = GatewayState.objects.filter(account=account).first()
    terminal = [state.value for state in TERMINAL_STATES]
    orders = Order.objects.filter(account=account).exclude(state__in=terminal).order_by("order_id")
    last_id = Order.objects.filter(account=account).aggregate(last=Max("order_id"))["last"]
    positions: dict[tuple[str, str], int] = {}
    for strategy, symbol, side, qty in Fill.objects.filter(account=account).values_list(
        "strategy", "symbol", "side", "qty"
    ):
        key = (strategy, symbol)
        positions[key] = positions.get(key, 0) + side * qty
    return RecoveryState(
        portfolio_snapshot=snapshot.snapshot if snapshot is not None else None,
        gateway_session=gateway.session if gateway is not None else "",
        next_sequence=gateway.next_sequence if gateway is not None else 1,
        open_orders=[_managed_order(row) for row in orders],
        # Order ids are OUCH tokens: never reuse one, even for orders that never went out.
        next_order_id=(last_id or 0) + 1,
        strategy_positions={k: q for k, q in positions.items() if q},
    )
