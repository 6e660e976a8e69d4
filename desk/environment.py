"""Reading settings from the environment, with errors that name the variable."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    """The variable's value, or `default` when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    """A yes/no variable; anything but the usual spellings is a configuration error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: expected one of 1/0, true/false, yes/no, on/off")


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated variable as a list of non-empty items."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def embedded_redis_socket(var_dir: Path) -> Path:
    """Where the embedded Redis server (started by `runsystem`) listens."""
    return var_dir / "redis.sock"


def embedded_redis_url(var_dir: Path) -> str:
    """The URL of the embedded Redis server, used when REDIS_URL is unset."""
    return f"unix://{embedded_redis_socket(var_dir)}"


def celery_url(redis_url: str) -> str:
    """`redis_url` as Celery's transport names it: a unix socket is `redis+socket://PATH`.

    redis-py and Channels read `unix://PATH`; kombu has no `unix` transport, so the same
    server needs a second spelling for the broker and the result backend.
    """
    if redis_url.startswith("unix://"):
        path, _, query = redis_url.removeprefix("unix://").partition("?")
        return f"redis+socket://{path}" + (f"?{query}" if query else "")
    return redis_url
