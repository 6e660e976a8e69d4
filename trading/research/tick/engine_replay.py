"""Backtest the live engine itself on a LOBSTER day, in process, with constant latencies.

Nothing of the trading path is re-implemented here: the engine (`TradingEngine`, with its
strategies, pre-trade risk and order manager) runs unchanged with an in-process feed and
gateway, against the exchange's own venue holding the replayed book, stepped by the same
discrete-event schedule as the exchange's lockstep replay (`trading.exchange.lockstep`). A
lockstep run of `runexchange` and `runengine` over TCP on the same day and latencies therefore
sends the same orders at the same data times and gets the same fills; the parity test checks
exactly that.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trading import lobster
from trading.config import RiskConfig, SystemConfig
from trading.engine.engine import TradingEngine
from trading.engine.in_process import InProcessFeed, InProcessGateway, attach_in_process
from trading.engine.lockstep import DataClock, EngineStepper
from trading.exchange.lockstep import Delivery, LockstepVenue, SentOrder
from trading.exchange.replay_source import ReplaySource
from trading.model.orders import Fill
from trading.portfolio.positions import to_dollars


@dataclass
class ReplayResult:
    """What the engine did over the replay.

    `orders`: every OUCH message the engine sent, in order, with the data time of the step
    it was sent in (`sent_ns`) and its arrival at the venue; `fills`: the engine's fills in
    order, `ts_ns` the data time the execution reached it; `deliveries`: every answer of the
    venue as delivered.
    """

    symbol: str
    entry_latency_ns: int
    response_latency_ns: int
    orders: list[SentOrder]
    fills: list[Fill]
    deliveries: list[Delivery]
    rows: int
    steps: int
    counters: dict[str, Any] = field(default_factory=dict)
    final_position: int = 0
    realised_pnl: float = 0.0

    def journal(self) -> dict[str, Any]:
        """The same shape as the exchange's lockstep journal."""
        return {
            "symbol": self.symbol,
            "entry_latency_ns": self.entry_latency_ns,
            "response_latency_ns": self.response_latency_ns,
            "rows": self.rows,
            "steps": self.steps,
            "orders": [o.as_dict() for o in self.orders],
            "deliveries": [d.as_dict() for d in self.deliveries],
        }


def replay_backtest(
    day_messages: np.ndarray,
    day_orderbook: np.ndarray,
    config: SystemConfig,
    *,
    symbol: str,
    entry_latency_ns: int,
    response_latency_ns: int,
    date: dt.date | None = None,
    logger: logging.Logger | None = None,
) -> ReplayResult:
    """Run the engine of `config` (its account, strategies and risk limits) over the LOBSTER
    rows `day_messages` / `day_orderbook` of `symbol`.

    `day_messages` is a `trading.lobster.MESSAGE_DTYPE` array, `day_orderbook` the matching
    (rows, 4 * levels) array; the latencies are constant, in nanoseconds.
    """
    _check_day(day_messages, day_orderbook, symbol)
    account = config.account(config.engine.account)
    if account is None:
        raise ValueError(f"engine.account {config.engine.account!r} has no exchange account")
    log = logger or logging.getLogger("BACKTEST")
    info = lobster.LobsterFileName(
        symbol, date or dt.date(1970, 1, 1), 0, 0, "message",
        lobster.level_count(day_orderbook), False,
    )  # fmt: skip
    replay = ReplaySource(lobster.LobsterDay(info, day_messages, day_orderbook),
                          config.exchange.tick_size)  # fmt: skip

    core = LockstepVenue.for_replay(
        config.exchange, replay, entry_latency_ns=entry_latency_ns,
        response_latency_ns=response_latency_ns, logger=log,
    )  # fmt: skip
    venue = core.venue

    clock = DataClock()
    engine = TradingEngine(
        config, host="", order_port=0, feed_port=0, snapshot_port=0,
        username=account.username, password="", clock_ns=clock, logger=log,
    )  # fmt: skip
    attach_in_process(engine, clock, account.username)
    feed = engine.feed
    gateway = engine.gateway
    assert isinstance(feed, InProcessFeed) and isinstance(gateway, InProcessGateway)
    fills: list[Fill] = []
    engine.record = lambda item: fills.append(item) if isinstance(item, Fill) else None
    # The limits the live engine starts with: the configured ones, seeded into its ledger.
    limits = {f.name: getattr(config.risk, f.name) for f in dataclasses.fields(RiskConfig)}
    ok, reason = engine.set_limits(limits, "config")
    if not ok:
        raise ValueError(f"the configured risk limits cannot be used: {reason}")
    feed.load_snapshot([m.encode() for m in venue.snapshot_messages(0)], 1)

    stepper = EngineStepper(engine, clock)
    username = account.username
    while (step := core.step()) is not None:
        stepper.begin(step.time_ns)
        if step.feed:
            feed.deliver(step.feed)
        for user, payload in step.responses:
            if user == username:
                for event in gateway.deliver(payload):
                    stepper.venue_event(event)
        stepper.finish()
        for payload in gateway.take_sent():
            core.submit(username, payload)

    position = sum(q for (_, s), q in engine.strategy_positions.items() if s == symbol)
    return ReplayResult(
        symbol, entry_latency_ns, response_latency_ns, list(core.orders), fills,
        list(core.deliveries), core.rows_done, core.steps, dict(vars(engine.counters)),
        position, to_dollars(engine.portfolio.realised),
    )  # fmt: skip


def _check_day(messages: np.ndarray, orderbook: np.ndarray, symbol: str) -> None:
    if messages.dtype != lobster.MESSAGE_DTYPE:
        raise ValueError(
            f"day_messages must have trading.lobster.MESSAGE_DTYPE, not {messages.dtype}"
        )
    if not len(messages):
        raise ValueError("day_messages is empty: nothing to replay")
    if orderbook.ndim != 2 or len(orderbook) != len(messages) or orderbook.shape[1] % 4:
        raise ValueError(
            f"day_orderbook must be (rows, 4 * levels) with {len(messages)} rows, "
            f"not {orderbook.shape}"
        )
    if np.any(np.diff(messages["ts_ns"]) < 0):
        raise ValueError("day_messages times go backwards")
    if not symbol or not symbol.isascii() or not symbol.isupper():
        raise ValueError(f"symbol must be an upper-case ticker, not {symbol!r}")
