"""Research runs and their results.

A run is one backtest, sweep, walk-forward, pair scan or CPCV: what was asked (`kind`,
`params`), how far it got (`status`, `progress`), and what came out (`figures` as JSON, the
self-contained HTML `report`). Workers update progress and look at `cancel_requested` between
chunks of work, so a cancel from the API stops a run at the next chunk boundary.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class RunKind(models.TextChoices):
    BACKTEST = "backtest", "Bar backtest"
    TICK_BACKTEST = "tick_backtest", "Tick backtest"
    SWEEP = "sweep", "Parameter sweep"
    WALKFORWARD = "walkforward", "Walk-forward"
    PAIRSCAN = "pairscan", "Pair scan"
    CPCV = "cpcv", "Combinatorial purged CV"
    FETCHDATA = "fetchdata", "Market data download"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED = (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED)


class ResearchRun(models.Model):
    """One research run, from request to report."""

    kind = models.CharField(max_length=16, choices=RunKind.choices)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.FloatField(default=0.0, help_text="0..1")
    progress_note = models.CharField(max_length=200, blank=True, default="")
    origin = models.CharField(
        max_length=16, default="command", help_text="command, api, schedule or dashboard"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    celery_task_id = models.CharField(max_length=64, blank=True, default="")
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    elapsed_s = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    figures = models.JSONField(default=dict, blank=True)
    report = models.TextField(blank=True, default="", help_text="self-contained HTML")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED
