"""Portfolio construction and position sizing.

`hrp` holds hierarchical risk parity and inverse-variance weights; `sizing` holds volatility
targeting, fixed fractional risk and (fractional) Kelly sizing.
"""

from trading.research.allocation.hrp import (
    HRPResult,
    correlation_distance,
    hrp_weights,
    inverse_variance_weights,
    quasi_diagonal_order,
    recursive_bisection,
)
from trading.research.allocation.sizing import (
    fixed_fractional_size,
    fractional_kelly,
    kelly_fraction_continuous,
    kelly_fraction_discrete,
    kelly_weights,
    trailing_volatility,
    volatility_target_leverage,
    volatility_targeted_returns,
)

__all__ = [
    "HRPResult",
    "correlation_distance",
    "fixed_fractional_size",
    "fractional_kelly",
    "hrp_weights",
    "inverse_variance_weights",
    "kelly_fraction_continuous",
    "kelly_fraction_discrete",
    "kelly_weights",
    "quasi_diagonal_order",
    "recursive_bisection",
    "trailing_volatility",
    "volatility_target_leverage",
    "volatility_targeted_returns",
]
