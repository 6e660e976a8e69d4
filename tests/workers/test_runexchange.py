"""`manage.py runexchange` as its own process: starts, serves, stops cleanly, refuses bad input."""

import signal
import subprocess
import sys

import pytest

from trading.protocols import ouch
from trading.protocols.soup_client import SoupClient
from workers.managed_process import LISTENING, ROOT, ManagedProcess

pytestmark = [pytest.mark.tcp]

EPHEMERAL = [
    "--order-port", "0", "--feed-port", "0", "--snapshot-port", "0", "--metrics-port", "0",
    "--alpaca-port", "0",
]  # fmt: skip


def test_the_exchange_serves_orders_and_stops_cleanly_on_ctrl_c():
    process = ManagedProcess("runexchange", *EPHEMERAL, "--seed", "7")
    try:
        process.wait_for(r"\[EXCH\] config .*desk\.toml profile=default")
        process.wait_for(r"\[EXCH\] symbols AAPL MSFT GOOG AMZN SYNA SYNB")
        order_port = int(process.wait_for(LISTENING.pattern).group(1))
        process.wait_for(r"exchange ready")
        with SoupClient("127.0.0.1", order_port) as client:
            client.login("demo", "demo", 1)
            client.send(
                ouch.EnterOrder(
                    "CLI1", "B", 100, "AAPL", 1_000_000, 99999, "", "Y", "P", "N", 0, "N", " "
                ).encode()  # fmt: skip
            )
            messages = [ouch.decode_outbound(client.receive_sequenced()) for _ in range(2)]
            assert isinstance(messages[1], ouch.Accepted)
        assert process.stop(signal.SIGINT) == 0
        process.wait_for(r"exchange stopped: 1 orders")
    finally:
        process.kill()


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "runexchange", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_bad_configuration_stops_the_start_with_the_key_and_reason(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('symbols = ["AAPL"]\n[exchange]\norder_port = 70000\n')
    result = _run("--config", str(config))
    assert result.returncode != 0
    assert f"exchange.order_port: must be <= 65535, got 70000 in {config}" in result.stderr


def test_a_missing_replay_file_is_refused_clearly(tmp_path):
    result = _run("--replay", str(tmp_path / "AAPL_2012-06-21_34200000_57600000_message_1.csv"))
    assert result.returncode != 0
    assert "replay file not found:" in result.stderr


def test_a_negative_speed_is_refused():
    result = _run("--speed", "-1")
    assert result.returncode != 0 and "--speed must be >= 0" in result.stderr


def test_the_demo_login_is_never_exposed_beyond_loopback():
    result = _run("--host", "0.0.0.0", *EPHEMERAL)
    assert result.returncode != 0
    assert "refusing to listen on 0.0.0.0 with the default password for demo" in result.stderr
