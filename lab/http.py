"""Serving a run's stored HTML report."""

from django.http import HttpResponse

from desk.content_security import HEADER

# A report is one self-contained page: its own inline CSS and SVG, never a script, never a
# resource from anywhere. The policy says exactly that, so even a report built from hostile
# parameter text cannot run anything.
REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


def report_response(html: str) -> HttpResponse:
    """The report as an HTML response with the report's own content security policy."""
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response[HEADER] = REPORT_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    return response
