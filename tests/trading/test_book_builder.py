"""Books rebuilt from ITCH messages, one per locate code."""

from trading.book_builder import BookBuilder
from trading.protocols import itch


def test_every_book_message_moves_exactly_one_order_of_its_own_book():
    builder = BookBuilder()
    for message in [
        itch.StockDirectory(
            1, 0, 0, "AAPL", "Q", "N", 100, "N", "C", "Z", "P", " ", "N", "1", "N", 0, "N"
        ),  # fmt: skip
        itch.AddOrder(1, 0, 1, 10, "B", 300, "AAPL", 1_899_900),
        itch.AddOrderMpid(1, 0, 2, 11, "S", 200, "AAPL", 1_900_100, "DEMO"),
        itch.AddOrder(2, 0, 3, 12, "B", 100, "MSFT", 4_100_000),
        itch.OrderExecuted(1, 0, 4, 10, 100, 1),
        itch.OrderExecutedWithPrice(1, 0, 5, 11, 50, 2, "Y", 1_900_000),
        itch.OrderCancel(1, 0, 6, 10, 100),
        itch.OrderReplace(1, 0, 7, 11, 13, 400, 1_900_200),
        itch.Trade(1, 0, 8, 0, "B", 500, "AAPL", 1_900_050, 3),  # hidden: no book change
        itch.OrderDelete(2, 0, 9, 12),
    ]:
        builder.apply(message)
    aapl = builder.book(1)
    assert builder.symbols == {1: "AAPL"}
    assert aapl.best_bid() == (1_899_900, 100)
    assert aapl.best_ask() == (1_900_200, 400)
    assert 11 not in aapl and 13 in aapl
    assert len(builder.book(2)) == 0
