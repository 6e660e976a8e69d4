"""Order-book features, vectorised over LOBSTER orderbook arrays.

An orderbook array is ``int64`` of shape ``(rows, 4 * levels)`` with, for level ``k``
(1 = best), the columns ``ask_price_k, ask_size_k, bid_price_k, bid_size_k``; prices are in
1e-4 dollars.  An empty level carries LOBSTER's sentinel price (9999999999 on the ask side,
-9999999999 on the bid side) and size 0.  Features that need both sides of the touch are NaN
on rows where either side is empty.
"""

from __future__ import annotations

import numpy as np

from trading.lobster import EMPTY_ASK, EMPTY_BID

ASK_PRICE, ASK_SIZE, BID_PRICE, BID_SIZE = 0, 1, 2, 3


def _book(orderbook: np.ndarray) -> np.ndarray:
    book = np.asarray(orderbook)
    if book.ndim != 2 or book.shape[1] == 0 or book.shape[1] % 4:
        raise ValueError(f"orderbook must be (rows, 4 * levels), got shape {book.shape}")
    return book


def _column(book: np.ndarray, field: int, level: int = 1) -> np.ndarray:
    levels = book.shape[1] // 4
    if not 1 <= level <= levels:
        raise ValueError(f"level must be within 1..{levels}, got {level}")
    return book[:, 4 * (level - 1) + field]


def _two_sided(book: np.ndarray) -> np.ndarray:
    ask = _column(book, ASK_PRICE)
    bid = _column(book, BID_PRICE)
    return (
        (ask != EMPTY_ASK)
        & (bid != EMPTY_BID)
        & (_column(book, ASK_SIZE) > 0)
        & (_column(book, BID_SIZE) > 0)
    )


def spread(orderbook: np.ndarray) -> np.ndarray:
    """Best ask minus best bid in price units (float64, NaN when a side is empty)."""
    book = _book(orderbook)
    out = (_column(book, ASK_PRICE) - _column(book, BID_PRICE)).astype(float)
    out[~_two_sided(book)] = np.nan
    return out


def mid_price(orderbook: np.ndarray) -> np.ndarray:
    """``(best ask + best bid) / 2`` in price units (NaN when a side is empty)."""
    book = _book(orderbook)
    out = (_column(book, ASK_PRICE) + _column(book, BID_PRICE)) / 2.0
    out[~_two_sided(book)] = np.nan
    return out


def micro_price(orderbook: np.ndarray) -> np.ndarray:
    """Size-weighted mid ``(ask * bid_size + bid * ask_size) / (bid_size + ask_size)``.

    Leans towards the side with the thinner queue, which is where the price is likelier to
    move next; it is the first-order form of Stoikov's (2018) micro-price.
    """
    book = _book(orderbook)
    ask = _column(book, ASK_PRICE).astype(float)
    bid = _column(book, BID_PRICE).astype(float)
    qa = _column(book, ASK_SIZE).astype(float)
    qb = _column(book, BID_SIZE).astype(float)
    ok = _two_sided(book)
    out = np.full(book.shape[0], np.nan)
    out[ok] = (ask[ok] * qb[ok] + bid[ok] * qa[ok]) / (qa[ok] + qb[ok])
    return out


def depth(orderbook: np.ndarray, levels: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Total bid and ask size over the best ``levels`` levels (all levels by default)."""
    book = _book(orderbook)
    available = book.shape[1] // 4
    levels = available if levels is None else levels
    if not 1 <= levels <= available:
        raise ValueError(f"levels must be within 1..{available}, got {levels}")
    # Empty levels have size 0, so a plain sum needs no masking.
    bid = book[:, BID_SIZE : 4 * levels : 4].sum(axis=1)
    ask = book[:, ASK_SIZE : 4 * levels : 4].sum(axis=1)
    return bid, ask


def queue_imbalance(orderbook: np.ndarray, levels: int = 1) -> np.ndarray:
    """``(bid_size - ask_size) / (bid_size + ask_size)`` over the best ``levels`` levels.

    In [-1, 1]: positive when buyers queue more; NaN when the book holds nothing.
    """
    bid, ask = depth(orderbook, levels)
    total = (bid + ask).astype(float)
    out = np.full(total.shape, np.nan)
    nonzero = total > 0
    out[nonzero] = (bid[nonzero] - ask[nonzero]) / total[nonzero]
    return out


def order_flow_imbalance(orderbook: np.ndarray, level: int = 1) -> np.ndarray:
    """Order-flow imbalance per book update (Cont, Kukanov and Stoikov 2014), in shares.

    For consecutive states ``n - 1, n`` of the best bid (price ``P^B``, size ``q^B``) and ask:

        e_n = 1{P^B_n >= P^B_{n-1}} q^B_n - 1{P^B_n <= P^B_{n-1}} q^B_{n-1}
            - 1{P^A_n <= P^A_{n-1}} q^A_n + 1{P^A_n >= P^A_{n-1}} q^A_{n-1}

    so bid-side additions and ask-side removals count as buying pressure.  ``level`` > 1
    applies the same formula to that level (the multi-level OFI of Xu, Gould and Howison).
    Entry 0 is 0 (no previous state); sum over a window for the aggregated OFI.
    """
    book = _book(orderbook)
    pb = _column(book, BID_PRICE, level)
    qb = _column(book, BID_SIZE, level)
    pa = _column(book, ASK_PRICE, level)
    qa = _column(book, ASK_SIZE, level)
    out = np.zeros(book.shape[0], dtype=np.int64)
    if book.shape[0] < 2:
        return out
    out[1:] = (
        np.where(pb[1:] >= pb[:-1], qb[1:], 0)
        - np.where(pb[1:] <= pb[:-1], qb[:-1], 0)
        - np.where(pa[1:] <= pa[:-1], qa[1:], 0)
        + np.where(pa[1:] >= pa[:-1], qa[:-1], 0)
    )
    return out


def aggregate_by_time(
    values: np.ndarray, ts_ns: np.ndarray, interval_ns: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sum ``values`` over consecutive ``interval_ns`` buckets of the (sorted) timestamps.

    Returns the bucket start times and the sums, only for buckets that hold events; used to
    turn per-event OFI into OFI per second, minute, ...
    """
    values = np.asarray(values)
    ts_ns = np.asarray(ts_ns, dtype=np.int64)
    if values.shape != ts_ns.shape or values.ndim != 1:
        raise ValueError(f"values {values.shape} and ts_ns {ts_ns.shape} must be equal 1-D")
    if interval_ns <= 0:
        raise ValueError(f"interval_ns must be positive, got {interval_ns}")
    if ts_ns.size == 0:
        return ts_ns.copy(), values.copy()
    if np.any(np.diff(ts_ns) < 0):
        raise ValueError("ts_ns must be sorted")
    bucket = ts_ns // interval_ns
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    return bucket[starts] * interval_ns, np.add.reduceat(values, starts)


def book_features(orderbook: np.ndarray, depth_levels: int | None = None) -> dict[str, np.ndarray]:
    """All per-row features at once, keyed by name (for a DataFrame or a report)."""
    book = _book(orderbook)
    bid_depth, ask_depth = depth(book, depth_levels)
    return {
        "spread": spread(book),
        "mid_price": mid_price(book),
        "micro_price": micro_price(book),
        "queue_imbalance": queue_imbalance(book, 1),
        "depth_imbalance": queue_imbalance(book, depth_levels or book.shape[1] // 4),
        "bid_depth": bid_depth,
        "ask_depth": ask_depth,
        "ofi": order_flow_imbalance(book),
    }
