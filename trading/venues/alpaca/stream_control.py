"""Stopping one of alpaca-py's streams from outside the thread that runs it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

STOP_TIMEOUT_S = 5.0


def stop_stream(stream: Any, log: logging.Logger, what: str) -> None:
    """Close `stream` (a TradingStream or StockDataStream) and wait for it, at most
    `STOP_TIMEOUT_S` a step.

    A running stream is stopped inside its own event loop; one whose loop never started (or
    already ended) is told through the queue its `run()` watches.
    """
    if stream is None:
        return
    loop = getattr(stream, "_loop", None)
    if loop is not None and loop.is_running():
        for coroutine in (stream.stop_ws(), stream.close()):
            try:
                asyncio.run_coroutine_threadsafe(coroutine, loop).result(STOP_TIMEOUT_S)
            except Exception as exc:  # a stream already gone is fine
                log.debug("%s stop: %s", what, exc)
    else:
        stream._stop_stream_queue.put_nowait({"should_stop": True})
