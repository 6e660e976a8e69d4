"""`manage.py runsystem`: the whole system under one supervisor, stopped cleanly by Ctrl-C."""

import os
import re
import signal
import sqlite3
import time

import pytest
from django.contrib.auth.hashers import check_password

from trading.config import DEFAULT_CONFIG_PATH
from trading.protocols.soup_client import SoupClient
from workers.managed_process import LISTENING, ManagedProcess

pytestmark = [pytest.mark.tcp, pytest.mark.slow]


@pytest.fixture
def ephemeral_config(tmp_path):
    text = re.sub(
        r"^(order_port|feed_port|snapshot_port|metrics_port|alpaca_port) = \d+",
        r"\1 = 0",
        DEFAULT_CONFIG_PATH.read_text(),
        flags=re.M,
    )
    path = tmp_path / "desk.toml"
    path.write_text(text)
    return path


def test_the_supervisor_starts_redis_and_the_exchange_restarts_a_crash_and_stops_all(
    tmp_path, ephemeral_config
):
    database = tmp_path / "desk.sqlite3"
    process = ManagedProcess(
        "runsystem", "--config", str(ephemeral_config), "--no-web",
        env={"DESK_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": f"sqlite:///{database}"},
        unset=("REDIS_URL",),
    )  # fmt: skip
    try:
        password = process.wait_for(
            r"first start: log in as admin with password (\S+) \(change it in the admin\)"
        ).group(1)
        (stored,) = sqlite3.connect(database).execute(
            "SELECT password FROM auth_user WHERE username = 'admin' AND is_staff"
        )
        assert check_password(password, stored[0])
        process.wait_for(r"\[SYSTEM\] embedded Redis .* ready at unix://")
        assert (tmp_path / "var" / "redis.sock").exists()
        pid = int(process.wait_for(r"started exchange \(pid (\d+)\)").group(1))
        process.wait_for(r"started research \(pid \d+\)")  # the Celery worker for research
        process.wait_for(r"started beat \(pid \d+\)")
        order_port = int(process.wait_for(LISTENING.pattern).group(1))
        with SoupClient("127.0.0.1", order_port) as client:
            client.login("demo", "demo")
        # A crash is noticed and the exchange comes back.
        seen = len(process.lines)
        os.kill(pid, signal.SIGKILL)
        process.wait_for(r"exchange exited with code -9; restarting in 1 s", after=seen)
        new_pid = int(process.wait_for(r"started exchange \(pid (\d+)\)", after=seen).group(1))
        assert new_pid != pid
        process.wait_for(LISTENING.pattern, after=seen)
        assert process.stop(signal.SIGINT) == 0
        process.wait_for(r"exchange stopped \(code 0\)")
        process.wait_for(r"all processes stopped")
        assert not (tmp_path / "var" / "redis.sock").exists()
        with pytest.raises(ProcessLookupError):
            os.kill(new_pid, 0)
    finally:
        process.kill()


def running(pid):
    """Alive and not a zombie (an orphan's exit is reaped by whoever adopted it)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_processes_stop_when_the_supervisor_is_killed_outright(tmp_path, ephemeral_config):
    process = ManagedProcess(
        "runsystem", "--config", str(ephemeral_config), "--no-web",
        env={"DESK_VAR_DIR": str(tmp_path / "var")}, unset=("REDIS_URL",),
    )  # fmt: skip
    try:
        exchange = int(process.wait_for(r"started exchange \(pid (\d+)\)").group(1))
        engine = int(process.wait_for(r"started engine \(pid (\d+)\)").group(1))
        process.wait_for(LISTENING.pattern)
        process.popen.send_signal(signal.SIGKILL)  # no chance to stop its children itself
        process.popen.wait(10)
        deadline = time.monotonic() + 30
        alive = {exchange, engine}
        while alive and time.monotonic() < deadline:
            alive = {pid for pid in alive if running(pid)}
            time.sleep(0.1)
        assert not alive, f"still running after the supervisor died: {alive}"
    finally:
        process.kill()
