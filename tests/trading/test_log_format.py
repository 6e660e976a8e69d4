import logging

import pytest

from trading.log_format import TAGS, DeskFormatter, get_logger


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
    assert set(TAGS) == {"SYSTEM", "EXCH", "MD", "GW", "STRAT", "RISK", "DASH", "PERF"}
    assert get_logger("PERF").name == "PERF"
    with pytest.raises(ValueError, match="unknown log tag 'FOO'"):
        get_logger("FOO")
