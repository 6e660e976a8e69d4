"""Every response carries the Content-Security-Policy, and the pages it covers obey it."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from desk.content_security import POLICY

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def _assert_obeys_the_policy(response) -> None:
    assert response["Content-Security-Policy"] == POLICY
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html).group(0)
    assert not EVENT_HANDLER.search(html), EVENT_HANDLER.search(html).group(0)


def test_the_policy_allows_no_inline_script_and_no_framing():
    assert "script-src 'self';" in POLICY and "unsafe-inline" not in POLICY
    assert "frame-ancestors 'none'" in POLICY and "object-src 'none'" in POLICY


@pytest.mark.parametrize("path", ["/", "/about/", "/projects/", "/login/", "/admin/login/"])
def test_public_pages_and_logins_carry_the_policy_and_no_inline_script(client, path):
    response = client.get(path, follow=True)
    assert response.status_code == 200
    _assert_obeys_the_policy(response)


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/ledger/risklimitset/", "/admin/api/apikey/add/",
             "/admin/auth/user/add/"],
)  # fmt: skip
def test_admin_pages_run_under_the_policy(path):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-12345-x")
    client = Client()
    client.force_login(admin)
    response = client.get(path)
    assert response.status_code == 200
    _assert_obeys_the_policy(response)


def test_api_and_error_responses_carry_it_too(client):
    assert client.get("/api/orders")["Content-Security-Policy"] == POLICY
    assert client.get("/no-such-page/")["Content-Security-Policy"] == POLICY
    assert client.get("/healthz")["Content-Security-Policy"] == POLICY
    assert client.get("/")["X-Frame-Options"] == "DENY"
