"""Fixed-point prices: integers of 1e-4 of a dollar, as NASDAQ and LOBSTER write them."""

PRICE_SCALE = 10_000
NANOS_PER_SECOND = 1_000_000_000


def to_price(dollars: float) -> int:
    """Dollars to price units, rounded to the nearest unit."""
    return int(round(dollars * PRICE_SCALE))


def to_dollars(price: int) -> float:
    """Price units to dollars."""
    return price / PRICE_SCALE


def format_price(price: int) -> str:
    """Price units as a dollar string with four decimals (e.g. 5853300 -> '585.3300')."""
    sign = "-" if price < 0 else ""
    whole, frac = divmod(abs(price), PRICE_SCALE)
    return f"{sign}{whole}.{frac:04d}"
