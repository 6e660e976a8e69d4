"""LOBSTER messages turned into the event arrays the compiled backtester replays.

A LOBSTER message file of depth N only carries messages that touch the top N levels, so many
orders are first seen when they are executed, cancelled or deleted: they rested before the open
or were added deeper than level N. Every such order gets a synthetic add, sized as the sum of
everything later taken from it:

* with the orderbook snapshots, at the moment its level shows more visible quantity than the
  known orders explain (the opening book, or a level coming into view when the levels above it
  empty); unseen orders at that level fill the gap in the order they are first seen (one
  executed earlier was nearer the front), and depth no message ever touches becomes an
  anonymous order. The rebuilt top of book then equals the snapshots';
* otherwise (or if it was never revealed), just before its first message.

The result is an order-by-order stream in which every order id is known. Order ids are mapped
to dense indexes so the replay uses arrays, not hash maps, and the best bid and ask after every
event are computed here once (the simulated orders have no market impact, so the top of book
does not depend on them) and read by index during the replay.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from trading.lobster import (
    ADD,
    BUY,
    CANCEL,
    DELETE,
    EMPTY_ASK,
    EMPTY_BID,
    EXECUTE_HIDDEN,
    EXECUTE_VISIBLE,
    MESSAGE_DTYPE,
)

__all__ = [
    "EV_ADD",
    "EV_CANCEL",
    "EV_DELETE",
    "EV_EXEC",
    "EV_HIDDEN",
    "EV_NOOP",
    "TickEvents",
    "prepare_events",
]

# Event kinds of the prepared stream (LOBSTER's own codes for the five book messages).
EV_NOOP = 0
EV_ADD = ADD
EV_CANCEL = CANCEL
EV_DELETE = DELETE
EV_EXEC = EXECUTE_VISIBLE
EV_HIDDEN = EXECUTE_HIDDEN

DEFAULT_TICK = 100  # one cent in LOBSTER's 1e-4 dollar units


@dataclass(frozen=True)
class TickEvents:
    """An order-by-order event stream ready for replay.

    Arrays have one row per event: the synthetic opening adds first, then one per message.
    ``oid`` is a dense order index (-1 for hidden executions and ignored messages);
    ``add_index[oid]`` is the event index of that order's add, its FIFO priority;
    ``message_row`` is the message each event comes from (-1 for a synthetic add).
    ``bid``/``bid_qty``/``ask``/``ask_qty`` are the top of book after each event (0 for an
    empty side). Prices are LOBSTER integers; ``tick`` is the price grid step and ``pmin`` the
    lowest price, so a level index is ``(price - pmin) // tick``.
    """

    ts: np.ndarray
    kind: np.ndarray
    oid: np.ndarray
    qty: np.ndarray
    price: np.ndarray
    side: np.ndarray
    add_index: np.ndarray
    message_row: np.ndarray
    bid: np.ndarray
    bid_qty: np.ndarray
    ask: np.ndarray
    ask_qty: np.ndarray
    pmin: int
    tick: int
    levels: int
    n_messages: int
    n_synthetic: int

    @property
    def n_events(self) -> int:
        return len(self.ts)

    @property
    def n_orders(self) -> int:
        return len(self.add_index)


def prepare_events(
    messages: np.ndarray, orderbook: np.ndarray | None = None, *, tick: int = DEFAULT_TICK
) -> TickEvents:
    """Build the replay stream from LOBSTER messages (and, optionally, the orderbook rows)."""
    if messages.dtype != MESSAGE_DTYPE:
        raise ValueError(f"messages must have trading.lobster.MESSAGE_DTYPE, got {messages.dtype}")
    if len(messages) == 0:
        raise ValueError("messages is empty")
    if tick < 1:
        raise ValueError(f"tick must be a positive integer, got {tick}")
    if orderbook is not None and (orderbook.ndim != 2 or orderbook.shape[1] % 4):
        raise ValueError(f"orderbook must have 4*levels columns, got shape {orderbook.shape}")
    if orderbook is not None and len(orderbook) != len(messages):
        raise ValueError(f"{len(orderbook)} orderbook rows for {len(messages)} messages")

    kind = messages["kind"].astype(np.int64)
    book_msg = (kind >= ADD) & (kind <= EXECUTE_VISIBLE)
    rows = np.flatnonzero(book_msg)
    uniq, first, inverse = np.unique(
        messages["order_id"][rows], return_index=True, return_inverse=True
    )
    first_row = rows[first]
    oid_msg = np.full(len(messages), -1, np.int64)
    oid_msg[rows] = inverse
    known = kind[first_row] == ADD
    taken = np.bincount(
        inverse, weights=np.where(kind[rows] == ADD, 0, messages["size"][rows]), minlength=len(uniq)
    ).astype(np.int64)

    prices = messages["price"][book_msg]
    ob: np.ndarray
    if orderbook is None:
        ob = np.zeros((0, 4), np.int64)
    else:
        ob = np.ascontiguousarray(orderbook, dtype=np.int64)
        visible = ob[:, 0::2][(ob[:, 1::2] > 0)]
        prices = np.concatenate([prices, visible[(visible != EMPTY_ASK) & (visible != EMPTY_BID)]])
    pmin, pmax = int(prices.min()), int(prices.max())
    off = (prices - pmin) % tick
    if off.any():
        bad = int(prices[np.argmax(off != 0)])
        raise ValueError(f"price {bad} is not on the tick grid of {tick} from {pmin}")
    levels = (pmax - pmin) // tick + 1

    # Unseen orders grouped by (side, level), each group in first-seen order.
    unknown = np.flatnonzero(~known)
    u_side = (messages["direction"][first_row[unknown]] == BUY).astype(np.int64)
    u_level = (messages["price"][first_row[unknown]] - pmin) // tick
    group = u_side * levels + u_level
    pending = unknown[np.lexsort((first_row[unknown], group))]
    bounds = np.searchsorted(
        group[np.lexsort((first_row[unknown], group))], np.arange(2 * levels + 1)
    )
    last_row = np.zeros(len(uniq), np.int64)
    np.maximum.at(last_row, inverse, rows)
    msg_kind = np.where((kind >= ADD) & (kind <= EXECUTE_HIDDEN), kind, EV_NOOP)
    out = _build(
        messages["ts_ns"],
        msg_kind,
        oid_msg,
        messages["size"],
        messages["price"],
        messages["direction"].astype(np.int64),
        known,
        taken,
        last_row,
        pending,
        bounds,
        ob,
        pmin,
        tick,
        levels,
    )
    ts, ev_kind, oid, qty, price, side, message_row, bid, bid_qty, ask, ask_qty, n_orders = out
    add_index = np.full(n_orders, -1, np.int64)
    add_rows = np.flatnonzero(ev_kind == EV_ADD)
    add_index[oid[add_rows]] = add_rows
    return TickEvents(
        ts=ts,
        kind=ev_kind,
        oid=oid,
        qty=qty,
        price=price,
        side=side,
        add_index=add_index,
        message_row=message_row,
        bid=bid,
        bid_qty=bid_qty,
        ask=ask,
        ask_qty=ask_qty,
        pmin=pmin,
        tick=tick,
        levels=int(levels),
        n_messages=len(messages),
        n_synthetic=len(ts) - len(messages),
    )


@njit(cache=True)
def _build(
    m_ts,
    m_kind,
    m_oid,
    m_size,
    m_price,
    m_dir,
    known,
    taken,
    last_row,
    pending,
    bounds,
    ob,
    pmin,
    tick,
    levels,
):
    """The merged event stream with synthetic adds, and the top of book after every event.

    After each message the visible levels are reconciled with the snapshot: missing depth
    reveals unseen orders (or an anonymous one), and excess depth is depth cancelled while it
    was out of view, removed from the back of the level among orders no later message names.
    """
    m = m_ts.shape[0]
    n_known = known.shape[0]
    cap = m + pending.shape[0] + 4 * levels + 2 * m * (ob.shape[1] // 4) // 8 + 16
    ts = np.zeros(cap, np.int64)
    kind = np.zeros(cap, np.uint8)
    oid = np.full(cap, -1, np.int64)
    qty = np.zeros(cap, np.int64)
    price = np.zeros(cap, np.int64)
    side = np.zeros(cap, np.int8)
    row = np.full(cap, -1, np.int64)
    out_b = np.zeros(cap, np.int64)
    out_bq = np.zeros(cap, np.int64)
    out_a = np.zeros(cap, np.int64)
    out_aq = np.zeros(cap, np.int64)
    rem = np.zeros(n_known + cap, np.int64)
    added = known.copy()
    nxt = bounds[:-1].copy()  # next pending order per (side, level)
    lvl = np.zeros((2, levels), np.int64)  # [0] asks, [1] bids
    best = np.array([levels, -1])  # best ask level, best bid level
    state = np.array([0, n_known])  # events written, orders known
    ob_levels = ob.shape[1] // 4 if ob.shape[0] > 0 else 0
    target = np.zeros((2, levels), np.int64)
    # Per-level FIFO lists of resting orders (doubly linked through order indexes).
    head = np.full(2 * levels, -1, np.int64)
    tail = np.full(2 * levels, -1, np.int64)
    nxt_o = np.full(n_known + cap, -1, np.int64)
    prv_o = np.full(n_known + cap, -1, np.int64)
    links = (head, tail, nxt_o, prv_o)

    for r in range(-1, m):
        if r >= 0:
            o = m_oid[r]
            if o >= 0 and not added[o]:
                added[o] = True
                _emit(
                    m_ts[r],
                    EV_ADD,
                    o,
                    taken[o],
                    m_price[r],
                    m_dir[r],
                    -1,
                    ts,
                    kind,
                    oid,
                    qty,
                    price,
                    side,
                    row,
                    rem,
                    lvl,
                    best,
                    state,
                    links,
                    out_b,
                    out_bq,
                    out_a,
                    out_aq,
                    pmin,
                    tick,
                    levels,
                    cap,
                )
            _emit(
                m_ts[r],
                m_kind[r],
                o,
                m_size[r],
                m_price[r],
                m_dir[r],
                r,
                ts,
                kind,
                oid,
                qty,
                price,
                side,
                row,
                rem,
                lvl,
                best,
                state,
                links,
                out_b,
                out_bq,
                out_a,
                out_aq,
                pmin,
                tick,
                levels,
                cap,
            )
        if ob_levels == 0:
            continue
        # The visible depth this snapshot shows (the opening book is row 0 with message 0
        # undone), over the price range the snapshot covers on each side.
        snap = 0 if r < 0 else r
        t = m_ts[0] if r < 0 else m_ts[r]
        for s in range(2):
            shown = 0
            for k in range(ob_levels):
                px = ob[snap, 4 * k + 2 * s]
                q = ob[snap, 4 * k + 2 * s + 1]
                if q > 0 and px != EMPTY_ASK and px != EMPTY_BID:
                    target[s, (px - pmin) // tick] = q
                    shown += 1
            if (
                r < 0
                and m_kind[0] >= EV_ADD
                and m_kind[0] <= EV_EXEC
                and (m_dir[0] == 1) == (s == 1)
            ):
                lv0 = (m_price[0] - pmin) // tick
                target[s, lv0] += -m_size[0] if m_kind[0] == EV_ADD else m_size[0]
            # Levels from our best to the deepest shown one (all of ours if the side shows
            # fewer levels than the file holds).
            if s == 1:
                lo = 0 if shown < ob_levels else (ob[snap, 4 * (ob_levels - 1) + 2] - pmin) // tick
                hi = max(best[1], -1 if shown == 0 else (ob[snap, 2] - pmin) // tick)
            else:
                lo = min(best[0], levels if shown == 0 else (ob[snap, 0] - pmin) // tick)
                hi = (
                    levels - 1
                    if shown < ob_levels
                    else (ob[snap, 4 * (ob_levels - 1)] - pmin) // tick
                )
            for lv in range(lo, hi + 1):
                gap = target[s, lv] - lvl[s, lv]
                target[s, lv] = 0
                if gap == 0:
                    continue
                px = pmin + lv * tick
                sd = 1 if s == 1 else -1
                if gap < 0:
                    _trim(
                        t,
                        -gap,
                        s * levels + lv,
                        r,
                        last_row,
                        n_known,
                        ts,
                        kind,
                        oid,
                        qty,
                        price,
                        side,
                        row,
                        rem,
                        lvl,
                        best,
                        state,
                        links,
                        out_b,
                        out_bq,
                        out_a,
                        out_aq,
                        pmin,
                        tick,
                        levels,
                        cap,
                    )
                    continue
                g = s * levels + lv
                while nxt[g] < bounds[g + 1] and gap > 0:
                    o = pending[nxt[g]]
                    if added[o]:
                        nxt[g] += 1
                        continue
                    if taken[o] > gap:
                        break
                    added[o] = True
                    nxt[g] += 1
                    gap -= taken[o]
                    _emit(
                        t,
                        EV_ADD,
                        o,
                        taken[o],
                        px,
                        sd,
                        -1,
                        ts,
                        kind,
                        oid,
                        qty,
                        price,
                        side,
                        row,
                        rem,
                        lvl,
                        best,
                        state,
                        links,
                        out_b,
                        out_bq,
                        out_a,
                        out_aq,
                        pmin,
                        tick,
                        levels,
                        cap,
                    )
                if gap > 0:
                    o = state[1]
                    state[1] += 1
                    _emit(
                        t,
                        EV_ADD,
                        o,
                        gap,
                        px,
                        sd,
                        -1,
                        ts,
                        kind,
                        oid,
                        qty,
                        price,
                        side,
                        row,
                        rem,
                        lvl,
                        best,
                        state,
                        links,
                        out_b,
                        out_bq,
                        out_a,
                        out_aq,
                        pmin,
                        tick,
                        levels,
                        cap,
                    )
    n = state[0]
    return (
        ts[:n],
        kind[:n],
        oid[:n],
        qty[:n],
        price[:n],
        side[:n],
        row[:n],
        out_b[:n],
        out_bq[:n],
        out_a[:n],
        out_aq[:n],
        state[1],
    )


@njit(cache=True)
def _trim(
    t,
    excess,
    g,
    r,
    last_row,
    n_known,
    ts,
    kind,
    oid,
    qty,
    price,
    side,
    row,
    rem,
    lvl,
    best,
    state,
    links,
    out_b,
    out_bq,
    out_a,
    out_aq,
    pmin,
    tick,
    levels,
    cap,
):
    """Remove `excess` shares from the back of level `g`, from orders no later message names."""
    s = g // levels
    px = pmin + (g % levels) * tick
    # First orders nothing names again, then (the snapshot is the truth) any from the back.
    for anyone in range(2):
        o = links[1][g]
        while o >= 0 and excess > 0:
            before = links[3][o]
            if anyone == 1 or o >= n_known or last_row[o] <= r:
                take = rem[o] if rem[o] <= excess else excess
                k = EV_DELETE if take == rem[o] else EV_CANCEL
                _emit(
                    t,
                    k,
                    o,
                    take,
                    px,
                    1 if s == 1 else -1,
                    -1,
                    ts,
                    kind,
                    oid,
                    qty,
                    price,
                    side,
                    row,
                    rem,
                    lvl,
                    best,
                    state,
                    links,
                    out_b,
                    out_bq,
                    out_a,
                    out_aq,
                    pmin,
                    tick,
                    levels,
                    cap,
                )
                excess -= take
            o = before


@njit(cache=True)
def _emit(
    t,
    k,
    o,
    q,
    px,
    sd,
    r,
    ts,
    kind,
    oid,
    qty,
    price,
    side,
    row,
    rem,
    lvl,
    best,
    state,
    links,
    out_b,
    out_bq,
    out_a,
    out_aq,
    pmin,
    tick,
    levels,
    cap,
):
    """Append one event, apply it to the level book and record the top of book after it.

    A cancel or execution never takes more than the order has and a delete takes all of it,
    so the stored size is the size actually removed.
    """
    i = state[0]
    if i >= cap:
        raise ValueError("event buffer overflow while rebuilding the book")
    state[0] = i + 1
    ts[i] = t
    kind[i] = k
    oid[i] = o
    price[i] = px
    side[i] = sd
    row[i] = r
    if k >= EV_ADD and k <= EV_EXEC:
        s = 1 if sd == 1 else 0
        lv = (px - pmin) // tick
        head, tail, nxt_o, prv_o = links
        g = s * levels + lv
        if k == EV_ADD:
            rem[o] = q
            delta = q
            prv_o[o] = tail[g]
            nxt_o[o] = -1
            if tail[g] >= 0:
                nxt_o[tail[g]] = o
            else:
                head[g] = o
            tail[g] = o
        else:
            q = rem[o] if (k == EV_DELETE or q > rem[o]) else q
            if rem[o] > 0 and rem[o] == q:
                if prv_o[o] >= 0:
                    nxt_o[prv_o[o]] = nxt_o[o]
                else:
                    head[g] = nxt_o[o]
                if nxt_o[o] >= 0:
                    prv_o[nxt_o[o]] = prv_o[o]
                else:
                    tail[g] = prv_o[o]
            rem[o] -= q
            delta = -q
            if q == 0:
                # Nothing left to take (its depth was trimmed while out of view): a no-op.
                kind[i] = EV_NOOP
        lvl[s, lv] += delta
        if s == 1:
            if delta > 0 and lv > best[1]:
                best[1] = lv
            while best[1] >= 0 and lvl[1, best[1]] <= 0:
                best[1] -= 1
        else:
            if delta > 0 and lv < best[0]:
                best[0] = lv
            while best[0] < levels and lvl[0, best[0]] <= 0:
                best[0] += 1
    qty[i] = q
    if best[1] >= 0:
        out_b[i] = pmin + best[1] * tick
        out_bq[i] = lvl[1, best[1]]
    if best[0] < levels:
        out_a[i] = pmin + best[0] * tick
        out_aq[i] = lvl[0, best[0]]
