"""Log lines that read like a trading system's: `[HH:MM:SS.mmm] [TAG] message`.

Each component logs under its tag (a logger named after it), so an operator can grep one
component out of the interleaved output of every process the supervisor runs.
"""

import logging
import sys
import time

TAGS = ("SYSTEM", "EXCH", "MD", "GW", "STRAT", "RISK", "DASH", "PERF")


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
