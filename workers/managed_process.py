"""Run the desk's management commands as real processes and read their logs (for tests and
benchmarks)."""

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LISTENING = re.compile(
    r"order\(OUCH 4\.2\)=(\d+) feed\(ITCH 5\.0\)=(\d+) snapshot=(\d+) metrics=(\d+)"
)


class ManagedProcess:
    """A `manage.py` command whose combined output is collected line by line."""

    def __init__(
        self, *args: str, env: dict[str, str] | None = None, unset: tuple[str, ...] = ()
    ) -> None:
        self.lines: list[str] = []
        environ = {k: v for k, v in os.environ.items() if k not in unset}
        self.popen = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env={**environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout_s: float = 60.0, after: int = 0) -> re.Match:
        """The first line (from index `after`) matching `pattern`, waiting for it to appear."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                match = regex.search(line)
                if match:
                    return match
            if self.popen.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no line matching {pattern!r}; output:\n" + "\n".join(self.lines))

    def stop(self, sig: int, timeout_s: float = 30.0) -> int:
        self.popen.send_signal(sig)
        code = self.popen.wait(timeout_s)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()
