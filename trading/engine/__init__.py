"""The trading engine's parts: market data in, orders out."""
