"""Formatting and prose: money, percentages and changes as a reader expects them, and the small helpers
the pages write their sentences with (plurals, name lists, risk levels, summaries).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta

from data_generator import Item, Snapshot
from prism.reporting.model import LEVEL_RANK, Risk, Unit


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


def share_pct(part: float, whole: float) -> float:
    return part / whole * 100 if whole else 0.0


def mean(values: Iterable[float]) -> float:
    numbers = list(values)
    return sum(numbers) / len(numbers) if numbers else 0.0


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


def parse_day(text: str) -> date:
    return date.fromisoformat(text)


def is_within(day: str, today: date, days: int) -> bool:
    return today <= parse_day(day) <= today + timedelta(days=days)


def month_label(month: str) -> str:
    year, number = month.split("-")
    return f"{date(int(year), int(number), 1):%b} '{year[2:]}"


def next_months(today: date, count: int = 12) -> list[str]:
    months, year, month = [], today.year, today.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def by_month(
    items: Iterable[Item], day_field: str, months: Sequence[str], measure: Callable[[Item], float]
) -> list[float]:
    totals = dict.fromkeys(months, 0.0)
    for item in items:
        month = item[day_field][:7]
        if month in totals:
            totals[month] += measure(item)
    return [totals[month] for month in months]


def totals_by(items: Iterable[Item], key: str, measure: Callable[[Item], float]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for item in items:
        totals[item[key]] += measure(item)
    return totals


def level_above(value: float, high: float, medium: float, low: float) -> str | None:
    """Level of a risk that grows with the value (None below the lowest threshold)."""
    for level, threshold in (("High", high), ("Medium", medium), ("Low", low)):
        if value >= threshold:
            return level
    return None


def level_below(value: float, high: float, medium: float, low: float) -> str | None:
    """Level of a risk that grows as the value falls."""
    return level_above(-value, -high, -medium, -low)


def ranked_risks(*candidates: tuple[str | None, str, str]) -> tuple[Risk, ...]:
    """The risks whose level was reached, most severe first; a clean bill of health otherwise."""
    risks = [Risk(level, description, action) for level, description, action in candidates if level]
    if not risks:
        risks = [
            Risk(
                "Low",
                "No measure crossed its risk threshold in this snapshot.",
                "Keep the regular review cadence and re-run this report after the next change.",
            )
        ]
    return tuple(sorted(risks, key=lambda risk: LEVEL_RANK[risk.level]))


def summary_text(*sentences: str, risks: Sequence[Risk]) -> str:
    """The sentences, then the most severe risk unless it is Low or the sentences already state it."""
    text = " ".join(sentence for sentence in sentences if sentence)
    top = risks[0] if risks else None
    if top is not None and top.level != "Low" and top.description.split(" (")[0].rstrip(".") not in text:
        text += f" Top risk ({top.level.lower()}): {top.description}"
    return text


def today_of(snapshot: Snapshot) -> date:
    return snapshot.time.date()
