"""Celery beat re-selects pairs every weekday evening over every stored daily series."""

import pytest
from celery.schedules import crontab
from django.conf import settings

from desk.celery import app
from lab.models import ResearchRun, RunStatus
from lab.tasks import nightly_pair_selection


def test_the_nightly_pair_selection_is_scheduled_after_the_close():
    entry = settings.CELERY_BEAT_SCHEDULE["nightly-pair-selection"]
    assert entry["task"] == nightly_pair_selection.name
    assert entry["task"] in app.tasks
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert schedule.hour == {18} and schedule.minute == {30}
    assert schedule.day_of_week == {1, 2, 3, 4, 5}
    assert settings.CELERY_TIMEZONE == "America/New_York"


@pytest.mark.django_db
def test_the_nightly_task_scans_every_stored_series_and_keeps_the_ranking(lab_store):
    run_id = nightly_pair_selection()
    run = ResearchRun.objects.get(pk=run_id)
    assert run.status == RunStatus.DONE and run.origin == "schedule" and run.kind == "pairscan"
    assert (
        run.figures["symbols"] == lab_store.symbols("daily") and len(run.figures["symbols"]) == 28
    )
    pvalues = [p["pvalue"] for p in run.figures["pairs"]]
    assert pvalues == sorted(pvalues) and all(p <= 0.05 for p in pvalues)
