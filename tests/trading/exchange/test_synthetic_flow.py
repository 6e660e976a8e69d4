"""The synthetic background flow: reproducible from a seed, and market-like."""

import math

import numpy as np

from tests.support.configs import make_config
from trading.exchange.synthetic_flow import SyntheticFlow
from trading.exchange.venue import Venue


def run_market(seed: int, steps: int):
    config = make_config(flow=True, seed=seed)
    feed = []
    venue = Venue(config.exchange, config.symbols, lambda u, m: None, feed.append)
    flow = SyntheticFlow(
        {s: config.exchange.symbols[s] for s in config.symbols},
        config.exchange.flow,
        config.exchange.tick_size,
        seed,
    )
    venue.on_agent_done, venue.on_agent_rested = flow.order_done, flow.order_rested
    snapshots = []
    step_ns = config.exchange.flow.step_ms * 1_000_000
    for step in range(steps):
        for action in flow.step(venue.quotes()):
            venue.apply_flow(action, step * step_ns)
        snapshots.append(venue.quotes())
    return venue, flow, feed, snapshots


def test_the_same_seed_gives_the_same_stream_and_another_seed_another():
    _, _, first, _ = run_market(11, 500)
    _, _, again, _ = run_market(11, 500)
    _, _, other, _ = run_market(12, 500)
    assert len(first) > 1000
    assert [m.encode() for m in first] == [m.encode() for m in again]
    assert [m.encode() for m in first] != [m.encode() for m in other]


def test_books_look_like_a_liquid_stocks():
    venue, _, feed, snapshots = run_market(5, 6000)  # one simulated minute
    spreads = []
    for quotes in snapshots[1000:]:
        for bid, ask in quotes.values():
            if bid and ask:
                spreads.append((ask - bid) // 100)
    spreads = np.array(spreads)
    assert (spreads >= 1).all(), "a book must never be locked or crossed"
    assert np.median(spreads) <= 3, "a liquid stock trades a cent or two wide"
    for state in venue.symbols.values():
        depth = state.book.depth(5)
        assert len(depth.bid_prices) == 5 and len(depth.ask_prices) == 5
        assert 100 <= np.median(np.concatenate([depth.bid_qtys, depth.ask_qtys])) <= 20_000
        # Trades every few seconds at least, thousands of shares a minute.
        assert state.trades > 30 and state.volume > 5_000
    kinds = {type(m).__name__ for m in feed}
    assert {"AddOrder", "OrderDelete", "OrderExecuted"} <= kinds


def test_the_synthetic_pair_is_cointegrated_with_the_configured_hedge_ratio():
    config = make_config(flow=False)
    specs = {s: config.exchange.symbols[s] for s in ("SYNA", "SYNB")}
    flow = SyntheticFlow(specs, config.exchange.flow, 100, seed=3)
    log_a, log_b = [], []
    for _ in range(360_000):  # an hour of simulated time, thirty half-lives
        flow.step({})
        log_a.append(math.log(flow.fair["SYNA"].price))
        log_b.append(math.log(flow.fair["SYNB"].price))
    log_a, log_b = np.array(log_a), np.array(log_b)
    beta, _ = np.polyfit(log_a, log_b, 1)
    assert abs(beta - specs["SYNB"].hedge_ratio) < 0.1
    spread = log_b - beta * log_a
    # The spread mean-reverts: its AR(1) coefficient per 10 ms step implies a half-life near
    # the configured 120 s.
    spread = log_b - specs["SYNB"].hedge_ratio * log_a
    phi = np.polyfit(spread[:-1] - spread.mean(), spread[1:] - spread.mean(), 1)[0]
    half_life_s = -math.log(2) / math.log(phi) * 0.01
    assert 60 < half_life_s < 240
    # While each leg alone wanders like a stock.
    assert np.std(np.diff(log_a[::6000])) > 0.0005
