"""A liveness endpoint for supervisors and container health checks."""

from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """Answer 200 when the web process can reach its database, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any database failure means "not healthy", reported as such
        return JsonResponse({"status": "error", "database": str(exc)}, status=503)
    return JsonResponse({"status": "ok", "database": connection.vendor})
