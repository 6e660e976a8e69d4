"""Orders (the ledger's record) and the operator's own orders and cancels."""

from django.http import HttpRequest
from ninja import Path, Query, Router, Status
from ninja.errors import HttpError

from api import selectors, services
from api.authentication import CONTROL_AUTH
from api.endpoints.caller import audit_name
from api.rate_limit import command_rate_limit
from api.schemas import (
    MAX_BIGINT,
    CommandAckOut,
    ErrorOut,
    ManualOrderIn,
    ManualOrderOut,
    OrderFilters,
    OrderOut,
    OrderPage,
    PageParams,
    RefusedOut,
    UnansweredOut,
)

router = Router(tags=["orders"])

COMMAND_ERRORS = {429: ErrorOut, 503: ErrorOut, 504: UnansweredOut}


@router.get("", response=OrderPage)
def list_orders(request: HttpRequest, filters: Query[OrderFilters], page: Query[PageParams]):
    """The account's orders, newest first, filtered and paginated."""
    return selectors.order_page(selectors.desk_account(), filters, page)


@router.get("/{order_id}", response={200: OrderOut, 404: ErrorOut})
def get_order(request: HttpRequest, order_id: int = Path(..., ge=1, le=MAX_BIGINT)):
    """One order by its id."""
    order = selectors.order_detail(selectors.desk_account(), order_id)
    if order is None:
        raise HttpError(404, f"no order {order_id}")
    return order


@router.post(
    "",
    auth=CONTROL_AUTH,
    throttle=[command_rate_limit],
    response={201: ManualOrderOut, 422: RefusedOut, **COMMAND_ERRORS},
)
def submit_order(request: HttpRequest, payload: ManualOrderIn):
    """Send an operator's order through the engine's pre-trade risk (price 0: market)."""
    sent = services.submit_manual_order(selectors.desk_account(), audit_name(request), payload)
    return Status(201, sent)


@router.post(
    "/{order_id}/cancel",
    auth=CONTROL_AUTH,
    throttle=[command_rate_limit],
    response={200: CommandAckOut, 409: RefusedOut, **COMMAND_ERRORS},
)
def cancel_order(request: HttpRequest, order_id: int = Path(..., ge=1, le=MAX_BIGINT)):
    """Ask the engine to cancel one of its working orders."""
    return services.cancel_order(selectors.desk_account(), audit_name(request), order_id)
