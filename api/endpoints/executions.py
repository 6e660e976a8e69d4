"""Executions (the ledger's fills)."""

from django.http import HttpRequest
from ninja import Query, Router

from api import selectors
from api.schemas import ExecutionPage, PageParams, SymbolFilters

router = Router(tags=["executions"])


@router.get("", response=ExecutionPage)
def list_executions(request: HttpRequest, filters: Query[SymbolFilters], page: Query[PageParams]):
    """The account's fills, newest first, filtered and paginated."""
    return selectors.execution_page(selectors.desk_account(), filters, page)
