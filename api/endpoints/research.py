"""Research runs: launch a backtest, sweep, walk-forward, pair scan or CPCV; follow; cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from api.authentication import CONTROL_AUTH
from api.errors import FieldErrors
from lab.http import report_response
from lab.models import ResearchRun, RunStatus

router = Router(tags=["research"])

Kind = Literal["backtest", "tick_backtest", "sweep", "walkforward", "pairscan", "cpcv", "fetchdata"]


class RunIn(Schema):
    kind: Kind
    params: dict[str, Any] = Field(default_factory=dict)


class RunOut(Schema):
    id: int
    kind: str
    status: str
    progress: float
    progress_note: str
    origin: str
    params: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    elapsed_s: float | None
    error: str
    cancel_requested: bool
    has_report: bool
    figures: dict[str, Any] | None = None


def _out(run: ResearchRun, *, with_figures: bool) -> dict[str, Any]:
    return {
        "id": run.pk,
        "kind": run.kind,
        "status": run.status,
        "progress": run.progress,
        "progress_note": run.progress_note,
        "origin": run.origin,
        "params": run.params,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "elapsed_s": run.elapsed_s,
        "error": run.error.splitlines()[0] if run.error else "",
        "cancel_requested": run.cancel_requested,
        "has_report": bool(run.report),
        "figures": run.figures if with_figures else None,
    }


@router.get("/runs", response=list[RunOut])
def list_runs(
    request: HttpRequest,
    kind: Kind | None = None,
    status: Literal["queued", "running", "done", "failed", "cancelled"] | None = None,
    limit: int = Query(50, ge=1, le=500),
):
    """The latest runs, newest first, without their figures."""
    runs = ResearchRun.objects.defer("report", "figures")
    if kind:
        runs = runs.filter(kind=kind)
    if status:
        runs = runs.filter(status=status)
    return [_out(run, with_figures=False) for run in runs[:limit]]


@router.post("/runs", auth=CONTROL_AUTH, response={202: RunOut, 422: Any, 503: Any})
def launch_run(request: HttpRequest, payload: RunIn):
    """Validate the parameters, store the run and queue it on the Celery workers."""
    from lab.runner import ParamsError, create_run
    from lab.tasks import BrokerUnavailable, launch

    try:
        run = create_run(payload.kind, payload.params, origin="api", user=request.user)
    except ParamsError as exc:
        raise FieldErrors({"params": [str(exc)]}) from None
    try:
        run = launch(run)
    except BrokerUnavailable as exc:
        return Status(503, {"detail": str(exc), "run": run.pk})
    return Status(202, _out(run, with_figures=False))


@router.get("/runs/{run_id}", response=RunOut)
def get_run(request: HttpRequest, run_id: int):
    """One run with its figures (null until it is done)."""
    return _out(get_object_or_404(ResearchRun, pk=run_id), with_figures=True)


@router.post("/runs/{run_id}/cancel", auth=CONTROL_AUTH, response={200: RunOut, 409: Any})
def cancel_run(request: HttpRequest, run_id: int):
    """Ask a queued or running run to stop (409 if it has already finished)."""
    from lab.runner import request_cancel

    run = get_object_or_404(ResearchRun, pk=run_id)
    if not request_cancel(run):
        return Status(409, {"detail": f"run {run_id} has already finished ({run.status})"})
    return _out(run, with_figures=False)


@router.get("/runs/{run_id}/report", response={200: None, 404: Any})
def run_report(request: HttpRequest, run_id: int):
    """The run's self-contained HTML report."""
    run = get_object_or_404(ResearchRun, pk=run_id)
    if run.status != RunStatus.DONE or not run.report:
        return Status(404, {"detail": f"run {run_id} has no report ({run.status})"})
    return report_response(run.report)
