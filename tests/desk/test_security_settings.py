"""Production turns on HTTPS-only cookies, HSTS and the redirect to HTTPS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAMES = [
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT", "SECURE_CONTENT_TYPE_NOSNIFF",
    "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY", "SECURE_REDIRECT_EXEMPT",
]  # fmt: skip


def _settings(env: dict[str, str]) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    script = (
        "import json; from django.conf import settings as s; import django;"
        "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'desk.settings');"
        f"print(json.dumps({{n: getattr(s, n, None) for n in {NAMES!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**clean, **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


PRODUCTION = {"DJANGO_ENV": "production", "DJANGO_SECRET_KEY": "k" * 50}


def test_production_is_https_only():
    values = _settings(PRODUCTION)
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_SSL_REDIRECT"] is True and values["SECURE_REDIRECT_EXEMPT"] == [
        "^healthz$"
    ]
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY" and values["SECURE_REFERRER_POLICY"] == "same-origin"


def test_the_redirect_can_be_turned_off_for_a_plain_http_deployment():
    values = _settings({**PRODUCTION, "DJANGO_SECURE_SSL_REDIRECT": "0"})
    assert values["SECURE_SSL_REDIRECT"] is False and values["SECURE_HSTS_SECONDS"] == 31_536_000


def test_development_stays_on_plain_http():
    values = _settings({})
    assert not values["SECURE_SSL_REDIRECT"] and not values["SECURE_HSTS_SECONDS"]
    assert values["X_FRAME_OPTIONS"] == "DENY"
