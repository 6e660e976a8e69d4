"""The records every part of the trading core speaks: orders, fills and market data."""
