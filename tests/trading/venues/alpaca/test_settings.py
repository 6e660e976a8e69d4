"""Where the Alpaca venue is and with which keys: environment only, paper by default."""

import logging

import pytest

from trading.config import parse_config
from trading.venues.alpaca.settings import AlpacaSetupError, alpaca_settings

KEYS = {"ALPACA_API_KEY": "PKABCDEF123", "ALPACA_API_SECRET": "s3cr3t-value-xyz"}


def config(**engine):
    return parse_config({"engine": {"venue": "alpaca-paper", **engine}})


def test_paper_uses_alpacas_paper_endpoints_by_default():
    s = alpaca_settings(config(), KEYS)
    assert s.paper
    assert s.trading_url == "https://paper-api.alpaca.markets"
    assert s.trade_stream_url == "wss://paper-api.alpaca.markets/stream"
    assert s.data_stream_url == "wss://stream.data.alpaca.markets/v2/iex"
    assert (s.rate_limit_per_min, s.rate_limit_burst) == (200.0, 20)


def test_a_local_endpoint_serves_rest_streams_and_data_from_one_address():
    s = alpaca_settings(config(alpaca_url="http://127.0.0.1:15105"), KEYS)
    assert s.trading_url == "http://127.0.0.1:15105"
    assert s.trade_stream_url == "ws://127.0.0.1:15105/stream"
    assert s.data_stream_url == "ws://127.0.0.1:15105/v2/iex"
    s = alpaca_settings(
        config(alpaca_url="http://127.0.0.1:1", alpaca_data_url="ws://127.0.0.1:2",
               alpaca_feed="sip"), KEYS,
    )  # fmt: skip
    assert s.data_stream_url == "ws://127.0.0.1:2/v2/sip"


def test_keys_come_from_the_environment_and_never_show_in_repr():
    s = alpaca_settings(config(), KEYS)
    assert (s.api_key, s.secret_key) == ("PKABCDEF123", "s3cr3t-value-xyz")
    assert "s3cr3t" not in repr(s) and "PKABCDEF123" not in repr(s)
    assert "s3cr3t" not in s.describe()


@pytest.mark.parametrize("missing", ["ALPACA_API_KEY", "ALPACA_API_SECRET"])
def test_missing_keys_are_a_clear_error(missing):
    environ = {k: v for k, v in KEYS.items() if k != missing}
    with pytest.raises(AlpacaSetupError, match=missing):
        alpaca_settings(config(), environ)


def test_live_needs_both_the_venue_and_the_flag(caplog):
    with pytest.raises(AlpacaSetupError, match="--live"):
        alpaca_settings(config(venue="alpaca-live"), KEYS)
    with pytest.raises(AlpacaSetupError, match='not "alpaca-live"'):
        alpaca_settings(config(), KEYS, live=True)
    with caplog.at_level(logging.WARNING):
        s = alpaca_settings(config(venue="alpaca-live"), KEYS, live=True)
    assert not s.paper
    assert s.trading_url == "https://api.alpaca.markets"
    assert "LIVE TRADING with real money" in caplog.text
    assert "s3cr3t" not in caplog.text


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("alpaca_url", "ftp://example"),
        ("alpaca_url", "http://127.0.0.1:1/v2"),
        ("alpaca_data_url", "tcp://127.0.0.1:1"),
        ("alpaca_feed", "otc"),
        ("alpaca_rate_limit_per_min", 0),
        ("alpaca_rate_limit_burst", 0),
        ("venue", "alpaca"),
        ("data", "yahoo"),
    ],
)
def test_alpaca_keys_are_validated_like_every_other_key(key, value):
    from trading.config import ConfigError

    with pytest.raises(ConfigError) as error:
        config(**{key: value})
    assert error.value.key == f"engine.{key}"


def test_an_alpaca_account_need_not_be_a_simulator_login():
    assert config(account="paper").engine.account == "paper"


def test_the_paper_profile_switches_venue_and_data_to_alpaca():
    from trading.config import load_config

    paper = load_config(profile="paper").engine
    assert (paper.venue, paper.data) == ("alpaca-paper", "alpaca")
    default = load_config().engine
    assert (default.venue, default.data, default.alpaca_url) == ("simulator", "simulator", "")


def test_strategies_from_the_database_keep_the_alpaca_settings():
    from trading.config import with_strategies

    replaced = with_strategies(config(alpaca_url="http://127.0.0.1:9"), ["momentum"], {})
    assert replaced.engine.alpaca_url == "http://127.0.0.1:9"
    assert replaced.engine.venue == "alpaca-paper"
    assert replaced.engine.strategies == ["momentum"]
