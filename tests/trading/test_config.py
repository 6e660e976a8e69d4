"""The system configuration is validated at start with errors that name the key."""

import tomllib
from pathlib import Path

import pytest

from trading.config import DEFAULT_CONFIG_PATH, ConfigError, load_config, parse_config


def _default_document() -> dict:
    return tomllib.loads(DEFAULT_CONFIG_PATH.read_text())


def _error(document: dict, profile: str | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(document, profile=profile)
    return info.value


def test_the_shipped_configuration_loads_with_every_profile():
    for profile in ("default", "paper", "backtest"):
        config = load_config(profile=profile)
        assert config.profile == profile
        assert config.symbols == ["AAPL", "MSFT", "GOOG", "AMZN", "SYNA", "SYNB"]
    assert load_config(profile="paper").engine.venue == "alpaca-paper"
    assert load_config(profile="backtest").exchange.flow.enabled is False


def test_the_default_account_is_demo_demo():
    account = load_config().account("demo")
    assert account is not None and account.password == "demo"


def test_the_synthetic_pair_is_cointegrated_by_configuration():
    spec = load_config().exchange.symbols["SYNB"]
    assert spec.cointegrated_with == "SYNA" and spec.hedge_ratio == 1.5


def test_an_unknown_key_is_named_with_its_path():
    document = _default_document()
    document["exchange"]["oder_port"] = 1
    error = _error(document)
    assert error.key == "exchange.oder_port"
    assert "unknown key" in error.reason and "order_port" in error.reason


def test_a_wrong_type_is_named():
    document = _default_document()
    document["exchange"]["order_port"] = "15100"
    error = _error(document)
    assert (error.key, error.reason) == (
        "exchange.order_port",
        "must be an integer, got str '15100'",
    )


def test_a_value_out_of_range_is_named():
    document = _default_document()
    document["exchange"]["symbols"]["AAPL"]["start_price"] = -5
    error = _error(document)
    assert error.key == "exchange.symbols.AAPL.start_price"
    assert error.reason == "must be >= 0.01, got -5.0"


def test_a_choice_outside_the_list_is_named():
    document = _default_document()
    document["engine"]["strategies"] = ["mean_reversion", "grid"]
    error = _error(document)
    assert error.key == "engine.strategies[1]"
    assert "must be one of" in error.reason and "'grid'" in error.reason


def test_a_symbol_without_a_specification_is_refused():
    document = _default_document()
    document["symbols"].append("TSLA")
    error = _error(document)
    assert error.key == "symbols[6]" and "TSLA" in error.reason


def test_clashing_ports_are_refused():
    document = _default_document()
    document["exchange"]["feed_port"] = document["exchange"]["order_port"]
    assert "ports must differ" in _error(document).reason


def test_an_unknown_profile_lists_the_known_ones():
    error = _error(_default_document(), profile="live")
    assert error.key == "profile"
    assert "backtest, default, paper" in error.reason


def test_a_profile_overrides_only_what_it_names():
    document = _default_document()
    document["profiles"]["fast"] = {"exchange": {"flow": {"passive_per_s": 500.0}}}
    config = parse_config(document, profile="fast")
    assert config.exchange.flow.passive_per_s == 500.0
    assert config.exchange.flow.aggressive_per_s == 3.0
    assert config.exchange.order_port == 15100


def test_files_that_are_missing_or_not_toml_say_so(tmp_path: Path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[exchange\norder_port = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_config(broken)
    assert str(broken) in str(info.value)


def test_errors_from_a_file_name_the_file(tmp_path: Path):
    path = tmp_path / "desk.toml"
    path.write_text('symbols = ["AAPL"]\n[exchange.symbols.AAPL]\nround_lot = 0\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (f"exchange.symbols.AAPL.round_lot: must be >= 1, got 0 in {path}")
