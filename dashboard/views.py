"""The private desk: trading, health and control pages, thin over selectors and services.

Pages render the current state so they are useful without JavaScript; the page's script then
keeps them live over the WebSocket. Control actions are plain form posts, staff only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from dashboard import live_view, selectors, services
from dashboard.forms import OrderTicketForm, RiskLimitsForm
from ledger.engine_control import CommandOutcome
from ledger.models import RiskLimitSet

ACTION_LABELS = {
    "start": "Start",
    "pause": "Pause",
    "resume": "Resume",
    "stop": "Stop",
    "flatten_all": "Flatten all",
    "kill": "Kill",
}


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged-in users who are not staff may look but get 403 on any control."""

    @functools.wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("control actions are for staff")
        return view(request, *args, **kwargs)

    return wrapped


def _live(account: str) -> tuple[dict[str, Any], str]:
    """The live message for the page's first paint, and why it is empty if Redis is down."""
    try:
        return live_view.live_message(selectors.engine_envelope(account)), ""
    except redis.RedisError as exc:
        return live_view.live_message(None), f"Redis unreachable: {exc}"


def _page(request: HttpRequest, template: str, nav: str, **context: Any) -> HttpResponse:
    account = selectors.dashboard_account()
    live, redis_error = _live(account)
    state = live["state"] or {}
    return render(
        request,
        template,
        {
            "nav": nav,
            "ws_port": settings.DESK_WS_PORT,
            "account": account,
            "live": live,
            "engine": state,
            "redis_error": redis_error,
            "latency_hops": [
                (hop, (state.get("latency_us") or {}).get(hop, {}))
                for hop in live_view.LATENCY_HOPS
            ],
            "risk_usage": [
                (name, label, (state.get("risk_usage") or {}).get(name))
                for name, label in live_view.RISK_USAGE_LABELS.items()
            ],
            **context,
        },
    )


@require_GET
@login_required
def trading(request: HttpRequest) -> HttpResponse:
    return _page(request, "dashboard/trading.html", "trading")


@require_GET
@login_required
def health(request: HttpRequest) -> HttpResponse:
    tag, text = _log_filter(request)
    return _page(
        request, "dashboard/health.html", "health", processes=selectors.process_health(),
        log_lines=selectors.log_tail(tag, text), log_tag=tag, log_text=text,
        log_tags=selectors.LOG_TAGS,
    )  # fmt: skip


@require_GET
@login_required
def log_json(request: HttpRequest) -> JsonResponse:
    """The filtered log tail, for the health view's live refresh."""
    tag, text = _log_filter(request)
    return JsonResponse({"lines": selectors.log_tail(tag, text)})


def _log_filter(request: HttpRequest) -> tuple[str, str]:
    tag = request.GET.get("tag", "")
    return (tag if tag in selectors.LOG_TAGS else ""), request.GET.get("q", "")[:100]


def _limits_form(account: str, data: Any = None) -> RiskLimitsForm:
    row = selectors.risk_limits(account) or RiskLimitSet(account=account)
    return RiskLimitsForm(data, instance=row, prefix="limits")


def _control_page(
    request: HttpRequest,
    limits_form: RiskLimitsForm | None = None,
    ticket_form: OrderTicketForm | None = None,
    status: int = 200,
) -> HttpResponse:
    account = selectors.dashboard_account()
    response = _page(
        request,
        "dashboard/control.html",
        "control",
        actions=[
            (action, ACTION_LABELS[action], action in services.DESTRUCTIVE_ACTIONS)
            for action in services.CONTROL_ACTIONS
        ],
        limits_form=limits_form or _limits_form(account),
        ticket_form=ticket_form or OrderTicketForm(prefix="ticket"),
        can_control=request.user.is_staff,
    )
    response.status_code = status
    return response


@require_GET
@login_required
def control(request: HttpRequest) -> HttpResponse:
    return _control_page(request)


def _report(request: HttpRequest, what: str, outcome: CommandOutcome) -> None:
    if outcome.ack is None:
        messages.warning(request, f"{what}: sent, but no answer from the engine (is it running?)")
    elif outcome.ack.ok:
        messages.success(request, f"{what}: {outcome.ack.reason} (state {outcome.ack.state})")
    else:
        messages.error(request, f"{what} refused: {outcome.ack.reason} (state {outcome.ack.state})")


@require_POST
@staff_required
def control_action(request: HttpRequest, action: str) -> HttpResponse:
    if action not in services.CONTROL_ACTIONS:
        return HttpResponse(status=404)
    label = ACTION_LABELS[action]
    if action in services.DESTRUCTIVE_ACTIONS and request.POST.get("confirmed") != "yes":
        # Without the page's dialog (no JavaScript) the confirmation is a page of its own.
        return render(
            request,
            "dashboard/confirm.html",
            {"nav": "control", "action": action, "label": label},
        )
    try:
        outcome = services.run_control(selectors.dashboard_account(), action, request.user.username)
    except redis.RedisError as exc:
        messages.error(request, f"{label}: not sent, Redis is unreachable ({exc})")
    else:
        _report(request, label, outcome)
    return redirect("dashboard:control")


@require_POST
@staff_required
def update_limits(request: HttpRequest) -> HttpResponse:
    form = _limits_form(selectors.dashboard_account(), request.POST)
    if not form.is_valid():
        messages.error(request, "Risk limits not saved: see the errors below")
        return _control_page(request, limits_form=form, status=400)
    services.save_limits(form, request.user.username)
    messages.success(request, "Risk limits saved; the engine applies them within a second")
    return redirect("dashboard:control")


@require_POST
@staff_required
def order_ticket(request: HttpRequest) -> HttpResponse:
    form = OrderTicketForm(request.POST, prefix="ticket")
    if not form.is_valid():
        messages.error(request, "Order not sent: see the errors below")
        return _control_page(request, ticket_form=form, status=400)
    try:
        outcome = services.submit_ticket(selectors.dashboard_account(), form, request.user.username)
    except redis.RedisError as exc:
        messages.error(request, f"Order not sent, Redis is unreachable ({exc})")
    else:
        _report(request, "Order", outcome)
    return redirect("dashboard:control")


@require_GET
@login_required
def equity_json(request: HttpRequest) -> JsonResponse:
    account = selectors.dashboard_account()
    return JsonResponse({"account": account, "points": selectors.equity_points(account)})
