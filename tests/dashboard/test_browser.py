"""The whole desk in a real browser: log in, watch it live, pause, change a limit, flatten."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from trading.config import DEFAULT_CONFIG_PATH
from workers.managed_process import ROOT, ManagedProcess

pytestmark = [pytest.mark.tcp, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
USERNAME, PASSWORD = "desk-admin", "a long browser test password"
SECONDS = 1_000  # Playwright waits in milliseconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _artifacts() -> Path:
    path = Path(os.environ.get("DESK_TEST_ARTIFACTS", ROOT / "var" / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def desk_env(tmp_path):
    config = tmp_path / "desk.toml"
    # The engine is told the exchange's ports by the config, so they must be real free ones.
    text = DEFAULT_CONFIG_PATH.read_text()
    for name in ("order_port", "feed_port", "snapshot_port"):
        text = re.sub(rf"^{name} = \d+", f"{name} = {_free_port()}", text, flags=re.M)
    config.write_text(re.sub(r"^metrics_port = \d+", "metrics_port = 0", text, flags=re.M))
    env = {
        "DESK_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}",
        "DJANGO_SUPERUSER_USERNAME": USERNAME,
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        "DJANGO_SUPERUSER_EMAIL": "desk@localhost",
    }
    environ = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | env
    for command in (["migrate", "--no-input", "-v", "0"], ["createsuperuser", "--no-input"]):
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *command],
            cwd=ROOT, env=environ, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    return config, env


def _wait_for_web(port: int, process: ManagedProcess, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("web never answered; output:\n" + "\n".join(process.lines))


def test_an_operator_watches_pauses_limits_and_flattens_the_live_desk(desk_env):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    config, env = desk_env
    port = _free_port()
    artifacts = _artifacts()
    base = f"http://127.0.0.1:{port}"
    process = ManagedProcess(
        "runsystem", "--config", str(config), "--web-port", str(port),
        "--ws-port", str(_free_port()), env=env, unset=("REDIS_URL",),
    )  # fmt: skip
    try:
        process.wait_for(r"started engine \(pid \d+\)")
        _wait_for_web(port, process)
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            console_errors: list[str] = []
            page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
            page.on("pageerror", lambda e: console_errors.append(str(e)))
            expect = sync_api.expect
            expect.set_options(timeout=20 * SECONDS)
            try:
                # Log in and land on the trading view.
                page.goto(f"{base}/dashboard/")
                expect(page).to_have_url(re.compile(r"/login/\?next=/dashboard/"))
                page.fill("#id_username", USERNAME)
                page.fill("#id_password", PASSWORD)
                page.click("button[type=submit]")
                expect(page).to_have_url(f"{base}/dashboard/")

                # Live: the socket is up and the feed count moves without a reload.
                expect(page.locator("#connection")).to_have_text("live")
                feed = page.locator("#feed-messages")
                expect(feed).to_have_text(re.compile(r"\d"))
                first = feed.inner_text()
                expect(feed).not_to_have_text(first)
                expect(page.locator("#engine-down")).to_be_hidden()
                expect(page.locator("#stale-marker")).to_be_hidden()
                # The chart library loaded and drew its canvas.
                expect(page.locator("#equity-chart canvas").first).to_be_attached()
                page.screenshot(path=str(artifacts / "trading.png"), full_page=True)

                # A manual order opens a position.
                page.goto(f"{base}/dashboard/control")
                page.select_option("#id_ticket-symbol", "AAPL")
                page.select_option("#id_ticket-side", "BUY")
                page.fill("#id_ticket-qty", "10")
                page.fill("#id_ticket-price", "0")
                page.click("section.ticket button[type=submit]")
                expect(page.locator(".messages")).to_contain_text("Order:")

                # Pause: the state shows PAUSED.
                page.click("button[value=pause]")
                expect(page.locator(".messages")).to_contain_text("Pause")
                expect(page.locator("#control-state")).to_have_text("PAUSED")

                # A new limit comes back in the limits the engine publishes.
                page.fill("#id_limits-max_order_shares", "123")
                page.click("section.limits button[type=submit]")
                expect(page.locator(".messages")).to_contain_text("Risk limits saved")
                expect(page.locator('[data-limit="max_order_shares"]')).to_have_text("123")
                page.screenshot(path=str(artifacts / "control.png"), full_page=True)

                # Flatten all asks first, then every position goes flat.
                page.click("button[value=flatten_all]")
                expect(page.locator("#confirm-dialog")).to_be_visible()
                page.screenshot(path=str(artifacts / "confirm.png"))
                page.click("#confirm-yes")
                expect(page.locator(".messages")).to_contain_text("Flatten all")
                page.goto(f"{base}/dashboard/")
                expect(page.locator("#positions-body")).to_contain_text("flat")
                page.screenshot(path=str(artifacts / "flat.png"), full_page=True)

                page.goto(f"{base}/dashboard/health")
                expect(page.locator("#engine-process")).to_have_text("publishing")
                page.screenshot(path=str(artifacts / "health.png"), full_page=True)
            except Exception:
                page.screenshot(path=str(artifacts / "failure.png"), full_page=True)
                raise
            finally:
                browser.close()
            assert console_errors == []
        assert process.stop(signal.SIGINT) == 0
    finally:
        process.kill()
