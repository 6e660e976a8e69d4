"""Five failed logins for a username or from an address lock it out for fifteen minutes."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from desk import login_throttle

pytestmark = pytest.mark.django_db

PASSWORD = "right-password-42"


@pytest.fixture(autouse=True)
def _fresh(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_user("operator", password=PASSWORD, is_staff=True)


def _login(path: str, username: str, password: str, address: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password})


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_the_right_password_is_refused_after_five_failures(operator, path):
    for _ in range(login_throttle.MAX_FAILURES - 1):
        assert _login(path, "operator", "wrong").status_code == 200
    assert _login(path, "operator", PASSWORD).status_code == 302  # four failures: still fine
    for _ in range(login_throttle.MAX_FAILURES):
        _login(path, "operator", "wrong")
    refused = _login(path, "operator", PASSWORD)
    assert refused.status_code == 200 and b"Too many failed login attempts" in refused.content


def test_the_lock_follows_the_username_across_addresses(operator):
    for i in range(5):
        _login("/login/", "Operator", "wrong", address=f"10.0.1.{i}")
    assert b"Too many failed" in _login("/login/", "operator", PASSWORD, "10.9.9.9").content


def test_the_lock_follows_the_address_across_usernames(operator):
    for i in range(5):
        _login("/login/", f"guess{i}", "wrong", address="10.0.0.66")
    assert b"Too many failed" in _login("/login/", "operator", PASSWORD, "10.0.0.66").content
    assert _login("/login/", "operator", PASSWORD, "10.0.0.67").status_code == 302


def test_the_lock_expires(operator, monkeypatch):
    for _ in range(5):
        _login("/login/", "operator", "wrong")
    now = login_throttle.time.time()
    monkeypatch.setattr(login_throttle.time, "time", lambda: now + login_throttle.LOCKOUT_S + 1)
    assert login_throttle.locked_for_s("operator", None) == 0


def test_logout_is_a_post_back_to_the_login_page(operator):
    client = Client()
    client.force_login(operator)
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
