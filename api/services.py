"""Changing the desk's state from the API: engine commands, operator orders, risk limits.

Engine commands all go through `ledger.engine_control.send_command`, which audits them; the
limits change is audited here, in the same transaction as the change.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from api.errors import CommandRefused, CommandUnanswered, FieldErrors
from api.schemas import LimitsIn, ManualOrderIn
from api.selectors import LIMIT_FIELDS
from ledger.engine_control import ACK_TIMEOUT_S, CommandOutcome, send_command
from ledger.models import AuditEvent, RiskLimitSet
from ledger.risk_limits import current_limits
from trading.config import load_config

SENT_ORDER = re.compile(r"^order (\d+) sent\b")


def command_timeout_s() -> float:
    """How long a request waits for the engine's ack (`DESK_COMMAND_TIMEOUT_S`)."""
    return float(getattr(settings, "DESK_COMMAND_TIMEOUT_S", ACK_TIMEOUT_S))


def run_command(
    account: str, kind: str, who: str, args: dict[str, Any] | None = None
) -> CommandOutcome:
    """Send a command and return the engine's answer; raises `CommandUnanswered` on silence
    and lets `redis.RedisError` (bus unreachable) through."""
    timeout_s = command_timeout_s()
    outcome = send_command(account, kind, who, args, timeout_s=timeout_s)
    if outcome.ack is None:
        raise CommandUnanswered(outcome.command_id, timeout_s)
    return outcome


def submit_manual_order(account: str, who: str, ticket: ManualOrderIn) -> dict[str, Any]:
    """An operator's order through the engine's pre-trade risk; returns the new order's id.

    Raises `CommandRefused` (422) when the engine refuses it, with the engine's reason.
    """
    outcome = run_command(account, "submit_order", who, ticket.model_dump())
    ack = outcome.ack
    match = SENT_ORDER.match(ack.reason) if ack.ok else None
    if match is None:
        raise CommandRefused(outcome.command_id, ack.state, ack.reason, status=422)
    return {
        "order_id": int(match.group(1)),
        "command_id": outcome.command_id,
        "state": ack.state,
        "reason": ack.reason,
    }


def cancel_order(account: str, who: str, order_id: int) -> dict[str, Any]:
    """Ask the engine to cancel a working order; `CommandRefused` (409) when it is not."""
    outcome = run_command(account, "cancel_order", who, {"order_id": order_id})
    ack = outcome.ack
    if not ack.ok:
        raise CommandRefused(outcome.command_id, ack.state, ack.reason, status=409)
    return {"command_id": outcome.command_id, "ok": True, "state": ack.state, "reason": ack.reason}


def update_limits(account: str, username: str, new: LimitsIn) -> RiskLimitSet:
    """Replace the account's risk limits (validated by `RiskLimitSet.clean`) and audit it.

    The running engine picks the saved row up by itself within a fraction of a second.
    Raises `FieldErrors` naming each out-of-range field.
    """
    with transaction.atomic():
        current_limits(account, load_config().risk)
        row = RiskLimitSet.objects.select_for_update().get(account=account)
        before = {name: getattr(row, name) for name in LIMIT_FIELDS}
        for name in LIMIT_FIELDS:
            setattr(row, name, getattr(new, name))
        try:
            row.full_clean(exclude=["account"])
        except ValidationError as exc:
            raise FieldErrors(exc.message_dict) from None
        row.updated_by = username
        row.save()
        changes = {
            name: [before[name], getattr(row, name)]
            for name in LIMIT_FIELDS
            if before[name] != getattr(row, name)
        }
        AuditEvent.objects.create(
            who=username,
            action="update_limits",
            detail={"account": account, "changes": changes},
            result="ok" if changes else "ok: no change",
        )
    return row
