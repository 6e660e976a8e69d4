"""The research page: runs with their progress and reports; staff launch and cancel runs."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from dashboard.views import _page, staff_required
from lab.http import report_response
from lab.models import ResearchRun, RunKind, RunStatus

PAGE_SIZE = 100


@require_GET
@login_required
def research(request: HttpRequest) -> HttpResponse:
    runs = ResearchRun.objects.defer("report")[:PAGE_SIZE]
    return _page(
        request,
        "dashboard/research.html",
        "research",
        runs=runs,
        kinds=RunKind.choices,
        params_text=request.GET.get("params", "{}"),
    )


@require_POST
@staff_required
def launch(request: HttpRequest) -> HttpResponse:
    from lab.runner import ParamsError, create_run
    from lab.tasks import BrokerUnavailable
    from lab.tasks import launch as queue_run

    kind = request.POST.get("kind", "")
    try:
        params = json.loads(request.POST.get("params") or "{}")
    except json.JSONDecodeError as exc:
        messages.error(request, f"Run not started: parameters are not JSON ({exc})")
        return redirect("dashboard:research")
    try:
        run = create_run(kind, params, origin="dashboard", user=request.user)
    except ParamsError as exc:
        messages.error(request, f"Run not started: {exc}")
        return redirect("dashboard:research")
    try:
        queue_run(run)
    except BrokerUnavailable as exc:
        messages.error(request, f"Run {run.pk} {exc}")
        return redirect("dashboard:research")
    messages.success(request, f"{run.get_kind_display()} run {run.pk} queued")
    return redirect("dashboard:research")


@require_POST
@staff_required
def cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    from lab.runner import request_cancel

    run = get_object_or_404(ResearchRun, pk=run_id)
    if request_cancel(run):
        messages.success(request, f"Run {run_id}: cancel requested")
    else:
        messages.warning(request, f"Run {run_id} had already finished ({run.status})")
    return redirect("dashboard:research")


@require_GET
@login_required
def report(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(ResearchRun, pk=run_id)
    if run.status != RunStatus.DONE or not run.report:
        return HttpResponse(f"run {run_id} has no report ({run.status})", status=404)
    return report_response(run.report)
