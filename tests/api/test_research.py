"""/api/research: launch runs (staff), follow them, read their figures and reports, cancel."""

# ruff: noqa: F811
import pytest

from lab.models import ResearchRun, RunStatus
from tests.lab.conftest import eager_celery, lab_store  # noqa: F401
from tests.support.research_store import research_store  # noqa: F401

PAIRSCAN = {
    "kind": "pairscan",
    "params": {"symbols": ["KO", "PEP"], "max_pvalue": 1.0, "min_correlation": 0.0},
}


@pytest.mark.parametrize("role", ["user_session", "user_key", "anonymous"])
def test_only_staff_may_launch_runs(client_as, role):
    response = client_as(role).post("/api/research/runs", PAIRSCAN, content_type="application/json")
    assert response.status_code in (401, 403)
    assert not ResearchRun.objects.exists()


def test_a_launched_run_is_queued_run_and_readable_with_its_figures(
    staff_client, lab_store, eager_celery
):
    response = staff_client.post("/api/research/runs", PAIRSCAN, content_type="application/json")
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]
    run = staff_client.get(f"/api/research/runs/{run_id}").json()
    assert run["status"] == "done" and run["origin"] == "api"
    assert run["params"]["symbols"] == ["KO", "PEP"]
    assert run["params"]["top"] == 0  # defaults are stored with the run
    (pair,) = run["figures"]["pairs"]
    assert {pair["a"], pair["b"]} == {"KO", "PEP"}
    listed = staff_client.get("/api/research/runs?kind=pairscan").json()
    assert [r["id"] for r in listed] == [run_id] and listed[0]["figures"] is None


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"kind": "pairscan", "params": {"symbls": ["KO"]}}, "unknown parameter(s) symbls"),
        ({"kind": "pairscan", "params": {"max_pvalue": "x"}}, "max_pvalue: expected a number"),
        ({"kind": "sweep", "params": {"fast": [10, 5]}}, "fast"),
    ],
)
def test_bad_parameters_are_a_422_naming_them(staff_client, body, fragment):
    response = staff_client.post("/api/research/runs", body, content_type="application/json")
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "params"] and fragment in error["msg"]
    assert not ResearchRun.objects.exists()


def test_an_unknown_kind_is_a_422(staff_client):
    response = staff_client.post(
        "/api/research/runs", {"kind": "astrology"}, content_type="application/json"
    )
    assert response.status_code == 422


def test_a_queued_run_can_be_cancelled_once(staff_client):
    run = ResearchRun.objects.create(kind="pairscan", params={})
    response = staff_client.post(f"/api/research/runs/{run.pk}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = staff_client.post(f"/api/research/runs/{run.pk}/cancel")
    assert again.status_code == 409 and "already finished" in again.json()["detail"]


def test_the_report_is_served_with_a_policy_that_forbids_scripts(staff_client):
    run = ResearchRun.objects.create(
        kind="backtest", status=RunStatus.DONE, report="<!doctype html><title>r</title><p>ok"
    )
    response = staff_client.get(f"/api/research/runs/{run.pk}/report")
    assert response.status_code == 200 and b"<p>ok" in response.content
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    missing = staff_client.get(f"/api/research/runs/{run.pk + 1}/report")
    assert missing.status_code == 404


def test_a_run_that_cannot_be_queued_is_a_503_and_is_marked_failed(staff_client, tmp_path):
    from tests.support.redis_server import celery_broker

    with celery_broker(f"unix://{tmp_path / 'nobody-listens.sock'}"):
        response = staff_client.post(
            "/api/research/runs", PAIRSCAN, content_type="application/json"
        )
    assert response.status_code == 503
    assert "broker is unreachable" in response.json()["detail"]
    run = ResearchRun.objects.get(pk=response.json()["run"])
    assert run.status == RunStatus.FAILED and run.error.startswith("not queued")


def test_a_queued_run_waits_in_the_broker_for_a_worker(staff_client, desk):
    import redis

    response = staff_client.post("/api/research/runs", PAIRSCAN, content_type="application/json")
    assert response.status_code == 202
    run = ResearchRun.objects.get(pk=response.json()["id"])
    assert run.status == RunStatus.QUEUED and run.celery_task_id
    queued = redis.Redis.from_url(desk.REDIS_URL).lrange("celery", 0, -1)
    assert any(run.celery_task_id.encode() in message for message in queued)


def test_the_api_accepts_every_kind_of_run_the_lab_has():
    from typing import get_args

    from api.endpoints.research import Kind
    from lab.models import RunKind

    assert set(get_args(Kind)) == set(RunKind.values)
