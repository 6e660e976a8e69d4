"""The account's live risk limits."""

from django.http import HttpRequest
from ninja import Router
from ninja.errors import HttpError

from api import selectors, services
from api.authentication import CONTROL_AUTH
from api.endpoints.caller import audit_name
from api.schemas import ErrorOut, LimitsIn, LimitsOut

router = Router(tags=["limits"])


@router.get("", response={200: LimitsOut, 404: ErrorOut})
def get_limits(request: HttpRequest):
    """The stored limits (the engine seeds them from its config on its first start)."""
    account = selectors.desk_account()
    stored = selectors.limits(account)
    if stored is None:
        raise HttpError(404, f"no risk limits stored for account {account!r} yet")
    return stored


@router.put("", auth=CONTROL_AUTH, response={200: LimitsOut, 422: ErrorOut})
def put_limits(request: HttpRequest, payload: LimitsIn):
    """Replace every limit; a running engine applies them within a fraction of a second."""
    account = selectors.desk_account()
    services.update_limits(account, audit_name(request), payload)
    return selectors.limits(account)
