"""Users, API keys and authenticated clients for the API tests, on a private account."""

# ruff: noqa: F811
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from api.keys import issue_key, revoke_keys
from api.rate_limit import command_rate_limit
from tests.support.redis_server import account, celery_broker, redis_url  # noqa: F401
from trading.engine.control_bus import Command, CommandBus

PASSWORD = "a-long-test-password-1"
ROLES = ["anonymous", "revoked_key", "user_session", "user_key", "staff_session", "staff_key"]


@pytest.fixture(autouse=True)
def desk(settings, redis_url, account):
    """Every API test speaks for a fresh account on the test Redis, with a short ack wait."""
    settings.REDIS_URL = redis_url
    settings.DESK_ACCOUNT = account
    settings.DESK_COMMAND_TIMEOUT_S = 0.2
    # Real password hashing is slow by design; these tests only need logins to work.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    command_rate_limit.reset()
    with celery_broker(redis_url):
        yield settings
    command_rate_limit.reset()


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("trader", password=PASSWORD)


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("operator", password=PASSWORD, is_staff=True)


@pytest.fixture
def staff_key(staff) -> str:
    return issue_key(staff, "ops script").secret


def _client_for(role: str, user, staff) -> Client:
    client = Client()
    if role == "user_session":
        client.force_login(user)
    elif role == "staff_session":
        client.force_login(staff)
    elif role == "user_key":
        client.defaults["HTTP_X_API_KEY"] = issue_key(user, "reader").secret
    elif role == "staff_key":
        client.defaults["HTTP_X_API_KEY"] = issue_key(staff, "operator").secret
    elif role == "revoked_key":
        issued = issue_key(staff, "old")
        revoke_keys(issued.api_key.prefix)
        client.defaults["HTTP_X_API_KEY"] = issued.secret
    return client


@pytest.fixture
def client_as(user, staff) -> Callable[[str], Client]:
    """A client acting in one of `ROLES`."""
    return lambda role: _client_for(role, user, staff)


@pytest.fixture
def staff_client(client_as) -> Client:
    return client_as("staff_key")


@pytest.fixture
def fake_engine(desk, account) -> Iterator[Callable[[Callable[[Command], tuple[bool, str]]], None]]:
    """Start a stand-in engine answering commands with `answer(command) -> (ok, reason)`.

    The commands it saw are kept in `.seen` of the returned starter.
    """
    stop = threading.Event()
    threads: list[threading.Thread] = []
    seen: list[Command] = []

    def start(answer: Callable[[Command], tuple[bool, str]], state: str = "ACTIVE") -> None:
        bus = CommandBus(desk.REDIS_URL, account)

        def serve() -> None:
            try:
                while not stop.is_set():
                    for command in bus.poll():
                        seen.append(command)
                        ok, reason = answer(command)
                        bus.ack(command, state, reason, ok=ok)
                    time.sleep(0.005)
            finally:
                bus.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)

    start.seen = seen  # type: ignore[attr-defined]
    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=5)


def json_of(response) -> Any:
    return response.json()
