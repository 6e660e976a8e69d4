"""Reports of backtest runs: figures, server-rendered SVG charts, a self-contained HTML page."""

from trading.research.report.build import Report, build_report
from trading.research.report.record import TRADE_DTYPE, RunRecord, Trade

__all__ = ["TRADE_DTYPE", "Report", "RunRecord", "Trade", "build_report"]
