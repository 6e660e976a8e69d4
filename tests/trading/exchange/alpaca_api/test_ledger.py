"""Cash and positions from fills: average entry, reductions, flips, account values."""

from trading.exchange.alpaca_api.ledger import AccountBook, Position


def test_adding_to_a_position_averages_its_entry_price():
    position = Position()
    position.fill(100, 100_000)
    position.fill(100, 110_000)
    assert (position.qty, position.cost, position.avg_entry) == (200, 21_000_000, 105_000)


def test_reducing_keeps_the_entry_price_and_going_through_zero_opens_at_the_fill():
    position = Position()
    position.fill(100, 100_000)
    position.fill(-40, 120_000)
    assert (position.qty, position.avg_entry) == (60, 100_000)
    position.fill(-110, 120_000)
    assert (position.qty, position.cost) == (-50, -6_000_000)
    position.fill(50, 90_000)
    assert (position.qty, position.cost) == (0, 0)


def test_the_account_values_positions_at_the_marks():
    book = AccountBook("demo", 0)
    assert book.fill("AAPL", True, 10, 1_900_000) == 10
    assert book.fill("MSFT", False, 5, 4_100_000) == -5
    marks = {"AAPL": 2_000_000, "MSFT": 4_000_000}
    assert book.market_values(marks) == (20_000_000, -20_000_000)
    assert book.cash == 1_000_000_000 - 19_000_000 + 20_500_000
    assert book.equity(marks) == book.cash
    account = book.account_json(marks, open_order_value=0)
    assert (account["long_market_value"], account["short_market_value"]) == ("2000", "-2000")
    assert account["buying_power"] == str(2 * int(account["equity"].split(".")[0]) - 4000)
