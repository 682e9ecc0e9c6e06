"""The business thresholds the reports' default insights are measured against, and how a risk's level is
read from a value and three of them. Those the simulation also uses come from `rules`, their one home.
"""

from __future__ import annotations

import rules

THIN_MARGIN = rules.HIGH_CHURN_MARGIN  # a client below it has High churn risk

HEALTHY_MARGIN = 30.0

SEAT_PRESSURE = rules.SEAT_PRESSURE  # a license this full is At Risk of running out of seats

LOW_SEAT_USE = 70.0

TARGET_UTILISATION = 75.0

OVERLOADED = 90.0

UNDERUSED = 60.0

LOW_PERFORMANCE = 75.0

POOR_PERFORMANCE = rules.UNDER_REVIEW_BELOW  # a vendor below it is put under review

SLA_FLOOR = 90.0

STALE_CONTACT_DAYS = 14

RENEWAL_WINDOW_DAYS = rules.EXPIRING_WITHIN_DAYS


def level_above(value: float, high: float, medium: float, low: float) -> str | None:
    """Level of a risk that grows with the value (None below the lowest threshold)."""
    for level, threshold in (("High", high), ("Medium", medium), ("Low", low)):
        if value >= threshold:
            return level
    return None


def level_below(value: float, high: float, medium: float, low: float) -> str | None:
    """Level of a risk that grows as the value falls."""
    return level_above(-value, -high, -medium, -low)
