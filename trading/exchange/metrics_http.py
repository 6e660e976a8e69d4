"""The exchange's HTTP port: Prometheus metrics, a JSON status, and operator actions.

A deliberately small HTTP/1.1 server on the exchange's own event loop (one request per
connection), so metrics read the venue's state directly without locks or threads.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from trading.prices import to_dollars

if TYPE_CHECKING:
    from trading.exchange.server import ExchangeServer

MAX_REQUEST_BYTES = 8192


class MetricsHttpServer:
    """GET /metrics, GET /status, POST /halt/SYMBOL, POST /resume/SYMBOL."""

    def __init__(self, exchange: ExchangeServer) -> None:
        self.exchange = exchange
        self.server: asyncio.AbstractServer | None = None

    async def start(self, host: str, port: int) -> int:
        self.server = await asyncio.start_server(self._serve, host, port, reuse_address=True)
        return self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            method, path = _request_line(head)
            status, content_type, body = self._route(method, path)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            status, content_type, body = 400, "text/plain", b"bad request\n"
        except ConnectionError:
            return
        writer.write(
            f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        try:
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    def _route(self, method: str, path: str) -> tuple[int, str, bytes]:
        exchange = self.exchange
        if method == "GET" and path == "/metrics":
            return 200, "text/plain; version=0.0.4", render_metrics(exchange).encode()
        if method == "GET" and path == "/status":
            return 200, "application/json", json.dumps(status_document(exchange)).encode()
        parts = path.strip("/").split("/")
        if method == "POST" and len(parts) == 2 and parts[0] in ("halt", "resume"):
            symbol = parts[1].upper()
            if symbol not in exchange.venue.symbols:
                return 404, "text/plain", f"unknown symbol {symbol}\n".encode()
            exchange.venue.halt(symbol, exchange.clock(), halted=parts[0] == "halt")
            return 200, "application/json", json.dumps(status_document(exchange)).encode()
        return 404, "text/plain", b"not found\n"


def _request_line(head: bytes) -> tuple[str, str]:
    line = head.split(b"\r\n", 1)[0].decode("ascii")
    method, target, _version = line.split(" ", 2)
    return method, target.split("?", 1)[0]


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found"}


def status_document(exchange: ExchangeServer) -> dict[str, Any]:
    """What the exchange is doing, as JSON: sessions, counters and every symbol's top of book."""
    venue = exchange.venue
    symbols = {}
    for name, state in venue.symbols.items():
        bid, bid_qty = state.book.best_bid()
        ask, ask_qty = state.book.best_ask()
        symbols[name] = {
            "bid": to_dollars(bid) if bid else None,
            "bid_qty": bid_qty,
            "ask": to_dollars(ask) if ask else None,
            "ask_qty": ask_qty,
            "last": to_dollars(state.last_trade_price) if state.last_trade_price else None,
            "volume": state.volume,
            "orders_resting": len(state.book),
            "halted": state.halted,
        }
    c = venue.counters
    return {
        "sessions": {
            "order": [str(s) for s in exchange.order_server.active],
            "feed": [str(s) for s in exchange.feed_server.active],
            "snapshot": [str(s) for s in exchange.snapshot_server.active],
        },
        "feed_sequence": exchange.feed_log.next_sequence - 1,
        "counters": {
            "orders": c.orders,
            "rejects": c.rejects,
            "duplicate_tokens": c.duplicate_tokens,
            "cancels": c.cancels,
            "cancel_rejects": c.cancel_rejects,
            "replaces": c.replaces,
            "executions": c.executions,
            "shares_traded": c.shares_traded,
            "agent_orders": c.agent_orders,
            **exchange.counts,
        },
        "symbols": symbols,
    }


def render_metrics(exchange: ExchangeServer) -> str:
    """The Prometheus text exposition of the exchange's counters and gauges."""
    venue = exchange.venue
    c = venue.counters
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP exchange_{name} {help_text}")
        lines.append(f"# TYPE exchange_{name} {kind}")
        for labels, value in samples:
            lines.append(f"exchange_{name}{labels} {value:g}")

    metric("orders_total", "counter", "Orders accepted from clients.", [("", c.orders)])
    metric(
        "rejects_total",
        "counter",
        "Orders rejected, by OUCH reason code.",
        [(f'{{reason="{r}"}}', n) for r, n in sorted(c.reject_reasons.items())] or [("", 0)],
    )
    metric("executions_total", "counter", "Executions (fills).", [("", c.executions)])
    metric("shares_traded_total", "counter", "Shares traded.", [("", c.shares_traded)])
    metric("cancels_total", "counter", "Client cancels.", [("", c.cancels)])
    metric("replaces_total", "counter", "Client replaces.", [("", c.replaces)])
    metric("agent_orders_total", "counter", "Synthetic flow orders.", [("", c.agent_orders)])
    metric(
        "feed_messages_total", "counter", "ITCH messages published.",
        [("", exchange.feed_log.next_sequence - 1)],
    )  # fmt: skip
    metric(
        "sessions",
        "gauge",
        "Logged-in SoupBinTCP sessions, by port.",
        [
            ('{port="order"}', len(exchange.order_server.active)),
            ('{port="feed"}', len(exchange.feed_server.active)),
            ('{port="snapshot"}', len(exchange.snapshot_server.active)),
        ],
    )
    metric(
        "port_events_total",
        "counter",
        "Session events (logins, rejects, protocol errors, idle disconnects), by port.",
        [
            ('{{port="{}",event="{}"}}'.format(*key.split("_", 1)), n)
            for key, n in sorted(exchange.counts.items())
        ]
        or [("", 0)],
    )
    books = []
    for name, state in venue.symbols.items():
        bid = state.book.best_bid()[0]
        ask = state.book.best_ask()[0]
        books.append((name, bid, ask, state))
    metric(
        "best_bid_dollars", "gauge", "Best bid.",
        [(f'{{symbol="{n}"}}', to_dollars(b)) for n, b, _, _ in books],
    )  # fmt: skip
    metric(
        "best_ask_dollars", "gauge", "Best ask.",
        [(f'{{symbol="{n}"}}', to_dollars(a)) for n, _, a, _ in books],
    )  # fmt: skip
    metric(
        "volume_shares", "counter", "Shares traded per symbol.",
        [(f'{{symbol="{n}"}}', s.volume) for n, _, _, s in books],
    )  # fmt: skip
    metric(
        "resting_orders", "gauge", "Orders resting on the book.",
        [(f'{{symbol="{n}"}}', len(s.book)) for n, _, _, s in books],
    )  # fmt: skip
    metric(
        "halted", "gauge", "1 when the symbol is halted.",
        [(f'{{symbol="{n}"}}', int(s.halted)) for n, _, _, s in books],
    )  # fmt: skip
    return "\n".join(lines) + "\n"
