"""Formatting and prose: money, percentages and changes as a reader expects them, and the small helpers
the pages write their sentences with (plurals, verbs, name lists, shortened labels, month names).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from prism.reporting.model import Unit


def usd(amount: float) -> str:
    """Dollars and cents with thousands separators: `$1,234.50` or `-$56.00`."""
    cents = round(amount * 100)
    return f"{'-' if cents < 0 else ''}${abs(cents) / 100:,.2f}"


def pct(value: float) -> str:
    """A percentage with one decimal: `42.5%`."""
    return f"{value:.1f}%"


_FORMATS: dict[Unit, Callable[[float], str]] = {
    "money": usd,
    "percent": pct,
    "count": lambda value: f"{value:,.0f}",
    "hours": lambda value: f"{value:,.0f} h",
    "score": lambda value: f"{value:.1f}",
}


def format_value(value: float, unit: Unit) -> str:
    """A figure in its unit."""
    return _FORMATS[unit](value)


def format_change(delta: float, unit: Unit) -> str:
    """A change in a figure: `+$1,200`, `−0.4 pts`, or `no change` when it rounds to nothing."""
    size = f"{abs(delta):.1f} pts" if unit == "percent" else format_value(abs(delta), unit)
    if size in (format_value(0, unit), "0.0 pts"):
        return "no change"
    return ("+" if delta > 0 else "−") + size


def plural_of(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def verb(count: int, singular: str = "is", plural: str = "are") -> str:
    return singular if count == 1 else plural


def join_names(names: Sequence[str], limit: int = 3) -> str:
    """`A`, `A and B`, `A, B and C`, or `A, B, C and 4 more`."""
    shown, rest = list(names[:limit]), len(names) - limit
    if rest > 0:
        return f"{', '.join(shown)} and {rest} more"
    if len(shown) <= 1:
        return "".join(shown)
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def shorten(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def month_label(month: str) -> str:
    year, number = month.split("-")
    return f"{date(int(year), int(number), 1):%b} '{year[2:]}"
