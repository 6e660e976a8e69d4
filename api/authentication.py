"""Who is calling: an API key in `X-API-Key`, or the browser's Django session.

Read endpoints take any authenticated user; control endpoints (commands, orders, limits) take
staff only, and say 403 rather than 401 to an authenticated user who is not staff. The staff
check happens here, with authentication, so a non-staff caller learns nothing from the
validation of a payload it may not send.

A session is CSRF-checked on unsafe methods (a browser sends its cookie to any site's form);
an API key is not (a browser never adds the header by itself). CSRF is only checked once the
session is known to be logged in, so an anonymous request gets 401, not a CSRF 403.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import APIKeyHeader, SessionAuth

from api.keys import user_for_key
from api.models import PREFIX_LENGTH

API_KEY_HEADER = "X-API-Key"


def _admitted(user: Any, staff_only: bool) -> Any:
    if staff_only and not user.is_staff:
        raise AuthorizationError(message="this endpoint is for staff users only")
    return user


class ApiKeyAuth(APIKeyHeader):
    """An API key; a present but unknown or revoked key is refused outright (401)."""

    param_name = API_KEY_HEADER

    def __init__(self, *, staff_only: bool = False) -> None:
        self.staff_only = staff_only
        super().__init__()

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not key:
            return None
        user = user_for_key(key)
        if user is None:
            raise AuthenticationError(message="invalid or revoked API key")
        request.user = user
        request.api_key_prefix = key[:PREFIX_LENGTH]
        return _admitted(user, self.staff_only)


class BrowserSessionAuth(SessionAuth):
    """The logged-in Django session, CSRF-checked on unsafe methods."""

    def __init__(self, *, staff_only: bool = False) -> None:
        self.staff_only = staff_only
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not request.user.is_authenticated:
            return None
        return _admitted(request.user, self.staff_only)


READ_AUTH = [ApiKeyAuth(), BrowserSessionAuth()]
CONTROL_AUTH = [ApiKeyAuth(staff_only=True), BrowserSessionAuth(staff_only=True)]
