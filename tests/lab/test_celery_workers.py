"""A sweep fanned out over two real Celery worker processes (real Redis broker, real database)
equals the same sweep run in one process, and both workers take part."""

import json
import os
import subprocess
import sys

import pytest

from tests.support.research_store import DAILY_DIR, shared_data_missing
from workers.managed_process import ROOT, ManagedProcess
from workers.supervisor import EmbeddedRedis

pytestmark = [pytest.mark.tcp, pytest.mark.slow]

SWEEP = ["sweep", "--symbols", "KO,PEP,XOM,CVX,SPY,QQQ", "--fast", "2", "31", "--slow", "40", "79",
         "--json"]  # fmt: skip


def manage(env, *args):
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture
def lab_env(tmp_path):
    if shared_data_missing():
        pytest.skip(shared_data_missing())
    redis = EmbeddedRedis(tmp_path / "redis")
    redis.start()
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'lab.sqlite3'}",
        "DESK_VAR_DIR": str(tmp_path / "var"),
        "DESK_MARKET_DATA": str(tmp_path / "store"),
        "REDIS_URL": redis.url,
    }
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "importdata", *(str(DAILY_DIR / f"{s}.csv.gz") for s in
                                 ("KO", "PEP", "XOM", "CVX", "SPY", "QQQ")))  # fmt: skip
    yield env
    redis.stop()


def test_two_workers_share_a_sweep_and_its_result_equals_one_process(lab_env):
    single = json.loads(manage(lab_env, *SWEEP, "--no-progress"))
    workers = [
        ManagedProcess("runresearch", "--pool", "solo", "--name", f"w{i}", env=lab_env)
        for i in range(2)
    ]
    try:
        for worker in workers:
            worker.wait_for(r"ready\.", timeout_s=120)
        fanned = json.loads(manage(lab_env, *SWEEP, "--queue", "--wait", "--chunks", "12"))
        for worker in workers:  # each worker ran at least one chunk of the twelve
            worker.wait_for(r"Task lab\.sweep_chunk\[.*\] succeeded", timeout_s=30)
    finally:
        for worker in workers:
            worker.kill()
    assert fanned["run"] != single["run"]
    assert fanned["returns_sha256"] == single["returns_sha256"]
    assert fanned["best_per_symbol"] == single["best_per_symbol"]
    assert fanned["top"] == single["top"]
    assert fanned["backtests"] == 6 * 30 * 40


def test_a_queued_run_with_no_worker_stays_queued_and_can_be_cancelled(lab_env):
    out = manage(lab_env, "pairscan", "KO", "PEP", "--queue")
    run_id = int(out.split()[3])
    code = (
        "from lab.models import ResearchRun; from lab.runner import request_cancel; "
        f"r = ResearchRun.objects.get(pk={run_id}); print(r.status, request_cancel(r), r.status)"
    )
    last_line = manage(lab_env, "shell", "-c", code).strip().splitlines()[-1]
    assert last_line.split() == ["queued", "True", "cancelled"]
