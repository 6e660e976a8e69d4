import io
import logging
import threading

import pytest

from trading.log_format import TAGS, BackgroundLogging, DeskFormatter, get_logger


def _record(name: str, message: str, level: int = logging.INFO) -> logging.LogRecord:
    record = logging.LogRecord(name, level, __file__, 1, message, None, None)
    record.created = 1_700_000_000.123
    record.msecs = 123.0
    return record


def test_a_line_reads_time_with_milliseconds_then_tag_then_message():
    line = DeskFormatter().format(_record("EXCH", "AAPL 190.01 x 190.02"))
    assert line.endswith("] [EXCH] AAPL 190.01 x 190.02")
    stamp = line[1 : line.index("]")]
    hours, minutes, rest = stamp.split(":")
    seconds, millis = rest.split(".")
    assert (len(hours), len(minutes), len(seconds), millis) == (2, 2, 2, "123")


def test_warnings_say_so_and_foreign_loggers_show_as_system():
    line = DeskFormatter().format(_record("django.request", "boom", logging.ERROR))
    assert "[SYSTEM] ERROR: boom" in line


def test_every_component_tag_exists_and_unknown_tags_are_refused():
    assert set(TAGS) == {"SYSTEM", "EXCH", "MD", "GW", "STRAT", "RISK", "DASH", "PERF", "LAB"}
    assert get_logger("PERF").name == "PERF"
    with pytest.raises(ValueError, match="unknown log tag 'FOO'"):
        get_logger("FOO")


def test_background_logging_writes_every_line_in_order_from_its_own_thread():
    stream = io.StringIO()
    writer_threads = set()

    class Recording(logging.StreamHandler):
        def emit(self, record):
            writer_threads.add(threading.current_thread().name)
            super().emit(record)

    handler = Recording(stream)
    handler.setFormatter(DeskFormatter())
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        background = BackgroundLogging(capacity=1000)
        for i in range(100):
            logging.getLogger("STRAT").info("FILL %d", i)
        background.stop()
        assert root.handlers == [handler]
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
    lines = stream.getvalue().splitlines()
    assert [line.split("] ", 2)[2] for line in lines] == [f"FILL {i}" for i in range(100)]
    assert threading.main_thread().name not in writer_threads
    assert background.dropped == 0


def test_background_logging_drops_and_counts_lines_when_its_queue_is_full():
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    blocked = threading.Event()

    class Slow(logging.Handler):
        def emit(self, record):
            blocked.wait(5)

    root.handlers[:] = [Slow()]
    root.setLevel(logging.INFO)
    try:
        background = BackgroundLogging(capacity=10)
        for i in range(50):
            logging.getLogger("STRAT").info("line %d", i)
        assert background.dropped in (39, 40)  # 10 queued, and one taken by the listener
        blocked.set()
        background.stop()
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
