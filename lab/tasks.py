"""Celery tasks of the lab: whole runs, sweep chunks fanned out to workers, nightly pair scan."""

from __future__ import annotations

from typing import Any

from celery import chord, shared_task

from lab.models import ResearchRun, RunKind, RunStatus
from trading.log_format import get_logger

log = get_logger("LAB")


@shared_task(name="lab.run_research")
def run_research(run_id: int) -> str:
    """Run a stored research run on this worker; returns its final status."""
    from lab.runner import execute

    return execute(run_id).status


def launch(run: ResearchRun) -> ResearchRun:
    """Queue a stored run on the workers (a sweep fans out in chunks, anything else runs whole)."""
    if run.kind == RunKind.SWEEP and run.params.get("fan_out", True):
        from lab.jobs import sweep

        result = sweep.fan_out(run)
    else:
        result = run_research.delay(run.pk)
    ResearchRun.objects.filter(pk=run.pk).update(celery_task_id=result.id or "")
    run.refresh_from_db()
    return run


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


@shared_task(name="lab.nightly_pair_selection")
def nightly_pair_selection() -> int:
    """Re-select pairs over every stored daily series (Celery beat, after the close)."""
    from lab.runner import create_run, execute

    run = create_run(RunKind.PAIRSCAN, {}, origin="schedule")
    execute(run.pk)
    run.refresh_from_db()
    if run.status != RunStatus.DONE:
        log.error("nightly pair selection (run %d) ended %s: %s", run.pk, run.status, run.error)
    return run.pk
