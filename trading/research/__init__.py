"""Research lab: market data store, backtesters and the quant toolkit."""
