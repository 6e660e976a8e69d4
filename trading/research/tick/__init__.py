"""Tick-level backtester: LOBSTER days replayed order by order through a simulated exchange that
keeps our orders' queue positions, with latency, fees and a compiled market maker."""

from trading.research.tick.backtest import (
    FILL_DTYPE,
    Fees,
    TickBacktest,
    TickResult,
    run_tick_backtest,
    warm_up,
)
from trading.research.tick.events import TickEvents, prepare_events
from trading.research.tick.latency import (
    ConstantLatency,
    InterpolatedLatency,
    SampledLatency,
    feed_derived_latency,
)

__all__ = [
    "FILL_DTYPE",
    "ConstantLatency",
    "Fees",
    "InterpolatedLatency",
    "SampledLatency",
    "TickBacktest",
    "TickEvents",
    "TickResult",
    "feed_derived_latency",
    "prepare_events",
    "run_tick_backtest",
    "warm_up",
]
