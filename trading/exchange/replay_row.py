"""One LOBSTER row into the venue: the step every replay mode of the exchange shares."""

from __future__ import annotations

from typing import Any

from trading.exchange.venue import Venue


def publish_replay_row(venue: Venue, replay: Any, row: int, locate: int) -> int:
    """Publish row `row` of `replay` (a `ReplaySource`) through `venue`; returns how many ITCH
    messages it took.

    Client orders queued ahead of a replayed execution fill first; a replayed order that
    crosses a resting client order trades with it; timed orders whose life ran out by the
    row's time are cancelled.
    """
    ts_ns = replay.timestamp(row)
    execution = replay.visible_execution(row)
    if execution is not None:
        # Client orders queued ahead of the executed one would have met the incoming
        # order first: they fill before the replayed execution takes the order away.
        ref, shares = execution
        venue.fill_clients_ahead(replay.symbol, ref, shares, ts_ns)
    events = replay.events_for(row)
    for event in events:
        venue.publish(replay.to_itch(event, locate))
    if venue.client_orders:
        venue.uncross_clients(replay.symbol, ts_ns)
    venue.expire(ts_ns)
    return len(events)
