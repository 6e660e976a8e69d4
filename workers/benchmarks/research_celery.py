"""A 10,000-set sweep fanned out over two Celery workers against the same sweep on one worker.

Each worker is a real `manage.py runresearch` process (solo pool, one numba thread) on a
private Redis and a private SQLite database, so one worker stands for one process and two
workers for two; the figure is how well the fan-out (chunking, broker, merge) turns a second
process into speed. The sweep covers all stored daily tickers so each worker has seconds of
work rather than milliseconds of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from workers.benchmarks.figures import Figure
from workers.managed_process import ROOT, ManagedProcess
from workers.supervisor import EmbeddedRedis


def _env(root: Path, redis_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{root / 'lab.sqlite3'}",
        "DESK_VAR_DIR": str(root / "var"),
        "DESK_MARKET_DATA": str(root / "store"),
        "REDIS_URL": redis_url,
        "NUMBA_NUM_THREADS": "1",
    }


def _manage(env: dict[str, str], *args: str, timeout: float = 900) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def _peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed_sweep(env: dict[str, str], workers: int, sweep_args: list[str]) -> tuple[float, float]:
    """(seconds from queueing to the merged result, the largest worker's peak RSS in MB)."""
    processes = [
        ManagedProcess(
            "runresearch", "--pool", "solo", "--name", f"bench{i}", "--loglevel", "INFO", env=env
        )
        for i in range(workers)
    ]
    try:
        for process in processes:
            process.wait_for(r"ready\.", timeout_s=120)
        # A first small sweep compiles (or loads the cached) kernels in every worker.
        _manage(env, "sweep", *sweep_args[:2], "--fast", "2", "3", "--slow", "4", "5",
                "--chunks", str(workers * 2), "--queue", "--wait", "--json")  # fmt: skip
        out = _manage(env, "sweep", *sweep_args, "--queue", "--wait", "--json")
        elapsed = json.loads(out)["elapsed_s"]
        peak = max(_peak_rss_mb(p.popen.pid) for p in processes)
        return float(elapsed), peak
    finally:
        for process in processes:
            process.kill()


def measure(runs: int, quick: bool) -> list[Figure]:
    from trading.research.importers import import_paths
    from trading.research.store import MarketDataStore
    from trading.shared_data import shared_data_dir

    speedup = Figure("celery_speedup", "sweep on 2 Celery workers vs 1 (speed-up)", "x", 1.7)
    one_s = Figure("celery_one_worker_s", "sweep on 1 worker", "s", higher_is_better=False)
    two_s = Figure("celery_two_workers_s", "sweep on 2 workers", "s", higher_is_better=False)
    peak = Figure("celery_peak_rss_mb", "Celery worker peak RSS", "MB", higher_is_better=False)
    with tempfile.TemporaryDirectory(prefix="bench-celery-") as tmp:
        root = Path(tmp)
        store = MarketDataStore(root / "store")
        daily = sorted((shared_data_dir() / "daily").glob("*.csv.gz"))
        import_paths(store, daily)
        symbols = store.symbols("daily")
        if quick:
            symbols = symbols[:8]
        redis = EmbeddedRedis(root / "redis")
        redis.start()
        try:
            env = _env(root, redis.url)
            _manage(env, "migrate", "--no-input", "-v", "0")
            sweep_args = ["--symbols", ",".join(symbols), "--fast", "2", "101",
                          "--slow", "102", "201", "--chunks", "8"]  # fmt: skip
            for _ in range(1 if quick else min(runs, 3)):
                single, peak_one = timed_sweep(env, 1, sweep_args)
                double, peak_two = timed_sweep(env, 2, sweep_args)
                one_s.samples.append(single)
                two_s.samples.append(double)
                speedup.samples.append(single / double)
                peak.samples.append(max(peak_one, peak_two))
        finally:
            redis.stop()
    note = f"10,000 parameter sets x {len(symbols)} tickers, 8 chunks, 1 numba thread per worker"
    speedup.note = note
    return [speedup, one_s, two_s, peak]
