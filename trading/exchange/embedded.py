"""Run an exchange inside the current process, on its own event-loop thread.

Tests and benchmarks use it to get a real exchange on real loopback sockets without a
subprocess; `call` runs a function on the exchange's loop, the only safe way to look at or
change its state from outside.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from trading.config import SystemConfig
from trading.exchange.server import BoundPorts, ExchangeServer

T = TypeVar("T")


class ExchangeThread:
    """An `ExchangeServer` on 127.0.0.1 with ephemeral ports, in a daemon thread."""

    def __init__(self, config: SystemConfig, **server_options: Any) -> None:
        self.config = config
        self.server_options = server_options
        self.loop = _new_loop()
        self.server: ExchangeServer | None = None
        self.ports: BoundPorts | None = None
        self._thread = threading.Thread(target=self._run, name="exchange", daemon=True)
        self._ready: Future[BoundPorts] = Future()

    def start(self, timeout_s: float = 60.0) -> BoundPorts:
        """Start the exchange; returns its bound ports."""
        self._thread.start()
        self.ports = self._ready.result(timeout_s)
        return self.ports

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.server = ExchangeServer(self.config, **self.server_options)
            ports = self.loop.run_until_complete(
                self.server.start(
                    host="127.0.0.1",
                    order_port=0,
                    feed_port=0,
                    snapshot_port=0,
                    metrics_port=0,
                    # The Alpaca API, when the configuration serves it, on a free port too.
                    alpaca_port=0 if self.config.exchange.alpaca_port else None,
                )
            )
        except BaseException as exc:  # hand any start-up failure to the caller
            self._ready.set_exception(exc)
            return
        self._ready.set_result(ports)
        self.loop.run_forever()

    def call(self, fn: Callable[[], T], timeout_s: float = 30.0) -> T:
        """Run `fn()` on the exchange's loop and return its result."""
        future: Future[T] = Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        return future.result(timeout_s)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the exchange (End of Session to every client) and its thread."""
        if self.server is not None and self.loop.is_running():
            asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(timeout_s)
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout_s)
        if not self.loop.is_running():
            self.loop.close()

    def __enter__(self) -> ExchangeThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:  # pragma: no cover - uvloop is in the lock file
        return asyncio.new_event_loop()
