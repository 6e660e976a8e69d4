"""A Content-Security-Policy header on every response.

Scripts and styles load only from the site itself: no inline script can run, so an injected
`<script>` or `onclick=` is inert. The Django admin's templates keep their JavaScript in
static files (configuration travels in `data-` attributes and `type="application/json"`
blocks, which are not executed), so the same policy serves the admin; the tests render admin
pages to hold it to that.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)
HEADER = "Content-Security-Policy"


class ContentSecurityPolicyMiddleware:
    """Adds `POLICY` unless the view set a policy of its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = POLICY
        return response
