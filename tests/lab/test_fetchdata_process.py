"""A `manage.py fetchdata` process killed mid-download resumes on the next run: no finished
page is fetched again and the store ends equal to one filled by a clean download."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.support.polygon_server import API_KEY, HOLD, PolygonServer
from trading.research.store import MarketDataStore
from trading.venues.polygon.client import PolygonPages
from trading.venues.polygon.download import FetchRequest, run_download
from workers.managed_process import ROOT

pytestmark = [pytest.mark.tcp, pytest.mark.slow]

FETCH = ["fetchdata", "AAPL", "KO", "--from", "2020-06-01", "--to", "2020-12-11",
         "--limit", "40", "--rate-per-minute", "0"]  # fmt: skip


def manage(env, *args):
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture
def setup(tmp_path):
    with PolygonServer() as server:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'lab.sqlite3'}",
            "DESK_VAR_DIR": str(tmp_path / "var"),
            "DESK_MARKET_DATA": str(tmp_path / "store"),
            "POLYGON_API_KEY": API_KEY,
            "POLYGON_BASE_URL": server.base_url,
        }
        done = manage(env, "migrate", "--no-input", "-v", "0")
        assert done.returncode == 0, done.stderr[-3000:]
        yield server, env, tmp_path


def test_a_killed_download_resumes_where_it_stopped(setup):
    server, env, tmp_path = setup
    server.inject(7, HOLD)  # AAPL's four pages, KO's first two, then KO's third hangs
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *FETCH, "--no-progress"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while len(server.log) < 7 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(server.log) == 7, process.communicate()[1][-3000:]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    held = server.log[6].url
    finished_before = [r.url for r in server.log[:6]]
    store = MarketDataStore(tmp_path / "store")
    assert store.symbols("daily") == ["AAPL"]  # committed before the kill; KO is not

    done = manage(env, *FETCH)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 of 2 units stored" not in done.stdout and "1 done earlier" in done.stdout
    second = [r.url for r in server.log[7:]]
    assert second[0] == held and len(second) == 2  # KO's third and fourth pages only
    assert not set(second) & set(finished_before)
    assert API_KEY not in done.stdout + done.stderr

    clean = MarketDataStore(tmp_path / "clean")
    pages = PolygonPages(API_KEY, base_url=server.base_url, rate_per_minute=0)
    request = FetchRequest(("AAPL", "KO"), dt.date(2020, 6, 1), dt.date(2020, 12, 11), limit=40)
    run_download(request, clean, pages)
    for symbol in ("AAPL", "KO"):
        for adjusted in (True, False):
            a = store.daily_bars(symbol, adjusted=adjusted)
            b = clean.daily_bars(symbol, adjusted=adjusted)
            for column in ("dates", "open", "high", "low", "close", "volume"):
                assert np.array_equal(getattr(a, column), getattr(b, column)), (symbol, column)
        assert store.entry("daily", symbol).source == "polygon"
