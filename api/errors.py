"""The API's failures and how each is answered.

Every 422 has the same shape, whether pydantic or a model's `clean()` found the problem:
`{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`, so a client can point at the
field.
"""

from __future__ import annotations

from typing import Any

import redis
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError


class FieldErrors(Exception):
    """Values that failed a check outside the schema (a model's `clean()`), by field."""

    def __init__(self, errors: dict[str, list[str]], location: str = "body") -> None:
        super().__init__(errors)
        self.errors = errors
        self.location = location


class CommandUnanswered(Exception):
    """The command was sent but the engine did not acknowledge it in time."""

    def __init__(self, command_id: str, timeout_s: float) -> None:
        super().__init__(command_id)
        self.command_id = command_id
        self.timeout_s = timeout_s


class CommandRefused(Exception):
    """The engine acknowledged the command and refused it."""

    def __init__(self, command_id: str, state: str, reason: str, status: int) -> None:
        super().__init__(reason)
        self.command_id = command_id
        self.state = state
        self.reason = reason
        self.status = status


def _field_error(loc: list[Any], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": kind}


def install_error_handlers(api: NinjaAPI) -> None:
    """Register the answers to the exceptions above, and reshape ninja's 422."""

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        detail = [
            _field_error(list(error.get("loc", [])), str(error.get("msg", "")), error.get("type"))
            for error in exc.errors
        ]
        return api.create_response(request, {"detail": detail}, status=422)

    @api.exception_handler(FieldErrors)
    def field_errors(request: HttpRequest, exc: FieldErrors) -> HttpResponse:
        detail = [
            _field_error([exc.location, field], message, "value_error")
            for field, messages in exc.errors.items()
            for message in messages
        ]
        return api.create_response(request, {"detail": detail}, status=422)

    @api.exception_handler(redis.RedisError)
    def redis_down(request: HttpRequest, exc: redis.RedisError) -> HttpResponse:
        return api.create_response(
            request,
            {"detail": f"the engine's message bus (Redis) is unreachable: {exc}"},
            status=503,
        )

    @api.exception_handler(CommandUnanswered)
    def unanswered(request: HttpRequest, exc: CommandUnanswered) -> HttpResponse:
        detail = f"sent, but the engine did not answer within {exc.timeout_s:g} s (is it running?)"
        return api.create_response(
            request, {"detail": detail, "command_id": exc.command_id}, status=504
        )

    @api.exception_handler(CommandRefused)
    def refused(request: HttpRequest, exc: CommandRefused) -> HttpResponse:
        body = {"detail": exc.reason, "state": exc.state, "command_id": exc.command_id}
        return api.create_response(request, body, status=exc.status)
