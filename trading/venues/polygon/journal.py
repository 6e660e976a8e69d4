"""The download journal: which units are finished and the pages of the one under way.

A unit is what the store commits at once: one symbol's daily bars, or one symbol-day of
intraday bars, trades or quotes.  Under ``<store>/.journal/polygon/<unit>/`` the journal keeps
``state.json`` (pages fetched, the ``next_url`` to continue from, whether the unit is
committed) and one ``page-NNNNN.json`` per page fetched.  Each file is written to a temporary
name, fsynced and renamed, page before state, so a process killed at any instant leaves either
the old state or the new one; a page file the state does not count yet is simply written again.
Once the unit is in the store its pages are deleted and only the small state remains.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

JOURNAL_DIR = Path(".journal") / "polygon"


@dataclass
class UnitState:
    """How far a unit got."""

    unit: dict[str, Any] = field(default_factory=dict)  # what the unit asks for
    pages: int = 0  # pages fetched and kept
    next_url: str | None = None  # where to continue; None once the last page is in
    complete: bool = False  # every page fetched
    committed: bool = False  # stored (or found empty): nothing left to do
    outcome: str = ""  # "stored" or "empty", once committed
    rows: int = 0


def _write_atomically(path: Path, document: Any) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(document, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class DownloadJournal:
    """Unit states and pages under ``root`` (normally ``<store>/.journal/polygon``)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @classmethod
    def in_store(cls, store_root: str | os.PathLike[str]) -> DownloadJournal:
        return cls(Path(store_root) / JOURNAL_DIR)

    def _dir(self, unit_id: str) -> Path:
        return self.root / unit_id

    def state(self, unit_id: str, unit: dict[str, Any]) -> UnitState:
        """The unit's state; a fresh one if it was never started or its state is unreadable."""
        path = self._dir(unit_id) / "state.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            state = UnitState(**data)
        except (OSError, ValueError, TypeError):
            return UnitState(unit=dict(unit))
        if state.unit != unit:  # a different request under the same name: start afresh
            return UnitState(unit=dict(unit))
        return state

    def _save(self, unit_id: str, state: UnitState) -> None:
        directory = self._dir(unit_id)
        directory.mkdir(parents=True, exist_ok=True)
        _write_atomically(directory / "state.json", asdict(state))

    def add_page(
        self, unit_id: str, state: UnitState, results: list[dict[str, Any]], next_url: str | None
    ) -> UnitState:
        """Keep one more page and move the state past it."""
        directory = self._dir(unit_id)
        directory.mkdir(parents=True, exist_ok=True)
        _write_atomically(directory / f"page-{state.pages:05d}.json", results)
        state.pages += 1
        state.rows += len(results)
        state.next_url = next_url
        state.complete = next_url is None
        self._save(unit_id, state)
        return state

    def pages(self, unit_id: str, state: UnitState) -> list[dict[str, Any]]:
        """Every result kept for the unit, in page order."""
        results: list[dict[str, Any]] = []
        for index in range(state.pages):
            path = self._dir(unit_id) / f"page-{index:05d}.json"
            results.extend(json.loads(path.read_text(encoding="utf-8")))
        return results

    def commit(self, unit_id: str, state: UnitState, outcome: str) -> UnitState:
        """The unit is in the store (or had no data): drop its pages, keep the small state."""
        state.committed = True
        state.outcome = outcome
        self._save(unit_id, state)
        for path in self._dir(unit_id).glob("page-*.json"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return state

    def reset(self, unit_id: str, unit: dict[str, Any]) -> UnitState:
        """Forget the unit (to fetch it again)."""
        shutil.rmtree(self._dir(unit_id), ignore_errors=True)
        return UnitState(unit=dict(unit))
