"""The terminal monitor: one engine's live state and its operator keys, for a server with
no browser.

It reads the same published state as the web dashboard and sends commands through
`ledger.engine_control.send_command`, so they are audited like any other. Reads and commands
run off the event loop, so a slow or absent Redis never freezes the screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
from collections import deque
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.db import connections
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label, Sparkline, Static

from dashboard.monitor import view_model as vm
from dashboard.monitor.state_source import Reading, StateSource
from ledger.engine_control import STALE_AFTER_S, CommandOutcome, send_command

SPARK_POINTS = 120
BAR_WIDTH = 24
BAR_COLOURS = {"green": "green", "amber": "dark_orange", "red": "bold red"}

Sender = Callable[..., CommandOutcome]


def outcome_text(kind: str, outcome: CommandOutcome) -> tuple[str, str]:
    """The status line for a command's outcome, and its notification severity."""
    ack = outcome.ack
    if ack is None:
        return f"{kind}: no answer (is the engine running?)", "error"
    if ack.ok:
        return f"{kind}: ok — {ack.reason} [{ack.state}]", "information"
    return f"{kind}: refused — {ack.reason} [{ack.state}]", "warning"


class ConfirmFlatten(ModalScreen[bool]):
    """Asks before flattening every position: Y confirms, N or Escape cancels."""

    DEFAULT_CSS = """
    ConfirmFlatten { align: center middle; }
    ConfirmFlatten > Vertical {
        width: 60; height: auto; padding: 1 2;
        border: thick $error; background: $surface;
    }
    ConfirmFlatten Label { width: 100%; content-align: center middle; }
    """
    BINDINGS = [
        Binding("y,Y", "confirm", "Flatten"),
        Binding("n,N,escape", "cancel", "Cancel"),
    ]

    def __init__(self, account: str) -> None:
        super().__init__()
        self.account = account

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Flatten ALL positions of {self.account}?", id="question")
            yield Label("Y: flatten    N / Escape: cancel")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class MonitorApp(App[None]):
    """Live view of one account's engine with pause, resume and flatten keys."""

    TITLE = "desk monitor"
    CSS = """
    #health { height: 1; padding: 0 1; text-style: bold; }
    #health.ok { background: $success; color: $text; }
    #health.warn { background: $warning; color: black; }
    #health.bad { background: $error; color: white; }
    #summary { height: auto; padding: 0 1; border: round $primary; }
    #middle { height: auto; }
    #flow { width: 1fr; height: auto; border: round $primary; border-title-align: left; }
    #throughput { height: auto; }
    #orders-spark { height: 3; }
    #risk { width: 1fr; height: auto; border: round $primary; padding: 0 1; }
    #latency { height: auto; max-height: 10; border: round $primary; }
    #lower { height: 1fr; }
    #positions { width: 1fr; border: round $primary; }
    #trades { width: 1fr; border: round $primary; }
    #status { height: 1; padding: 0 1; background: $panel; }
    """
    BINDINGS = [
        Binding("p,P", "pause", "Pause"),
        Binding("r,R", "resume", "Resume"),
        Binding("f,F", "flatten", "Flatten all"),
        Binding("q,Q", "quit", "Quit"),
    ]

    def __init__(
        self,
        account: str,
        interval_s: float = 0.25,
        *,
        source: StateSource | None = None,
        send: Sender = send_command,
        who: str | None = None,
    ) -> None:
        super().__init__()
        self.account = account
        self.interval_s = interval_s
        self.source = source or StateSource(settings.REDIS_URL, account)
        self.send = send
        self.who = who or f"monitor:{getpass.getuser()}"
        self.sub_title = account
        self._shown: tuple[float, int] | None = None  # (published_at, seq) on screen
        self._previous: tuple[dict[str, Any], float] | None = None
        self._rates: vm.Rates | None = None
        self._orders_history: deque[float] = deque(maxlen=SPARK_POINTS)

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("connecting…", id="health")
        yield Static("waiting for the engine's state", id="summary")
        with Horizontal(id="middle"):
            with Vertical(id="flow"):
                yield Static(self._throughput_text(None), id="throughput")
                yield Sparkline([], id="orders-spark")
            yield Static("", id="risk")
        yield DataTable(id="latency", show_cursor=False)
        with Horizontal(id="lower"):
            yield DataTable(id="positions", show_cursor=False)
            yield DataTable(id="trades", show_cursor=False)
        yield Static("P pause · R resume · F flatten all · Q quit", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#flow").border_title = "Throughput (orders/s)"
        self.query_one("#risk").border_title = "Risk usage"
        self.query_one("#summary").border_title = f"Engine {self.account}"
        for table_id, columns, title in (
            ("#latency", vm.LATENCY_COLUMNS, "Latency"),
            ("#positions", vm.POSITION_COLUMNS, "Positions"),
            ("#trades", vm.TRADE_COLUMNS, "Recent trades"),
        ):
            table = self.query_one(table_id, DataTable)
            table.add_columns(*columns)
            table.border_title = title
        self.set_interval(self.interval_s, self.poll_state)
        self.call_later(self.poll_state)

    def on_unmount(self) -> None:
        self.source.close()

    # -- state ---------------------------------------------------------------------------------

    async def poll_state(self) -> None:
        # The read blocks on a socket; a thread keeps the keys and the redraws responsive.
        reading = await asyncio.to_thread(self.source.read)
        with contextlib.suppress(NoMatches):  # the app closed while the read was out
            self.show(reading)

    def show(self, reading: Reading) -> None:
        engine = reading.engine
        health = vm.health(engine.state, engine.age_s, STALE_AFTER_S, reading.error)
        marker = self.query_one("#health", Static)
        seq = f"  seq {engine.seq}" if engine.state is not None else ""
        marker.update(f"{self.account}{seq}  {health.marker}")
        marker.set_classes(health.level)
        if engine.state is None:
            return
        published = (engine.published_at, engine.seq)
        if published == self._shown:
            return
        self._shown = published
        state = engine.state
        if self._previous is not None:
            previous, previous_at = self._previous
            self._rates = vm.rates(state, previous, engine.published_at - previous_at)
            if self._rates is not None:
                self._orders_history.append(self._rates.orders)
        self._previous = (state, engine.published_at)
        self._render_state(state)

    def _render_state(self, state: dict[str, Any]) -> None:
        self.query_one("#summary", Static).update(self._summary_text(state))
        self.query_one("#throughput", Static).update(self._throughput_text(self._rates))
        self.query_one("#orders-spark", Sparkline).data = list(self._orders_history)
        self.query_one("#risk", Static).update(self._risk_text(state))
        self._fill_table("#latency", vm.latency_rows(state))
        self._fill_table("#positions", vm.position_rows(state), key_column=0)
        self._fill_table("#trades", vm.trade_rows(state))

    def _summary_text(self, state: dict[str, Any]) -> Text:
        s = vm.summary(state, self._rates)
        text = Text()
        colour = {"ACTIVE": "bold green", "REDUCING": "bold dark_orange"}.get(s.state, "bold red")
        text.append(s.state, colour)
        if s.reason:
            text.append(f" ({s.reason})")
        for label, value in (
            ("venue", s.venue),
            ("orders", s.orders_per_s),
            ("tick→order p50/p99", s.tick_to_order),
            ("net", s.net_position),
            ("P&L", f"{s.total_pnl} (day {s.daily_pnl})"),
            ("risk", s.risk_state),
            ("fills", s.fills),
            ("working", s.working_orders),
        ):
            text.append("  │  ", "dim")
            text.append(f"{label} ", "dim")
            text.append(value, "bold")
        return text

    @staticmethod
    def _throughput_text(rates: vm.Rates | None) -> Text:
        text = Text()
        figures = (
            ("orders", rates.orders if rates else None),
            ("fills", rates.fills if rates else None),
            ("cancels", rates.cancels if rates else None),
            ("rejects", rates.rejects if rates else None),
        )
        for i, (label, value) in enumerate(figures):
            if i:
                text.append("   ")
            text.append(f"{label} ", "dim")
            text.append(vm.per_second(value), "bold")
        return text

    @staticmethod
    def _risk_text(state: dict[str, Any]) -> Text:
        text = Text()
        for i, bar in enumerate(vm.risk_bars(state)):
            if i:
                text.append("\n")
            filled = bar.filled_cells(BAR_WIDTH)
            text.append(f"{bar.name:<16}")
            text.append("█" * filled, BAR_COLOURS[bar.level])
            text.append("░" * (BAR_WIDTH - filled), "dim")
            text.append(f" {bar.percent:>5}", BAR_COLOURS[bar.level])
        return text or Text("no risk figures published", "dim")

    def _fill_table(
        self, table_id: str, rows: list[tuple[str, ...]], key_column: int | None = None
    ) -> None:
        table = self.query_one(table_id, DataTable)
        table.clear()
        for row in rows:
            key = row[key_column] if key_column is not None else None
            cells = [Text(c, style="bold") for c in row] if row[0] == "TOTAL" else row
            table.add_row(*cells, key=key)

    # -- commands ------------------------------------------------------------------------------

    def action_pause(self) -> None:
        self.run_command("pause")

    def action_resume(self) -> None:
        self.run_command("resume")

    def action_flatten(self) -> None:
        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.run_command("flatten_all")
            else:
                self.set_status("flatten_all: cancelled, nothing sent")

        self.push_screen(ConfirmFlatten(self.account), answered)

    def run_command(self, kind: str) -> None:
        self.set_status(f"{kind}: sent, waiting for the engine…")
        self.run_worker(
            lambda: self._send_in_thread(kind),
            name=f"command:{kind}",
            group="commands",
            thread=True,
            exit_on_error=False,
        )

    def _send_in_thread(self, kind: str) -> None:
        try:
            outcome = self.send(self.account, kind, who=self.who)
            message, severity = outcome_text(kind, outcome)
        except redis.RedisError as exc:
            message, severity = f"{kind}: not sent, Redis unreachable: {exc}", "error"
        except Exception as exc:  # the screen must outlive any failure of one command
            message, severity = f"{kind}: failed: {exc}", "error"
        finally:
            # The audit row was written on this thread's own connection; don't leave it open.
            connections.close_all()
        with contextlib.suppress(RuntimeError):  # the app closed while the command was out
            self.call_from_thread(self.set_status, message, severity)

    def set_status(self, message: str, severity: str = "") -> None:
        try:
            self.query_one("#status", Static).update(message)
        except NoMatches:
            return  # the app is closing
        if severity:
            self.notify(message, severity=severity)  # type: ignore[arg-type]
