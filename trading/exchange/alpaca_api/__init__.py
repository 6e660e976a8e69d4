"""An Alpaca-compatible trading and market-data endpoint on the exchange simulator.

It serves the subset of Alpaca's trading REST API (`/v2/account`, `/v2/clock`, `/v2/orders`,
`/v2/positions`, `/v2/assets`), the trade-updates WebSocket (`/stream`) and the stock data
WebSocket (`/v2/iex`, `/v2/sip`) that Alpaca's own clients use, in Alpaca's published JSON and
msgpack formats, backed by the simulator's matching engine: an Alpaca order is a venue order of
the simulator account whose username and password are the API key id and secret.
"""
