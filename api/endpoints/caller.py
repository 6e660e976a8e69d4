"""Who to name in the audit trail for a request."""

from django.http import HttpRequest


def audit_name(request: HttpRequest) -> str:
    """The caller's username, with the key's prefix when an API key authenticated it."""
    username = request.auth.get_username()
    prefix = getattr(request, "api_key_prefix", "")
    return f"{username} (key {prefix})" if prefix else username
