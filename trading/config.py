"""System configuration: one TOML file, validated at start with errors that name the key.

The file holds the base settings and a `[profiles.NAME]` table per profile whose keys override
the base (deep merge). `default`, `paper` and `backtest` always exist; a file may add more.
Every key is checked: an unknown key, a wrong type or a value out of range is a `ConfigError`
naming the dotted key, the reason and the file, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUILTIN_PROFILES = ("default", "paper", "backtest")
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "desk.toml"

_SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.]{0,7}$")


class ConfigError(ValueError):
    """A configuration file that cannot be used, with the dotted key and the reason."""

    def __init__(self, key: str, reason: str, source: str = "") -> None:
        self.key = key
        self.reason = reason
        self.source = source
        where = f" in {source}" if source else ""
        super().__init__(f"{key}: {reason}{where}" if key else f"{reason}{where}")


def _check(condition: bool, key: str, reason: str) -> None:
    if not condition:
        raise ConfigError(key, reason)


def rules(**kwargs: Any) -> dict[str, Any]:
    """Field metadata: `min`, `max`, `choices`, `pattern`, `max_len`, `doc`."""
    return kwargs


@dataclass(frozen=True)
class Account:
    """A SoupBinTCP login the exchange accepts, and the firm its orders belong to."""

    username: str = field(metadata=rules(pattern=r"^[A-Za-z0-9]{1,6}$"))
    password: str = field(metadata=rules(pattern=r"^[\x21-\x7e]{1,10}$"))
    firm: str = field(default="", metadata=rules(pattern=r"^[A-Z0-9]{0,4}$"))


@dataclass(frozen=True)
class SymbolSpec:
    """How the synthetic flow moves one symbol's fair value."""

    start_price: float = field(default=100.0, metadata=rules(min=0.01, max=199_999.99))
    daily_volatility_pct: float = field(default=2.0, metadata=rules(min=0.0, max=100.0))
    jumps_per_day: float = field(default=0.0, metadata=rules(min=0.0, max=10_000.0))
    jump_size_pct: float = field(default=0.0, metadata=rules(min=0.0, max=50.0))
    round_lot: int = field(default=100, metadata=rules(min=1, max=10_000))
    # A symbol can be tied to another by a mean-reverting spread, giving the pairs strategy a
    # genuinely cointegrated pair to find.
    cointegrated_with: str = ""
    hedge_ratio: float = field(default=1.0, metadata=rules(min=0.01, max=100.0))
    spread_half_life_s: float = field(default=120.0, metadata=rules(min=1.0, max=86_400.0))
    spread_volatility_pct: float = field(default=0.5, metadata=rules(min=0.0, max=50.0))


@dataclass(frozen=True)
class FlowSpec:
    """The synthetic background order flow, per symbol."""

    enabled: bool = True
    passive_per_s: float = field(default=60.0, metadata=rules(min=0.0, max=100_000.0))
    aggressive_per_s: float = field(default=3.0, metadata=rules(min=0.0, max=100_000.0))
    cancel_per_s: float = field(default=50.0, metadata=rules(min=0.0, max=100_000.0))
    depth_ticks: int = field(default=20, metadata=rules(min=1, max=10_000))
    mean_lots: float = field(default=3.0, metadata=rules(min=1.0, max=10_000.0))
    step_ms: int = field(default=10, metadata=rules(min=1, max=10_000))


@dataclass(frozen=True)
class ExchangeConfig:
    """The exchange simulator: ports, accounts, matching rules, symbols and flow."""

    host: str = "127.0.0.1"
    order_port: int = field(default=15100, metadata=rules(min=0, max=65535))
    feed_port: int = field(default=15101, metadata=rules(min=0, max=65535))
    snapshot_port: int = field(default=15102, metadata=rules(min=0, max=65535))
    metrics_port: int = field(default=15103, metadata=rules(min=0, max=65535))
    # Alpaca-compatible trading REST + WebSocket endpoint (0: not served).
    alpaca_port: int = field(default=15105, metadata=rules(min=0, max=65535))
    # Serve POST /_sim/faults on the Alpaca endpoint (error answers, dropped streams): tests only.
    alpaca_faults: bool = False
    # Requests per minute and API key before the Alpaca API answers 429, as Alpaca does (0: none).
    alpaca_rate_limit_per_min: int = field(default=200, metadata=rules(min=0, max=1_000_000))
    seed: int = field(default=42, metadata=rules(min=0, max=2**63 - 1))
    tick_size: int = field(default=100, metadata=rules(min=1, max=1_000_000))
    heartbeat_interval_s: float = field(default=1.0, metadata=rules(min=0.05, max=60.0))
    idle_timeout_s: float = field(default=15.0, metadata=rules(min=0.1, max=3600.0))
    order_latency_us: int = field(default=0, metadata=rules(min=0, max=10_000_000))
    feed_latency_us: int = field(default=0, metadata=rules(min=0, max=10_000_000))
    collar_pct: float = field(default=10.0, metadata=rules(min=0.0, max=1000.0))
    max_order_shares: int = field(default=1_000_000, metadata=rules(min=1, max=999_999_999))
    self_trade: str = field(
        default="cancel_newest", metadata=rules(choices=("cancel_newest", "cancel_oldest"))
    )
    status_interval_s: float = field(default=10.0, metadata=rules(min=0.0, max=3600.0))
    accounts: list[Account] = field(default_factory=list)
    symbols: dict[str, SymbolSpec] = field(default_factory=dict)
    flow: FlowSpec = field(default_factory=FlowSpec)


@dataclass(frozen=True)
class MeanReversionParams:
    window: int = field(default=200, metadata=rules(min=2, max=1_000_000))
    entry_z: float = field(default=2.0, metadata=rules(min=0.0, max=100.0))
    exit_z: float = field(default=0.5, metadata=rules(min=0.0, max=100.0))
    order_qty: int = field(default=100, metadata=rules(min=1, max=1_000_000))


@dataclass(frozen=True)
class MomentumParams:
    lookback: int = field(default=100, metadata=rules(min=2, max=1_000_000))
    threshold_bps: float = field(default=5.0, metadata=rules(min=0.0, max=10_000.0))
    order_qty: int = field(default=100, metadata=rules(min=1, max=1_000_000))


@dataclass(frozen=True)
class PairsParams:
    leg_a: str = "SYNA"
    leg_b: str = "SYNB"
    lookback: int = field(default=500, metadata=rules(min=10, max=1_000_000))
    entry_z: float = field(default=2.0, metadata=rules(min=0.0, max=100.0))
    exit_z: float = field(default=0.5, metadata=rules(min=0.0, max=100.0))
    stop_z: float = field(default=3.0, metadata=rules(min=0.0, max=100.0))
    equity_fraction: float = field(default=0.02, metadata=rules(min=0.0, max=1.0))


@dataclass(frozen=True)
class MarketMakerParams:
    half_spread_ticks: int = field(default=2, metadata=rules(min=1, max=10_000))
    order_qty: int = field(default=100, metadata=rules(min=1, max=1_000_000))
    max_inventory: int = field(default=1_000, metadata=rules(min=1, max=100_000_000))
    skew_ticks_per_lot: float = field(default=0.5, metadata=rules(min=0.0, max=1_000.0))


@dataclass(frozen=True)
class StrategyParams:
    mean_reversion: MeanReversionParams = field(default_factory=MeanReversionParams)
    momentum: MomentumParams = field(default_factory=MomentumParams)
    pairs: PairsParams = field(default_factory=PairsParams)
    market_maker: MarketMakerParams = field(default_factory=MarketMakerParams)


@dataclass(frozen=True)
class EngineConfig:
    """One trading engine (one account): venue, data, core pinning and strategies."""

    account: str = field(default="demo", metadata=rules(pattern=r"^[A-Za-z0-9]{1,6}$"))
    venue: str = field(
        default="simulator", metadata=rules(choices=("simulator", "alpaca-paper", "alpaca-live"))
    )
    data: str = field(
        default="simulator", metadata=rules(choices=("simulator", "replay", "alpaca", "polygon"))
    )
    # Alpaca: empty URLs mean Alpaca's own (paper or live by `venue`); set them to trade
    # against another Alpaca-compatible endpoint, e.g. the simulator's.
    alpaca_url: str = field(default="", metadata=rules(pattern=r"^(https?://[^\s/]+)?$"))
    alpaca_data_url: str = field(
        default="", metadata=rules(pattern=r"^((wss?|https?)://[^\s/]+)?$")
    )
    alpaca_feed: str = field(default="iex", metadata=rules(choices=("iex", "sip")))
    alpaca_rate_limit_per_min: float = field(default=200.0, metadata=rules(min=1.0, max=100_000.0))
    alpaca_rate_limit_burst: int = field(default=20, metadata=rules(min=1, max=10_000))
    cpu_core: int = field(default=-1, metadata=rules(min=-1, max=4095))
    metrics_port: int = field(default=15104, metadata=rules(min=0, max=65535))
    strategies: list[str] = field(
        default_factory=lambda: ["mean_reversion"],
        metadata=rules(choices=("mean_reversion", "momentum", "pairs", "market_maker")),
    )
    params: StrategyParams = field(default_factory=StrategyParams)


@dataclass(frozen=True)
class RiskConfig:
    """Initial risk limits (the database holds the live ones once the engine runs)."""

    max_position_shares: int = field(default=1_000, metadata=rules(min=0, max=10**9))
    max_total_position_shares: int = field(default=5_000, metadata=rules(min=0, max=10**9))
    max_order_shares: int = field(default=500, metadata=rules(min=1, max=10**9))
    max_order_notional: float = field(default=250_000.0, metadata=rules(min=0.0, max=1e12))
    max_gross_exposure: float = field(default=1_000_000.0, metadata=rules(min=0.0, max=1e13))
    max_orders_per_s: float = field(default=50.0, metadata=rules(min=0.0, max=1e6))
    daily_loss_limit: float = field(default=10_000.0, metadata=rules(min=0.0, max=1e12))
    price_collar_pct: float = field(default=5.0, metadata=rules(min=0.0, max=1000.0))


@dataclass(frozen=True)
class SystemConfig:
    """The whole validated configuration of one desk."""

    symbols: list[str] = field(default_factory=list)
    log_level: str = field(
        default="INFO", metadata=rules(choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    )
    exchange: ExchangeConfig = field(default_factory=ExchangeConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    risk: RiskConfig = field(default_factory=RiskConfig)
    profile: str = "default"
    source: str = ""

    def account(self, username: str) -> Account | None:
        """The exchange account with that username, if any."""
        return next((a for a in self.exchange.accounts if a.username == username), None)


def load_config(path: str | Path | None = None, profile: str | None = None) -> SystemConfig:
    """Read, merge the chosen profile into, and validate a configuration file."""
    source = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("", "configuration file not found", str(source)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("", f"not valid TOML ({exc})", str(source)) from None
    try:
        return parse_config(raw, profile=profile, source=str(source))
    except ConfigError as exc:
        raise ConfigError(exc.key, exc.reason, str(source)) from None


def parse_config(raw: dict[str, Any], profile: str | None = None, source: str = "") -> SystemConfig:
    """Validate an already-parsed TOML document (see `load_config`)."""
    document = dict(raw)
    profiles = document.pop("profiles", {})
    _check(isinstance(profiles, dict), "profiles", "must be a table of profile tables")
    chosen = profile or document.pop("profile", "default")
    document.pop("profile", None)
    _check(isinstance(chosen, str), "profile", "must be a string")
    known = set(BUILTIN_PROFILES) | set(profiles)
    _check(
        chosen in known,
        "profile",
        f"unknown profile {chosen!r}; expected one of {', '.join(sorted(known))}",
    )
    overrides = profiles.get(chosen, {})
    _check(isinstance(overrides, dict), f"profiles.{chosen}", "must be a table")
    merged = deep_merge(document, overrides)
    merged["profile"] = chosen
    merged["source"] = source
    config = _build(SystemConfig, merged, "")
    _validate_system(config)
    return config


def with_strategies(
    config: SystemConfig, strategies: Any, params: Any, source: str = "database"
) -> SystemConfig:
    """`config` with the engine's strategies and their parameters replaced, validated exactly
    as the file's `[engine]` table is (unknown names, bad types and ranges are errors)."""
    engine = config.engine
    raw = {
        spec.name: getattr(engine, spec.name)
        for spec in dataclasses.fields(EngineConfig)
        if spec.name not in ("strategies", "params")
    }
    raw.update(strategies=strategies, params=params)
    try:
        replaced = dataclasses.replace(config, engine=_build(EngineConfig, raw, "engine"))
        _validate_system(replaced)
    except ConfigError as exc:
        raise ConfigError(exc.key, exc.reason, source) from None
    return replaced


def deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` laid over it, tables merged key by key (a profile's rule)."""
    result = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def _build(cls: Any, data: Any, prefix: str) -> Any:
    _check(isinstance(data, dict), prefix or "(top level)", "must be a table")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        _check(key in names, _join(prefix, key), f"unknown key (known: {', '.join(sorted(names))})")
    values = {}
    for spec in dataclasses.fields(cls):
        if spec.name not in data:
            continue
        key = _join(prefix, spec.name)
        values[spec.name] = _coerce(hints[spec.name], data[spec.name], key, spec.metadata)
    missing = [
        f.name
        for f in dataclasses.fields(cls)
        if f.name not in values
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    _check(not missing, _join(prefix, missing[0]) if missing else prefix, "is required")
    return cls(**values)


def _coerce(hint: Any, value: Any, key: str, meta: Any) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, key)
    if origin is list:
        (item_hint,) = typing.get_args(hint)
        _check(isinstance(value, list), key, f"must be a list, got {_kind(value)}")
        if dataclasses.is_dataclass(item_hint):
            return [_build(item_hint, item, f"{key}[{i}]") for i, item in enumerate(value)]
        return [_coerce(item_hint, item, f"{key}[{i}]", meta) for i, item in enumerate(value)]
    if origin is dict:
        _, item_hint = typing.get_args(hint)
        _check(isinstance(value, dict), key, f"must be a table, got {_kind(value)}")
        return {name: _build(item_hint, item, _join(key, name)) for name, item in value.items()}
    if hint is bool:
        _check(isinstance(value, bool), key, f"must be true or false, got {_kind(value)}")
        return value
    if hint is int:
        _check(
            isinstance(value, int) and not isinstance(value, bool),
            key,
            f"must be an integer, got {_kind(value)}",
        )
    elif hint is float:
        _check(
            isinstance(value, int | float) and not isinstance(value, bool),
            key,
            f"must be a number, got {_kind(value)}",
        )
        value = float(value)
    elif hint is str:
        _check(isinstance(value, str), key, f"must be a string, got {_kind(value)}")
    elif isinstance(hint, types.UnionType):  # pragma: no cover - no such fields today
        raise ConfigError(key, "unsupported field type")
    _apply_rules(value, key, meta)
    return value


def _apply_rules(value: Any, key: str, meta: Any) -> None:
    if "min" in meta:
        _check(value >= meta["min"], key, f"must be >= {meta['min']}, got {value}")
    if "max" in meta:
        _check(value <= meta["max"], key, f"must be <= {meta['max']}, got {value}")
    if "choices" in meta:
        choices = meta["choices"]
        _check(value in choices, key, f"must be one of {', '.join(choices)}, got {value!r}")
    if "pattern" in meta:
        _check(
            re.match(meta["pattern"], value) is not None,
            key,
            f"{value!r} does not match {meta['pattern']}",
        )


def _validate_system(config: SystemConfig) -> None:
    exchange = config.exchange
    for symbol in exchange.symbols:
        _check(
            _SYMBOL_RE.match(symbol) is not None,
            f"exchange.symbols.{symbol}",
            "a symbol is 1-8 characters: capital letters, digits and '.', starting with a letter",
        )
    for i, symbol in enumerate(config.symbols):
        _check(
            symbol in exchange.symbols,
            f"symbols[{i}]",
            f"{symbol!r} has no [exchange.symbols.{symbol}] table",
        )
    _check(len(set(config.symbols)) == len(config.symbols), "symbols", "has duplicates")
    for symbol, spec in exchange.symbols.items():
        if spec.cointegrated_with:
            _check(
                spec.cointegrated_with in exchange.symbols and spec.cointegrated_with != symbol,
                f"exchange.symbols.{symbol}.cointegrated_with",
                f"{spec.cointegrated_with!r} is not another configured symbol",
            )
    ports = {
        name: getattr(exchange, name)
        for name in ("order_port", "feed_port", "snapshot_port", "metrics_port", "alpaca_port")
    }
    used = [port for port in ports.values() if port != 0]
    _check(
        len(used) == len(set(used)),
        "exchange",
        f"order, feed, snapshot, metrics and alpaca ports must differ, got {ports}",
    )
    usernames = [a.username for a in exchange.accounts]
    _check(len(usernames) == len(set(usernames)), "exchange.accounts", "duplicate username")
    _check(
        not config.exchange.accounts
        or config.account(config.engine.account) is not None
        or config.engine.venue != "simulator",
        "engine.account",
        f"{config.engine.account!r} is not one of exchange.accounts",
    )
    pairs = config.engine.params.pairs
    if "pairs" in config.engine.strategies:
        for leg in ("leg_a", "leg_b"):
            _check(
                getattr(pairs, leg) in config.symbols,
                f"engine.params.pairs.{leg}",
                f"{getattr(pairs, leg)!r} is not in symbols",
            )


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _kind(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"
