"""The audit trail (read-only)."""

from django.http import HttpRequest
from ninja import Query, Router

from api import selectors
from api.schemas import AuditFilters, AuditPage, PageParams

router = Router(tags=["audit"])


@router.get("", response=AuditPage)
def list_audit(request: HttpRequest, filters: Query[AuditFilters], page: Query[PageParams]):
    """Who did what, newest first, filtered and paginated."""
    return selectors.audit_page(filters, page)
