"""Stand-ins for alpaca-py's TradingClient and TradingStream, for gateway logic without
sockets (the end-to-end tests use the real ones against the simulator's endpoint)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Any

from trading.protocols import ouch


class ScriptedClient:
    """Answers each method with the next scripted result (an exception is raised), or with
    the default for that method; records every call."""

    def __init__(self, **defaults: Any) -> None:
        self.defaults = defaults
        self.scripts: dict[str, deque] = defaultdict(deque)
        self.calls: list[tuple[str, tuple]] = []

    def script(self, method: str, *results: Any) -> None:
        self.scripts[method].extend(results)

    def count(self, method: str) -> int:
        return sum(1 for name, _ in self.calls if name == method)

    def _answer(self, method: str, *args: Any) -> Any:
        self.calls.append((method, args))
        queue = self.scripts[method]
        result = queue.popleft() if queue else self.defaults.get(method)
        if callable(result) and not isinstance(result, type):
            result = result(*args)
        if isinstance(result, BaseException):
            raise result
        return result

    def submit_order(self, request: Any) -> Any:
        return self._answer("submit_order", request)

    def get_order_by_client_id(self, client_id: str) -> Any:
        return self._answer("get_order_by_client_id", client_id)

    def cancel_order_by_id(self, order_id: str) -> Any:
        return self._answer("cancel_order_by_id", order_id)

    def replace_order_by_id(self, order_id: str, request: Any) -> Any:
        return self._answer("replace_order_by_id", order_id, request)

    def get_all_positions(self) -> Any:
        return self._answer("get_all_positions")

    def get_orders(self, request: Any = None) -> Any:
        return self._answer("get_orders", request)


class _StopQueue:
    def __init__(self, stopped: threading.Event) -> None:
        self.stopped = stopped

    def put_nowait(self, item: Any) -> None:
        self.stopped.set()


class FakeStream:
    """Connects at once when run; `drop()` and `restore()` simulate a lost stream."""

    instances: list[FakeStream] = []

    def __init__(self, settings: Any, on_up: Any, on_down: Any, on_refused: Any) -> None:
        self.on_up, self.on_down = on_up, on_down
        self.handler: Any = None
        self._loop = None
        self.stopped = threading.Event()
        self._stop_stream_queue = _StopQueue(self.stopped)
        FakeStream.instances.append(self)

    def subscribe_trade_updates(self, handler: Any) -> None:
        self.handler = handler

    def run(self) -> None:
        self.on_up()
        self.stopped.wait(30)

    def drop(self) -> None:
        self.on_down()

    def restore(self) -> None:
        self.on_up()


def wait_for(predicate: Any, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


def collect(gateway: Any, until: Any, timeout_s: float = 5.0) -> list:
    """Poll the gateway until `until(answers)` holds; returns the OUCH answers."""
    answers: list = []
    deadline = time.monotonic() + timeout_s
    while not until(answers):
        if time.monotonic() > deadline:
            raise AssertionError(f"answers so far: {answers}")
        answers.extend(event.message for event in gateway.poll(0.01))
    return answers


def kinds(answers: list) -> list[str]:
    return [type(a).__name__ for a in answers]


__all__ = ["FakeStream", "ScriptedClient", "collect", "kinds", "ouch", "wait_for"]
