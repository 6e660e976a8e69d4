"""`bench web`: the public site and API as production serves them, and the live dashboard.

- home_rps: wrk on loopback against granian (WSGI, 2 workers) in production mode (cached page,
  WhiteNoise static files), as `runsystem` and docker-compose serve pages;
- home_bytes / home_js_bytes: the bytes a browser transfers for Home (the page, its stylesheets,
  images and favicon, compressed where the server compresses) and how many of them are
  JavaScript;
- api_orders_rps: wrk on `GET /api/orders?limit=50` with an API key, 100,000 orders stored;
- fill_to_dom_p50_ms / p99_ms and updates_per_s: the whole desk (`runsystem`, the engine
  trading the simulator's flow with the market maker) and four dashboards open in Chromium;
  each execution's latency is from the engine booking it (its wall clock) to its row appearing
  in the page, and the update rate is WebSocket messages a second per dashboard.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from trading.config import DEFAULT_CONFIG_PATH
from workers.benchmarks.figures import Figure
from workers.managed_process import ROOT, ManagedProcess

CHROMIUM = "/usr/bin/chromium"
ORDERS = 100_000
DASHBOARDS = 4


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def manage(env: dict[str, str], *args: str, timeout_s: float = 600) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=timeout_s,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def wrk(url: str, seconds: float, connections: int = 32, header: str = "") -> float:
    """Requests per second as wrk measured them (non-2xx answers make the run fail)."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (./desk.sh setup installs it)")
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    if header:
        argv += ["-H", header]
    out = subprocess.run(argv + [url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw error answers from {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]


class _Assets(HTMLParser):
    """The URLs a browser fetches for a page, and whether it has scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if (
            tag == "link"
            and found.get("href")
            and {"stylesheet", "icon"} & set((found.get("rel") or "").split())
        ):
            self.urls.append(str(found["href"]))
        elif tag == "img" and found.get("src"):
            self.urls.append(str(found["src"]))
        elif tag == "script":
            if found.get("src"):
                self.scripts.append(str(found["src"]))
            else:
                self.inline_scripts += 1


def _transferred(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "br, gzip"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
        return len(body), body


def page_bytes(base: str, path: str = "/") -> tuple[int, int]:
    """(bytes transferred for the page and what it loads, bytes of JavaScript among them)."""
    size, body = _transferred(base + path)
    assets = _Assets()
    assets.feed(body.decode("utf-8", "replace"))
    total = size
    for url in assets.urls:
        total += _transferred(url if url.startswith("http") else base + url)[0]
    js = sum(
        _transferred(url if url.startswith("http") else base + url)[0] for url in assets.scripts
    )
    if assets.inline_scripts:
        js += sum(len(m) for m in re.findall(rb"<script[^>]*>.*?</script>", body, re.S))
    return total + js, js


class ProductionWeb:
    """Pages and API from granian in production mode over a scratch database."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bench-web-"))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DJANGO_ENV": "production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": f"sqlite:///{self.dir / 'desk.sqlite3'}",
            "DESK_VAR_DIR": str(self.dir / "var"),
            "DESK_COMMAND_RATE_PER_S": "1000000",
        }
        self.api_key = ""
        self.server: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ProductionWeb:
        manage(self.env, "migrate", "--no-input", "-v", "0")
        manage(self.env, "collectstatic", "--no-input", "-v", "0")
        manage(self.env, "seedportfolio")
        manage(self.env, "shell", "-c", _FILL_ORDERS)
        out = manage(self.env, "apikey", "create", "bench", "--user", "bench")
        self.api_key = _api_key(out)
        self.server = subprocess.Popen(
            [
                sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
                "--port", str(self.port), "--workers", "2", "--log-level", "warning", "--no-ws",
                "desk.wsgi:application",
            ],
            # The figures go to stdout (--json): the server's own chatter must not.
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("granian did not answer within 60 s")

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(20)
            except subprocess.TimeoutExpired:
                self.server.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


_FILL_ORDERS = f"""
from django.contrib.auth import get_user_model
from django.utils import timezone
from ledger.engine_control import default_account
from ledger.models import Order
get_user_model().objects.create_user("bench", password="bench-password", is_staff=True)
now = timezone.now()
account = default_account()
Order.objects.bulk_create(
    [Order(account=account, order_id=i, symbol=("AAPL", "MSFT")[i % 2],
           side=1 if i % 3 else -1, qty=100, price=1_900_000 + i % 100, tif="DAY",
           strategy="market_maker", state="FILLED", filled_qty=100,
           avg_fill_price=1_900_000 + i % 100, created_at=now, updated_at=now)
     for i in range(1, {ORDERS} + 1)],
    batch_size=5_000,
)
"""


def _api_key(output: str) -> str:
    match = re.search(r"^(\S{20,})$", output.strip(), re.M)
    if match is None:
        raise RuntimeError(f"no API key in: {output}")
    return match.group(1)


def measure_site(runs: int, seconds: float) -> list[Figure]:
    rps = Figure("home_rps", "home page requests/s (granian, 2 workers)", "req/s", 3_000)
    size = Figure("home_bytes", "home page bytes transferred", "bytes", 30 * 1024,
                  higher_is_better=False)  # fmt: skip
    js = Figure("home_js_bytes", "home page JavaScript", "bytes", 0, higher_is_better=False)
    api = Figure("api_orders_rps", f"API orders page/s ({ORDERS:,} orders stored)", "req/s")
    with ProductionWeb() as web:
        total, script = page_bytes(web.base)
        size.samples.append(total)
        js.samples.append(script)
        wrk(web.base + "/", 2)  # warm every worker's page cache
        wrk(web.base + "/api/orders?limit=50", 2, header=f"X-API-Key: {web.api_key}")
        for _ in range(runs):
            rps.samples.append(wrk(web.base + "/", seconds))
            api.samples.append(
                wrk(web.base + "/api/orders?limit=50", seconds, 16, f"X-API-Key: {web.api_key}")
            )
    api.note = "GET /api/orders?limit=50 with an X-API-Key, 16 connections"
    return [rps, size, js, api]


_WATCH_FILLS = """
window.__desk = {latencies: [], messages: 0, seen: new Set()};
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", () => { window.__desk.messages += 1; });
  }
};
new MutationObserver(() => {
  const now = Date.now();
  for (const row of document.querySelectorAll("tr[data-fill]")) {
    const key = row.dataset.fill;
    if (!window.__desk.seen.has(key)) {
      window.__desk.seen.add(key);
      window.__desk.latencies.push(now - Number(row.dataset.filledAt) * 1000);
    }
  }
}).observe(document, {subtree: true, childList: true});
"""


def measure_fill_to_dom(seconds: float) -> tuple[list[float], float]:
    """Fill-to-screen latencies (ms) over four dashboards, and updates/s per dashboard."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError("Debian's chromium is not installed (./desk.sh setup installs it)")
    work = Path(tempfile.mkdtemp(prefix="bench-dash-"))
    text = DEFAULT_CONFIG_PATH.read_text()
    for name in ("order_port", "feed_port", "snapshot_port"):
        text = re.sub(rf"(?m)^{name} = \d+", f"{name} = {free_port()}", text)
    text = re.sub(r"(?m)^metrics_port = \d+", "metrics_port = 0", text)
    text = text.replace('strategies = ["mean_reversion", "pairs"]', 'strategies = ["market_maker"]')
    config = work / "desk.toml"
    config.write_text(text)
    env = {
        "DESK_VAR_DIR": str(work / "var"),
        "DATABASE_URL": f"sqlite:///{work / 'desk.sqlite3'}",
        "DJANGO_SUPERUSER_USERNAME": "bench",
        "DJANGO_SUPERUSER_PASSWORD": "bench-password",
        "DJANGO_SUPERUSER_EMAIL": "bench@localhost",
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
    }
    environ = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | env
    manage(environ, "migrate", "--no-input", "-v", "0")
    manage(environ, "createsuperuser", "--no-input")
    port = free_port()
    desk = ManagedProcess(
        "runsystem", "--config", str(config), "--web-port", str(port),
        "--ws-port", str(free_port()), env=env, unset=("REDIS_URL",),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        desk.wait_for(r"\[SYSTEM\] trading [0-9.]+ s after start", timeout_s=120)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            context = browser.new_context()
            login = context.new_page()
            login.goto(base + "/login/?next=/dashboard/")
            login.fill("#id_username", "bench")
            login.fill("#id_password", "bench-password")
            login.click("button[type=submit]")
            login.wait_for_url(base + "/dashboard/")
            login.close()
            pages = []
            for _ in range(DASHBOARDS):
                page = context.new_page()
                page.add_init_script(_WATCH_FILLS)
                page.goto(base + "/dashboard/")
                pages.append(page)
            for page in pages:
                page.wait_for_function("window.__desk.messages > 0", timeout=30_000)
            # The first render lists fills booked before the page opened: not a latency.
            for page in pages:
                page.evaluate("window.__desk.latencies = []; window.__desk.messages = 0")
            started = time.monotonic()
            time.sleep(seconds)
            elapsed = time.monotonic() - started
            latencies: list[float] = []
            messages = 0
            for page in pages:
                found: Any = page.evaluate("[window.__desk.latencies, window.__desk.messages]")
                latencies += found[0]
                messages += found[1]
            browser.close()
    finally:
        desk.stop(2, timeout_s=60) if desk.popen.poll() is None else None
        desk.kill()
        shutil.rmtree(work, ignore_errors=True)
    if not latencies:
        raise RuntimeError("no execution reached a dashboard: the engine traded nothing")
    return latencies, messages / DASHBOARDS / elapsed


def run_suite(runs: int = 5, quick: bool = False) -> list[Figure]:
    figures = measure_site(1 if quick else runs, 3.0 if quick else 10.0)
    p50 = Figure("fill_to_dom_p50_ms", "fill to dashboard row p50 (4 dashboards)", "ms",
                 higher_is_better=False)  # fmt: skip
    p99 = Figure("fill_to_dom_p99_ms", "fill to dashboard row p99 (4 dashboards)", "ms", 250,
                 higher_is_better=False)  # fmt: skip
    rate = Figure("updates_per_s", "dashboard updates/s per dashboard", "msg/s", 4)
    for _ in range(1 if quick else min(runs, 3)):
        latencies, updates = measure_fill_to_dom(10.0 if quick else 30.0)
        ordered = sorted(latencies)
        p50.samples.append(ordered[len(ordered) // 2])
        p99.samples.append(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))])
        rate.samples.append(updates)
        p50.note = f"{len(latencies)} executions seen in the last run"
    return figures + [p50, p99, rate]
