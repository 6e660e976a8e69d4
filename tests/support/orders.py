"""OUCH Enter Orders as the tests send them: anonymous, principal, no minimum, no cross."""

from trading.protocols import ouch


def enter_order(token, side, shares, price, stock="AAPL", tif=ouch.TIF_SYSTEM_HOURS, display="Y"):
    """An Enter Order with the defaults every test uses; pass what the test is about."""
    return ouch.EnterOrder(
        token, side, shares, stock, price, tif, "", display, "P", "N", 0, "N", " "
    )
