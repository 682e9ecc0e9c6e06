"""Arithmetic and the calendar the pages measure with: shares and means, totals by key and by month,
days within a window, the months ahead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta

from data_generator import Item, Snapshot


def share_pct(part: float, whole: float) -> float:
    return part / whole * 100 if whole else 0.0


def mean(values: Iterable[float]) -> float:
    numbers = list(values)
    return sum(numbers) / len(numbers) if numbers else 0.0


def parse_day(text: str) -> date:
    return date.fromisoformat(text)


def is_within(day: str, today: date, days: int) -> bool:
    return today <= parse_day(day) <= today + timedelta(days=days)


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


def today_of(snapshot: Snapshot) -> date:
    return snapshot.time.date()
