"""`manage.py fetchdata` and the "fetchdata" run kind, against the local Polygon server."""

# ruff: noqa: F811
import json
import logging

import pytest
from django.core.management import CommandError, call_command

from lab import jobs
from lab.models import ResearchRun, RunStatus
from lab.runner import ParamsError, RunCancelled, create_run
from tests.lab.conftest import eager_celery  # noqa: F401
from tests.support.polygon_server import API_KEY, PolygonServer
from trading.research.store import MarketDataStore

pytestmark = [pytest.mark.django_db, pytest.mark.tcp]

ARGS = ["AAPL", "KO", "--from", "2020-06-01", "--to", "2020-12-11", "--limit", "40",
        "--rate-per-minute", "0"]  # fmt: skip


@pytest.fixture
def polygon(monkeypatch, tmp_path):
    """The local server, its address and key in the environment, and a store folder."""
    with PolygonServer() as server:
        monkeypatch.setenv("POLYGON_API_KEY", API_KEY)
        monkeypatch.setenv("POLYGON_BASE_URL", server.base_url)
        server.store = tmp_path / "store"
        yield server


def fetch_json(capsys, server, *args):
    call_command("fetchdata", *args, "--store", str(server.store), "--json")
    return json.loads(capsys.readouterr().out)


def test_the_command_downloads_into_the_store_and_records_a_run(capsys, polygon, caplog):
    with caplog.at_level(logging.DEBUG):
        figures = fetch_json(capsys, polygon, *ARGS)
    assert figures["stored"] == ["AAPL daily", "KO daily"] and figures["pages"] == 8
    assert figures["source"] == "polygon" and figures["store"] == str(polygon.store)
    store = MarketDataStore(polygon.store)
    assert [(e.symbol, e.rows, e.source) for e in store.catalogue()] == [
        ("AAPL", 137, "polygon"), ("KO", 137, "polygon"),
    ]  # fmt: skip
    run = ResearchRun.objects.get(pk=figures["run"])
    assert run.kind == "fetchdata" and run.status == RunStatus.DONE
    assert run.params["symbols"] == ["AAPL", "KO"] and run.params["rate_per_minute"] == 0
    stored = json.dumps(run.params) + json.dumps(run.figures) + run.error
    assert API_KEY not in stored and API_KEY not in caplog.text


def test_the_text_output_says_what_was_stored_and_what_the_plan_refused(capsys, polygon):
    polygon.entitled.discard("trades")
    call_command("fetchdata", "AAPL", "--from", "2012-06-21", "--to", "2012-06-21",
                 "--timespan", "minute", "--trades", "--rate-per-minute", "0",
                 "--store", str(polygon.store), "--no-progress")  # fmt: skip
    out = capsys.readouterr().out
    assert "1 of 2 units stored" in out
    assert "trades not downloaded: Polygon says the plan does not include this data" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["AAPL", "--from", "2020-13-01", "--to", "2020-12-11"], "start: expected a date"),
        (["AAPL", "--from", "2020-06-01", "--to", "2020-05-01"], "before --from"),
        (["../KO", "--from", "2020-06-01", "--to", "2020-12-11"], "symbol '../KO'"),
        (["AAPL", "aapl", "--from", "2020-06-01", "--to", "2020-12-11"], "repeat"),
        (["AAPL", "--from", "2020-06-01", "--to", "2020-12-11", "--timespan", "week"],
         "invalid choice: 'week'"),
        (["AAPL", "--from", "2020-06-01", "--to", "2020-12-11", "--multiplier", "5"],
         "multiplier 1 with day"),
        (["AAPL", "--from", "2020-06-01", "--to", "2020-12-11", "--rate-per-minute", "-1"],
         "rate_per_minute: must be >= 0"),
        (["AAPL", "--to", "2020-12-11"], "--from"),
        (["AAPL", "--from", "2020-06-01", "--to", "2020-12-11", "--source", "yahoo"],
         "invalid choice: 'yahoo'"),
    ],
)  # fmt: skip
def test_bad_arguments_are_refused_before_any_request(polygon, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("fetchdata", *args, "--store", str(polygon.store), "--no-progress")
    assert polygon.log == [] and not ResearchRun.objects.exists()


def test_a_key_is_not_a_parameter_and_a_missing_key_fails_the_run_clearly(polygon, monkeypatch):
    with pytest.raises(ParamsError, match="unknown parameter.*api_key"):
        create_run("fetchdata", {"symbols": ["AAPL"], "start": "2020-06-01",
                                 "end": "2020-06-05", "api_key": "x"})  # fmt: skip
    monkeypatch.delenv("POLYGON_API_KEY")
    with pytest.raises(CommandError, match="POLYGON_API_KEY is not set"):
        call_command("fetchdata", *ARGS, "--store", str(polygon.store), "--no-progress")
    assert polygon.log == []


def test_a_queued_download_runs_on_a_worker(capsys, polygon, eager_celery):
    call_command("fetchdata", *ARGS, "--store", str(polygon.store), "--queue")
    run = ResearchRun.objects.get()
    assert run.status == RunStatus.DONE and run.celery_task_id
    assert run.figures["stored"] == ["AAPL daily", "KO daily"] and run.progress == 1.0
    assert f"queued fetchdata run {run.pk}" in capsys.readouterr().out


def test_a_cancelled_download_stops_at_a_page_and_the_next_run_resumes_it(polygon):
    params = jobs.validate("fetchdata", {
        "symbols": ["AAPL", "KO"], "start": "2020-06-01", "end": "2020-12-11", "limit": 40,
        "rate_per_minute": 0, "store": str(polygon.store),
    })  # fmt: skip
    notes = []

    def progress(fraction, note):
        notes.append((fraction, note))
        if note == "KO daily page 2":
            raise RunCancelled("cancelled")

    with pytest.raises(RunCancelled):
        jobs.run("fetchdata", params, progress)
    assert [f for f, _ in notes] == sorted(f for f, _ in notes)  # progress only moves forward
    assert len(polygon.log) == 6
    output = jobs.run("fetchdata", params, lambda fraction, note: None)
    assert output.figures["skipped"] == 1 and output.figures["pages"] == 2
    fetched = [r.url for r in polygon.log]
    assert len(fetched) == len(set(fetched)) == 8  # no page asked for twice
