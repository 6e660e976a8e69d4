"""Where the Alpaca venue is and with which keys: from the config file and the environment.

Keys come only from `ALPACA_API_KEY` / `ALPACA_API_SECRET`; they are held by `AlpacaSettings`
(hidden from its repr) and handed to alpaca-py's clients, never logged, never written down.
Paper trading is the default; live trading needs `engine.venue = "alpaca-live"` and the
explicit live flag together, and says so loudly in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from alpaca.common.enums import BaseURL

from trading.config import SystemConfig
from trading.venues.alpaca.translate import DEFAULT_CLIENT_ID_PREFIX

KEY_ENV = "ALPACA_API_KEY"
SECRET_ENV = "ALPACA_API_SECRET"
ALPACA_VENUES = ("alpaca-paper", "alpaca-live")


class AlpacaSetupError(ValueError):
    """The Alpaca venue cannot be used as configured (the message says what to change)."""


@dataclass(frozen=True)
class AlpacaSettings:
    """Everything the Alpaca gateway and feed need, resolved and checked."""

    venue: str
    api_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    trading_url: str  # REST base, without /v2
    trade_stream_url: str  # trade_updates WebSocket
    data_stream_url: str  # stock data WebSocket, feed path included
    data_feed: str = "iex"
    rate_limit_per_min: float = 200.0
    rate_limit_burst: int = 20
    http_timeout_s: float = 10.0
    reconnect_min_s: float = 0.25
    reconnect_max_s: float = 5.0
    client_id_prefix: str = DEFAULT_CLIENT_ID_PREFIX

    @property
    def paper(self) -> bool:
        return self.venue != "alpaca-live"

    def describe(self) -> str:
        """A line for the log: where, never with which keys."""
        return (
            f"{self.venue} at {self.trading_url} (trade updates {self.trade_stream_url}, "
            f"data {self.data_stream_url})"
        )


# The websockets library logs every frame at DEBUG, the authentication frame (with the keys)
# included: alpaca-py's streams get a logger of their own that never goes below INFO.
WEBSOCKET_LOG = logging.getLogger("alpaca.websocket")
WEBSOCKET_LOG.setLevel(logging.INFO)


def websocket_params() -> dict[str, object]:
    """alpaca-py's own WebSocket settings, with the frame-quiet logger."""
    return {"ping_interval": 10, "ping_timeout": 180, "max_queue": 1024, "logger": WEBSOCKET_LOG}


def _ws_base(http_url: str) -> str:
    """The WebSocket base (ws/wss, no path) of an http(s) URL."""
    parts = urlsplit(http_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "", "", ""))


def alpaca_settings(
    config: SystemConfig,
    environ: Mapping[str, str],
    *,
    live: bool = False,
    logger: logging.Logger | None = None,
) -> AlpacaSettings:
    """The Alpaca settings for `config`'s engine; raises AlpacaSetupError naming what is
    missing (keys, the live flag)."""
    log = logger or logging.getLogger("SYSTEM")
    engine = config.engine
    venue = engine.venue if engine.venue in ALPACA_VENUES else "alpaca-paper"
    if venue == "alpaca-live" and not live:
        raise AlpacaSetupError(
            'engine.venue = "alpaca-live" trades real money: it also needs the --live flag'
        )
    if live and venue != "alpaca-live":
        raise AlpacaSetupError(
            f'--live was given but engine.venue is {engine.venue!r}, not "alpaca-live"'
        )
    api_key = environ.get(KEY_ENV, "").strip()
    secret_key = environ.get(SECRET_ENV, "").strip()
    missing = [name for name, value in ((KEY_ENV, api_key), (SECRET_ENV, secret_key)) if not value]
    if missing:
        raise AlpacaSetupError(f"{' and '.join(missing)} must be set in the environment")
    paper = venue == "alpaca-paper"
    if engine.alpaca_url:
        trading_url = engine.alpaca_url.rstrip("/")
        trade_stream_url = _ws_base(trading_url) + "/stream"
    else:
        trading_url = (BaseURL.TRADING_PAPER if paper else BaseURL.TRADING_LIVE).value
        trade_stream_url = (
            BaseURL.TRADING_STREAM_PAPER if paper else BaseURL.TRADING_STREAM_LIVE
        ).value
    if engine.alpaca_data_url:
        data_base = _ws_base(engine.alpaca_data_url.rstrip("/"))
    elif engine.alpaca_url:
        data_base = _ws_base(trading_url)
    else:
        data_base = BaseURL.MARKET_DATA_STREAM.value
    settings = AlpacaSettings(
        venue=venue,
        api_key=api_key,
        secret_key=secret_key,
        trading_url=trading_url,
        trade_stream_url=trade_stream_url,
        data_stream_url=f"{data_base}/v2/{engine.alpaca_feed}",
        data_feed=engine.alpaca_feed,
        rate_limit_per_min=engine.alpaca_rate_limit_per_min,
        rate_limit_burst=engine.alpaca_rate_limit_burst,
    )
    if not paper:
        log.warning("!" * 78)
        log.warning("LIVE TRADING with real money on %s", settings.describe())
        log.warning("!" * 78)
    return settings
