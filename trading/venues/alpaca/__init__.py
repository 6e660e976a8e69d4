"""Alpaca as a venue: orders through its trading API, fills from its trade-updates stream,
quotes and trades from its stock data stream, all as the engine's own OUCH and ITCH records."""
