"""PreTradeRisk: every check on its own, the trading states, and a property over sequences.

Prices are 1e-4 dollars: $100.00 is 1_000_000. Times are nanoseconds.
"""

from __future__ import annotations

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from trading.model.market import BookTop
from trading.model.orders import BUY, SELL, Fill, OrderIntent
from trading.risk import APPROVED, PreTradeRisk, RiskDecision, RiskLimits, TradingState, Verdict
from trading.risk import pre_trade_risk as r

S = 1_000_000_000  # one second in ns
MS = 1_000_000
P100 = 1_000_000  # $100.00
T0 = 1_000 * S

# Limits loose enough that each test exercises only the check it is about.
LOOSE = RiskLimits(
    max_position_shares=1_000,
    max_total_position_shares=5_000,
    max_order_shares=500,
    max_order_notional=1e9,
    max_gross_exposure=1e10,
    max_orders_per_s=1e6,
    daily_loss_limit=10_000.0,
    price_collar_pct=5.0,
)


def make_risk(symbols=("AAPL",), mid=P100, **changes) -> PreTradeRisk:
    risk = PreTradeRisk(LOOSE.replace(**changes))
    for symbol in symbols:
        risk.on_book(BookTop(symbol, mid - 100, 100, mid + 100, 100, T0))
    return risk


def buy(qty=100, price=P100, symbol="AAPL", **kw) -> OrderIntent:
    return OrderIntent(symbol, BUY, qty, price, **kw)


def sell(qty=100, price=P100, symbol="AAPL", **kw) -> OrderIntent:
    return OrderIntent(symbol, SELL, qty, price, **kw)


def rejected(reason: str) -> RiskDecision:
    return RiskDecision(Verdict.REJECTED, 0, reason)


def fill_position(risk: PreTradeRisk, symbol: str, signed_qty: int, price=P100, oid=10**9):
    """Give the book a filled position through the public feed (sent, then fully filled)."""
    side = BUY if signed_qty > 0 else SELL
    risk.on_order_sent(oid, symbol, side, abs(signed_qty))
    risk.on_fill(Fill(oid, symbol, side, abs(signed_qty), price, T0))


class Clock:
    """Distinct times so the duplicate guard and the rate bucket stay out of the way."""

    def __init__(self, start=T0, step=MS * 100):
        self.now, self.step = start, step

    def __call__(self) -> int:
        self.now += self.step
        return self.now


# ------------------------------------------------------------------ decisions


def test_an_order_within_every_limit_is_approved_with_the_shared_singleton():
    risk = make_risk()
    decision = risk.check(buy(), T0)
    assert decision is APPROVED
    assert decision.passed and decision.qty_for(buy()) == 100
    assert risk.counters()["approved"] == 1


def test_rejections_are_preallocated_and_counted_per_reason():
    risk = make_risk()
    first = risk.check(buy(price=P100 * 2), T0)
    second = risk.check(buy(price=P100 * 2, qty=7), T0 + S)
    assert first is second and first == rejected(r.PRICE_COLLAR)
    assert not first.passed and first.qty_for(buy()) == 0
    assert risk.counters()[r.PRICE_COLLAR] == 2


@pytest.mark.parametrize(
    "intent",
    [buy(qty=0), buy(qty=-5), buy(price=-1), OrderIntent("AAPL", 0, 100, P100)],
)
def test_malformed_orders_are_rejected(intent):
    assert make_risk().check(intent, T0) == rejected(r.INVALID)


# -------------------------------------------------------------- order quantity


def test_max_order_shares_reduces_the_order():
    risk = make_risk(max_order_shares=300)
    decision = risk.check(buy(qty=450), T0)
    assert decision == RiskDecision(Verdict.REDUCED, 300, r.MAX_ORDER_SHARES)
    assert decision.passed and decision.qty_for(buy(qty=450)) == 300
    assert risk.check(buy(qty=300, price=P100 + 1), T0 + S) is APPROVED


# ---------------------------------------------------------------- positions


def test_position_limit_counts_working_orders_and_reduces_to_what_fits():
    risk = make_risk(max_position_shares=1_000)
    fill_position(risk, "AAPL", 600)
    risk.on_order_sent(1, "AAPL", BUY, 300)  # worst case long 900
    decision = risk.check(buy(qty=200), T0)
    assert decision == RiskDecision(Verdict.REDUCED, 100, r.MAX_POSITION)


def test_position_limit_rejects_when_nothing_fits():
    risk = make_risk(max_position_shares=1_000)
    fill_position(risk, "AAPL", 700)
    risk.on_order_sent(1, "AAPL", BUY, 300)
    assert risk.check(buy(qty=1), T0) == rejected(r.MAX_POSITION)


def test_position_limit_applies_to_shorts_and_lets_risk_reducing_sides_through():
    risk = make_risk(max_position_shares=500)
    fill_position(risk, "AAPL", -500)
    assert risk.check(sell(qty=1), T0) == rejected(r.MAX_POSITION)
    assert risk.check(buy(qty=500), T0 + S) is APPROVED


def test_working_sells_do_not_count_against_the_long_side():
    risk = make_risk(max_position_shares=500)
    fill_position(risk, "AAPL", 400)
    risk.on_order_sent(1, "AAPL", SELL, 400)
    assert risk.check(buy(qty=100), T0) is APPROVED


def test_partial_fills_and_done_orders_move_working_into_position_and_out():
    risk = make_risk()
    risk.on_order_sent(1, "AAPL", BUY, 300)
    risk.on_fill(Fill(1, "AAPL", BUY, 120, P100, T0))
    assert risk.position("AAPL") == 120 and risk.working("AAPL") == (180, 0)
    risk.on_order_done(1)
    assert risk.working("AAPL") == (0, 0) and risk.exposure("AAPL") == 120
    risk.on_order_done(1)  # repeated: harmless
    assert risk.working("AAPL") == (0, 0)


def test_an_overfill_does_not_leave_negative_working():
    risk = make_risk()
    risk.on_order_sent(1, "AAPL", SELL, 100)
    risk.on_fill(Fill(1, "AAPL", SELL, 150, P100, T0))
    assert risk.position("AAPL") == -150 and risk.working("AAPL") == (0, 0)


def test_total_position_limit_sums_worst_cases_across_symbols():
    risk = make_risk(symbols=("AAPL", "MSFT", "NVDA"), max_total_position_shares=1_000)
    fill_position(risk, "AAPL", 400, oid=1)
    fill_position(risk, "MSFT", -300, oid=2)
    risk.on_order_sent(3, "NVDA", BUY, 200)
    assert risk.total_exposure == 900
    decision = risk.check(buy(qty=250, symbol="NVDA"), T0)
    assert decision == RiskDecision(Verdict.REDUCED, 100, r.MAX_TOTAL_POSITION)
    risk.on_order_sent(4, "NVDA", BUY, 100)
    assert risk.check(sell(qty=1, symbol="AAPL", price=P100 + 1), T0 + S) is APPROVED
    assert risk.check(buy(qty=1, symbol="AAPL"), T0 + 2 * S) == rejected(r.MAX_TOTAL_POSITION)


# ------------------------------------------------------------- notional, gross


def test_max_order_notional_rejects_orders_worth_more_than_the_limit():
    risk = make_risk(max_order_notional=25_000.0)  # 250 shares at $100
    assert risk.check(buy(qty=250), T0) is APPROVED
    assert risk.check(buy(qty=251), T0 + S) == rejected(r.MAX_ORDER_NOTIONAL)


def test_a_market_order_is_valued_at_the_mid():
    risk = make_risk(max_order_notional=25_000.0)
    assert risk.check(buy(qty=251, price=0), T0) == rejected(r.MAX_ORDER_NOTIONAL)
    assert risk.check(buy(qty=250, price=0), T0 + S) is APPROVED


def test_gross_exposure_marks_worst_cases_at_the_mid():
    risk = make_risk(symbols=("AAPL", "MSFT"), max_gross_exposure=100_000.0)
    fill_position(risk, "MSFT", -600)  # $60,000
    risk.on_order_sent(1, "AAPL", BUY, 300)  # $30,000
    assert risk.gross_exposure == 90_000.0
    assert risk.check(buy(qty=100), T0) is APPROVED  # exactly $100,000
    assert risk.check(buy(qty=101, price=P100 + 1), T0 + S) == rejected(r.MAX_GROSS_EXPOSURE)
    assert risk.check(buy(qty=50, symbol="MSFT"), T0 + 2 * S) is APPROVED  # reduces


def test_gross_exposure_follows_price_moves():
    risk = make_risk(max_gross_exposure=100_000.0)
    fill_position(risk, "AAPL", 900)
    assert risk.check(buy(qty=100), T0) is APPROVED
    risk.on_book(BookTop("AAPL", 1_199_900, 100, 1_200_100, 100, T0 + S))  # mid $120
    assert risk.gross_exposure == 108_000.0
    assert risk.check(buy(qty=1, price=1_200_000), T0 + 2 * S) == rejected(r.MAX_GROSS_EXPOSURE)


# ------------------------------------------------------------------- collar


def test_price_collar_around_the_last_mid():
    risk = make_risk(price_collar_pct=5.0)
    assert risk.check(buy(price=1_050_000), T0) is APPROVED  # +5.00%
    assert risk.check(buy(price=1_050_001), T0 + S) == rejected(r.PRICE_COLLAR)
    assert risk.check(sell(price=950_000), T0 + 2 * S) is APPROVED
    assert risk.check(sell(price=949_999), T0 + 3 * S) == rejected(r.PRICE_COLLAR)


def test_without_a_mid_only_reduce_only_orders_pass():
    risk = PreTradeRisk(LOOSE)
    assert risk.check(buy(symbol="IBM"), T0) == rejected(r.NO_REFERENCE_PRICE)
    fill_position(risk, "IBM", 100)
    assert risk.check(sell(symbol="IBM", reduce_only=True), T0 + S) is APPROVED


def test_a_one_sided_book_keeps_the_last_mid():
    risk = make_risk()
    risk.on_book(BookTop("AAPL", 0, 0, P100 + 100, 100, T0 + 1))
    assert risk.check(buy(), T0 + S) is APPROVED


# -------------------------------------------------------------- self trade


def test_self_trade_prevention_against_our_resting_orders():
    risk = make_risk()
    risk.on_working_prices("AAPL", best_buy=999_000, best_sell=1_001_000)
    clock = Clock()
    assert risk.check(buy(price=1_001_000), clock()) == rejected(r.SELF_TRADE)
    assert risk.check(buy(price=1_000_900), clock()) is APPROVED
    assert risk.check(sell(price=999_000), clock()) == rejected(r.SELF_TRADE)
    assert risk.check(sell(price=999_100), clock()) is APPROVED
    assert risk.check(sell(price=0), clock()) == rejected(r.SELF_TRADE)
    risk.on_working_prices("AAPL", best_buy=0, best_sell=0)
    assert risk.check(buy(price=1_001_000), clock()) is APPROVED


# ------------------------------------------------------------------ duplicates


def test_duplicate_guard_rejects_the_same_order_within_the_window():
    risk = make_risk(duplicate_window_ns=50 * MS)
    assert risk.check(buy(strategy="mm"), T0) is APPROVED
    assert risk.check(buy(strategy="mm"), T0 + 49 * MS) == rejected(r.DUPLICATE)
    assert risk.check(buy(strategy="other"), T0 + 49 * MS) is APPROVED
    assert risk.check(buy(strategy="mm", qty=101), T0 + 49 * MS) is APPROVED
    assert risk.check(buy(strategy="mm"), T0 + 50 * MS) is APPROVED


def test_a_rejected_order_does_not_arm_the_duplicate_guard():
    risk = make_risk(max_order_notional=1_000.0)
    assert risk.check(buy(), T0) == rejected(r.MAX_ORDER_NOTIONAL)
    risk.set_limits(LOOSE)
    assert risk.check(buy(), T0 + 1) is APPROVED


def test_the_duplicate_guard_forgets_old_orders():
    risk = make_risk(duplicate_window_ns=MS)
    for i in range(3_000):
        assert risk.check(buy(qty=1 + i % 400, price=P100 + i), T0 + i * MS) is APPROVED
    assert len(risk._recent) <= 1_025


# ---------------------------------------------------------------- order rate


def test_token_bucket_allows_a_one_second_burst_then_the_rate():
    risk = make_risk(max_orders_per_s=10)
    results = [risk.check(buy(price=P100 + i), T0) for i in range(11)]
    assert results[:10] == [APPROVED] * 10
    assert results[10] == rejected(r.ORDER_RATE)
    assert risk.check(buy(price=P100 + 20), T0 + 99 * MS) == rejected(r.ORDER_RATE)
    assert risk.check(buy(price=P100 + 21), T0 + 100 * MS) is APPROVED  # one token back
    assert risk.check(buy(price=P100 + 22), T0 + 100 * MS) == rejected(r.ORDER_RATE)


def test_token_bucket_refills_to_the_burst_and_no_more():
    risk = make_risk(max_orders_per_s=5)
    now = T0 + 3_600 * S
    approved = sum(risk.check(buy(price=P100 + i), now) is APPROVED for i in range(20))
    assert approved == 5


def test_token_bucket_over_simulated_time_holds_the_rate():
    risk = make_risk(max_orders_per_s=50)
    approved = 0
    for i in range(10_000):  # one attempt per ms over 10 s
        approved += risk.check(buy(price=P100 + i % 1000), T0 + i * MS) is APPROVED
    assert 50 + 499 <= approved <= 50 + 500  # the burst, then 50/s for 9.999 s


def test_rejected_orders_use_no_tokens():
    risk = make_risk(max_orders_per_s=1)
    for _ in range(5):
        assert risk.check(buy(price=P100 * 2), T0) == rejected(r.PRICE_COLLAR)
    assert risk.check(buy(), T0) is APPROVED


def test_zero_rate_allows_nothing():
    risk = make_risk(max_orders_per_s=0)
    assert risk.check(buy(), T0 + 100 * S) == rejected(r.ORDER_RATE)


# ----------------------------------------------------------------- daily loss


def test_daily_loss_beyond_the_limit_halts():
    risk = make_risk(daily_loss_limit=1_000.0)
    risk.set_pnl(-600.0, -400.0, now_ns=T0)  # exactly at the limit
    assert risk.state is TradingState.ACTIVE
    risk.set_pnl(-600.0, -400.01, now_ns=T0 + S)
    assert risk.state is TradingState.HALTED
    assert risk.reason == "daily loss limit breached" and risk.since_ns == T0 + S
    assert risk.check(sell(reduce_only=True), T0 + 2 * S) == rejected(r.HALTED)


def test_daily_loss_resume_needs_the_loss_back_within_the_limit():
    risk = make_risk(daily_loss_limit=1_000.0)
    risk.set_pnl(-2_000.0, 0.0)
    assert risk.resume(force=True) is TradingState.HALTED
    risk.set_pnl(-2_000.0, 1_500.0)  # still halted until someone resumes
    assert risk.state is TradingState.HALTED
    assert risk.resume() is TradingState.ACTIVE
    assert risk.check(buy(), T0) is APPROVED


def test_raising_the_loss_limit_lets_an_operator_resume():
    risk = make_risk(daily_loss_limit=1_000.0)
    risk.set_pnl(-1_500.0, 0.0)
    risk.set_limits(risk.limits.replace(daily_loss_limit=2_000.0))
    assert risk.state is TradingState.HALTED
    assert risk.resume() is TradingState.ACTIVE


def test_lowering_the_loss_limit_below_the_current_loss_halts_at_once():
    risk = make_risk(daily_loss_limit=1_000.0)
    risk.set_pnl(-500.0, 0.0)
    risk.set_limits(risk.limits.replace(daily_loss_limit=400.0))
    assert risk.state is TradingState.HALTED


# ------------------------------------------------------------- circuit breaker


def test_consecutive_venue_rejects_trip_the_breaker():
    risk = make_risk(max_consecutive_rejects=3)
    risk.on_reject()
    risk.on_reject()
    risk.on_accept()  # a run is broken by an accept
    risk.on_reject()
    risk.on_reject()
    assert risk.state is TradingState.ACTIVE
    assert risk.usage()["circuit_breaker"] == pytest.approx(2 / 3)
    risk.on_reject(now_ns=T0 + 5)
    assert risk.state is TradingState.HALTED
    assert risk.reason == "3 consecutive venue rejects" and risk.since_ns == T0 + 5
    assert risk.check(buy(), T0 + S) == rejected(r.HALTED)
    assert risk.resume() is TradingState.ACTIVE
    assert risk.usage()["circuit_breaker"] == 0.0


def test_disconnects_within_the_window_trip_the_breaker():
    risk = make_risk(max_disconnects=3, disconnect_window_ns=60 * S)
    risk.on_disconnect(T0)
    risk.on_disconnect(T0 + 30 * S)
    risk.on_disconnect(T0 + 60 * S)  # the first has left the window
    assert risk.state is TradingState.ACTIVE
    risk.on_disconnect(T0 + 61 * S)
    assert risk.state is TradingState.HALTED
    assert risk.reason == "3 disconnects within 60 s"


# ------------------------------------------------------------ kill and states


def test_kill_halts_everything_until_a_forced_resume():
    risk = make_risk()
    risk.kill("operator pressed the button", now_ns=T0 + 7)
    assert risk.state is TradingState.HALTED
    assert (risk.reason, risk.since_ns) == ("operator pressed the button", T0 + 7)
    assert risk.check(sell(reduce_only=True), T0 + S) == rejected(r.HALTED)
    assert risk.resume() is TradingState.HALTED
    assert risk.resume(force=True) is TradingState.ACTIVE
    assert risk.reason == "" and risk.since_ns == 0
    assert risk.check(buy(), T0 + 2 * S) is APPROVED


def test_the_most_severe_cause_is_reported_and_others_remain():
    risk = make_risk(daily_loss_limit=100.0)
    risk.reduce_only_mode("end of day", now_ns=T0)
    risk.set_pnl(-200.0, 0.0, now_ns=T0 + 1)
    risk.kill("panic", now_ns=T0 + 2)
    assert risk.reason == "panic"
    assert set(risk.causes) == {r.CAUSE_KILL, r.CAUSE_LOSS, r.CAUSE_REDUCE}
    assert risk.resume(force=True) is TradingState.HALTED  # the loss is still there
    assert risk.reason == "daily loss limit breached"
    risk.set_pnl(0.0, 0.0)
    assert risk.resume() is TradingState.ACTIVE  # resume clears reduce-only mode too


def test_reducing_state_passes_only_orders_that_shrink_the_position():
    risk = make_risk()
    fill_position(risk, "AAPL", 300)
    risk.reduce_only_mode("risk manager", now_ns=T0)
    assert risk.state is TradingState.REDUCING and risk.reason == "risk manager"
    clock = Clock()
    assert risk.check(buy(qty=1), clock()) == rejected(r.REDUCING_ONLY)
    assert risk.check(sell(qty=200), clock()) is APPROVED
    decision = risk.check(sell(qty=400, price=P100 - 1), clock())
    assert decision == RiskDecision(Verdict.REDUCED, 300, r.CLIPPED_TO_POSITION)
    assert risk.check(buy(qty=1, symbol="MSFT"), clock()) == rejected(r.REDUCING_ONLY)
    assert risk.resume() is TradingState.ACTIVE


def test_reduce_only_orders_are_clipped_by_working_orders_on_the_same_side():
    risk = make_risk()
    fill_position(risk, "AAPL", -300)
    risk.on_order_sent(1, "AAPL", BUY, 250)
    decision = risk.check(buy(qty=100, reduce_only=True), T0)
    assert decision == RiskDecision(Verdict.REDUCED, 50, r.CLIPPED_TO_POSITION)
    risk.on_order_sent(2, "AAPL", BUY, 50)
    assert risk.check(buy(qty=100, reduce_only=True), T0 + S) == rejected(r.NOT_REDUCING)
    assert risk.check(sell(qty=10, reduce_only=True), T0 + S) == rejected(r.NOT_REDUCING)


# ---------------------------------------------------------------- limit swaps


def test_new_limits_take_effect_on_the_next_check():
    risk = make_risk()
    assert risk.check(buy(qty=400), T0) is APPROVED
    risk.set_limits(risk.limits.replace(max_order_shares=100, price_collar_pct=1.0))
    assert risk.check(buy(qty=400, price=P100 + 1), T0 + S).qty == 100
    assert risk.check(buy(price=1_020_000), T0 + 2 * S) == rejected(r.PRICE_COLLAR)


def test_a_lowered_position_limit_blocks_growth_but_not_reduction():
    risk = make_risk(max_position_shares=1_000, max_total_position_shares=1_000)
    fill_position(risk, "AAPL", 800)
    risk.set_limits(risk.limits.replace(max_position_shares=500, max_total_position_shares=500))
    assert risk.check(buy(qty=1), T0) == rejected(r.MAX_POSITION)
    assert risk.check(sell(qty=100), T0 + S) is APPROVED


def test_a_lowered_rate_caps_the_tokens_at_once():
    risk = make_risk(max_orders_per_s=100)
    risk.set_limits(risk.limits.replace(max_orders_per_s=2))
    approved = sum(risk.check(buy(price=P100 + i), T0) is APPROVED for i in range(10))
    assert approved == 2


# ----------------------------------------------------------------------- usage


def test_usage_reports_the_fraction_of_each_limit():
    risk = make_risk(
        symbols=("AAPL", "MSFT"),
        max_position_shares=1_000,
        max_total_position_shares=2_000,
        max_orders_per_s=10,
        daily_loss_limit=1_000.0,
        max_gross_exposure=200_000.0,
        max_consecutive_rejects=4,
    )
    fill_position(risk, "AAPL", 500, oid=1)
    risk.on_order_sent(2, "MSFT", SELL, 250)
    for i in range(4):
        risk.check(buy(qty=1, price=P100 + i), T0)
    risk.set_pnl(-300.0, 50.0)
    risk.on_reject()
    usage = risk.usage(T0)
    assert usage == {
        "position": 0.5,
        "total_position": 0.375,
        "order_rate": pytest.approx(0.4),
        "daily_loss": 0.25,
        "gross_exposure": 0.375,
        "circuit_breaker": 0.25,
    }
    assert risk.usage(T0 + S)["order_rate"] == 0.0


# ------------------------------------------------------------------ property

SYMBOLS = ("AAPL", "MSFT")

limit_sets = st.builds(
    RiskLimits,
    max_position_shares=st.integers(50, 600),
    max_total_position_shares=st.integers(100, 900),
    max_order_shares=st.integers(1, 400),
    max_order_notional=st.floats(10_000, 100_000),
    max_gross_exposure=st.floats(0, 300_000),
    max_orders_per_s=st.floats(10, 1_000),
    daily_loss_limit=st.floats(500, 5_000),
    price_collar_pct=st.floats(1, 20),
    duplicate_window_ns=st.integers(0, 100 * MS),
)

orders = st.tuples(
    st.just("order"),
    st.sampled_from(SYMBOLS),
    st.sampled_from((BUY, SELL)),
    st.integers(1, 700),
    st.integers(-30_000, 30_000),  # offset from the mid: within a few percent
    st.sampled_from((False, False, False, True)),  # reduce_only
)
fills = st.tuples(st.just("fill"), st.integers(0, 50), st.floats(0.0, 1.0))
others = st.one_of(
    st.tuples(st.just("done"), st.integers(0, 50)),
    st.tuples(st.just("move"), st.sampled_from(SYMBOLS), st.integers(500_000, 1_500_000)),
    st.tuples(st.just("limits"), limit_sets),
    st.tuples(st.just("pnl"), st.floats(-6_000, 2_000)),
    st.tuples(st.just("resume"), st.booleans()),
    st.tuples(st.just("reduce_mode")),
)
# Mostly orders and fills, so that positions build up between the rarer other events.
events = st.sampled_from((orders, orders, orders, fills, fills, others)).flatmap(lambda e: e)


@settings(max_examples=300, deadline=None)
@given(first=limit_sets, steps=st.lists(events, min_size=10, max_size=100))
def test_no_sequence_breaks_position_limits_or_trades_past_the_loss_limit(first, steps):
    """Positions stay within the limits, and a breached loss limit stops risk-increasing orders.

    Limits may be lowered below what is already held, so the position bound is against the
    limits in force when each order was approved: every approved order keeps the worst case
    (position plus all working orders on its side) within the per-symbol and total limits of
    its time, or does not increase it; the filled position always lies inside the worst case.
    """
    risk = PreTradeRisk(first)
    mids = {s: P100 for s in SYMBOLS}
    for s in SYMBOLS:
        risk.on_book(BookTop(s, P100 - 100, 1, P100 + 100, 1, T0))
    position = dict.fromkeys(SYMBOLS, 0)
    working: dict[int, list] = {}  # order id -> [symbol, side, leaves]
    loss = 0.0
    largest_pos_limit, largest_total_limit = (
        first.max_position_shares,
        first.max_total_position_shares,
    )
    now = T0
    next_id = 0

    def worst(symbol, side):
        extra = sum(w[2] for w in working.values() if w[0] == symbol and w[1] == side)
        return side * position[symbol] + extra

    def exposure(symbol):
        return max(worst(symbol, BUY), worst(symbol, SELL), abs(position[symbol]))

    for step in steps:
        now += 7 * MS
        kind = step[0]
        if kind == "order":
            _, symbol, side, qty, offset, reduce_only = step
            price = max(mids[symbol] + offset, 1)
            before_side, before_total = worst(symbol, side), sum(map(exposure, SYMBOLS))
            loss_breached = loss > risk.limits.daily_loss_limit
            limits = risk.limits
            decision = risk.check(
                OrderIntent(symbol, side, qty, price, reduce_only=reduce_only), now
            )
            if not decision.passed:
                if loss_breached:
                    event("order blocked by the loss limit")
                continue
            sent = decision.qty_for(OrderIntent(symbol, side, qty, price))
            assert 0 < sent <= min(qty, limits.max_order_shares)
            next_id += 1
            oid = next_id
            working[oid] = [symbol, side, sent]
            risk.on_order_sent(oid, symbol, side, sent)
            after_side, after_total = worst(symbol, side), sum(map(exposure, SYMBOLS))
            if reduce_only or risk.state is TradingState.REDUCING:
                # Even if every working order on its side fills, the position cannot flip.
                assert after_side <= 0
                event("reducing order passed")
            else:
                event("order passed")
                assert after_side <= limits.max_position_shares or after_side <= before_side
                assert (
                    after_total <= limits.max_total_position_shares or after_total <= before_total
                )
            assert not loss_breached, "an order passed after the daily loss limit was breached"
        elif kind == "fill" and working:
            _, pick, fraction = step
            oid = sorted(working)[pick % len(working)]
            symbol, side, leaves = working[oid]
            qty = max(1, int(leaves * fraction))
            risk.on_fill(Fill(oid, symbol, side, qty, mids[symbol], now))
            position[symbol] += side * qty
            working[oid][2] -= qty
            event("fill")
            if working[oid][2] == 0:
                del working[oid]
        elif kind == "done" and working:
            oid = sorted(working)[step[1] % len(working)]
            del working[oid]
            risk.on_order_done(oid)
        elif kind == "move":
            _, symbol, mid = step
            mids[symbol] = mid
            risk.on_book(BookTop(symbol, mid - 100, 1, mid + 100, 1, now))
        elif kind == "limits":
            risk.set_limits(step[1])
            largest_pos_limit = max(largest_pos_limit, step[1].max_position_shares)
            largest_total_limit = max(largest_total_limit, step[1].max_total_position_shares)
        elif kind == "pnl":
            loss = -step[1]
            risk.set_pnl(step[1], 0.0)
        elif kind == "resume":
            risk.resume(force=step[1])
        elif kind == "reduce_mode":
            risk.reduce_only_mode("test")
        # The book's view agrees with the model, and no position exceeds any limit it ever had.
        for s in SYMBOLS:
            assert risk.position(s) == position[s]
            assert risk.exposure(s) == max(worst(s, BUY), worst(s, SELL))
            assert abs(position[s]) <= largest_pos_limit
        assert sum(abs(p) for p in position.values()) <= largest_total_limit
        if loss > risk.limits.daily_loss_limit:
            assert risk.state is TradingState.HALTED
