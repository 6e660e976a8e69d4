"""Refusing logins after repeated failures, per username and per client address.

Five failures for one username, or from one address, within `WINDOW_S` lock that username or
address out for `LOCKOUT_S`; while locked, even the right password is refused, so guessing
cannot continue at a slower pace. Failures are counted from Django's `user_login_failed`
signal, so every login that goes through `authenticate()` counts; the lock is enforced by the
login forms below (the admin's and the site's `/login/`).

The counters live in the default cache: one web process's memory unless a shared cache is
configured, which is what a one-person desk runs.
"""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest

MAX_FAILURES = 5
WINDOW_S = 15 * 60
LOCKOUT_S = 15 * 60


def _client_address(request: HttpRequest | None) -> str:
    return (request.META.get("REMOTE_ADDR") or "") if request is not None else ""


def _subjects(username: str, request: HttpRequest | None) -> list[str]:
    subjects = []
    if username:
        subjects.append(f"user:{username.strip().lower()}")
    address = _client_address(request)
    if address:
        subjects.append(f"ip:{address}")
    return subjects


def _failures_key(subject: str) -> str:
    return f"login-throttle:failures:{subject}"


def _lock_key(subject: str) -> str:
    return f"login-throttle:locked:{subject}"


def record_failure(username: str, request: HttpRequest | None) -> None:
    """Count one failed login; the fifth within the window locks the subject out."""
    now = time.time()
    for subject in _subjects(username, request):
        recent = [t for t in cache.get(_failures_key(subject), []) if now - t < WINDOW_S]
        recent.append(now)
        cache.set(_failures_key(subject), recent, WINDOW_S)
        if len(recent) >= MAX_FAILURES:
            cache.set(_lock_key(subject), now + LOCKOUT_S, LOCKOUT_S)


def locked_for_s(username: str, request: HttpRequest | None) -> float:
    """Seconds left on the lock of the username or the address (0: not locked)."""
    now = time.time()
    until = max((cache.get(_lock_key(s), 0.0) for s in _subjects(username, request)), default=0)
    return max(0.0, until - now)


def clear_failures(username: str) -> None:
    """A successful login forgets the username's earlier failures (not the address's)."""
    for subject in _subjects(username, None):
        cache.delete(_failures_key(subject))


@receiver(user_login_failed, dispatch_uid="desk.login_throttle.failed")
def _on_login_failed(sender: Any, credentials: dict[str, Any], request=None, **kwargs) -> None:
    record_failure(str(credentials.get("username", "")), request)


@receiver(user_logged_in, dispatch_uid="desk.login_throttle.succeeded")
def _on_logged_in(sender: Any, request, user, **kwargs) -> None:
    clear_failures(user.get_username())


class ThrottledLoginMixin:
    """Refuses the attempt before checking the password while its subject is locked out."""

    request: HttpRequest | None

    def clean(self) -> dict[str, Any]:
        username = self.data.get("username", "") if hasattr(self, "data") else ""
        wait_s = locked_for_s(str(username), self.request)
        if wait_s > 0:
            minutes = max(1, round(wait_s / 60))
            raise forms.ValidationError(
                f"Too many failed login attempts. Try again in about {minutes} minute(s).",
                code="throttled",
            )
        return super().clean()


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    """The site's login form (`/login/`)."""


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's login form."""
