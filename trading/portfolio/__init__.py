"""The engine's own orders (OMS) and the positions and P&L they produce."""

from trading.portfolio.order_manager import (
    Anomaly,
    AnomalyKind,
    ManagedOrder,
    OpenExposure,
    OrderManager,
    OrderState,
)
from trading.portfolio.positions import (
    Lot,
    Portfolio,
    PortfolioSnapshot,
    Position,
    PositionSnapshot,
    to_dollars,
)

__all__ = [
    "Anomaly",
    "AnomalyKind",
    "Lot",
    "ManagedOrder",
    "OpenExposure",
    "OrderManager",
    "OrderState",
    "Portfolio",
    "PortfolioSnapshot",
    "Position",
    "PositionSnapshot",
    "to_dollars",
]
