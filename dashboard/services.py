"""What the control page changes: engine commands, risk limits, manual orders."""

from __future__ import annotations

from typing import Any

from dashboard.forms import OrderTicketForm, RiskLimitsForm
from ledger.engine_control import CommandOutcome, send_command
from ledger.models import AuditEvent, RiskLimitSet

CONTROL_ACTIONS = ("start", "pause", "resume", "stop", "flatten_all", "kill")
DESTRUCTIVE_ACTIONS = frozenset({"stop", "flatten_all", "kill"})


def run_control(account: str, action: str, who: str) -> CommandOutcome:
    """Send one of the control buttons' commands; raises ValueError for any other action and
    `redis.RedisError` when Redis is unreachable."""
    if action not in CONTROL_ACTIONS:
        raise ValueError(f"unknown control action {action!r}")
    return send_command(account, action, who)


def save_limits(form: RiskLimitsForm, who: str) -> RiskLimitSet:
    """Store valid limits; the engine's watcher applies them within a quarter of a second."""
    row = form.save(commit=False)
    row.updated_by = who
    row.save()
    AuditEvent.objects.create(
        who=who,
        action="risk_limits",
        detail={"account": row.account, "limits": form.cleaned_data},
        result="saved",
    )
    return row


def submit_ticket(account: str, form: OrderTicketForm, who: str) -> CommandOutcome:
    """Send a validated manual order to the engine and wait for its answer."""
    args: dict[str, Any] = form.command_args()
    return send_command(account, "submit_order", who, args)
