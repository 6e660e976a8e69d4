from django import template

register = template.Library()


@register.filter
def percent(fraction: float | None, places: int = 2) -> str:
    """0.2103 -> "21.03%"; None (an undefined figure) -> "n/a"."""
    if fraction is None:
        return "n/a"
    return f"{fraction * 100:.{places}f}%"


@register.filter
def compact_dollars(amount: float) -> str:
    """An axis label that fits a narrow margin: 1954442.1 -> "$1.95M", 990626 -> "$991k"."""
    sign = "-" if amount < 0 else ""
    size = abs(amount)
    if size >= 1e9:
        return f"{sign}${size / 1e9:.3g}B"
    if size >= 1e6:
        return f"{sign}${size / 1e6:.3g}M"
    if size >= 1e4:
        return f"{sign}${size / 1e3:.3g}k"
    return f"{sign}${size:,.0f}"
