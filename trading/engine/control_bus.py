"""Operator commands to a running engine over Redis, and the engine's acknowledgements.

The sender (web tier, CLI) appends a `Command` to the per-account stream
`desk:{account}:commands`; the engine polls that stream at a safe point between events,
applies each command, and acknowledges it with the resulting trading state. An ack is
written twice: to the stream `desk:{account}:acks` (an audit trail dashboards can tail) and
to the key `desk:{account}:ack:{command_id}` with an expiry, so a sender can find the
answer to its own command without scanning the stream.

The engine side never raises into the caller: a lost Redis turns `healthy` False, is logged
once under the SYSTEM tag, and is retried with back-off from later `poll()` calls, so a
Redis outage costs the engine nothing but its remote control.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from trading.engine.reconnect import Backoff
from trading.handoff import take_all
from trading.log_format import get_logger

log = get_logger("SYSTEM")

PAYLOAD_FIELD = "payload"
DEFAULT_MAXLEN = 10_000
DEFAULT_ACK_TTL_S = 3_600
UNKNOWN_STATE = "UNKNOWN"


class CommandKind(StrEnum):
    """What an operator can ask a running engine to do."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    FLATTEN_ALL = "flatten_all"
    KILL = "kill"
    RELOAD_LIMITS = "reload_limits"
    SUBMIT_ORDER = "submit_order"  # args: symbol, side, qty, price (dollars), tif
    CANCEL_ORDER = "cancel_order"  # args: order_id


class MalformedCommand(ValueError):
    """A command payload that cannot be understood; carries the command id when it had one."""

    def __init__(self, reason: str, command_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.command_id = command_id


def commands_key(account: str) -> str:
    """The stream operators append commands to."""
    return f"desk:{account}:commands"


def acks_key(account: str) -> str:
    """The stream the engine appends acknowledgements to."""
    return f"desk:{account}:acks"


def ack_key(account: str, command_id: str) -> str:
    """The expiring key holding the acknowledgement of one command."""
    return f"desk:{account}:ack:{command_id}"


@dataclass(frozen=True)
class Command:
    """One operator command; `issued_at` is wall-clock seconds since the epoch."""

    id: str
    account: str
    kind: CommandKind
    who: str
    issued_at: float
    args: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def new(
        cls, account: str, kind: CommandKind | str, who: str, args: dict[str, Any] | None = None
    ) -> Command:
        """A fresh command with a random id, stamped now."""
        return cls(
            id=str(uuid.uuid4()),
            account=account,
            kind=CommandKind(kind),
            who=who,
            issued_at=time.time(),
            args=dict(args or {}),
        )

    def to_json(self) -> str:
        """The wire form."""
        return json.dumps(
            {
                "id": self.id,
                "account": self.account,
                "kind": self.kind.value,
                "who": self.who,
                "issued_at": self.issued_at,
                "args": self.args,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Command:
        """Parse and validate the wire form; raises `MalformedCommand` with a clear reason."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedCommand(f"payload is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise MalformedCommand(f"payload is a JSON {type(data).__name__}, not an object")
        raw_id = data.get("id")
        command_id = raw_id if isinstance(raw_id, str) and raw_id else None
        if command_id is None:
            raise MalformedCommand("missing or empty 'id'")
        try:
            uuid.UUID(command_id)
        except ValueError:
            raise MalformedCommand(f"'id' {command_id!r} is not a UUID", command_id) from None
        for name in ("account", "kind", "who"):
            value = data.get(name)
            if not isinstance(value, str) or not value:
                raise MalformedCommand(f"missing or non-string '{name}'", command_id)
        try:
            kind = CommandKind(data["kind"])
        except ValueError:
            expected = ", ".join(k.value for k in CommandKind)
            raise MalformedCommand(
                f"unknown kind {data['kind']!r}; expected one of {expected}", command_id
            ) from None
        issued_at = data.get("issued_at")
        # bool is an int subclass; a `true` timestamp is a sender bug, not a time.
        if isinstance(issued_at, bool) or not isinstance(issued_at, int | float):
            raise MalformedCommand("missing or non-numeric 'issued_at'", command_id)
        args = data.get("args", {})
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise MalformedCommand("'args' must be a JSON object", command_id)
        return cls(
            id=command_id,
            account=data["account"],
            kind=kind,
            who=data["who"],
            issued_at=float(issued_at),
            args=args,
        )


@dataclass(frozen=True)
class Ack:
    """The engine's answer to one command: whether it was applied and the resulting state."""

    command_id: str
    account: str
    ok: bool
    state: str
    reason: str
    acked_at: float
    kind: str = ""

    def to_json(self) -> str:
        """The wire form."""
        return json.dumps(
            {
                "command_id": self.command_id,
                "account": self.account,
                "ok": self.ok,
                "state": self.state,
                "reason": self.reason,
                "acked_at": self.acked_at,
                "kind": self.kind,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Ack:
        """Parse the wire form (written by `CommandBus.ack`, so trusted)."""
        data = json.loads(text)
        return cls(
            command_id=str(data["command_id"]),
            account=str(data["account"]),
            ok=bool(data["ok"]),
            state=str(data["state"]),
            reason=str(data.get("reason", "")),
            acked_at=float(data["acked_at"]),
            kind=str(data.get("kind", "")),
        )


def _client(url: str, socket_timeout_s: float, connect_timeout_s: float) -> redis.Redis:
    # One immediate retry only: it covers the stale pooled connection after a Redis restart,
    # while redis-py's default (10 retries with exponential back-off) would stall the engine.
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=connect_timeout_s,
        retry=Retry(NoBackoff(), 1),
    )


def _id_tuple(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


class CommandBus:
    """Both ends of one account's command channel.

    Sender side: `send`, `wait_ack`. Engine side: `poll`, `ack`, `healthy`.
    Sender-side calls raise `redis.RedisError` when Redis is unreachable (the operator must
    know the command was not sent); engine-side calls never raise.
    """

    def __init__(
        self,
        redis_url: str,
        account: str,
        *,
        maxlen: int = DEFAULT_MAXLEN,
        ack_ttl_s: int = DEFAULT_ACK_TTL_S,
        socket_timeout_s: float = 0.5,
        connect_timeout_s: float = 0.25,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 5.0,
        batch: int = 100,
    ) -> None:
        self.redis_url = redis_url
        self.account = account
        self.maxlen = maxlen
        self.ack_ttl_s = ack_ttl_s
        self.batch = batch
        self._redis = _client(redis_url, socket_timeout_s, connect_timeout_s)
        self._socket_timeout_s = socket_timeout_s
        self._commands = commands_key(account)
        self._acks = acks_key(account)
        # Engine-side cursor, placed at the stream's end when the bus is built (or at first
        # contact if Redis is down then): commands issued before this engine existed are
        # stale and must not fire.
        self._last_id: str | None = None
        self._needs_resync = False
        self.healthy = True
        self.errors = 0
        self._backoff = Backoff(backoff_initial_s, backoff_max_s)
        # Acks that could not be written during an outage are delivered after reconnecting.
        self._pending_acks: deque[Ack] = deque(maxlen=1_000)
        # XADD may be retried after a lost reply, so the same command can arrive twice.
        self._seen: deque[str] = deque(maxlen=1_000)
        self._seen_set: set[str] = set()
        self._last_state = UNKNOWN_STATE
        try:
            self._resync()
        except (redis.RedisError, OSError) as exc:
            self._lost(exc)

    # -- sender side -------------------------------------------------------------------------

    def send(self, kind: CommandKind | str, who: str, args: dict[str, Any] | None = None) -> str:
        """Append a command to the account's stream and return its id.

        Raises `ValueError` for an unknown kind and `redis.RedisError` if Redis is unreachable.
        """
        command = Command.new(self.account, kind, who, args)
        self._redis.xadd(
            self._commands,
            {PAYLOAD_FIELD: command.to_json()},
            maxlen=self.maxlen,
            approximate=True,
        )
        return command.id

    def send_raw(self, payload: str) -> str:
        """Append an arbitrary payload (for tools and tests); returns the stream entry id."""
        return str(
            self._redis.xadd(
                self._commands, {PAYLOAD_FIELD: payload}, maxlen=self.maxlen, approximate=True
            )
        )

    def wait_ack(self, command_id: str, timeout_s: float) -> Ack | None:
        """Wait up to `timeout_s` for the engine's ack of `command_id`; None on timeout."""
        deadline = time.monotonic() + timeout_s
        # Take the stream cursor before looking at the key: an ack written in between then
        # shows up in the XREAD below, so none can slip through the gap.
        last: Any = self._redis.xrevrange(self._acks, count=1)
        cursor: str = last[0][0] if last else "0-0"
        ack = self._read_ack_key(command_id)
        if ack is not None:
            return ack
        # Blocks are kept below the socket timeout so a slow ack is not mistaken for a dead
        # server.
        max_block_ms = max(1, int(self._socket_timeout_s * 1000 * 0.8))
        while True:
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                return None
            # redis-py's stubs type replies as a union of sync and async shapes.
            reply: Any = self._redis.xread(
                {self._acks: cursor}, count=self.batch, block=min(remaining_ms, max_block_ms)
            )
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    cursor = entry_id
                    try:
                        ack = Ack.from_json(fields[PAYLOAD_FIELD])
                    except (KeyError, ValueError, TypeError):
                        continue
                    if ack.command_id == command_id:
                        return ack

    def _read_ack_key(self, command_id: str) -> Ack | None:
        raw = self._redis.get(ack_key(self.account, command_id))
        return Ack.from_json(raw) if raw is not None else None

    # -- engine side -------------------------------------------------------------------------

    def poll(self) -> list[Command]:
        """New commands since the last poll, oldest first; never blocks long, never raises.

        Malformed payloads and commands for another account are acked with ok=False here
        and not returned. While Redis is unreachable this returns [] and retries with
        back-off.
        """
        if not self.healthy and not self._backoff.ready():
            return []
        try:
            if self._last_id is None or self._needs_resync:
                self._resync()
            self._flush_pending_acks()
            assert self._last_id is not None
            reply: Any = self._redis.xread({self._commands: self._last_id}, count=self.batch)
        except (redis.RedisError, OSError) as exc:
            self._lost(exc)
            return []
        self._recovered()
        commands: list[Command] = []
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                self._last_id = entry_id
                command = self._parse(entry_id, fields)
                if command is None or command.id in self._seen_set:
                    continue
                self._remember(command.id)
                commands.append(command)
        return commands

    def ack(self, command: Command, state: str, reason: str = "", ok: bool = True) -> None:
        """Publish the outcome of `command` and the engine's resulting state; never raises."""
        self._last_state = str(state)
        self._deliver(
            Ack(
                command_id=command.id,
                account=self.account,
                ok=ok,
                state=str(state),
                reason=reason,
                acked_at=time.time(),
                kind=command.kind.value,
            )
        )

    def set_state(self, state: str) -> None:
        """Tell the bus the engine's current state, used in acks it writes on its own."""
        self._last_state = str(state)

    def close(self) -> None:
        """Release the Redis connections."""
        self._redis.close()

    def _parse(self, entry_id: str, fields: dict[str, str]) -> Command | None:
        payload = fields.get(PAYLOAD_FIELD)
        try:
            if payload is None:
                raise MalformedCommand(f"entry has no '{PAYLOAD_FIELD}' field")
            command = Command.from_json(payload)
            if command.account != self.account:
                raise MalformedCommand(
                    f"command is for account {command.account!r}, not {self.account!r}",
                    command.id,
                )
        except MalformedCommand as exc:
            # The sender waits on the id it generated; without one, the stream entry id is
            # the only handle left for whoever looks at the acks.
            command_id = exc.command_id or entry_id
            log.warning("rejected command %s on %s: %s", command_id, self._commands, exc.reason)
            self._deliver(
                Ack(
                    command_id=command_id,
                    account=self.account,
                    ok=False,
                    state=self._last_state,
                    reason=f"malformed command: {exc.reason}",
                    acked_at=time.time(),
                )
            )
            return None
        return command

    def _deliver(self, ack: Ack) -> None:
        if self.healthy:
            try:
                self._write_ack(ack)
                return
            except (redis.RedisError, OSError) as exc:
                self._lost(exc)
        self._pending_acks.append(ack)

    def _write_ack(self, ack: Ack) -> None:
        text = ack.to_json()
        pipe = self._redis.pipeline(transaction=True)
        pipe.xadd(self._acks, {PAYLOAD_FIELD: text}, maxlen=self.maxlen, approximate=True)
        pipe.set(ack_key(self.account, ack.command_id), text, ex=self.ack_ttl_s)
        pipe.execute()

    def _flush_pending_acks(self) -> None:
        while self._pending_acks:
            self._write_ack(self._pending_acks[0])
            self._pending_acks.popleft()

    def _resync(self) -> None:
        """Place the cursor after a (re)connect.

        First contact: at the stream's end. After an outage: keep the cursor unless the
        stream was recreated behind it (a Redis restart without persistence), in which
        case everything now in the stream was sent after the restart and must be read.
        """
        try:
            info = self._redis.xinfo_stream(self._commands)
            tail = str(info["last-generated-id"])
        except redis.ResponseError:
            tail = None  # no such stream yet
        if self._last_id is None:
            self._last_id = tail or "0-0"
        elif tail is None or _id_tuple(tail) < _id_tuple(self._last_id):
            self._last_id = "0-0"
        self._needs_resync = False

    def _remember(self, command_id: str) -> None:
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(command_id)
        self._seen_set.add(command_id)

    def _lost(self, exc: BaseException) -> None:
        self.errors += 1
        self._needs_resync = True
        if self.healthy:
            log.warning("control bus for %s lost Redis (%s); retrying", self.account, exc)
            self.healthy = False
            self._backoff.succeeded()  # the first retry of an outage comes quickly
        self._backoff.failed()

    def _recovered(self) -> None:
        if not self.healthy:
            log.info("control bus for %s reconnected to Redis", self.account)
        self.healthy = True
        self._backoff.succeeded()


class CommandInbox:
    """The engine side of a `CommandBus` on a thread of its own.

    The engine's thread never waits on Redis: it takes commands that have already arrived
    (`take`) and hands acks back (`ack`), both without I/O; this thread does the polling
    and the writing.
    """

    def __init__(self, bus: CommandBus, poll_interval_s: float = 0.05) -> None:
        self.bus = bus
        self.poll_interval_s = poll_interval_s
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._acks: queue.SimpleQueue[tuple[Command, str, str, bool]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="command-inbox", daemon=True)

    def start(self) -> CommandInbox:
        self._thread.start()
        return self

    def take(self) -> list[Command]:
        """Commands that have arrived, oldest first."""
        return take_all(self._commands)

    def ack(self, command: Command, state: str, reason: str = "", ok: bool = True) -> None:
        """Queue the ack of `command` (written by the inbox's thread)."""
        self._acks.put((command, state, reason, ok))

    def close(self, timeout_s: float = 5.0) -> None:
        """Write the acks still queued, stop the thread and close the bus."""
        self._stop.set()
        self._thread.join(timeout_s)
        self._write_acks()
        self.bus.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._write_acks()
            for command in self.bus.poll():
                self._commands.put(command)
            self._stop.wait(self.poll_interval_s)

    def _write_acks(self) -> None:
        for command, state, reason, ok in take_all(self._acks):
            self.bus.ack(command, state, reason, ok)
