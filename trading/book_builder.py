"""Order books rebuilt from an ITCH 5.0 stream, one per stock locate code.

What a market-data client does with an order-by-order feed: every Add, Executed, Cancel,
Delete and Replace changes exactly one order of one book; Trade and Cross Trade messages
(executions of hidden or crossing interest) leave the displayed book alone.
"""

from __future__ import annotations

from typing import Any

from trading.order_book import BUY, SELL, OrderBook
from trading.protocols import itch


class BookBuilder:
    """Books by locate code, and the symbol each locate stands for (from Stock Directory)."""

    def __init__(self, tick_size: int = 100) -> None:
        self.tick_size = tick_size
        self.books: dict[int, OrderBook] = {}
        self.symbols: dict[int, str] = {}

    def book(self, locate: int) -> OrderBook:
        """The book of a locate code (empty until its first order)."""
        book = self.books.get(locate)
        if book is None:
            book = self.books[locate] = OrderBook(self.tick_size)
        return book

    def apply(self, message: Any) -> None:
        """Apply one decoded ITCH message; messages that do not touch a book are ignored."""
        kind = type(message)
        if kind is itch.StockDirectory:
            self.symbols[message.stock_locate] = message.stock
            return
        if kind not in _BOOK_MESSAGES:
            return
        book = self.book(message.stock_locate)
        if kind is itch.AddOrder or kind is itch.AddOrderMpid:
            side = BUY if message.side == "B" else SELL
            book.add(message.order_reference_number, side, message.price, message.shares)
        elif kind is itch.OrderExecuted or kind is itch.OrderExecutedWithPrice:
            book.execute(message.order_reference_number, message.executed_shares)
        elif kind is itch.OrderCancel:
            book.cancel(message.order_reference_number, message.cancelled_shares)
        elif kind is itch.OrderDelete:
            book.delete(message.order_reference_number)
        else:
            book.replace(
                message.original_order_reference_number,
                message.new_order_reference_number,
                message.shares,
                message.price,
            )


_BOOK_MESSAGES = frozenset(
    (
        itch.AddOrder,
        itch.AddOrderMpid,
        itch.OrderExecuted,
        itch.OrderExecutedWithPrice,
        itch.OrderCancel,
        itch.OrderDelete,
        itch.OrderReplace,
    )
)
