"""Log lines that read like a trading system's: `[HH:MM:SS.mmm] [TAG] message`.

Each component logs under its tag (a logger named after it), so an operator can grep one
component out of the interleaved output of every process the supervisor runs.
"""

import logging
import logging.handlers
import sys
import time
from queue import Full, Queue

TAGS = ("SYSTEM", "EXCH", "MD", "GW", "STRAT", "RISK", "DASH", "PERF", "LAB")


def get_logger(tag: str) -> logging.Logger:
    """The logger of one component; an unknown tag is a programming error."""
    if tag not in TAGS:
        raise ValueError(f"unknown log tag {tag!r}; expected one of {', '.join(TAGS)}")
    return logging.getLogger(tag)


class DeskFormatter(logging.Formatter):
    """Formats records as `[HH:MM:SS.mmm] [TAG] message`; non-desk loggers show as SYSTEM."""

    def format(self, record: logging.LogRecord) -> str:
        tag = record.name if record.name in TAGS else "SYSTEM"
        local = time.localtime(record.created)
        millis = int(record.msecs)
        stamp = f"{local.tm_hour:02d}:{local.tm_min:02d}:{local.tm_sec:02d}.{millis:03d}"
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            message = f"{record.levelname}: {message}"
        if record.exc_info:
            message = f"{message}\n{self.formatException(record.exc_info)}"
        return f"[{stamp}] [{tag}] {message}"


def configure_logging(level: str = "INFO") -> None:
    """Send every record to stderr in the desk format (for processes started outside Django)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(DeskFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class _BackgroundHandler(logging.handlers.QueueHandler):
    """Hands records to the listener thread as they are: formatting happens there.

    The queue is bounded; when it is full the record is dropped and counted rather than
    making the hot path wait for a slow terminal.
    """

    def __init__(self, queue: Queue[logging.LogRecord]) -> None:
        super().__init__(queue)
        self.dropped = 0

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except Full:
            self.dropped += 1


class _Listener(logging.handlers.QueueListener):
    def enqueue_sentinel(self) -> None:
        # Wait for room: stopping must not fail because the queue happens to be full.
        self.queue.put(self._sentinel)  # type: ignore[attr-defined]


class BackgroundLogging:
    """Every record of the process formatted and written by one background thread."""

    def __init__(self, capacity: int = 10_000) -> None:
        root = logging.getLogger()
        self._handlers = list(root.handlers)
        queue: Queue[logging.LogRecord] = Queue(capacity)
        self.handler = _BackgroundHandler(queue)
        self.listener = _Listener(queue, *self._handlers, respect_handler_level=True)
        root.handlers[:] = [self.handler]
        self.listener.start()

    @property
    def dropped(self) -> int:
        return self.handler.dropped

    def stop(self) -> None:
        """Write out what is queued and give the handlers back to the root logger."""
        self.listener.stop()
        logging.getLogger().handlers[:] = self._handlers
