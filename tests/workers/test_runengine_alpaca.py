"""`manage.py runengine` on Alpaca paper as a real process: pointed by configuration alone at a
real `runexchange` process's Alpaca-compatible endpoint, it reconciles with the account,
trades through alpaca-py, and never logs its keys."""

import os
import signal
import subprocess
import sys

import pytest

from trading.config import DEFAULT_CONFIG_PATH
from workers.managed_process import ROOT, ManagedProcess

KEY_ID = "PKq7Zx"  # a simulator login: the key id is its username...
SECRET = "s3Cr3tZq9!"  # ...and the secret its password
ALPACA_PORT = r"alpaca\(REST\+WebSocket\)=(\d+)"


def config_file(tmp_path, name, profile):
    """The shipped configuration with one more profile, chosen as the file's default."""
    path = tmp_path / name
    text = DEFAULT_CONFIG_PATH.read_text().replace('profile = "default"', 'profile = "e2e"')
    path.write_text(f"{text}\n[profiles.e2e]\n{profile}\n")
    return path


@pytest.mark.tcp
@pytest.mark.slow
def test_an_engine_on_alpaca_paper_trades_against_the_simulators_endpoint(tmp_path):
    accounts = (
        '[{ username = "demo", password = "demo", firm = "DEMO" }, '
        f'{{ username = "{KEY_ID}", password = "{SECRET}", firm = "ALPC" }}]'
    )
    exchange_config = config_file(
        tmp_path, "exchange.toml",
        f'symbols = ["AAPL"]\nengine = {{ strategies = ["market_maker"] }}\n'
        f'exchange = {{ accounts = {accounts}, flow = {{ passive_per_s = 20.0, '
        'aggressive_per_s = 4.0, cancel_per_s = 15.0 }, status_interval_s = 0.0 }',
    )  # fmt: skip
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
        "DESK_VAR_DIR": str(tmp_path / "var"),
        "ALPACA_API_KEY": KEY_ID,
        "ALPACA_API_SECRET": SECRET,
    }
    migrate = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v", "0"],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr
    exchange = ManagedProcess(
        "runexchange", "--config", str(exchange_config), "--order-port", "0", "--feed-port",
        "0", "--snapshot-port", "0", "--metrics-port", "0", "--alpaca-port", "0",
    )  # fmt: skip
    engine = None
    try:
        port = int(exchange.wait_for(ALPACA_PORT).group(1))
        exchange.wait_for(r"exchange ready")
        # Switching venue is configuration only: the paper profile plus the endpoint's URL.
        engine_config = config_file(
            tmp_path, "engine.toml",
            'symbols = ["AAPL"]\nengine = { venue = "alpaca-paper", data = "alpaca", '
            f'account = "paper", alpaca_url = "http://127.0.0.1:{port}", cpu_core = -1, '
            'metrics_port = 0, strategies = ["market_maker"], params = { market_maker = '
            '{ half_spread_ticks = 1, order_qty = 100 } } }',
        )  # fmt: skip
        engine = ManagedProcess(
            "runengine", "--config", str(engine_config), "--status-interval", "1",
            env=env, unset=("REDIS_URL",),
        )  # fmt: skip
        engine.wait_for(r"venue alpaca-paper, market data alpaca: alpaca-paper at http://127")
        engine.wait_for(r"reconciled with the broker: 0 positions, 0 open orders")
        engine.wait_for(r"trade updates stream connected")
        engine.wait_for(r"\[STRAT\] FILL AAPL", timeout_s=90)
        assert engine.stop(signal.SIGINT, timeout_s=60) == 0
        engine.wait_for(r"engine stopped")
    finally:
        if engine is not None:
            engine.kill()
        exchange.stop(signal.SIGINT)
        exchange.kill()
    output = "\n".join(engine.lines)
    assert SECRET not in output and KEY_ID not in output
    assert "Traceback" not in output


@pytest.fixture
def switch_interval():
    """runengine shortens the interpreter's switch interval; give the test session its own
    back."""
    saved = sys.getswitchinterval()
    yield
    sys.setswitchinterval(saved)


@pytest.mark.parametrize(
    ("args", "environ", "message"),
    [
        (["--profile", "paper"], {}, "ALPACA_API_KEY and ALPACA_API_SECRET must be set"),
        (["--profile", "paper", "--live"], {"ALPACA_API_KEY": "k", "ALPACA_API_SECRET": "s"},
         '--live is only for engine.venue = "alpaca-live"'),
        (["--profile", "paper", "--lockstep"], {"ALPACA_API_KEY": "k", "ALPACA_API_SECRET": "s"},
         "--lockstep follows the simulator's replay"),
    ],
)  # fmt: skip
def test_runengine_refuses_an_alpaca_venue_it_cannot_use(
    args, environ, message, monkeypatch, switch_interval
):
    from django.core.management import CommandError, call_command

    monkeypatch.delenv("ALPACA_API_KEY", raising=False)
    monkeypatch.delenv("ALPACA_API_SECRET", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        call_command("runengine", *args)


def test_live_trading_needs_the_live_venue_and_the_flag(tmp_path, monkeypatch, switch_interval):
    from django.core.management import CommandError, call_command

    monkeypatch.setenv("ALPACA_API_KEY", "k")
    monkeypatch.setenv("ALPACA_API_SECRET", "s")
    path = config_file(tmp_path, "live.toml", 'engine = { venue = "alpaca-live" }')
    with pytest.raises(CommandError, match="also needs the --live flag"):
        call_command("runengine", "--config", str(path))


def test_polygon_is_not_a_live_feed(tmp_path, switch_interval):
    from django.core.management import CommandError, call_command

    path = config_file(tmp_path, "polygon.toml", 'engine = { data = "polygon" }')
    with pytest.raises(CommandError, match="history source"):
        call_command("runengine", "--config", str(path))
