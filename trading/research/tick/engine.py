"""The compiled replay: a simulated exchange keeping our orders' queue positions, latency
between us and it, and a quoting strategy that wakes on a timer or on book changes.

Time runs on four streams, as in hftbacktest: market events reach the exchange at their
timestamp and us ``feed latency`` later; our requests reach the exchange ``entry latency``
after we send them; its answers (acks, fills, cancels) reach us ``response latency`` after it
sends them. At equal timestamps the exchange handles market events before our requests.
Requests and answers are delivered in the order sent (a later message is never delivered
before an earlier one). The strategy sees only what has reached it: the book as of the
feed, its position as of the fills it has been told about.

Queue position (``ahead`` is the visible quantity in front of an order at its price):

* ``Q_L3_FIFO``: order by order. Our order queues behind every order resting at its price when
  it arrives (FIFO priority is the feed order's add index). Cancels, deletes and executions of
  orders ahead shrink ``ahead``; an execution of an order *behind* us means the aggressor
  passed through us first, so we fill (the executed size, or all of it with ``whole_fills``).
* ``Q_RISK_AVERSE``: aggregated levels; only trades at our price advance us, a level shrinking
  below ``ahead`` caps it.
* ``Q_PROB_*``: aggregated levels; a decrease at our level not explained by trades is split
  between front and back of us by ``p = f(back) / (f(back) + f(front))`` (power: ``x**n``,
  log: ``log(1 + x)``; the ``2`` forms use ``f(back) / f(back + front)``, ``POWER3``
  ``1 - f(front / (front + back))``), hftbacktest's ProbQueueModel.

Fills need a trade or a crossing quote: an execution at a better price than ours (trade
through, when enabled), a hidden execution at or through our price (visible orders have
priority over hidden ones, when enabled), or an add on the other side at or through our price.
A marketable order takes the visible book at its prices (whole_fills: all at the touch, as
hftbacktest's no-partial-fill exchange does) and pays the taker fee; the replayed book is not
changed by our trades (no market impact).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from trading.research.tick.events import EV_ADD, EV_EXEC, EV_HIDDEN
from trading.research.tick.strategy import strategy_quotes

Q_L3_FIFO = 0
Q_RISK_AVERSE = 1
Q_PROB_POWER = 2
Q_PROB_LOG = 3
Q_PROB_POWER2 = 4
Q_PROB_LOG2 = 5
Q_PROB_POWER3 = 6

LAT_CONSTANT = 0
LAT_INTERPOLATED = 1
LAT_SAMPLED = 2

# Local order status and pending request, hftbacktest's codes.
ST_NONE = 0
ST_NEW = 1
ST_EXPIRED = 2
ST_FILLED = 3
ST_CANCELED = 4
REQ_NONE = 0
REQ_NEW = 1
REQ_CANCEL = 4

# Answers from the exchange.
RS_ACK = 1
RS_FILL = 2
RS_CANCELED = 3
RS_CANCEL_REJECTED = 4

# Status codes returned by the core.
OK = 0
OVERFLOW_FILLS = 1
OVERFLOW_ORDERS = 2
OVERFLOW_BUS = 3
OVERFLOW_SAMPLES = 4

NEVER = np.iinfo(np.int64).max


@njit(cache=True)
def _latency(kind, t, constant, lat_ts, lat_val, counter, which):
    """One entry (which=0) or response (which=1) latency at time t."""
    if kind == LAT_CONSTANT:
        return constant
    n = lat_val.shape[0]
    if kind == LAT_SAMPLED:
        k = counter[which]
        counter[which] = k + 1
        return lat_val[k % n]
    # Linear interpolation in time, flat beyond the recorded range.
    if t <= lat_ts[0]:
        return lat_val[0]
    if t >= lat_ts[n - 1]:
        return lat_val[n - 1]
    j = np.searchsorted(lat_ts, t, side="right")
    t0 = lat_ts[j - 1]
    t1 = lat_ts[j]
    v0 = lat_val[j - 1]
    v1 = lat_val[j]
    return v0 + int((v1 - v0) * ((t - t0) / (t1 - t0)))


@njit(cache=True)
def _prob(model, n, front, back):
    """Probability that a decrease at our level happened behind us."""
    if model == Q_PROB_POWER:
        fb = back**n
        p = fb / (fb + front**n)
    elif model == Q_PROB_LOG:
        fb = math.log(1.0 + back)
        p = fb / (fb + math.log(1.0 + front))
    elif model == Q_PROB_POWER2:
        p = back**n / (back + front) ** n
    elif model == Q_PROB_LOG2:
        p = math.log(1.0 + back) / math.log(1.0 + back + front)
    else:
        p = 1.0 - (front / (front + back)) ** n
    if not math.isfinite(p):
        return 1.0
    return p


@njit(cache=True)
def run_core(
    ts,
    local_ts,
    kind,
    oid,
    qty,
    price,
    side,
    add_index,
    top_bid,
    top_ask,
    pmin,
    tick,
    levels,
    queue_model,
    prob_n,
    whole_fills,
    trade_through,
    hidden_trades,
    maker_fee,
    taker_fee,
    fee_per_share,
    lat_kind,
    entry_c,
    resp_c,
    lat_ts,
    lat_entry,
    lat_resp,
    strat_kind,
    strat_params,
    interval_ns,
    equity_interval_ns,
    max_orders,
    fill_cap,
    sample_cap,
    bus_cap,
):
    """Replay the events with the strategy; see the module docstring for the rules.

    Prices, cash and fees are in the events' price units (cash exact as int64 share*price).
    Returns a status code (OK or an OVERFLOW_* code telling which buffer to enlarge) and the
    result arrays.
    """
    n = ts.shape[0]
    status = OK
    # Our orders, one slot each (exchange-side and local-side state).
    o_used = np.zeros(max_orders, np.bool_)
    o_side = np.zeros(max_orders, np.int64)
    o_price = np.zeros(max_orders, np.int64)
    o_qty = np.zeros(max_orders, np.int64)
    o_xleaves = np.zeros(max_orders, np.int64)
    o_xactive = np.zeros(max_orders, np.bool_)
    o_seq = np.zeros(max_orders, np.int64)
    o_ahead = np.zeros(max_orders, np.float64)
    o_cum = np.zeros(max_orders, np.float64)
    o_entry_q = np.zeros(max_orders, np.int64)
    o_lstatus = np.zeros(max_orders, np.int64)
    o_lreq = np.zeros(max_orders, np.int64)
    o_lleaves = np.zeros(max_orders, np.int64)
    o_id = np.zeros(max_orders, np.int64)
    o_lat = np.full(max_orders, -1, np.int64)
    active = np.zeros(max_orders, np.int64)
    n_active = 0
    # Request bus (to the exchange) and answer bus (to us), FIFO rings.
    rq_ts = np.zeros(bus_cap, np.int64)
    rq_slot = np.zeros(bus_cap, np.int64)
    rq_kind = np.zeros(bus_cap, np.int64)
    rq_head = 0
    rq_n = 0
    rq_last = 0
    rs_ts = np.zeros(bus_cap, np.int64)
    rs_slot = np.zeros(bus_cap, np.int64)
    rs_kind = np.zeros(bus_cap, np.int64)
    rs_qty = np.zeros(bus_cap, np.int64)
    rs_price = np.zeros(bus_cap, np.int64)
    rs_fee = np.zeros(bus_cap, np.float64)
    rs_head = 0
    rs_n = 0
    rs_last = 0
    counter = np.zeros(2, np.int64)
    # Results.
    f_ts = np.zeros(fill_cap, np.int64)
    f_side = np.zeros(fill_cap, np.int8)
    f_price = np.zeros(fill_cap, np.int64)
    f_qty = np.zeros(fill_cap, np.int64)
    f_maker = np.zeros(fill_cap, np.bool_)
    f_fee = np.zeros(fill_cap, np.float64)
    f_queue = np.zeros(fill_cap, np.int64)
    f_order = np.zeros(fill_cap, np.int64)
    n_fills = 0
    lat_out = np.zeros((sample_cap, 2), np.int64)
    queue_out = np.zeros(sample_cap, np.int64)
    n_lat = 0
    n_queue = 0
    eq_ts = np.zeros(sample_cap, np.int64)
    eq_val = np.zeros(sample_cap, np.float64)
    n_eq = 0
    lvl = np.zeros((2, levels), np.int64)  # [0] asks, [1] bids
    pos = 0
    cash = 0
    fees = 0.0
    orders_sent = 0
    cancels_sent = 0
    next_id = 1

    if n == 0:
        return (
            status,
            f_ts[:0],
            f_side[:0],
            f_price[:0],
            f_qty[:0],
            f_maker[:0],
            f_fee[:0],
            f_queue[:0],
            f_order[:0],
            lat_out[:0],
            queue_out[:0],
            eq_ts[:0],
            eq_val[:0],
            pos,
            cash,
            fees,
            orders_sent,
            cancels_sent,
            0.0,
        )

    i = 0  # next market event at the exchange
    jl = 0  # market events seen locally
    cur_bid = 0
    cur_ask = 0
    seen_bid = -1
    seen_ask = -1
    fill_seen = False
    last_mid = 0.0
    now = ts[0]
    next_eq = ts[0]
    while True:
        if interval_ns > 0:
            target = now + interval_ns
        else:
            target = NEVER
            if jl < n:
                target = local_ts[jl]
            if rs_n > 0 and rs_ts[rs_head] < target:
                target = rs_ts[rs_head]
            if rq_n > 0 and rq_ts[rq_head] < target:
                target = rq_ts[rq_head]
            if target == NEVER:
                break
        # ---- the exchange, up to target: market events before requests at equal times ----
        while True:
            t_ev = ts[i] if i < n else NEVER
            t_rq = rq_ts[rq_head] if rq_n > 0 else NEVER
            if t_ev > target and t_rq > target:
                break
            if t_ev <= t_rq:
                t = t_ev
                k = kind[i]
                sd = side[i]
                p = price[i]
                q = qty[i]
                deactivated = False
                if k >= EV_ADD and k <= EV_EXEC:
                    s = 1 if sd == 1 else 0
                    lv = (p - pmin) // tick
                    prev_q = lvl[s, lv]
                    if k == EV_ADD:
                        lvl[s, lv] = prev_q + q
                    else:
                        lvl[s, lv] = prev_q - q
                # Trades: our orders resting on the executed order's side.
                if (k == EV_EXEC) or (k == EV_HIDDEN and hidden_trades):
                    avail = q
                    for a in range(n_active):
                        slot = active[a]
                        if o_side[slot] != sd or not o_xactive[slot]:
                            continue
                        op = o_price[slot]
                        better = op > p if sd == 1 else op < p
                        fill = 0
                        if k == EV_HIDDEN:
                            if op == p or better:
                                fill = (
                                    o_xleaves[slot] if whole_fills else min(avail, o_xleaves[slot])
                                )
                        elif queue_model == Q_L3_FIFO:
                            if op == p:
                                if o_seq[slot] <= add_index[oid[i]]:
                                    fill = (
                                        o_xleaves[slot]
                                        if whole_fills
                                        else min(avail, o_xleaves[slot])
                                    )
                                else:
                                    o_ahead[slot] -= q
                            elif better:
                                if trade_through:
                                    fill = (
                                        o_xleaves[slot]
                                        if whole_fills
                                        else min(avail, o_xleaves[slot])
                                    )
                                else:
                                    # hftbacktest: only an execution beyond the best fills the
                                    # orders between it and the best.
                                    edge = cur_bid if sd == 1 else cur_ask
                                    beyond = (
                                        (p < edge and op <= edge)
                                        if sd == 1
                                        else (edge > 0 and p > edge and op >= edge)
                                    )
                                    if beyond:
                                        fill = o_xleaves[slot]
                        else:
                            if better:
                                fill = o_xleaves[slot]
                            elif op == p:
                                o_ahead[slot] -= q
                                o_cum[slot] += q
                                if o_ahead[slot] < 0:
                                    ex = int(round(-o_ahead[slot]))
                                    o_ahead[slot] = 0.0
                                    fill = min(ex, o_xleaves[slot])
                        if fill > 0:
                            if n_fills >= fill_cap:
                                return _overflow(OVERFLOW_FILLS)
                            fee = _fee(maker_fee, fee_per_share, op, fill, tick)
                            _record(
                                f_ts,
                                f_side,
                                f_price,
                                f_qty,
                                f_maker,
                                f_fee,
                                f_queue,
                                f_order,
                                n_fills,
                                t,
                                o_side[slot],
                                op,
                                fill,
                                True,
                                fee,
                                o_entry_q[slot],
                                o_id[slot],
                            )
                            n_fills += 1
                            avail -= min(avail, fill)
                            o_xleaves[slot] -= fill
                            if o_xleaves[slot] == 0:
                                o_xactive[slot] = False
                                deactivated = True
                            rt = t + _latency(lat_kind, t, resp_c, lat_ts, lat_resp, counter, 1)
                            if rs_n >= bus_cap:
                                return _overflow(OVERFLOW_BUS)
                            rs_last = max(rt, rs_last)
                            w = (rs_head + rs_n) % bus_cap
                            rs_ts[w] = rs_last
                            rs_slot[w] = slot
                            rs_kind[w] = RS_FILL
                            rs_qty[w] = fill
                            rs_price[w] = op
                            rs_fee[w] = fee
                            rs_n += 1
                # Level changes at our prices.
                if EV_ADD <= k <= EV_EXEC:
                    for a in range(n_active):
                        slot = active[a]
                        if o_side[slot] != sd or o_price[slot] != p or not o_xactive[slot]:
                            continue
                        if queue_model == Q_L3_FIFO:
                            if k != EV_EXEC and k != EV_ADD and add_index[oid[i]] < o_seq[slot]:
                                o_ahead[slot] -= q
                        elif queue_model == Q_RISK_AVERSE:
                            o_ahead[slot] = min(o_ahead[slot], float(lvl[s, lv]))
                        else:
                            new_q = float(lvl[s, lv])
                            chg = float(prev_q) - new_q - o_cum[slot]
                            o_cum[slot] = 0.0
                            if chg < 0:
                                o_ahead[slot] = min(o_ahead[slot], new_q)
                            else:
                                front = o_ahead[slot]
                                back = float(prev_q) - front
                                pr = _prob(queue_model, prob_n, front, back)
                                est = front - (1.0 - pr) * chg + min(back - pr * chg, 0.0)
                                o_ahead[slot] = min(est, new_q)
                # Crossing quotes: an add that improves the other side's best through us.
                if k == EV_ADD:
                    improved = (
                        top_bid[i] > cur_bid if sd == 1 else (top_ask[i] < cur_ask or cur_ask == 0)
                    )
                    if improved:
                        avail = q
                        for a in range(n_active):
                            slot = active[a]
                            if o_side[slot] == sd or not o_xactive[slot]:
                                continue
                            op = o_price[slot]
                            crossed = op <= top_bid[i] if sd == 1 else op >= top_ask[i]
                            if not crossed:
                                continue
                            fill = o_xleaves[slot] if whole_fills else min(avail, o_xleaves[slot])
                            if fill <= 0:
                                continue
                            if n_fills >= fill_cap:
                                return _overflow(OVERFLOW_FILLS)
                            fee = _fee(maker_fee, fee_per_share, op, fill, tick)
                            _record(
                                f_ts,
                                f_side,
                                f_price,
                                f_qty,
                                f_maker,
                                f_fee,
                                f_queue,
                                f_order,
                                n_fills,
                                t,
                                o_side[slot],
                                op,
                                fill,
                                True,
                                fee,
                                o_entry_q[slot],
                                o_id[slot],
                            )
                            n_fills += 1
                            avail -= min(avail, fill)
                            o_xleaves[slot] -= fill
                            if o_xleaves[slot] == 0:
                                o_xactive[slot] = False
                                deactivated = True
                            rt = t + _latency(lat_kind, t, resp_c, lat_ts, lat_resp, counter, 1)
                            if rs_n >= bus_cap:
                                return _overflow(OVERFLOW_BUS)
                            rs_last = max(rt, rs_last)
                            w = (rs_head + rs_n) % bus_cap
                            rs_ts[w] = rs_last
                            rs_slot[w] = slot
                            rs_kind[w] = RS_FILL
                            rs_qty[w] = fill
                            rs_price[w] = op
                            rs_fee[w] = fee
                            rs_n += 1
                if deactivated:
                    m = 0
                    for a in range(n_active):
                        if o_xactive[active[a]]:
                            active[m] = active[a]
                            m += 1
                    n_active = m
                cur_bid = top_bid[i]
                cur_ask = top_ask[i]
                i += 1
            else:
                # A request reaches the exchange.
                t = t_rq
                slot = rq_slot[rq_head]
                rk = rq_kind[rq_head]
                rq_head = (rq_head + 1) % bus_cap
                rq_n -= 1
                if rs_n + 64 >= bus_cap:
                    return _overflow(OVERFLOW_BUS)
                rt = t + _latency(lat_kind, t, resp_c, lat_ts, lat_resp, counter, 1)
                rs_last = max(rt, rs_last)
                if rk == REQ_CANCEL:
                    w = (rs_head + rs_n) % bus_cap
                    rs_ts[w] = rs_last
                    rs_slot[w] = slot
                    rs_kind[w] = RS_CANCELED if o_xactive[slot] else RS_CANCEL_REJECTED
                    rs_n += 1
                    if o_xactive[slot]:
                        o_xactive[slot] = False
                        m = 0
                        for a in range(n_active):
                            if o_xactive[active[a]]:
                                active[m] = active[a]
                                m += 1
                        n_active = m
                else:
                    w = (rs_head + rs_n) % bus_cap
                    rs_ts[w] = rs_last
                    rs_slot[w] = slot
                    rs_kind[w] = RS_ACK
                    rs_n += 1
                    if o_lat[slot] >= 0:
                        lat_out[o_lat[slot], 1] = rt - t
                    sd = o_side[slot]
                    op = o_price[slot]
                    leaves = o_qty[slot]
                    s = 1 if sd == 1 else 0
                    # Marketable: take the visible book at its prices.
                    touch = cur_ask if sd == 1 else cur_bid
                    if touch > 0 and (op >= touch if sd == 1 else op <= touch):
                        px = touch
                        while leaves > 0 and (px <= op if sd == 1 else px >= op):
                            lv = (px - pmin) // tick
                            if lv < 0 or lv >= levels:
                                break
                            take = leaves if whole_fills else min(leaves, lvl[1 - s, lv])
                            if take > 0:
                                if n_fills >= fill_cap:
                                    return _overflow(OVERFLOW_FILLS)
                                fee = _fee(taker_fee, fee_per_share, px, take, tick)
                                _record(
                                    f_ts,
                                    f_side,
                                    f_price,
                                    f_qty,
                                    f_maker,
                                    f_fee,
                                    f_queue,
                                    f_order,
                                    n_fills,
                                    t,
                                    sd,
                                    px,
                                    take,
                                    False,
                                    fee,
                                    -1,
                                    o_id[slot],
                                )
                                n_fills += 1
                                leaves -= take
                                w = (rs_head + rs_n) % bus_cap
                                rs_ts[w] = rs_last
                                rs_slot[w] = slot
                                rs_kind[w] = RS_FILL
                                rs_qty[w] = take
                                rs_price[w] = px
                                rs_fee[w] = fee
                                rs_n += 1
                                if rs_n + 2 >= bus_cap:
                                    return _overflow(OVERFLOW_BUS)
                            px += tick if sd == 1 else -tick
                    o_xleaves[slot] = leaves
                    if leaves > 0:
                        lv = (op - pmin) // tick
                        ahead = lvl[s, lv] if 0 <= lv < levels else 0
                        o_ahead[slot] = float(ahead)
                        o_cum[slot] = 0.0
                        o_seq[slot] = i
                        o_entry_q[slot] = ahead
                        o_xactive[slot] = True
                        active[n_active] = slot
                        n_active += 1
                        if n_queue >= sample_cap:
                            return _overflow(OVERFLOW_SAMPLES)
                        queue_out[n_queue] = ahead
                        n_queue += 1
        # ---- our side: answers and feed up to target ----
        while rs_n > 0 and rs_ts[rs_head] <= target:
            slot = rs_slot[rs_head]
            rk = rs_kind[rs_head]
            if rk == RS_ACK:
                if o_lstatus[slot] == ST_NONE:
                    o_lstatus[slot] = ST_NEW
                if o_lreq[slot] == REQ_NEW:
                    o_lreq[slot] = REQ_NONE
            elif rk == RS_FILL:
                fq = rs_qty[rs_head]
                pos += o_side[slot] * fq
                cash -= o_side[slot] * rs_price[rs_head] * fq
                fees += rs_fee[rs_head]
                o_lleaves[slot] -= fq
                if o_lleaves[slot] == 0:
                    o_lstatus[slot] = ST_FILLED
                fill_seen = True
            elif rk == RS_CANCELED:
                o_lstatus[slot] = ST_CANCELED
                o_lreq[slot] = REQ_NONE
            else:
                o_lreq[slot] = REQ_NONE
            rs_head = (rs_head + 1) % bus_cap
            rs_n -= 1
        while jl < n and local_ts[jl] <= target:
            jl += 1
        if i >= n and jl >= n and rq_n == 0 and rs_n == 0:
            break
        now = target
        # ---- the strategy wakes ----
        lb = top_bid[jl - 1] if jl > 0 else 0
        la = top_ask[jl - 1] if jl > 0 else 0
        if lb > 0 and la > 0:
            last_mid = (lb + la) / 2.0
        if now >= next_eq:
            if n_eq >= sample_cap:
                return _overflow(OVERFLOW_SAMPLES)
            eq_ts[n_eq] = now
            eq_val[n_eq] = cash + pos * last_mid - fees
            n_eq += 1
            next_eq = now + equity_interval_ns
        if interval_ns == 0 and lb == seen_bid and la == seen_ask and not fill_seen:
            continue
        seen_bid = lb
        seen_ask = la
        fill_seen = False
        # Forget finished orders (nothing of theirs is in flight).
        for slot in range(max_orders):
            if (
                o_used[slot]
                and o_lreq[slot] == REQ_NONE
                and not o_xactive[slot]
                and (
                    o_lstatus[slot] == ST_FILLED
                    or o_lstatus[slot] == ST_CANCELED
                    or o_lstatus[slot] == ST_EXPIRED
                )
            ):
                o_used[slot] = False
        act, want_bid, want_ask, want_qty = strategy_quotes(strat_kind, lb, la, pos, strat_params)
        if not act:
            continue
        for sd in (1, -1):
            want = want_bid if sd == 1 else want_ask
            kept = False
            for slot in range(max_orders):
                if not o_used[slot] or o_side[slot] != sd:
                    continue
                live = o_lstatus[slot] == ST_NEW or (
                    o_lstatus[slot] == ST_NONE and o_lreq[slot] == REQ_NEW
                )
                if not live or o_lreq[slot] == REQ_CANCEL:
                    continue
                if not kept and want > 0 and o_price[slot] == want:
                    kept = True
                elif o_lstatus[slot] == ST_NEW and o_lreq[slot] == REQ_NONE:
                    if rq_n >= bus_cap:
                        return _overflow(OVERFLOW_BUS)
                    o_lreq[slot] = REQ_CANCEL
                    et = now + _latency(lat_kind, now, entry_c, lat_ts, lat_entry, counter, 0)
                    rq_last = max(et, rq_last)
                    w = (rq_head + rq_n) % bus_cap
                    rq_ts[w] = rq_last
                    rq_slot[w] = slot
                    rq_kind[w] = REQ_CANCEL
                    rq_n += 1
                    cancels_sent += 1
            if want > 0 and not kept:
                free = -1
                for slot in range(max_orders):
                    if not o_used[slot]:
                        free = slot
                        break
                if free < 0:
                    return _overflow(OVERFLOW_ORDERS)
                if rq_n >= bus_cap:
                    return _overflow(OVERFLOW_BUS)
                o_used[free] = True
                o_side[free] = sd
                o_price[free] = want
                o_qty[free] = want_qty
                o_lleaves[free] = want_qty
                o_xleaves[free] = 0
                o_xactive[free] = False
                o_lstatus[free] = ST_NONE
                o_lreq[free] = REQ_NEW
                o_id[free] = next_id
                next_id += 1
                entry = _latency(lat_kind, now, entry_c, lat_ts, lat_entry, counter, 0)
                et = now + entry
                rq_last = max(et, rq_last)
                w = (rq_head + rq_n) % bus_cap
                rq_ts[w] = rq_last
                rq_slot[w] = free
                rq_kind[w] = REQ_NEW
                rq_n += 1
                orders_sent += 1
                if n_lat >= sample_cap:
                    return _overflow(OVERFLOW_SAMPLES)
                lat_out[n_lat, 0] = entry
                o_lat[free] = n_lat
                n_lat += 1
    return (
        status,
        f_ts[:n_fills],
        f_side[:n_fills],
        f_price[:n_fills],
        f_qty[:n_fills],
        f_maker[:n_fills],
        f_fee[:n_fills],
        f_queue[:n_fills],
        f_order[:n_fills],
        lat_out[:n_lat],
        queue_out[:n_queue],
        eq_ts[:n_eq],
        eq_val[:n_eq],
        pos,
        cash,
        fees,
        orders_sent,
        cancels_sent,
        last_mid,
    )


@njit(cache=True)
def _fee(rate, per_share, price, qty, tick):
    """Fee in price units: rate per share (dollars, so times 10,000) or per notional."""
    if per_share:
        return rate * 10000.0 * qty
    return rate * float(price * qty)


@njit(cache=True)
def _record(
    f_ts,
    f_side,
    f_price,
    f_qty,
    f_maker,
    f_fee,
    f_queue,
    f_order,
    k,
    t,
    sd,
    px,
    q,
    maker,
    fee,
    queue,
    order_id,
):
    f_ts[k] = t
    f_side[k] = sd
    f_price[k] = px
    f_qty[k] = q
    f_maker[k] = maker
    f_fee[k] = fee
    f_queue[k] = queue
    f_order[k] = order_id


@njit(cache=True)
def _overflow(code):
    e64 = np.zeros(0, np.int64)
    return (
        code,
        e64,
        np.zeros(0, np.int8),
        e64,
        e64,
        np.zeros(0, np.bool_),
        np.zeros(0, np.float64),
        e64,
        e64,
        np.zeros((0, 2), np.int64),
        e64,
        e64,
        np.zeros(0, np.float64),
        0,
        0,
        0.0,
        0,
        0,
        0.0,
    )
