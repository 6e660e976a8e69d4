"""The peer of the tick backtester: the same day and the same market maker in hftbacktest.

Benchmark- and test-only (hftbacktest is not a runtime dependency). The prepared event stream
of :mod:`trading.research.tick.events` (every order known, synthetic adds included) is written
in hftbacktest's L3 event format, so both backtesters replay the very same book:

* add -> ADD_ORDER_EVENT; partial cancel -> MODIFY_ORDER_EVENT to the remaining size (a size
  decrease keeps the order's place); delete -> CANCEL_ORDER_EVENT;
* visible execution -> FILL_EVENT (it is what fills backtest orders queued ahead of the
  executed one), then MODIFY (rest of the order) or CANCEL (nothing left): hftbacktest's L3
  FILL does not change the book by itself;
* hidden executions are left out: hftbacktest's L3 exchange only fills on executions of
  orders it knows.

The strategy loop below is hftbacktest's usual ``while hbt.elapse(interval) == 0`` form, with
the quoting decision taken by the same compiled kernel the tick backtester uses
(`market_maker_quotes`, which equals the engine's `desired_quotes`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from hftbacktest import (
    ADD_ORDER_EVENT,
    BUY_EVENT,
    CANCEL_ORDER_EVENT,
    EXCH_EVENT,
    FILL_EVENT,
    GTC,
    LIMIT,
    LOCAL_EVENT,
    MODIFY_ORDER_EVENT,
    SELL_EVENT,
    BacktestAsset,
    HashMapMarketDepthBacktest,
)
from hftbacktest.binding import event_dtype
from hftbacktest.order import CANCELED, FILLED, NEW, NONE
from numba import njit

from trading.research.tick.events import EV_ADD, EV_EXEC, TickEvents
from trading.research.tick.strategy import market_maker_quotes

INVALID_MIN = np.iinfo(np.int64).min
INVALID_MAX = np.iinfo(np.int64).max


@njit(cache=True)
def _convert(
    kind, oid, qty, price, side, ts, feed_ns, n_orders, out_ev, out_ts, out_px, out_qty, out_oid
):
    rem = np.zeros(n_orders, np.int64)
    base = EXCH_EVENT | LOCAL_EVENT
    j = 0
    for i in range(kind.shape[0]):
        k = kind[i]
        if k < EV_ADD or k > EV_EXEC:
            continue
        o = oid[i]
        flag = base | (BUY_EVENT if side[i] == 1 else SELL_EVENT)
        if k == EV_ADD:
            rem[o] = qty[i]
            codes = (ADD_ORDER_EVENT, -1)
            sizes = (qty[i], 0)
        else:
            rem[o] -= qty[i]
            after = CANCEL_ORDER_EVENT if rem[o] == 0 else MODIFY_ORDER_EVENT
            if k == EV_EXEC:
                codes = (FILL_EVENT, after)
                sizes = (qty[i], rem[o])
            else:  # cancel or delete
                codes = (after, -1)
                sizes = (rem[o], 0)
        for c in range(2):
            if codes[c] < 0:
                continue
            out_ev[j] = flag | codes[c]
            out_ts[j] = ts[i]
            out_px[j] = price[i]
            out_qty[j] = sizes[c]
            out_oid[j] = o + 1
            j += 1
    return j


def to_hftbacktest_l3(events: TickEvents, feed_latency_ns: int = 0) -> np.ndarray:
    """The prepared stream as hftbacktest L3 events (prices in LOBSTER units, tick 100)."""
    n = 2 * events.n_events
    ev = np.zeros(n, np.uint64)
    ts = np.zeros(n, np.int64)
    px = np.zeros(n, np.float64)
    qty = np.zeros(n, np.float64)
    oid = np.zeros(n, np.uint64)
    count = _convert(
        events.kind,
        events.oid,
        events.qty,
        events.price,
        events.side,
        events.ts,
        feed_latency_ns,
        events.n_orders,
        ev,
        ts,
        px,
        qty,
        oid,
    )
    out = np.zeros(count, event_dtype)
    out["ev"] = ev[:count]
    out["exch_ts"] = ts[:count]
    out["local_ts"] = ts[:count] + feed_latency_ns
    out["px"] = px[:count]
    out["qty"] = qty[:count]
    out["order_id"] = oid[:count]
    return out


@njit
def _market_maker(hbt, interval_ns, params, tick, fills):
    """hftbacktest's loop with the engine's quoting rule; records fills as they are seen."""
    n_fills = 0
    next_id = 1
    orders_sent = 0
    while True:
        code = hbt.elapse(interval_ns)
        if code != 0:
            break
        orders = hbt.orders(0)
        values = orders.values()
        while values.has_next():
            order = values.get()
            if order.status == FILLED and n_fills < fills.shape[0]:
                fills[n_fills, 0] = order.exch_timestamp
                fills[n_fills, 1] = order.side
                fills[n_fills, 2] = order.exec_price_tick * tick
                fills[n_fills, 3] = int(order.exec_qty)
                fills[n_fills, 4] = 1 if order.arr[0].maker else 0
                n_fills += 1
        hbt.clear_inactive_orders(0)
        depth = hbt.depth(0)
        if depth.best_bid_tick == INVALID_MIN or depth.best_ask_tick == INVALID_MAX:
            continue
        inventory = int(round(hbt.position(0)))
        act, want_bid, want_ask, qty = market_maker_quotes(
            depth.best_bid_tick * tick, depth.best_ask_tick * tick, inventory, params
        )
        if not act:
            continue
        for sd in (1, -1):
            want = want_bid if sd == 1 else want_ask
            kept = False
            values = orders.values()
            while values.has_next():
                order = values.get()
                if order.side != sd:
                    continue
                live = order.status == NEW or (order.status == NONE and order.req == NEW)
                if not live or order.req == CANCELED:
                    continue
                if not kept and want > 0 and order.price_tick * tick == want:
                    kept = True
                elif order.status == NEW and order.req == NONE:
                    hbt.cancel(0, order.order_id, False)
            if want > 0 and not kept:
                if sd == 1:
                    hbt.submit_buy_order(0, next_id, float(want), float(qty), GTC, LIMIT, False)
                else:
                    hbt.submit_sell_order(0, next_id, float(want), float(qty), GTC, LIMIT, False)
                next_id += 1
                orders_sent += 1
    # Fills answered after the last wake-up.
    values = hbt.orders(0).values()
    while values.has_next():
        order = values.get()
        if order.status == FILLED and n_fills < fills.shape[0]:
            fills[n_fills, 0] = order.exch_timestamp
            fills[n_fills, 1] = order.side
            fills[n_fills, 2] = order.exec_price_tick * tick
            fills[n_fills, 3] = int(order.exec_qty)
            fills[n_fills, 4] = 1 if order.arr[0].maker else 0
            n_fills += 1
    return n_fills, orders_sent, code, hbt.current_timestamp


@dataclass
class PeerResult:
    fills: np.ndarray  # (n, 5): exch ts, side, price, qty, maker
    orders_sent: int
    position: float
    balance: float  # price units * shares (cash)
    fee: float  # price units
    num_trades: int
    elapsed_s: float


def run_hftbacktest_mm(
    hbt_events: np.ndarray,
    params: np.ndarray,
    *,
    entry_ns: int,
    response_ns: int,
    maker_fee: float = 0.0,
    taker_fee: float = 0.0,
    interval_ns: int = 100_000_000,
    tick: int = 100,
    queue_model: str = "l3_fifo",
) -> PeerResult:
    """Run the market maker in hftbacktest on ``hbt_events``; ``elapsed_s`` times the run."""
    asset = (
        BacktestAsset()
        .data(hbt_events)
        .linear_asset(1.0)
        .constant_order_latency(entry_ns, response_ns)
        .no_partial_fill_exchange()
        .trading_value_fee_model(maker_fee, taker_fee)
        .tick_size(float(tick))
        .lot_size(1.0)
        .last_trades_capacity(0)
    )
    if queue_model == "l3_fifo":
        asset = asset.l3_fifo_queue_model()
    else:
        raise ValueError(f"unsupported queue model for the L3 peer: {queue_model!r}")
    hbt = HashMapMarketDepthBacktest([asset])
    fills = np.zeros((1 << 20, 5), np.int64)
    start = time.perf_counter()
    n_fills, orders_sent, code, stop_ts = _market_maker(hbt, interval_ns, params, tick, fills)
    if code != 1:
        raise RuntimeError(f"hftbacktest stopped with code {code} at {stop_ts}")
    elapsed = time.perf_counter() - start
    values = hbt.state_values(0)
    result = PeerResult(
        fills=fills[:n_fills].copy(),
        orders_sent=int(orders_sent),
        position=float(values.position),
        balance=float(values.balance),
        fee=float(values.fee),
        num_trades=int(values.num_trades),
        elapsed_s=elapsed,
    )
    hbt.close()
    return result
