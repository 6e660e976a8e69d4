"""Celery tasks of the lab: whole runs, sweep chunks fanned out to workers, nightly pair scan."""

from __future__ import annotations

from typing import Any

from celery import chord, shared_task
from django.utils import timezone

from lab.models import ResearchRun, RunKind, RunStatus
from trading.log_format import get_logger

log = get_logger("LAB")


# The run's own row holds its outcome: nothing needs Celery's result store for a whole run.
@shared_task(name="lab.run_research", ignore_result=True)
def run_research(run_id: int) -> str:
    """Run a stored research run on this worker; returns its final status."""
    from lab.runner import execute

    return execute(run_id).status


class BrokerUnavailable(RuntimeError):
    """The run could not be queued: the Celery broker (Redis) did not take it."""


def launch(run: ResearchRun) -> ResearchRun:
    """Queue a stored run on the workers (a sweep fans out in chunks, anything else runs whole).

    If the broker cannot be reached the run is marked failed with the reason, so it is never
    left looking queued with nothing to pick it up, and BrokerUnavailable is raised.
    """
    from kombu.exceptions import OperationalError
    from redis import RedisError

    try:
        broker_reachable()
        if run.kind == RunKind.SWEEP and run.params.get("fan_out", True):
            from lab.jobs import sweep
            from lab.runner import ParamsError

            try:
                result = sweep.fan_out(run)
            except (ParamsError, ValueError, FileNotFoundError, KeyError) as exc:
                # Planning the chunks reads the data: a sweep over data the store lacks fails
                # here, like any run whose job fails, rather than as an error of the caller.
                ResearchRun.objects.filter(pk=run.pk).update(
                    status=RunStatus.FAILED, error=str(exc), finished_at=timezone.now()
                )
                run.refresh_from_db()
                return run
        else:
            result = run_research.delay(run.pk)
    except (OperationalError, RedisError, OSError) as exc:
        reason = f"not queued: the Celery broker is unreachable ({exc})"
        ResearchRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=reason, finished_at=timezone.now()
        )
        log.error("research run %d %s", run.pk, reason)
        raise BrokerUnavailable(reason) from exc
    ResearchRun.objects.filter(pk=run.pk).update(celery_task_id=result.id or "")
    run.refresh_from_db()
    return run


def broker_reachable() -> None:
    """Fail at once (OperationalError) when the broker does not answer, instead of after the
    client's own reconnection attempts, which take tens of seconds."""
    from desk.celery import app

    if app.conf.task_always_eager:  # tasks run here and now: there is no broker to reach
        return
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0.1)


@shared_task(name="lab.sweep_chunk")
def sweep_chunk(run_id: int, start: int, stop: int) -> dict[str, Any]:
    """One slice [start, stop) of a sweep's parameter combinations."""
    from lab.jobs import sweep

    return sweep.run_chunk(run_id, start, stop)


@shared_task(name="lab.sweep_merge")
def sweep_merge(chunks: list[dict[str, Any]], run_id: int) -> str:
    """Join the chunks of a sweep in combination order and finish its run."""
    from lab.jobs import sweep

    return sweep.merge_chunks(run_id, chunks)


def fan_out_chord(run_id: int, bounds: list[tuple[int, int]]) -> Any:
    """The chunks as one chord: all run in parallel, the merge runs once after the last."""
    header = [sweep_chunk.s(run_id, start, stop) for start, stop in bounds]
    return chord(header)(sweep_merge.s(run_id))


@shared_task(name="lab.nightly_pair_selection", ignore_result=True)
def nightly_pair_selection() -> int:
    """Re-select pairs over every stored daily series (Celery beat, after the close)."""
    from lab.runner import create_run, execute

    run = create_run(RunKind.PAIRSCAN, {}, origin="schedule")
    execute(run.pk)
    run.refresh_from_db()
    if run.status != RunStatus.DONE:
        log.error("nightly pair selection (run %d) ended %s: %s", run.pk, run.status, run.error)
    return run.pk
