"""The API instance: its routers, authentication and error answers. Mounted at /api/."""

from django.contrib.auth.decorators import login_required
from ninja import NinjaAPI

from api.authentication import READ_AUTH
from api.endpoints import audit, engine, executions, limits, orders, portfolio, research
from api.errors import install_error_handlers

api = NinjaAPI(
    title="Desk API",
    version="1",
    description=(
        "Control and data API of the trading desk. Authenticate with the browser session "
        "(CSRF token required on unsafe methods) or an `X-API-Key` header."
    ),
    urls_namespace="api",
    auth=READ_AUTH,
    docs_decorator=login_required,
)
install_error_handlers(api)

api.add_router("/engine", engine.router)
api.add_router("/orders", orders.router)
api.add_router("/executions", executions.router)
api.add_router("/", portfolio.router)
api.add_router("/limits", limits.router)
api.add_router("/audit", audit.router)
api.add_router("/research", research.router)
