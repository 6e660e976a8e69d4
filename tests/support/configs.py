"""Configurations for tests: the shipped file with test accounts and, by default, no flow."""

import tomllib
from typing import Any

from trading.config import DEFAULT_CONFIG_PATH, SystemConfig, deep_merge, parse_config

TEST_ACCOUNTS = [
    {"username": "demo", "password": "demo", "firm": "DEMO"},
    {"username": "alice", "password": "secret1", "firm": "ALIC"},
    {"username": "bob", "password": "secret2", "firm": "DEMO"},  # same firm as demo: STP
]


def make_config(flow: bool = False, **exchange: Any) -> SystemConfig:
    """The default configuration, quiet (no flow, no status log) unless asked otherwise."""
    document = tomllib.loads(DEFAULT_CONFIG_PATH.read_text())
    document["exchange"]["accounts"] = TEST_ACCOUNTS
    document["exchange"]["flow"]["enabled"] = flow
    document["exchange"]["status_interval_s"] = 0.0
    document["exchange"] = deep_merge(document["exchange"], exchange)
    return parse_config(document, source="tests")
