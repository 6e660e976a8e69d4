"""Trading strategies: venue-agnostic objects turning market events into order intents.

Importing the package registers every strategy in `registry`.
"""

from trading.strategies.base import (
    Intent,
    RollingIntStats,
    RollingStats,
    SimpleContext,
    Strategy,
    StrategyContext,
    WorkingOrder,
    build_strategies,
    register,
    registry,
)
from trading.strategies.market_maker import MarketMaker, desired_quotes
from trading.strategies.mean_reversion import MeanReversion
from trading.strategies.momentum import Momentum
from trading.strategies.pairs import Pairs, SpreadFit, fit_spread, hedge_ratio, leg_sizes

__all__ = [
    "Intent",
    "MarketMaker",
    "MeanReversion",
    "Momentum",
    "Pairs",
    "RollingIntStats",
    "RollingStats",
    "SimpleContext",
    "SpreadFit",
    "Strategy",
    "StrategyContext",
    "WorkingOrder",
    "build_strategies",
    "desired_quotes",
    "fit_spread",
    "hedge_ratio",
    "leg_sizes",
    "register",
    "registry",
]
