"""The running engine: its published state and operator commands."""

from django.http import HttpRequest
from ninja import Router

from api import selectors, services
from api.authentication import CONTROL_AUTH
from api.endpoints.caller import audit_name
from api.rate_limit import command_rate_limit
from api.schemas import CommandAckOut, CommandIn, EngineStateOut, ErrorOut, UnansweredOut

router = Router(tags=["engine"])


@router.get("", response={200: EngineStateOut, 503: ErrorOut})
def engine_state(request: HttpRequest):
    """The engine's last published state, with its age; `state` is null if it never ran."""
    return selectors.engine_state(selectors.desk_account())


@router.post(
    "/commands",
    auth=CONTROL_AUTH,
    throttle=[command_rate_limit],
    response={200: CommandAckOut, 422: ErrorOut, 429: ErrorOut, 503: ErrorOut, 504: UnansweredOut},
)
def send_command(request: HttpRequest, payload: CommandIn):
    """Send a control command and return the engine's acknowledgement (ok, state, reason)."""
    outcome = services.run_command(
        selectors.desk_account(), payload.kind, audit_name(request), payload.args
    )
    ack = outcome.ack
    return {
        "command_id": outcome.command_id,
        "ok": ack.ok,
        "state": ack.state,
        "reason": ack.reason,
    }
