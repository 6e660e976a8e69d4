"""Hand-offs between threads: a consumer takes everything waiting, without blocking."""

from __future__ import annotations

import queue
from typing import TypeVar

T = TypeVar("T")


def take_all(waiting: queue.SimpleQueue[T] | queue.Queue[T]) -> list[T]:
    """Everything in `waiting` now, oldest first; an empty list if nothing is."""
    taken: list[T] = []
    while True:
        try:
            taken.append(waiting.get_nowait())
        except queue.Empty:
            return taken
