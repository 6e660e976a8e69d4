"""The strategies an engine starts with: the database row of its account, seeded from the
config file the first time (like the risk limits, but read only at start)."""

from __future__ import annotations

from ledger.models import StrategySet
from trading.config import SystemConfig


def current_strategies(account: str, config: SystemConfig) -> tuple[SystemConfig, str]:
    """`config` running the account's stored strategies, and where they came from.

    Raises `trading.config.ConfigError` when the stored row no longer validates (say, a
    symbol it names was removed from the file), naming the key.
    """
    row = StrategySet.objects.filter(account=account).first()
    if row is None:
        StrategySet.from_config(account, config).save()
        return config, "seeded from the config file"
    return row.apply_to(config), f"from the database (set by {row.updated_by or 'admin'})"
