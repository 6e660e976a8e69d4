"""The research page: runs with progress and report links; staff queue and cancel runs."""

# ruff: noqa: F811
import pytest

from lab.models import ResearchRun, RunStatus
from tests.lab.conftest import eager_celery, lab_store  # noqa: F401
from tests.support.research_store import research_store  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_page_lists_runs_with_progress_errors_and_report_links(desk, viewer_client):
    done = ResearchRun.objects.create(kind="backtest", status=RunStatus.DONE, report="<p>r</p>")
    failed = ResearchRun.objects.create(kind="sweep", status=RunStatus.FAILED, error="symbols: ZZZ")
    running = ResearchRun.objects.create(kind="cpcv", status=RunStatus.RUNNING, progress=0.25)
    page = viewer_client.get("/dashboard/research").content.decode()
    assert f'href="/dashboard/research/{done.pk}/report"' in page
    assert "symbols: ZZZ" in page and f'data-run="{failed.pk}"' in page
    assert '<progress max="1" value="0.25">' in page and f'data-run="{running.pk}"' in page
    assert "Launch a run" not in page and "Cancel" not in page  # not staff: look, don't touch


def test_staff_queue_a_run_that_runs_and_shows_its_report(
    desk, staff_client, lab_store, eager_celery
):
    response = staff_client.post(
        "/dashboard/research/launch",
        {"kind": "backtest", "params": '{"symbols": ["SPY"], "fast": 20, "slow": 100}'},
        follow=True,
    )
    run = ResearchRun.objects.get()
    assert run.status == RunStatus.DONE and run.origin == "dashboard"
    assert f"run {run.pk} queued" in response.content.decode()
    report = staff_client.get(f"/dashboard/research/{run.pk}/report")
    assert report.status_code == 200 and b"<svg" in report.content
    assert "script-src" not in report["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("{not json", "parameters are not JSON"),
        ('{"symbols": ["SPY"], "fast": 0}', "fast: must be"),
    ],
)
def test_bad_launches_are_refused_with_the_reason(desk, staff_client, params, message):
    response = staff_client.post(
        "/dashboard/research/launch", {"kind": "backtest", "params": params}, follow=True
    )
    assert message in response.content.decode()
    assert not ResearchRun.objects.exists()


def test_staff_cancel_a_queued_run_and_others_may_not(desk, staff_client):
    from django.contrib.auth import get_user_model
    from django.test import Client

    viewer = Client()
    viewer.force_login(get_user_model().objects.create_user("looker", password="pw"))
    run = ResearchRun.objects.create(kind="sweep")
    assert viewer.post(f"/dashboard/research/{run.pk}/cancel").status_code == 403
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED
    staff_client.post(f"/dashboard/research/{run.pk}/cancel")
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


def test_a_launch_the_broker_refuses_says_so_and_leaves_the_run_failed(
    desk, staff_client, tmp_path
):
    from tests.support.redis_server import celery_broker

    with celery_broker(f"unix://{tmp_path / 'nobody.sock'}"):
        response = staff_client.post(
            "/dashboard/research/launch", {"kind": "pairscan", "params": "{}"}, follow=True
        )
    assert "broker is unreachable" in response.content.decode()
    assert ResearchRun.objects.get().status == RunStatus.FAILED
