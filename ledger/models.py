"""The engine's durable record.

Prices are stored as the core's integers of 1e-4 dollars and quantities as integer shares, so
nothing is lost converting; money totals (equity, P&L) are dollars as exact decimals. Times are
wall-clock UTC datetimes (the engine's monotonic nanoseconds mean nothing after a restart).

`Fill` and `EquityPoint` are time series: migration 0002 turns them into TimescaleDB
hypertables when that extension is installed, which is why every unique constraint on them
includes `ts` (a hypertable cannot enforce uniqueness without the partitioning column).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from trading.config import ConfigError, RiskConfig, SystemConfig, load_config, with_strategies
from trading.portfolio.order_manager import OrderState

SIDE_CHOICES = [(1, "Buy"), (-1, "Sell")]
TIF_CHOICES = [("IOC", "IOC"), ("DAY", "DAY"), ("GTC", "GTC")]
STATE_CHOICES = [(state.value, state.value) for state in OrderState]


class Order(models.Model):
    """The latest known state of one of our orders (upserted as the order changes)."""

    account = models.CharField(max_length=16)
    order_id = models.BigIntegerField()
    symbol = models.CharField(max_length=12)
    side = models.SmallIntegerField(choices=SIDE_CHOICES)
    qty = models.BigIntegerField()
    price = models.BigIntegerField(help_text="1e-4 $; 0 for a market order")
    tif = models.CharField(max_length=3, choices=TIF_CHOICES, default="DAY")
    strategy = models.CharField(max_length=64, blank=True, default="")
    state = models.CharField(max_length=20, choices=STATE_CHOICES, default=OrderState.NEW.value)
    filled_qty = models.BigIntegerField(default=0)
    avg_fill_price = models.FloatField(default=0.0, help_text="price units (1e-4 $)")
    reason = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "order_id"], name="ledger_order_unique_id")
        ]
        indexes = [models.Index(fields=["account", "state"], name="ledger_order_acct_state")]

    def __str__(self) -> str:
        return f"{self.account}#{self.order_id} {self.symbol} {self.state}"


class Fill(models.Model):
    """One execution of one of our orders (a time series, append-only in practice)."""

    ts = models.DateTimeField(db_index=True)
    account = models.CharField(max_length=16)
    order_id = models.BigIntegerField()
    symbol = models.CharField(max_length=12)
    side = models.SmallIntegerField(choices=SIDE_CHOICES)
    qty = models.BigIntegerField()
    price = models.BigIntegerField(help_text="1e-4 $")
    match_number = models.BigIntegerField(default=0)
    liquidity = models.CharField(max_length=1, blank=True, default="")
    strategy = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [
            # `ts` is part of the key so the constraint survives the hypertable conversion; a
            # replay carrying a different wall time is caught by the writer (see writer.py).
            models.UniqueConstraint(
                fields=["account", "order_id", "match_number", "ts"],
                name="ledger_fill_unique_execution",
            )
        ]
        indexes = [models.Index(fields=["account", "order_id"], name="ledger_fill_acct_order")]

    def __str__(self) -> str:
        return f"{self.account}#{self.order_id} {self.side * self.qty}@{self.price}"


class PositionSnapshot(models.Model):
    """A full `PortfolioSnapshot.as_dict()`, enough to rebuild the portfolio exactly."""

    ts = models.DateTimeField(db_index=True)
    account = models.CharField(max_length=16)
    snapshot = models.JSONField()

    class Meta:
        indexes = [models.Index(fields=["account", "-ts"], name="ledger_possnap_acct_ts")]

    def __str__(self) -> str:
        return f"{self.account} @ {self.ts:%Y-%m-%d %H:%M:%S}"


class EquityPoint(models.Model):
    """Account equity and P&L at one moment (a time series), in dollars."""

    ts = models.DateTimeField(db_index=True)
    account = models.CharField(max_length=16)
    equity = models.DecimalField(max_digits=20, decimal_places=4)
    realised = models.DecimalField(max_digits=20, decimal_places=4)
    unrealised = models.DecimalField(max_digits=20, decimal_places=4)

    class Meta:
        indexes = [models.Index(fields=["account", "ts"], name="ledger_equity_acct_ts")]

    def __str__(self) -> str:
        return f"{self.account} {self.equity} @ {self.ts:%Y-%m-%d %H:%M:%S}"


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit row."""


class AuditQuerySet(models.QuerySet):
    """Bulk updates and deletes would bypass `AuditEvent.save`/`delete`, so refuse them too."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events are append-only: update refused")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only: delete refused")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events are append-only: update refused")


class AuditEvent(models.Model):
    """Who did what, with what result. Append-only: rows are never changed or removed."""

    ts = models.DateTimeField(default=timezone.now, db_index=True)
    who = models.CharField(max_length=150)
    action = models.CharField(max_length=100)
    detail = models.JSONField(default=dict, blank=True)
    result = models.CharField(max_length=255, blank=True, default="")

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-ts"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert a new event; saving an existing one is refused."""
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only: update refused")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Always refused."""
        raise AppendOnlyError("audit events are append-only: delete refused")

    def __str__(self) -> str:
        return f"{self.ts:%Y-%m-%d %H:%M:%S} {self.who} {self.action}: {self.result}"


class GatewayState(models.Model):
    """The venue session and next expected sequence number, to resume after a crash."""

    account = models.CharField(max_length=16, unique=True)
    session = models.CharField(max_length=20, blank=True, default="")
    next_sequence = models.BigIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.account} session={self.session!r} next={self.next_sequence}"


_RISK_FIELDS = {f.name: f for f in dataclasses.fields(RiskConfig)}


class RiskLimitSet(models.Model):
    """The live risk limits of one account (the config file only seeds them)."""

    account = models.CharField(max_length=16, unique=True)
    max_position_shares = models.BigIntegerField(
        default=_RISK_FIELDS["max_position_shares"].default
    )
    max_total_position_shares = models.BigIntegerField(
        default=_RISK_FIELDS["max_total_position_shares"].default
    )
    max_order_shares = models.BigIntegerField(default=_RISK_FIELDS["max_order_shares"].default)
    max_order_notional = models.FloatField(default=_RISK_FIELDS["max_order_notional"].default)
    max_gross_exposure = models.FloatField(default=_RISK_FIELDS["max_gross_exposure"].default)
    max_orders_per_s = models.FloatField(default=_RISK_FIELDS["max_orders_per_s"].default)
    daily_loss_limit = models.FloatField(default=_RISK_FIELDS["daily_loss_limit"].default)
    price_collar_pct = models.FloatField(default=_RISK_FIELDS["price_collar_pct"].default)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True, default="")

    def __str__(self) -> str:
        return f"Risk limits for {self.account}"

    def clean(self) -> None:
        """Check every limit against the ranges `trading.config.RiskConfig` declares.

        The ranges are read from RiskConfig's field metadata, so the file and the database
        can never disagree about what a valid limit is.
        """
        super().clean()
        errors: dict[str, str] = {}
        for name, spec in _RISK_FIELDS.items():
            value = getattr(self, name)
            if value is None:
                errors[name] = "is required"
                continue
            low, high = spec.metadata.get("min"), spec.metadata.get("max")
            if low is not None and value < low:
                errors[name] = f"must be >= {low}, got {value}"
            elif high is not None and value > high:
                errors[name] = f"must be <= {high}, got {value}"
        if errors:
            raise ValidationError(errors)

    def to_risk_config(self) -> RiskConfig:
        """These limits as the engine's `RiskConfig`."""
        return RiskConfig(**{name: getattr(self, name) for name in _RISK_FIELDS})

    @classmethod
    def from_risk_config(cls, account: str, config: RiskConfig, **extra: Any) -> RiskLimitSet:
        """An unsaved limit set for `account` holding `config`'s values."""
        values = {name: getattr(config, name) for name in _RISK_FIELDS}
        return cls(account=account, **values, **extra)


class StrategySet(models.Model):
    """The strategies an account's engine runs and their parameters (the config file only
    seeds them). Read when the engine starts: a change applies at its next start."""

    account = models.CharField(max_length=16, unique=True)
    strategies = models.JSONField(
        default=list, help_text='Strategy kinds, e.g. ["mean_reversion", "pairs"]'
    )
    params = models.JSONField(
        default=dict,
        blank=True,
        help_text='Parameters per strategy, e.g. {"market_maker": {"order_qty": 200}}',
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True, default="")

    def __str__(self) -> str:
        return f"Strategies for {self.account}"

    def clean(self) -> None:
        """Validate against the configuration's own rules (names, types, ranges, symbols)."""
        super().clean()
        try:
            self.apply_to(load_config())
        except ConfigError as exc:
            field = "strategies" if exc.key.startswith("engine.strategies") else "params"
            raise ValidationError({field: f"{exc.key}: {exc.reason}"}) from None

    def apply_to(self, config: SystemConfig) -> SystemConfig:
        """`config` running these strategies; raises ConfigError naming the bad key."""
        return with_strategies(config, self.strategies, self.params, source="the database")

    @classmethod
    def from_config(cls, account: str, config: SystemConfig) -> StrategySet:
        """An unsaved row holding the configuration's strategies and parameters."""
        return cls(
            account=account,
            strategies=list(config.engine.strategies),
            params=dataclasses.asdict(config.engine.params),
            updated_by="config",
        )
