"""What the lab's management commands share: run here with a progress bar, or queue on Celery."""

from __future__ import annotations

import abc
import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from lab.models import ResearchRun, RunStatus
from lab.runner import ParamsError, ProgressFn, create_run, execute


class ResearchCommand(BaseCommand, metaclass=abc.ABCMeta):
    """A command that stores a run of `kind`, runs it (or queues it) and prints the outcome."""

    kind = ""

    def add_arguments(self, parser):
        self.add_run_arguments(parser)
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")
        parser.add_argument("--report", metavar="PATH", help="write the HTML report to PATH")
        parser.add_argument(
            "--queue", action="store_true", help="queue the run on the Celery workers and return"
        )
        parser.add_argument(
            "--wait", action="store_true", help="with --queue: wait for the run and print it"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    @abc.abstractmethod
    def add_run_arguments(self, parser) -> None:
        """The command's own arguments (those of the run it stores)."""

    @abc.abstractmethod
    def params_from(self, options: dict[str, Any]) -> dict[str, Any]:
        """The run's parameters from the parsed options (checked afterwards by the job)."""

    def handle(self, *args, **options):
        try:
            params = self.params_from(options)
            run = create_run(self.kind, params, origin="command")
        except ParamsError as exc:
            raise CommandError(str(exc)) from None
        if options["wait"] and not options["queue"]:
            raise CommandError("--wait goes with --queue")
        bar = None
        quiet = options["no_progress"] or options["json"]
        if not quiet and (options["wait"] or not options["queue"]):
            from tqdm import tqdm

            bar = tqdm(total=1000, desc=f"{self.kind} #{run.pk}", unit="‰", file=self.stderr._out)

        def echo(fraction: float, note: str) -> None:
            if bar is not None:
                bar.n = int(fraction * 1000)
                bar.set_postfix_str(note[:40], refresh=False)
                bar.refresh()

        try:
            if options["queue"]:
                from lab.tasks import BrokerUnavailable, launch

                try:
                    run = launch(run)
                except BrokerUnavailable as exc:
                    raise CommandError(f"{self.kind} run {run.pk} {exc}") from None
                if not options["wait"]:
                    self.stdout.write(f"queued {run.kind} run {run.pk} (task {run.celery_task_id})")
                    return
                run = wait_for(run, echo)
            else:
                run = execute(run.pk, echo=echo)
        finally:
            if bar is not None:
                bar.close()
        if run.status != RunStatus.DONE:
            raise CommandError(
                f"{self.kind} run {run.pk} {run.status}: {run.error.splitlines()[0] if run.error else ''}"
            )
        if options["report"]:
            if not run.report:
                raise CommandError(f"{self.kind} runs have no HTML report")
            Path(options["report"]).write_text(run.report, encoding="utf-8")
        if options["json"]:
            self.stdout.write(json.dumps(self.json_output(run), allow_nan=False))
            return
        self.stdout.write(self.text_output(run))
        if options["report"]:
            self.stdout.write(f"report written to {options['report']}")

    def json_output(self, run) -> Any:
        return {**run.figures, "run": run.pk, "kind": run.kind, "elapsed_s": run.elapsed_s}

    def text_output(self, run) -> str:
        lines = [f"{run.get_kind_display()} run {run.pk} done in {run.elapsed_s:.2f} s"]
        digest = run.figures.get("digest") or {}
        for key, value in digest.items():
            lines.append(f"  {key:<28} {value}")
        return "\n".join(lines)


def wait_for(run: ResearchRun, echo: ProgressFn, poll_s: float = 0.05) -> ResearchRun:
    """Follow a queued run until a worker finishes it, echoing its progress."""
    while True:
        run.refresh_from_db()
        echo(run.progress, run.progress_note)
        if run.finished:
            return run
        time.sleep(poll_s)
