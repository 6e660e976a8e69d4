"""The `--config` / `--profile` options every process of the desk takes, and their loading."""

from django.core.management.base import CommandError

from trading.config import ConfigError, SystemConfig, load_config
from trading.config_summary import summary_lines


def add_config_arguments(parser) -> None:
    """Add `--config FILE` and `--profile NAME` to a management command's parser."""
    parser.add_argument("--config", help="system configuration (TOML)")
    parser.add_argument("--profile", help="configuration profile (default, paper, backtest, ...)")


def load_config_or_fail(options, log) -> SystemConfig:
    """Load and validate the configuration, print the start-up summary, or stop with the
    offending key and reason."""
    try:
        config = load_config(options["config"], options["profile"])
    except ConfigError as exc:
        raise CommandError(f"bad configuration: {exc}") from None
    for line in summary_lines(config):
        log.info(line)
    return config
