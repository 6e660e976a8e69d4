"""Synthetic background order flow, reproducible from a seed.

Each symbol has a fair value that follows a geometric random walk (with optional jumps), or,
for a symbol configured `cointegrated_with` another, the other's log price times a hedge ratio
plus a mean-reverting (Ornstein-Uhlenbeck) spread, which gives the pairs strategy a genuinely
cointegrated pair. Around it a population of agents acts on a fixed time step:

- passive agents post limit orders behind the fair value at a geometric distance in ticks, never
  crossing the opposite best (they mean to rest);
- aggressive agents send marketable IOC orders, leaning towards the side the fair value points
  to, which is what pulls the book along with the fair value;
- resting agent orders are cancelled with a constant per-order hazard, preferring the ones
  furthest from the fair value, so depth settles where arrivals balance cancels and trades.

The random draws depend only on the seed and the number of steps taken, never on wall time, so
the same seed and the same outside orders give the same stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from trading.config import FlowSpec, SymbolSpec
from trading.prices import PRICE_SCALE

BUY = 1
SELL = -1
ENTER = 1
CANCEL = 2
SECONDS_PER_TRADING_DAY = 6.5 * 3600


@dataclass(slots=True, frozen=True)
class FlowAction:
    """One agent action: enter an order, or cancel one of the agents' resting orders."""

    kind: int
    symbol: str
    agent_order_id: int
    side: int = 0
    price: int = 0
    shares: int = 0
    ioc: bool = False


@dataclass(slots=True)
class _RestingOrder:
    side: int
    price: int


class _FairValue:
    """The fair log price of one symbol."""

    def __init__(self, spec: SymbolSpec, rng: np.random.Generator, step_s: float) -> None:
        self.spec = spec
        self.rng = rng
        self.step_s = step_s
        self.log_price = math.log(spec.start_price)
        self.sigma_step = (
            spec.daily_volatility_pct / 100 * math.sqrt(step_s / SECONDS_PER_TRADING_DAY)
        )
        self.jump_probability = spec.jumps_per_day * step_s / SECONDS_PER_TRADING_DAY
        self.jump_size = spec.jump_size_pct / 100
        self.spread = 0.0
        self.spread_decay = math.exp(-math.log(2) / spec.spread_half_life_s * step_s)
        self.spread_sigma_step = (
            spec.spread_volatility_pct / 100 * math.sqrt(step_s / SECONDS_PER_TRADING_DAY)
        )
        self.intercept = 0.0

    def anchor(self, leader: _FairValue) -> None:
        """Tie this symbol to `leader`: log P = c + beta * log P_leader + spread."""
        self.intercept = math.log(self.spec.start_price) - self.spec.hedge_ratio * leader.log_price

    def advance(self, leader: _FairValue | None) -> None:
        """Move the fair value one step."""
        if leader is not None:
            self.spread = self.spread * self.spread_decay + self.spread_sigma_step * float(
                self.rng.standard_normal()
            )
            own = self.sigma_step * float(self.rng.standard_normal())
            self.log_price = (
                self.intercept + self.spec.hedge_ratio * leader.log_price + self.spread + own
            )
            return
        self.log_price += self.sigma_step * float(self.rng.standard_normal())
        if self.jump_probability and self.rng.random() < self.jump_probability:
            self.log_price += self.jump_size * (1 if self.rng.random() < 0.5 else -1)

    @property
    def price(self) -> float:
        return math.exp(self.log_price)


class SyntheticFlow:
    """The agents of every symbol; call `step` once per `flow.step_ms` of simulated time."""

    def __init__(
        self, symbols: dict[str, SymbolSpec], flow: FlowSpec, tick_size: int, seed: int
    ) -> None:
        self.flow = flow
        self.tick_size = tick_size
        self.step_s = flow.step_ms / 1000
        seeds = np.random.SeedSequence(seed).spawn(len(symbols))
        self.rngs = {name: np.random.default_rng(s) for name, s in zip(symbols, seeds, strict=True)}
        self.fair = {
            name: _FairValue(spec, self.rngs[name], self.step_s) for name, spec in symbols.items()
        }
        self.leaders = {
            name: self.fair[spec.cointegrated_with] if spec.cointegrated_with else None
            for name, spec in symbols.items()
        }
        for name, leader in self.leaders.items():
            if leader is not None:
                self.fair[name].anchor(leader)
        # Leaders move before their followers so that a follower tracks this step's leader.
        self.order = sorted(symbols, key=lambda name: self.leaders[name] is not None)
        self.resting: dict[str, dict[int, _RestingOrder]] = {name: {} for name in symbols}
        self.next_id = 1
        target_resting = max(1, 4 * flow.depth_ticks)
        self.cancel_hazard_per_s = flow.cancel_per_s / target_resting
        self.mean_distance_ticks = max(1.0, flow.depth_ticks / 4)
        self.steps = 0

    def fair_price(self, symbol: str) -> int:
        """The symbol's fair value in price units (1e-4 $)."""
        return int(round(self.fair[symbol].price * PRICE_SCALE))

    def step(self, quotes: dict[str, tuple[int, int]]) -> list[FlowAction]:
        """One time step of every symbol's agents, given each book's (best bid, best ask).

        A missing side is 0. Returns the actions in the order the exchange should apply them.
        """
        self.steps += 1
        actions: list[FlowAction] = []
        for symbol in self.order:
            self.fair[symbol].advance(self.leaders[symbol])
            if self.flow.enabled:
                bid, ask = quotes.get(symbol, (0, 0))
                self._act(symbol, bid, ask, actions)
        return actions

    def order_done(self, symbol: str, agent_order_id: int) -> None:
        """The exchange reports that an agent order is no longer resting (filled or cancelled)."""
        self.resting[symbol].pop(agent_order_id, None)

    def order_rested(self, symbol: str, agent_order_id: int, side: int, price: int) -> None:
        """The exchange reports that an agent order rests on the book."""
        self.resting[symbol][agent_order_id] = _RestingOrder(side, price)

    def _act(self, symbol: str, bid: int, ask: int, actions: list[FlowAction]) -> None:
        rng = self.rngs[symbol]
        spec = self.fair[symbol].spec
        dt = self.step_s
        fair = self.fair_price(symbol)
        for _ in range(int(rng.poisson(self.cancel_hazard_per_s * len(self.resting[symbol]) * dt))):
            victim = self._pick_victim(symbol, fair, rng)
            if victim is not None:
                actions.append(FlowAction(CANCEL, symbol, victim))
        for _ in range(int(rng.poisson(self.flow.passive_per_s * dt))):
            side = BUY if rng.random() < 0.5 else SELL
            distance = int(rng.geometric(1.0 / self.mean_distance_ticks)) - 1
            distance = min(distance, self.flow.depth_ticks)
            price = self._passive_price(side, fair, distance, bid, ask)
            if price > 0:
                actions.append(self._enter(symbol, side, price, self._shares(rng, spec), False))
        on_grid = max(self.tick_size, round(fair / self.tick_size) * self.tick_size)
        for _ in range(int(rng.poisson(self.flow.aggressive_per_s * dt))):
            mid = (bid + ask) // 2 if bid and ask else fair
            lean = math.tanh((fair - mid) / max(self.tick_size, abs(ask - bid) or self.tick_size))
            side = BUY if rng.random() < 0.5 + 0.45 * lean else SELL
            # A marketable limit a few ticks through the touch: aggressive, but not unbounded.
            if side == BUY:
                price = (ask or on_grid) + 3 * self.tick_size
            else:
                price = max(self.tick_size, (bid or on_grid) - 3 * self.tick_size)
            actions.append(self._enter(symbol, side, price, self._shares(rng, spec), True))

    def _passive_price(self, side: int, fair: int, distance: int, bid: int, ask: int) -> int:
        tick = self.tick_size
        if side == BUY:
            price = (fair // tick - distance) * tick
            if ask and price >= ask:
                price = ask - tick
            price = max(price, tick)
        else:
            price = (-(-fair // tick) + distance) * tick
            if bid and price <= bid:
                price = bid + tick
        return price

    def _shares(self, rng: np.random.Generator, spec: SymbolSpec) -> int:
        return spec.round_lot * (1 + int(rng.poisson(self.flow.mean_lots - 1)))

    def _enter(self, symbol: str, side: int, price: int, shares: int, ioc: bool) -> FlowAction:
        agent_order_id = self.next_id
        self.next_id += 1
        return FlowAction(ENTER, symbol, agent_order_id, side, price, shares, ioc)

    def _pick_victim(self, symbol: str, fair: int, rng: np.random.Generator) -> int | None:
        resting = self.resting[symbol]
        if not resting:
            return None
        ids = list(resting)
        first = ids[int(rng.integers(len(ids)))]
        second = ids[int(rng.integers(len(ids)))]
        return max(first, second, key=lambda i: (abs(resting[i].price - fair), i))
