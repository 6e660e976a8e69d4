"""A LOBSTER day as the exchange's background flow (`runexchange --replay FILE`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from trading import lobster
from trading.exchange.lobster_replay import CLIENT_REF_BASE, LobsterReplay, ReplayEvent, to_itch


class ReplayLoadError(ValueError):
    """The replay file cannot be used (missing, misnamed, malformed), with the reason."""


class ReplaySource:
    """What the exchange needs of a replay: the symbol, its book, and the rows in time order."""

    def __init__(self, day: lobster.LobsterDay, tick_size: int) -> None:
        self.day = day
        self.symbol = day.info.ticker
        self.replay = LobsterReplay.from_day(day, tick_size)
        self.book = self.replay.book
        self.first_client_ref = CLIENT_REF_BASE
        self._timestamps = day.messages["ts_ns"].tolist()
        self._kinds = day.messages["kind"].tolist()
        self._order_ids = day.messages["order_id"].tolist()
        self._sizes = day.messages["size"].tolist()

    def __len__(self) -> int:
        return len(self._timestamps)

    def timestamp(self, row: int) -> int:
        """The row's time, nanoseconds since midnight."""
        return int(self._timestamps[row])

    def visible_execution(self, row: int) -> tuple[int, int] | None:
        """(published ref, shares) when the row executes a displayed order now on the book."""
        if self._kinds[row] != lobster.EXECUTE_VISIBLE:
            return None
        ref = self.replay.published_ref(self._order_ids[row])
        if ref is None or ref not in self.book:
            return None
        return ref, self._sizes[row]

    def events_for(self, row: int) -> list[ReplayEvent]:
        return self.replay.events_for(row)

    def to_itch(self, event: ReplayEvent, locate: int) -> Any:
        return to_itch(event, locate, self.symbol)

    def note_execution(self, ref: int, shares: int) -> None:
        """A client traded against one of the replay's orders."""
        self.replay.note_execution(ref, shares)

    def synthetic_summary(self) -> str:
        counts = self.replay.synthetic_counts
        total = sum(counts.values())
        return f"{total:,}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))


def load_replay(path: str | Path, tick_size: int, rows: int | None = None) -> ReplaySource:
    """Load a LOBSTER message file and its orderbook file for replay (only the first `rows`
    rows when given)."""
    if rows is not None and rows < 1:
        raise ReplayLoadError(f"rows must be at least 1, not {rows}")
    try:
        day = lobster.load_day(path)
    except FileNotFoundError as exc:
        raise ReplayLoadError(f"replay file not found: {exc.filename or path}") from None
    except (lobster.LobsterFormatError, ValueError) as exc:
        raise ReplayLoadError(f"cannot replay {path}: {exc}") from None
    if rows is not None:
        day = dataclasses.replace(day, messages=day.messages[:rows], orderbook=day.orderbook[:rows])
    if not len(day.messages):
        raise ReplayLoadError(f"cannot replay {path}: no messages")
    if np.any(np.diff(day.messages["ts_ns"]) < 0):
        raise ReplayLoadError(f"cannot replay {path}: times go backwards")
    return ReplaySource(day, tick_size)
