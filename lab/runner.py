"""Running a stored research run: status, progress, cancellation and results.

The work itself is a plain function of the run's parameters (see `lab.jobs`); this module owns
the bookkeeping around it so every way of launching a run (management command, Celery task,
API, beat) records it the same way.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from lab.models import ResearchRun, RunKind, RunStatus
from trading.log_format import get_logger

log = get_logger("LAB")


class RunCancelled(Exception):
    """The run was asked to stop; raised at the next progress report."""


class ParamsError(ValueError):
    """A run's parameters are invalid; the message names the parameter and the value."""


@dataclass
class JobOutput:
    """What a job returns: figures (JSON-able) and, when it has one, the HTML report."""

    figures: dict[str, Any]
    report_html: str = ""
    summary: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


ProgressFn = Callable[[float, str], None]


class Progress:
    """Writes progress to the run at most every `min_gap_s` and raises if it was cancelled.

    `echo` receives every report (a command's progress bar), throttled or not.
    """

    def __init__(
        self,
        run: ResearchRun,
        *,
        min_gap_s: float = 0.5,
        echo: ProgressFn | None = None,
    ) -> None:
        self.run = run
        self.min_gap_s = min_gap_s
        self.echo = echo
        self._last = 0.0

    def __call__(self, fraction: float, note: str = "") -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        if self.echo is not None:
            self.echo(fraction, note)
        now = time.monotonic()
        if now - self._last < self.min_gap_s and fraction < 1.0:
            return
        self._last = now
        ResearchRun.objects.filter(pk=self.run.pk).update(
            progress=fraction, progress_note=note[:200]
        )
        if ResearchRun.objects.filter(pk=self.run.pk, cancel_requested=True).exists():
            raise RunCancelled(f"run {self.run.pk} cancelled")


def create_run(
    kind: str, params: dict[str, Any], *, origin: str = "command", user: Any = None
) -> ResearchRun:
    """Validate `params` for `kind` and store a queued run (ParamsError if invalid)."""
    from lab import jobs

    if kind not in RunKind.values:
        raise ParamsError(f"unknown run kind {kind!r}; expected one of {', '.join(RunKind.values)}")
    clean = jobs.validate(kind, params)
    return ResearchRun.objects.create(
        kind=kind,
        params=clean,
        origin=origin,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
    )


def execute(run_id: int, *, echo: ProgressFn | None = None) -> ResearchRun:
    """Run a stored run to its end, recording the outcome; never raises for the job's errors."""
    from lab import jobs

    run = ResearchRun.objects.get(pk=run_id)
    if run.finished:
        return run
    if run.cancel_requested:
        _finish(run, RunStatus.CANCELLED, error="cancelled before it started")
        return run
    run.status = RunStatus.RUNNING
    run.started_at = timezone.now()
    run.save(update_fields=["status", "started_at"])
    log.info("research run %d (%s) started: %s", run.pk, run.kind, run.params)
    started = time.perf_counter()
    try:
        output = jobs.run(run.kind, run.params, Progress(run, echo=echo))
    except RunCancelled:
        _finish(run, RunStatus.CANCELLED, elapsed=time.perf_counter() - started)
        log.info("research run %d cancelled", run.pk)
        return run
    except (ParamsError, ValueError, FileNotFoundError, KeyError) as exc:
        _finish(run, RunStatus.FAILED, error=str(exc), elapsed=time.perf_counter() - started)
        log.error("research run %d failed: %s", run.pk, exc)
        return run
    except Exception as exc:  # a bug: keep the traceback with the run, not only in the log
        _finish(
            run,
            RunStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}",
            elapsed=time.perf_counter() - started,
        )
        log.exception("research run %d crashed", run.pk)
        return run
    run.figures = json_safe(output.figures)
    run.report = output.report_html
    run.progress = 1.0
    _finish(run, RunStatus.DONE, elapsed=time.perf_counter() - started)
    log.info("research run %d done in %.2f s: %s", run.pk, run.elapsed_s, output.summary)
    return run


def json_safe(value: Any) -> Any:
    """`value` with NaN and infinities as None and numpy scalars and arrays as plain Python.

    PostgreSQL's JSON refuses NaN, and a figure that is undefined (a Sharpe ratio of a flat
    curve) is better stored as null than as a number that is not one.
    """
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def request_cancel(run: ResearchRun) -> bool:
    """Ask a queued or running run to stop; False if it had already finished."""
    if run.finished:
        return False
    ResearchRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    if run.status == RunStatus.QUEUED:
        # Nothing will look at the flag of a run no worker has picked up yet.
        ResearchRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
            status=RunStatus.CANCELLED, finished_at=timezone.now()
        )
    if run.celery_task_id:
        from desk.celery import app

        app.control.revoke(run.celery_task_id)
    run.refresh_from_db()
    return True


def _finish(
    run: ResearchRun, status: str, *, error: str = "", elapsed: float | None = None
) -> None:
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    run.elapsed_s = elapsed
    run.save()
