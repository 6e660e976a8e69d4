"""Bar-level backtesting: compiled signal and order simulation, strategies and sweeps.

- `portfolio`: `simulate_signals` (one instrument, signals, stops) and `simulate_orders`
  (several instruments sharing cash, target orders), with fees, slippage and short borrow.
- `strategies`: moving-average crossover and pairs signal generators and backtests.
- `sweep`: crossover parameter grids as one parallel array job, sliceable into chunks.
"""

from trading.research.bars.portfolio import BacktestResult, simulate_orders, simulate_signals
from trading.research.bars.strategies import (
    PairsSignals,
    backtest_ma_crossover,
    backtest_pairs,
    ma_crossover_signals,
    pairs_signals,
)
from trading.research.bars.sweep import (
    SweepResult,
    count_combos,
    merge_sweeps,
    plan_chunks,
    sweep_chunk,
    sweep_ma_crossover,
)

__all__ = [
    "BacktestResult",
    "PairsSignals",
    "SweepResult",
    "backtest_ma_crossover",
    "backtest_pairs",
    "count_combos",
    "ma_crossover_signals",
    "merge_sweeps",
    "pairs_signals",
    "plan_chunks",
    "simulate_orders",
    "simulate_signals",
    "sweep_chunk",
    "sweep_ma_crossover",
]
