"""Run ``tshark`` around a test: capture loopback traffic of one TCP port, then dissect it.

Usage::

    with TsharkCapture(port, tmp_path / "session.pcapng") as capture:
        ...  # exchange traffic on ``port``
        capture.sync()  # wait until everything sent so far is in the file
    packets = capture.dissect(decode_as=[f"tcp.port=={port},soupbintcp"])

``TsharkCapture`` only returns from ``__enter__`` once packets are really being written: it
waits for tshark's "Capturing on" line and then for a UDP probe datagram to reach the file
(the capture filter is ``tcp port <port> or udp port <probe port>``).  Probes are excluded
from :meth:`dissect` by its display filter.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

TSHARK = shutil.which("tshark")


class TsharkUnavailable(RuntimeError):
    """tshark is missing or cannot capture here (e.g. no permission); tests should skip."""


class TsharkCapture:
    """A running ``tshark -i lo -f "tcp port PORT or udp port PROBE" -w FILE`` capture."""

    def __init__(
        self,
        port: int,
        pcap_path: Path,
        interface: str = "lo",
        start_timeout_s: float = 30.0,
    ) -> None:
        if TSHARK is None:
            raise TsharkUnavailable("tshark is not installed")
        self.port = port
        self.pcap_path = Path(pcap_path)
        self.interface = interface
        self.start_timeout_s = start_timeout_s
        self._probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._probe.bind(("127.0.0.1", 0))
        self.probe_port = self._probe.getsockname()[1]
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr_lines: list[str] = []
        self._capturing = threading.Event()
        self._reader: threading.Thread | None = None

    # ---- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> TsharkCapture:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start tshark and block until it demonstrably writes captured packets to the file."""
        capture_filter = f"tcp port {self.port} or udp port {self.probe_port}"
        command = [
            str(TSHARK),
            "-i",
            self.interface,
            "-f",
            capture_filter,
            "-w",
            str(self.pcap_path),
        ]
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.start_timeout_s
        while not self._capturing.wait(0.05):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise TsharkUnavailable(f"tshark did not start capturing: {self.stderr!r}")
        # "Capturing on" is printed when dumpcap opens the interface, a moment before the
        # filter is live; only a probe that reaches the file proves packets are recorded.
        if not self._wait_for_probe(deadline):
            self.stop()
            raise TsharkUnavailable(f"tshark captured no probe packet: {self.stderr!r}")

    def sync(self, timeout_s: float = 10.0) -> None:
        """Block until everything sent before this call has been written to the file."""
        if not self._wait_for_probe(time.monotonic() + timeout_s):
            raise TimeoutError(f"tshark did not record a sync probe: {self.stderr!r}")

    def stop(self) -> None:
        """Stop tshark (SIGINT, so it finishes the file) and close the probe socket."""
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)  # stderr hits EOF once tshark has exited
        if process is not None and process.stderr is not None:
            process.stderr.close()
        self._probe.close()

    @property
    def stderr(self) -> str:
        """Everything tshark has written to stderr so far."""
        return "".join(self._stderr_lines)

    # ---- analysis -------------------------------------------------------------------------

    def dissect(self, decode_as: Sequence[str] = (), extra_args: Sequence[str] = ()) -> list[Any]:
        """Dissect the capture as JSON (only this TCP port's frames) and return the packets.

        ``decode_as`` items are ``-d`` arguments such as ``"tcp.port==5000,soupbintcp"``.
        Repeated layers/fields of one frame come back as lists (``--no-duplicate-keys``).
        """
        return dissect_pcap(self.pcap_path, f"tcp.port=={self.port}", decode_as, extra_args)

    # ---- internals ------------------------------------------------------------------------

    def _read_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for raw in self._process.stderr:
            line = raw.decode(errors="replace")
            self._stderr_lines.append(line)
            if "Capturing on" in line:
                self._capturing.set()

    def _wait_for_probe(self, deadline: float) -> bool:
        size_before = _file_size(self.pcap_path)
        while time.monotonic() < deadline:
            self._probe.sendto(b"tshark-capture-probe", ("127.0.0.1", self.probe_port))
            time.sleep(0.05)
            if _file_size(self.pcap_path) > size_before:
                return True
        return False


def _file_size(path: Path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def dissect_pcap(
    pcap_path: Path,
    display_filter: str = "",
    decode_as: Sequence[str] = (),
    extra_args: Sequence[str] = (),
) -> list[Any]:
    """Run ``tshark -r PCAP [-Y FILTER] [-d ...] -T json --no-duplicate-keys`` and parse it."""
    if TSHARK is None:
        raise TsharkUnavailable("tshark is not installed")
    command = [str(TSHARK), "-r", str(pcap_path), "-T", "json", "--no-duplicate-keys"]
    if display_filter:
        command += ["-Y", display_filter]
    for rule in decode_as:
        command += ["-d", rule]
    command += list(extra_args)
    result = subprocess.run(command, capture_output=True, check=True, timeout=120)
    return list(json.loads(result.stdout or b"[]"))


def layer_items(packet: Any, layer: str) -> list[Any]:
    """Return the occurrences of ``layer`` in one JSON packet, always as a list."""
    value = packet["_source"]["layers"].get(layer, [])
    return value if isinstance(value, list) else [value]


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Yield every ``(key, value)`` pair nested anywhere in a JSON packet."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)
