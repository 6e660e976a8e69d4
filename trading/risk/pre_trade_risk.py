"""Pre-trade risk: the gate every OrderIntent passes on the engine's hot thread.

`PreTradeRisk.check` answers APPROVED, REDUCED(new_qty, reason) or REJECTED(reason) in a few
microseconds: plain attribute and dict look-ups, integer arithmetic, and preallocated decisions
for approval and every rejection (only a REDUCED answer allocates). Everything it needs is fed
to it through `on_*`/`set_*` methods; it never reaches into the engine's objects.

Position limits count the worst case: a buy could leave us at position + working buys + this
order, a sell at position - working sells - this order. A symbol's exposure is the larger
absolute worst case of the two sides, the total position is the sum of exposures, and the gross
exposure is each exposure marked at the last mid (or the last fill price before any mid).

Orders that only shrink the position ("reducing": `reduce_only`, or any order while REDUCING)
are clipped so they can never flip it, and skip the limits they cannot breach.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from trading.model.market import BookTop
from trading.model.orders import BUY, SELL, Fill, OrderIntent
from trading.prices import PRICE_SCALE
from trading.risk.limits import NANOS_PER_SECOND, RiskLimits

# Reasons, one counter each. Constants so the hot path never formats a string.
HALTED = "halted"
INVALID = "invalid_order"
REDUCING_ONLY = "reducing_only"  # in REDUCING state, the order does not reduce
NOT_REDUCING = "reduce_only_not_reducing"  # a reduce_only order with nothing to reduce
NO_REFERENCE_PRICE = "no_reference_price"
PRICE_COLLAR = "price_collar"
SELF_TRADE = "self_trade"
DUPLICATE = "duplicate_order"
MAX_ORDER_SHARES = "max_order_shares"
MAX_POSITION = "max_position"
MAX_TOTAL_POSITION = "max_total_position"
MAX_ORDER_NOTIONAL = "max_order_notional"
MAX_GROSS_EXPOSURE = "max_gross_exposure"
ORDER_RATE = "order_rate"
CLIPPED_TO_POSITION = "clipped_to_position"  # REDUCED: a reducing order larger than the position

REASONS = (
    HALTED,
    INVALID,
    REDUCING_ONLY,
    NOT_REDUCING,
    NO_REFERENCE_PRICE,
    PRICE_COLLAR,
    SELF_TRADE,
    DUPLICATE,
    MAX_ORDER_SHARES,
    MAX_POSITION,
    MAX_TOTAL_POSITION,
    MAX_ORDER_NOTIONAL,
    MAX_GROSS_EXPOSURE,
    ORDER_RATE,
    CLIPPED_TO_POSITION,
)

# Halt and reduce causes, most severe first: `reason` reports the first one present.
CAUSE_KILL = "kill"
CAUSE_LOSS = "daily_loss"
CAUSE_BREAKER = "circuit_breaker"
CAUSE_REDUCE = "reduce_only_mode"
_HALT_CAUSES = (CAUSE_KILL, CAUSE_LOSS, CAUSE_BREAKER)
_CAUSE_ORDER = (*_HALT_CAUSES, CAUSE_REDUCE)

_DUPLICATE_PRUNE_SIZE = 1024  # prune the duplicate guard's memory when it grows past this


class Verdict(IntEnum):
    """What pre-trade risk decided about one order."""

    APPROVED = 0
    REDUCED = 1
    REJECTED = 2


class TradingState(StrEnum):
    """Whether orders may open risk, only reduce it, or not pass at all."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """An answer to one check: `qty` is the allowed quantity when REDUCED, else 0."""

    verdict: Verdict
    qty: int = 0
    reason: str = ""

    @property
    def passed(self) -> bool:
        """True when the order may be sent (approved as is, or with `qty` shares)."""
        return self.verdict is not Verdict.REJECTED

    def qty_for(self, intent: OrderIntent) -> int:
        """The quantity to send for `intent`: its own, the reduced one, or 0 if rejected."""
        if self.verdict is Verdict.APPROVED:
            return intent.qty
        return self.qty


APPROVED = RiskDecision(Verdict.APPROVED)


class _Symbol:
    """What risk tracks for one symbol."""

    __slots__ = (
        "position",
        "working_buy",
        "working_sell",
        "exposure",
        "mid",
        "mark",
        "best_buy",
        "best_sell",
    )

    def __init__(self) -> None:
        self.position = 0
        self.working_buy = 0
        self.working_sell = 0
        self.exposure = 0  # max(|position + working_buy|, |position - working_sell|)
        self.mid = 0
        self.mark = 0  # the mid, or the last fill price until a mid is known
        self.best_buy = 0  # our best working buy price (0: none), for self-trade prevention
        self.best_sell = 0


class _Working:
    """One of our orders still working at the venue: how much of it can still fill."""

    __slots__ = ("symbol", "side", "leaves")

    def __init__(self, symbol: _Symbol, side: int, leaves: int) -> None:
        self.symbol = symbol
        self.side = side
        self.leaves = leaves


class PreTradeRisk:
    """Synchronous pre-trade risk checks and the trading state (ACTIVE/REDUCING/HALTED)."""

    def __init__(self, limits: RiskLimits | None = None) -> None:
        self._symbols: dict[str, _Symbol] = {}
        self._orders: dict[int, _Working] = {}
        self._total = 0  # sum of exposures, shares
        self._gross = 0  # sum of exposure * mark, shares * price units
        self._tokens = 0.0
        self._token_ns = 0
        self._recent: dict[tuple[str, str, int, int, int], int] = {}
        self._prune_at = _DUPLICATE_PRUNE_SIZE
        self._now = 0
        self._realised = 0.0
        self._unrealised = 0.0
        self._consecutive_rejects = 0
        self._disconnects: deque[int] = deque()
        self._causes: dict[str, tuple[str, int]] = {}
        self._halted = False
        self._reducing = False
        self._counts = dict.fromkeys(REASONS, 0)
        self._approved = 0
        self._rejects = {r: RiskDecision(Verdict.REJECTED, 0, r) for r in REASONS}
        self.set_limits(limits if limits is not None else RiskLimits())
        self._tokens = self._burst  # start with a full bucket

    # ----------------------------------------------------------------- the check

    def check(self, intent: OrderIntent, now_ns: int) -> RiskDecision:
        """Decide whether `intent` may be sent now; an approval uses up one rate token."""
        self._now = now_ns
        if self._halted:
            return self._reject(HALTED)
        side = intent.side
        qty = intent.qty
        price = intent.price
        if qty <= 0 or price < 0 or (side != BUY and side != SELL):
            return self._reject(INVALID)
        sym = self._symbols.get(intent.symbol)
        if sym is None:
            sym = self._symbols[intent.symbol] = _Symbol()
        reason = ""
        reducing = intent.reduce_only or self._reducing
        if reducing:
            room = self._reduce_room(sym, side)
            if room <= 0:
                return self._reject(NOT_REDUCING if intent.reduce_only else REDUCING_ONLY)
            if qty > room:
                qty, reason = room, CLIPPED_TO_POSITION
        mid = sym.mid
        if mid:
            if price and abs(price - mid) > mid * self._collar:
                return self._reject(PRICE_COLLAR)
        elif not reducing:
            return self._reject(NO_REFERENCE_PRICE)
        if self._crosses_own(sym, side, price):
            return self._reject(SELF_TRADE)
        key = (intent.strategy, intent.symbol, side, intent.qty, price)
        last = self._recent.get(key)
        if last is not None and now_ns - last < self._dup_window:
            return self._reject(DUPLICATE)
        if qty > self._max_order:
            qty, reason = self._max_order, MAX_ORDER_SHARES
        if not reducing:
            room, why = self._position_room(sym, side)
            if room <= 0:
                return self._reject(why)
            if qty > room:
                qty, reason = room, why
        fill_price = price or mid
        if qty * fill_price > self._max_notional:
            return self._reject(MAX_ORDER_NOTIONAL)
        if not reducing and self._gross_after(sym, side, qty) > self._max_gross:
            return self._reject(MAX_GROSS_EXPOSURE)
        if not self._take_token(now_ns):
            return self._reject(ORDER_RATE)
        self._remember(key, now_ns)
        if reason:
            self._counts[reason] += 1
            return RiskDecision(Verdict.REDUCED, qty, reason)
        self._approved += 1
        return APPROVED

    def _reject(self, reason: str) -> RiskDecision:
        self._counts[reason] += 1
        return self._rejects[reason]

    @staticmethod
    def _reduce_room(sym: _Symbol, side: int) -> int:
        # Working orders on the same side already claim part of the position.
        if side == SELL:
            return sym.position - sym.working_sell
        return -sym.position - sym.working_buy

    @staticmethod
    def _crosses_own(sym: _Symbol, side: int, price: int) -> bool:
        # A market order (price 0) crosses any of our resting orders on the other side.
        if side == BUY:
            other = sym.best_sell
            return bool(other) and (price == 0 or price >= other)
        other = sym.best_buy
        return bool(other) and (price == 0 or price <= other)

    def _position_room(self, sym: _Symbol, side: int) -> tuple[int, str]:
        """Shares this side may still add within the per-symbol and total limits."""
        # Worst case on this side, signed in the order's direction.
        base = sym.position + sym.working_buy if side == BUY else sym.working_sell - sym.position
        room = self._max_position - base
        # The exposure may grow to what the total leaves free, and never has to shrink below
        # its current value: a lowered total limit blocks growth, not risk-neutral orders.
        exposure_cap = self._max_total - self._total + sym.exposure
        if exposure_cap < sym.exposure:
            exposure_cap = sym.exposure
        total_room = exposure_cap - base
        if total_room < room:
            return total_room, MAX_TOTAL_POSITION
        return room, MAX_POSITION

    def _gross_after(self, sym: _Symbol, side: int, qty: int) -> int:
        """Gross exposure (shares * price units) if this order were added."""
        if side == BUY:
            exposure = max(abs(sym.position + sym.working_buy + qty), sym.exposure)
        else:
            exposure = max(abs(sym.position - sym.working_sell - qty), sym.exposure)
        if exposure == sym.exposure:
            return 0  # no growth: never blocked, even if a lowered limit is already exceeded
        return self._gross + (exposure - sym.exposure) * sym.mark

    def _take_token(self, now_ns: int) -> bool:
        elapsed = now_ns - self._token_ns
        if elapsed > 0:  # a clock that steps back refills nothing
            tokens = self._tokens + elapsed * self._tokens_per_ns
            self._tokens = tokens if tokens < self._burst else self._burst
            self._token_ns = now_ns
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def _remember(self, key: tuple[str, str, int, int, int], now_ns: int) -> None:
        recent = self._recent
        recent[key] = now_ns
        if len(recent) > self._prune_at:
            horizon = now_ns - self._dup_window
            for old in [k for k, t in recent.items() if t <= horizon]:
                del recent[old]
            # At high order rates the window itself may hold more than the prune size:
            # prune again only once it has doubled, so the cost per order stays constant.
            self._prune_at = max(_DUPLICATE_PRUNE_SIZE, 2 * len(recent))

    # ----------------------------------------------------------- state it is fed

    def on_book(self, top: BookTop) -> None:
        """Record the symbol's mid (kept when one side of the book empties)."""
        mid = top.mid
        if top.ts_ns > self._now:
            self._now = top.ts_ns
        if mid:
            sym = self._symbol(top.symbol)
            sym.mid = mid
            self._set_mark(sym, mid)

    def on_working_prices(self, symbol: str, best_buy: int, best_sell: int) -> None:
        """Our own best working buy and sell prices in `symbol` (0 for none)."""
        sym = self._symbol(symbol)
        sym.best_buy = best_buy
        sym.best_sell = best_sell

    def on_order_sent(self, order_id: int, symbol: str, side: int, qty: int) -> None:
        """An approved order went to the venue: its quantity counts as working."""
        sym = self._symbol(symbol)
        self._orders[order_id] = _Working(sym, side, qty)
        if side == BUY:
            sym.working_buy += qty
        else:
            sym.working_sell += qty
        self._refresh(sym)

    def on_order_done(self, order_id: int) -> None:
        """An order stopped working (cancelled, expired, rejected): drop what was left of it."""
        working = self._orders.pop(order_id, None)
        if working is not None:
            self._release(working, working.leaves)

    def on_fill(self, fill: Fill) -> None:
        """Move the position and take the filled shares out of the order's working quantity."""
        if fill.ts_ns > self._now:
            self._now = fill.ts_ns
        sym = self._symbol(fill.symbol)
        sym.position += fill.side * fill.qty
        if not sym.mid and fill.price > 0:
            self._set_mark(sym, fill.price)
        working = self._orders.get(fill.order_id)
        if working is None:
            self._refresh(sym)  # a fill we did not see sent (e.g. from before a restart)
            return
        if fill.qty >= working.leaves:
            del self._orders[fill.order_id]
        self._release(working, min(fill.qty, working.leaves))

    def _release(self, working: _Working, qty: int) -> None:
        working.leaves -= qty
        sym = working.symbol
        if working.side == BUY:
            sym.working_buy -= qty
        else:
            sym.working_sell -= qty
        self._refresh(sym)

    def _symbol(self, symbol: str) -> _Symbol:
        sym = self._symbols.get(symbol)
        if sym is None:
            sym = self._symbols[symbol] = _Symbol()
        return sym

    def _refresh(self, sym: _Symbol) -> None:
        """Recompute the symbol's exposure and carry the change into the totals."""
        exposure = max(abs(sym.position + sym.working_buy), abs(sym.position - sym.working_sell))
        self._total += exposure - sym.exposure
        self._gross += (exposure - sym.exposure) * sym.mark
        sym.exposure = exposure

    def _set_mark(self, sym: _Symbol, mark: int) -> None:
        self._gross += sym.exposure * (mark - sym.mark)
        sym.mark = mark

    def set_pnl(self, realised: float, unrealised: float, now_ns: int | None = None) -> None:
        """Today's realised and unrealised P&L in dollars; a loss beyond the limit halts."""
        self._realised = realised
        self._unrealised = unrealised
        if self._loss() > self._limits.daily_loss_limit:
            self._set_cause(CAUSE_LOSS, "daily loss limit breached", now_ns)

    def _loss(self) -> float:
        return -(self._realised + self._unrealised)

    def on_reject(self, now_ns: int | None = None) -> None:
        """The venue rejected one of our orders; too many in a row trips the breaker."""
        self._consecutive_rejects += 1
        self._check_breaker(now_ns)

    def on_accept(self) -> None:
        """The venue accepted one of our orders, ending a run of rejects."""
        self._consecutive_rejects = 0

    def on_disconnect(self, now_ns: int) -> None:
        """The venue session dropped; too many drops within the window trips the breaker."""
        self._now = max(self._now, now_ns)
        self._disconnects.append(now_ns)
        self._check_breaker(now_ns)

    def _recent_disconnects(self, now_ns: int) -> int:
        horizon = now_ns - self._limits.disconnect_window_ns
        while self._disconnects and self._disconnects[0] <= horizon:
            self._disconnects.popleft()
        return len(self._disconnects)

    def _check_breaker(self, now_ns: int | None) -> None:
        limits = self._limits
        if self._consecutive_rejects >= limits.max_consecutive_rejects:
            why = f"{self._consecutive_rejects} consecutive venue rejects"
            self._set_cause(CAUSE_BREAKER, why, now_ns)
        elif self._recent_disconnects(self._time(now_ns)) >= limits.max_disconnects:
            window_s = limits.disconnect_window_ns / NANOS_PER_SECOND
            why = f"{len(self._disconnects)} disconnects within {window_s:g} s"
            self._set_cause(CAUSE_BREAKER, why, now_ns)

    # ------------------------------------------------------------ limits & state

    @property
    def limits(self) -> RiskLimits:
        """The limits in force."""
        return self._limits

    def set_limits(self, limits: RiskLimits, now_ns: int | None = None) -> None:
        """Put new limits in force at once (the next check uses them)."""
        self._limits = limits
        self._max_position = limits.max_position_shares
        self._max_total = limits.max_total_position_shares
        self._max_order = limits.max_order_shares
        # Money limits in shares * price units, so the hot path compares integers.
        self._max_notional = int(limits.max_order_notional * PRICE_SCALE)
        self._max_gross = int(limits.max_gross_exposure * PRICE_SCALE)
        self._collar = limits.price_collar_pct / 100.0
        self._dup_window = limits.duplicate_window_ns
        self._tokens_per_ns = limits.max_orders_per_s / NANOS_PER_SECOND
        rate = limits.max_orders_per_s
        # At least one token of burst, so a rate below 1/s still lets an order through.
        self._burst = max(rate, 1.0) if rate > 0 else 0.0
        self._tokens = min(self._tokens, self._burst)  # a raised rate grants no instant burst
        self.set_pnl(self._realised, self._unrealised, now_ns)
        self._check_breaker(now_ns)

    @property
    def state(self) -> TradingState:
        """ACTIVE, REDUCING (only reducing orders pass) or HALTED (nothing passes)."""
        if self._halted:
            return TradingState.HALTED
        return TradingState.REDUCING if self._reducing else TradingState.ACTIVE

    @property
    def reason(self) -> str:
        """Why the state is not ACTIVE (the most severe cause), or ''."""
        cause = self._top_cause()
        return self._causes[cause][0] if cause else ""

    @property
    def since_ns(self) -> int:
        """When the most severe current cause began (0 when ACTIVE)."""
        cause = self._top_cause()
        return self._causes[cause][1] if cause else 0

    @property
    def causes(self) -> dict[str, tuple[str, int]]:
        """Every current cause: name -> (reason, time it began)."""
        return dict(self._causes)

    def kill(self, reason: str, now_ns: int | None = None) -> None:
        """Kill switch: HALTED until `resume(force=True)`."""
        self._set_cause(CAUSE_KILL, reason or "kill switch", now_ns)

    def reduce_only_mode(self, reason: str, now_ns: int | None = None) -> None:
        """Only orders that shrink a position pass, until `resume()`."""
        self._set_cause(CAUSE_REDUCE, reason or "reduce-only mode", now_ns)

    def resume(self, force: bool = False) -> TradingState:
        """Clear the causes that allow it and return the resulting state.

        Reduce-only mode and a tripped circuit breaker (whose counts are reset) clear on
        request; the kill switch only with `force=True`; a daily loss only once the loss is
        back within the limit (raise the limit to override it), whatever `force` says.
        """
        self._causes.pop(CAUSE_REDUCE, None)
        if CAUSE_BREAKER in self._causes:
            self._consecutive_rejects = 0
            self._disconnects.clear()
            del self._causes[CAUSE_BREAKER]
        if force:
            self._causes.pop(CAUSE_KILL, None)
        if CAUSE_LOSS in self._causes and self._loss() <= self._limits.daily_loss_limit:
            del self._causes[CAUSE_LOSS]
        self._update_state()
        return self.state

    def _set_cause(self, cause: str, reason: str, now_ns: int | None) -> None:
        if cause not in self._causes:  # keep when it began, not when it was last seen
            self._causes[cause] = (reason, self._time(now_ns))
        self._update_state()

    def _update_state(self) -> None:
        self._halted = any(c in self._causes for c in _HALT_CAUSES)
        self._reducing = CAUSE_REDUCE in self._causes

    def _top_cause(self) -> str:
        return next((c for c in _CAUSE_ORDER if c in self._causes), "")

    def _time(self, now_ns: int | None) -> int:
        return self._now if now_ns is None else now_ns

    # ------------------------------------------------------------- observation

    def position(self, symbol: str) -> int:
        """The filled position in `symbol` (signed shares)."""
        sym = self._symbols.get(symbol)
        return sym.position if sym else 0

    def working(self, symbol: str) -> tuple[int, int]:
        """Shares of working (unfilled) buy and sell orders in `symbol`."""
        sym = self._symbols.get(symbol)
        return (sym.working_buy, sym.working_sell) if sym else (0, 0)

    def exposure(self, symbol: str) -> int:
        """The worst-case absolute position in `symbol`, counting working orders."""
        sym = self._symbols.get(symbol)
        return sym.exposure if sym else 0

    @property
    def total_exposure(self) -> int:
        """The sum of the per-symbol worst-case absolute positions (shares)."""
        return self._total

    @property
    def gross_exposure(self) -> float:
        """The worst-case exposures marked at the mid, in dollars."""
        return self._gross / PRICE_SCALE

    def counters(self) -> dict[str, int]:
        """How many orders each reason rejected or reduced, and how many were approved."""
        return {"approved": self._approved, **self._counts}

    def usage(self, now_ns: int | None = None) -> dict[str, float]:
        """The fraction used of each limit (1.0 = at the limit), for the dashboard's bars."""
        now = self._time(now_ns)
        limits = self._limits
        largest = max((s.exposure for s in self._symbols.values()), default=0)
        breaker = max(
            self._consecutive_rejects / limits.max_consecutive_rejects,
            self._recent_disconnects(now) / limits.max_disconnects,
        )
        return {
            "position": _fraction(largest, limits.max_position_shares),
            "total_position": _fraction(self._total, limits.max_total_position_shares),
            "order_rate": _fraction(self._burst - self._tokens_at(now), self._burst),
            "daily_loss": _fraction(max(self._loss(), 0.0), limits.daily_loss_limit),
            "gross_exposure": _fraction(self._gross, self._max_gross),
            "circuit_breaker": breaker,
        }

    def _tokens_at(self, now_ns: int) -> float:
        elapsed = max(now_ns - self._token_ns, 0)
        return min(self._burst, self._tokens + elapsed * self._tokens_per_ns)


def _fraction(used: float, limit: float) -> float:
    # A zero limit allows nothing, so it is fully used.
    if limit <= 0:
        return 1.0
    return max(used, 0) / limit
