"""Pre-trade risk: the limits, and the synchronous gate every order intent passes."""

from trading.risk.limits import RiskLimits, RiskLimitsError
from trading.risk.pre_trade_risk import (
    APPROVED,
    PreTradeRisk,
    RiskDecision,
    TradingState,
    Verdict,
)

__all__ = [
    "APPROVED",
    "PreTradeRisk",
    "RiskDecision",
    "RiskLimits",
    "RiskLimitsError",
    "TradingState",
    "Verdict",
]
