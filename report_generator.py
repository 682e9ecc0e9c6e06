"""PDF reports of the six dashboards: facts, charts and layout, all from one snapshot.

Importing this module is cheap: ReportLab and matplotlib are imported inside the functions
that draw, so the service starts fast and only the first report pays for them. What a page
type computes (metrics, charts, default insights) depends only on the snapshot, so it is
built once per tick and page type and kept in `snapshot.cache`; each request then lays out
its own PDF with the client's text where it sent some.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import logging
import math
import os
import re
import secrets
import struct
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache, partial
from pathlib import Path
from typing import Any, Literal, get_args
from xml.sax.saxutils import escape

import data_generator as dg
import rules
from config import now_utc
from data_generator import Item, Snapshot
from models import PageType, ReportInsights, ReportRequest

logger = logging.getLogger("prism.reports")

PAGE_TYPES: tuple[PageType, ...] = get_args(PageType)
# Renders at once; more requests wait their turn (rendering is CPU-bound and holds the GIL).
MAX_CONCURRENT_RENDERS = max(1, min(4, os.cpu_count() or 1))
REPORT_NAME = re.compile("^(?:" + "|".join(PAGE_TYPES) + r")-\d{8}T\d{6}Z-[0-9a-f]{6}\.pdf$")
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})

TREND_WINDOW = timedelta(hours=1)
CHART_DPI = 150
CHART_WIDTH_IN = 7.0
MAX_CHART_ROWS = 20

NAVY = "#1F3A5F"
BLUE = "#2F6EBA"
TEAL = "#2A9D8F"
AMBER = "#E9A23B"
RED = "#D1495B"
GREEN = "#3C9D5D"
GREY = "#8A94A6"
PURPLE = "#7B61A8"
INK = "#333333"
PALETTE = (BLUE, TEAL, AMBER, PURPLE, GREY, RED, GREEN)
LEVEL_COLORS = {"critical": "#8E1B2B", "high": RED, "medium": AMBER, "low": GREEN}
LEVEL_RANK = {"High": 0, "Medium": 1, "Low": 2}

# Business thresholds the default insights are measured against.
THIN_MARGIN = rules.HIGH_CHURN_MARGIN  # a client below it has High churn risk
HEALTHY_MARGIN = 30.0
SEAT_PRESSURE = 90.0  # a license this full is At Risk of running out of seats
LOW_SEAT_USE = 70.0
TARGET_UTILISATION = 75.0
OVERLOADED = 90.0
UNDERUSED = 60.0
LOW_PERFORMANCE = 75.0
POOR_PERFORMANCE = 65.0  # a vendor below it is put under review
SLA_FLOOR = 90.0
STALE_CONTACT_DAYS = 14
RENEWAL_WINDOW_DAYS = 90

Unit = Literal["money", "percent", "count", "hours", "score"]
ChartKind = Literal["barh", "bar", "donut"]


# --- what a report holds ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetricRow:
    """One line of the key-metrics table, formatted."""

    label: str
    value: str
    change: str
    tone: Literal["good", "bad", "neutral"] = "neutral"


@dataclass(frozen=True, slots=True)
class Risk:
    """A risk, its level and what to do about it."""

    level: str
    description: str
    recommendation: str


@dataclass(frozen=True, slots=True)
class Insights:
    """The written part of a report."""

    summary: str
    key_findings: tuple[str, ...]
    risks: tuple[Risk, ...]
    opportunities: tuple[str, ...]
    recommendations: tuple[str, ...]
    next_actions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Series:
    """One series of values of a chart."""

    name: str
    values: tuple[float, ...]
    color: str | None = None


@dataclass(frozen=True, slots=True)
class ChartSpec:
    """What a chart shows; drawing it is the job of `_draw_chart`."""

    title: str
    kind: ChartKind
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    unit: Unit = "money"
    stacked: bool = False
    bar_colors: tuple[str, ...] | None = None
    legend: tuple[tuple[str, str], ...] = ()
    reference: tuple[float, str] | None = None


@dataclass(frozen=True, slots=True)
class RenderedChart:
    """A chart drawn as a PNG, with the size it is printed at."""

    title: str
    png: bytes
    width_in: float
    height_in: float
    pixels: PngPixels  # the PNG's own compressed pixels, ready to go into a PDF as they are


@dataclass(frozen=True, slots=True)
class PngPixels:
    """What a PDF needs of a PNG: size, bit depth, palette (empty for RGB) and compressed scanlines."""

    width: int
    height: int
    depth: int
    palette: bytes
    scanlines: bytes
    name: str


def png_pixels(png: bytes) -> PngPixels:
    """Split a non-interlaced RGB or palette PNG into the parts a PDF image is made of."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    position, chunks, header, palette = 8, [], b"", b""
    while position < len(png):
        length = int.from_bytes(png[position : position + 4], "big")
        kind, data = png[position + 4 : position + 8], png[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = data
        elif kind == b"PLTE":
            palette = data
        elif kind == b"IDAT":
            chunks.append(data)
        position += 12 + length
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if interlace or not ((color_type == 2 and depth == 8) or (color_type == 3 and palette)):
        raise ValueError("only 8-bit RGB and palette PNGs without interlacing go into a report as they are")
    name = "chart" + hashlib.blake2b(png, digest_size=8).hexdigest()
    return PngPixels(width, height, depth, palette if color_type == 3 else b"", b"".join(chunks), name)


@dataclass(frozen=True, slots=True)
class PageContent:
    """Everything a page type computes from a snapshot (kept in the snapshot's cache)."""

    page_type: PageType
    title: str
    dashboard: str
    data_time: datetime
    compared_time: datetime
    tick: int
    metrics: tuple[MetricRow, ...]
    charts: tuple[RenderedChart, ...]
    insights: Insights
    figures: tuple[Figure, ...] = ()  # every figure of the page measured now and an hour earlier


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure of a page measured on the report's snapshot and on the one an hour earlier."""

    label: str
    unit: Unit
    better: int
    now: float | None
    before: float | None


@dataclass(frozen=True, slots=True)
class Report:
    """A rendered report and the name its copy was kept under."""

    name: str
    pdf: bytes
    tick: int


class ReportError(Exception):
    """A report could not be made; `status_code` and `reason` are what the client is told."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


# --- formatting --------------------------------------------------------------------------


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


def _share(part: float, whole: float) -> float:
    return part / whole * 100 if whole else 0.0


def _mean(values: Iterable[float]) -> float:
    numbers = list(values)
    return sum(numbers) / len(numbers) if numbers else 0.0


def _plural(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def _verb(count: int, singular: str = "is", plural: str = "are") -> str:
    return singular if count == 1 else plural


def _join(names: Sequence[str], limit: int = 3) -> str:
    """`A`, `A and B`, `A, B and C`, or `A, B, C and 4 more`."""
    shown, rest = list(names[:limit]), len(names) - limit
    if rest > 0:
        return f"{', '.join(shown)} and {rest} more"
    if len(shown) <= 1:
        return "".join(shown)
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _within(day: str, today: date, days: int) -> bool:
    return today <= _day(day) <= today + timedelta(days=days)


def _month_label(month: str) -> str:
    year, number = month.split("-")
    return f"{date(int(year), int(number), 1):%b} '{year[2:]}"


def _next_months(today: date, count: int = 12) -> list[str]:
    months, year, month = [], today.year, today.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _by_month(
    items: Iterable[Item], day_field: str, months: Sequence[str], measure: Callable[[Item], float]
) -> list[float]:
    totals = dict.fromkeys(months, 0.0)
    for item in items:
        month = item[day_field][:7]
        if month in totals:
            totals[month] += measure(item)
    return [totals[month] for month in months]


def _totals_by(items: Iterable[Item], key: str, measure: Callable[[Item], float]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for item in items:
        totals[item[key]] += measure(item)
    return totals


def _level_above(value: float, high: float, medium: float, low: float) -> str | None:
    """Level of a risk that grows with the value (None below the lowest threshold)."""
    for level, threshold in (("High", high), ("Medium", medium), ("Low", low)):
        if value >= threshold:
            return level
    return None


def _level_below(value: float, high: float, medium: float, low: float) -> str | None:
    """Level of a risk that grows as the value falls."""
    return _level_above(-value, -high, -medium, -low)


def _risks(*candidates: tuple[str | None, str, str]) -> tuple[Risk, ...]:
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


def _summary(*sentences: str, risks: Sequence[Risk]) -> str:
    """The sentences, then the most severe risk unless it is Low or the sentences already state it."""
    text = " ".join(sentence for sentence in sentences if sentence)
    top = risks[0] if risks else None
    if top is not None and top.level != "Low" and top.description.split(" (")[0].rstrip(".") not in text:
        text += f" Top risk ({top.level.lower()}): {top.description}"
    return text


def _today(snapshot: Snapshot) -> date:
    return snapshot.time.date()


# --- client profitability ------------------------------------------------------------------


def monthly_recurring_revenue(snapshot: Snapshot) -> float:
    """Sum of the clients' monthly recurring revenue."""
    return sum(client["monthlyRecurring"] for client in snapshot.items["clients"])


def average_margin(snapshot: Snapshot) -> float:
    """Mean of the clients' margin percentages."""
    return _mean(client["marginPercentage"] for client in snapshot.items["clients"])


def annual_gross_profit(snapshot: Snapshot) -> float:
    """Revenue less cost to serve over all clients, per year."""
    return sum(client["annualRevenue"] - client["annualCosts"] for client in snapshot.items["clients"])


def at_risk_clients(snapshot: Snapshot) -> list[Item]:
    """Clients whose status is At Risk."""
    return [client for client in snapshot.items["clients"] if client["status"] == "At Risk"]


def top_fifth_revenue_share(snapshot: Snapshot) -> float:
    """Share of revenue brought by the largest 20% of clients (at least one), %."""
    revenues = sorted((client["annualRevenue"] for client in snapshot.items["clients"]), reverse=True)
    return _share(sum(revenues[: math.ceil(len(revenues) / 5)]), sum(revenues))


def _client_names(clients: Sequence[Item]) -> str:
    return _join([client["name"] for client in clients])


def _client_insights(snapshot: Snapshot) -> Insights:
    clients = snapshot.items["clients"]
    today = _today(snapshot)
    mrr, margin = monthly_recurring_revenue(snapshot), average_margin(snapshot)
    at_risk = at_risk_clients(snapshot)
    by_margin = sorted(clients, key=lambda client: client["marginPercentage"])
    thin = [client for client in by_margin if client["marginPercentage"] < THIN_MARGIN]
    exposed = [c for c in clients if c["status"] == "At Risk" or c["churnRisk"] == "High"]
    exposed_mrr = sum(client["monthlyRecurring"] for client in exposed)
    by_revenue = sorted(clients, key=lambda client: client["monthlyRecurring"], reverse=True)
    top_count, top_share = math.ceil(len(clients) / 5), top_fifth_revenue_share(snapshot)
    renewing = sorted(
        (c for c in clients if _within(c["contractEndDate"], today, RENEWAL_WINDOW_DAYS)),
        key=lambda client: client["contractEndDate"],
    )
    upsell = [
        c
        for c in clients
        if c["contractType"] == "Standard" and c["status"] == "Active" and c["marginPercentage"] >= HEALTHY_MARGIN
    ]
    findings = [
        f"Monthly recurring revenue is {usd(mrr)} across {_plural(len(clients), 'client')}, "
        f"at an average margin of {pct(margin)}.",
        f"{_plural(len(at_risk), 'client')} {_verb(len(at_risk))} At Risk"
        + (
            f" ({_client_names(at_risk)}), with {usd(sum(c['monthlyRecurring'] for c in at_risk))} of monthly revenue."
            if at_risk
            else "."
        ),
    ]
    if by_revenue:
        largest = by_revenue[0]
        findings.append(
            f"The top 20% of clients ({top_count}) bring {pct(top_share)} of revenue; the largest, "
            f"{largest['name']}, pays {usd(largest['monthlyRecurring'])} a month."
        )
        findings.append(
            f"Margins range from {pct(by_margin[0]['marginPercentage'])} ({by_margin[0]['name']}) to "
            f"{pct(by_margin[-1]['marginPercentage'])} ({by_margin[-1]['name']}); "
            f"{_plural(len(thin), 'client')} {_verb(len(thin))} below {THIN_MARGIN:.0f}%."
        )
    if renewing:
        findings.append(
            f"{_plural(len(renewing), 'contract')} {_verb(len(renewing), 'ends', 'end')} "
            f"in the next {RENEWAL_WINDOW_DAYS} days, "
            f"worth {usd(sum(c['monthlyRecurring'] for c in renewing))} a month; the first is {renewing[0]['name']} "
            f"on {renewing[0]['contractEndDate']}."
        )
    risks = _risks(
        (
            _level_above(_share(exposed_mrr, mrr), 15, 5, 0.01),
            f"{usd(exposed_mrr)} of monthly revenue ({pct(_share(exposed_mrr, mrr))}) comes from clients At Risk "
            f"or with high churn risk ({_client_names(exposed)}).",
            f"Hold account reviews with {_client_names(exposed)} and agree a recovery plan with each.",
        ),
        (
            _level_above(top_share, 60, 45, 35),
            f"Revenue is concentrated: the top 20% of clients bring {pct(top_share)} of it.",
            "Grow mid-sized accounts through cross-selling so that losing one large client cannot hurt as much.",
        ),
        (
            _level_above(_share(len(thin), len(clients)), 20, 10, 0.01),
            f"{_plural(len(thin), 'client')} {_verb(len(thin), 'runs', 'run')} below a {THIN_MARGIN:.0f}% margin "
            f"({_client_names(thin)}).",
            f"Reprice or reduce the cost to serve {_client_names(thin)} at their next review.",
        ),
    )
    recommendations = []
    if thin:
        recommendations.append(
            f"Review pricing and cost to serve for {_client_names(thin)}, whose margins are below {THIN_MARGIN:.0f}%."
        )
    if at_risk:
        recommendations.append(
            f"Give each At Risk client ({_client_names(at_risk)}) an executive sponsor and track it weekly."
        )
    if upsell:
        recommendations.append(
            f"Offer a Premium upgrade to {_client_names(upsell)}: "
            f"Standard-tier clients with margins above {HEALTHY_MARGIN:.0f}%."
        )
    if renewing:
        recommendations.append(
            f"Open renewal talks early with {_client_names(renewing)}, and use them to correct pricing."
        )
    recommendations.append(
        "Track margin per client monthly, not only revenue, so that unprofitable growth shows early."
    )
    actions = [
        f"This week: book account reviews with {_client_names(at_risk or thin or by_margin[:1])}." if clients else "",
        f"Within 30 days: prepare a cost-to-serve breakdown for the {min(3, len(by_margin))} lowest-margin clients.",
        f"Before {(today + timedelta(days=30)).isoformat()}: agree renewal terms with {_client_names(renewing)}."
        if renewing
        else "",
        "Next week: re-run this report to confirm that margins are moving the right way.",
    ]
    opportunities = [
        f"{_plural(len(upsell), 'Standard-tier client')} with healthy margins could move to Premium: "
        f"{_client_names(upsell)}."
        if upsell
        else "",
        f"Renewals in the next {RENEWAL_WINDOW_DAYS} days ({_client_names(renewing)}) are a chance to reset prices."
        if renewing
        else "",
        f"Healthy accounts such as {_client_names(by_margin[::-1][:2])} are candidates for references and case studies."
        if len(by_margin) >= 2
        else "",
    ]
    return Insights(
        summary=_summary(
            f"{_plural(len(clients), 'client')} bring {usd(mrr)} of monthly recurring revenue "
            f"at an average margin of {pct(margin)}.",
            f"{_plural(len(at_risk), 'client')} {_verb(len(at_risk))} At Risk and the top 20% of clients bring "
            f"{pct(top_share)} of revenue.",
            risks=risks,
        ),
        key_findings=tuple(findings),
        risks=risks,
        opportunities=tuple(text for text in opportunities if text),
        recommendations=tuple(recommendations),
        next_actions=tuple(text for text in actions if text),
    )


def _client_charts(snapshot: Snapshot) -> tuple[ChartSpec, ...]:
    clients = snapshot.items["clients"]
    by_margin = sorted(clients, key=lambda client: client["marginPercentage"])[:MAX_CHART_ROWS]
    risk_colors = {"High": RED, "Medium": AMBER, "Low": GREEN}
    largest = sorted(clients, key=lambda client: client["monthlyRecurring"], reverse=True)[:10]
    tiers = ("Standard", "Premium", "Enterprise")
    tier_revenue = _totals_by(clients, "contractType", lambda client: client["monthlyRecurring"])
    return (
        ChartSpec(
            "Monthly recurring revenue by contract tier",
            "donut",
            tiers,
            (Series("Revenue", tuple(tier_revenue.get(tier, 0.0) for tier in tiers)),),
            bar_colors=(GREY, BLUE, NAVY),
        ),
        ChartSpec(
            "Margin by client, lowest first (colour: churn risk)",
            "barh",
            tuple(client["name"] for client in by_margin),
            (Series("Margin", tuple(client["marginPercentage"] for client in by_margin)),),
            unit="percent",
            bar_colors=tuple(risk_colors[client["churnRisk"]] for client in by_margin),
            legend=(("High churn risk", RED), ("Medium", AMBER), ("Low", GREEN)),
        ),
        ChartSpec(
            "Monthly revenue and cost to serve, ten largest clients",
            "barh",
            tuple(client["name"] for client in largest),
            (
                Series("Revenue", tuple(client["monthlyRevenue"] for client in largest), BLUE),
                Series("Cost to serve", tuple(client["monthlyCosts"] for client in largest), AMBER),
            ),
        ),
    )


# --- software licenses ---------------------------------------------------------------------


def monthly_license_cost(snapshot: Snapshot) -> float:
    """Monthly cost of every seat of every license."""
    return sum(license["monthlyCost"] for license in snapshot.items["licenses"])


def seat_utilisation(snapshot: Snapshot) -> float:
    """Seats in use over seats bought, all licenses, %."""
    licenses = snapshot.items["licenses"]
    return _share(sum(lic["usedLicenses"] for lic in licenses), sum(lic["totalLicenses"] for lic in licenses))


def unused_seats(snapshot: Snapshot) -> int:
    """Seats bought and not assigned."""
    return sum(license["availableLicenses"] for license in snapshot.items["licenses"])


def wasted_license_spend(snapshot: Snapshot) -> float:
    """Monthly cost of the unused seats: the sum of the licenses' potentialSavings."""
    return sum(license["potentialSavings"] for license in snapshot.items["licenses"])


def over_allocated_licenses(snapshot: Snapshot) -> list[Item]:
    """Licenses with every seat taken."""
    return [lic for lic in snapshot.items["licenses"] if lic["complianceStatus"] == "Over-allocated"]


def license_renewals(snapshot: Snapshot, days: int = RENEWAL_WINDOW_DAYS) -> list[Item]:
    """Licenses renewing within the next `days` days, soonest first."""
    today = _today(snapshot)
    due = [lic for lic in snapshot.items["licenses"] if _within(lic["renewalDate"], today, days)]
    return sorted(due, key=lambda license: license["renewalDate"])


def _products(licenses: Sequence[Item]) -> str:
    return _join([license["product"] for license in licenses])


def _license_insights(snapshot: Snapshot) -> Insights:
    licenses = snapshot.items["licenses"]
    cost, waste = monthly_license_cost(snapshot), wasted_license_spend(snapshot)
    used, total = sum(lic["usedLicenses"] for lic in licenses), sum(lic["totalLicenses"] for lic in licenses)
    full = over_allocated_licenses(snapshot)
    pressed = [lic for lic in licenses if lic["complianceStatus"] == "At Risk"]
    renewing = license_renewals(snapshot)
    idle_renewals = [lic for lic in renewing if lic["utilizationRate"] < LOW_SEAT_USE]
    by_waste = sorted(
        (lic for lic in licenses if lic["potentialSavings"] > 0), key=lambda lic: lic["potentialSavings"], reverse=True
    )
    waste_share = _share(waste, cost)
    findings = [
        f"{_plural(len(licenses), 'license')} cost {usd(cost)} a month ({usd(cost * 12)} a year); "
        f"{used:,} of {total:,} seats are in use ({pct(seat_utilisation(snapshot))}).",
        f"Unused seats cost {usd(waste)} a month, {usd(waste * 12)} a year: {pct(waste_share)} of license spend.",
        f"{_plural(len(full), 'license')} {_verb(len(full))} over-allocated (every seat taken) and "
        f"{len(pressed)} more {_verb(len(pressed))} at {SEAT_PRESSURE:.0f}% of their seats or above.",
    ]
    if by_waste:
        worst = by_waste[0]
        findings.insert(
            2,
            f"The largest waste is {worst['product']} ({worst['vendor']}): {worst['availableLicenses']} unused seats "
            f"costing {usd(worst['potentialSavings'])} a month.",
        )
    if renewing:
        findings.append(
            f"{_plural(len(renewing), 'license')} {_verb(len(renewing), 'renews', 'renew')} "
            f"in the next {RENEWAL_WINDOW_DAYS} days, "
            f"worth {usd(sum(lic['annualCost'] for lic in renewing))} a year; the first is {renewing[0]['product']} "
            f"on {renewing[0]['renewalDate']}."
        )
    else:
        findings.append(f"No license renews in the next {RENEWAL_WINDOW_DAYS} days.")
    risks = _risks(
        (
            _level_above(waste_share, 25, 15, 5),
            f"{pct(waste_share)} of license spend ({usd(waste)} a month) pays for seats nobody uses.",
            f"Reclaim unused seats, starting with {_products(by_waste)}, and lower the seat counts at renewal.",
        ),
        (
            _level_above(len(full), 5, 2, 1),
            f"{_plural(len(full), 'license')} {_verb(len(full), 'has', 'have')} no spare seat ({_products(full)}): "
            "new starters cannot be licensed and a vendor audit may find over-use.",
            f"Buy a small buffer of seats for {_products(full)} or free seats held by leavers.",
        ),
        (
            _level_above(len(idle_renewals), 3, 1, 1),
            f"{_plural(len(idle_renewals), 'license')} {_verb(len(idle_renewals), 'renews', 'renew')} within "
            f"{RENEWAL_WINDOW_DAYS} days below {LOW_SEAT_USE:.0f}% use ({_products(idle_renewals)}).",
            f"Cut the seat counts of {_products(idle_renewals)} before their renewal dates.",
        ),
    )
    recommendations = []
    if by_waste:
        recommendations.append(
            f"Reclaim the unused seats of {_products(by_waste[:3])}: together "
            f"{usd(sum(lic['potentialSavings'] for lic in by_waste[:3]))} a month."
        )
    if full:
        recommendations.append(f"Add seats or reassign idle users for {_products(full)} to stay compliant.")
    if idle_renewals:
        recommendations.append(f"Right-size {_products(idle_renewals)} before they renew.")
    recommendations.append("Remove leavers' seats the day they leave, through the offboarding checklist.")
    recommendations.append("Review seat usage monthly with each license owner.")
    actions = [
        f"This week: send the list of unused seats to the owners of {_products(by_waste)}." if by_waste else "",
        f"Before {renewing[0]['renewalDate']}: confirm the seat count for {renewing[0]['product']}."
        if renewing
        else "",
        f"Within 30 days: resolve the over-allocation of {_products(full)}." if full else "",
        "Next month: re-run this report and compare the cost of unused seats.",
    ]
    return Insights(
        summary=_summary(
            f"The business pays {usd(cost)} a month for software licenses "
            f"and uses {pct(seat_utilisation(snapshot))} of its seats.",
            f"Unused seats cost {usd(waste)} a month, and {_plural(len(renewing), 'license')} "
            f"{_verb(len(renewing), 'renews', 'renew')} in the next {RENEWAL_WINDOW_DAYS} days.",
            risks=risks,
        ),
        key_findings=tuple(findings),
        risks=risks,
        opportunities=tuple(
            text
            for text in (
                f"Reclaiming every unused seat would save {usd(waste * 12)} a year." if waste else "",
                f"Upcoming renewals ({_products(renewing)}) are the moment to negotiate price and seat counts."
                if renewing
                else "",
            )
            if text
        ),
        recommendations=tuple(recommendations),
        next_actions=tuple(text for text in actions if text),
    )


def _license_charts(snapshot: Snapshot) -> tuple[ChartSpec, ...]:
    licenses = snapshot.items["licenses"]
    wasteful = sorted(licenses, key=lambda license: license["potentialSavings"], reverse=True)[:10]
    used_cost = _totals_by(licenses, "vendor", lambda lic: lic["usedLicenses"] * lic["costPerLicense"] / 12)
    idle_cost = _totals_by(licenses, "vendor", lambda lic: lic["potentialSavings"])
    vendors = sorted(used_cost, key=lambda vendor: used_cost[vendor] + idle_cost[vendor], reverse=True)[:10]
    months = _next_months(_today(snapshot))
    return (
        ChartSpec(
            "Monthly cost of unused seats, top ten licenses",
            "barh",
            tuple(license["product"] for license in wasteful),
            (Series("Unused seats", tuple(license["potentialSavings"] for license in wasteful), AMBER),),
        ),
        ChartSpec(
            "Monthly cost by vendor: seats in use and unused",
            "barh",
            tuple(vendors),
            (
                Series("In use", tuple(used_cost[vendor] for vendor in vendors), BLUE),
                Series("Unused", tuple(idle_cost[vendor] for vendor in vendors), AMBER),
            ),
            stacked=True,
        ),
        ChartSpec(
            "Annual cost up for renewal, next twelve months",
            "bar",
            tuple(_month_label(month) for month in months),
            (
                Series(
                    "Annual cost",
                    tuple(_by_month(licenses, "renewalDate", months, lambda lic: lic["annualCost"])),
                    TEAL,
                ),
            ),
        ),
    )


# --- sales pipeline ----------------------------------------------------------------------

CLOSED_STAGES = frozenset({"Closed Won", "Closed Lost"})
OPEN_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")


def open_leads(snapshot: Snapshot) -> list[Item]:
    """Leads not yet won or lost."""
    return [lead for lead in snapshot.items["leads"] if lead["stage"] not in CLOSED_STAGES]


def open_pipeline_value(snapshot: Snapshot) -> float:
    """Value of the open leads."""
    return sum(lead["value"] for lead in open_leads(snapshot))


def weighted_pipeline(snapshot: Snapshot) -> float:
    """Value of the open leads weighted by their probability."""
    return sum(lead["value"] * lead["probability"] / 100 for lead in open_leads(snapshot))


def win_rate(snapshot: Snapshot) -> float | None:
    """Won over closed leads on the board, %; None when none has closed."""
    won = sum(1 for lead in snapshot.items["leads"] if lead["stage"] == "Closed Won")
    lost = sum(1 for lead in snapshot.items["leads"] if lead["stage"] == "Closed Lost")
    return _share(won, won + lost) if won + lost else None


def average_deal_size(snapshot: Snapshot) -> float:
    """Mean value of an open lead."""
    return _mean(lead["value"] for lead in open_leads(snapshot))


def closing_soon(snapshot: Snapshot, days: int = 30) -> list[Item]:
    """Open leads expected to close within `days` days."""
    today = _today(snapshot)
    return [lead for lead in open_leads(snapshot) if _within(lead["expectedCloseDate"], today, days)]


def _companies(leads: Sequence[Item]) -> str:
    return _join([lead["companyName"] for lead in leads])


def _pipeline_insights(snapshot: Snapshot) -> Insights:
    leads, today = snapshot.items["leads"], _today(snapshot)
    active = open_leads(snapshot)
    value, weighted, rate = open_pipeline_value(snapshot), weighted_pipeline(snapshot), win_rate(snapshot)
    won = [lead for lead in leads if lead["stage"] == "Closed Won"]
    lost = [lead for lead in leads if lead["stage"] == "Closed Lost"]
    stage_value = _totals_by(active, "stage", lambda lead: lead["value"])
    stage_count = _totals_by(active, "stage", lambda lead: 1)
    early_share = _share(stage_value.get("Prospecting", 0) + stage_value.get("Qualification", 0), value)
    by_value = sorted(active, key=lambda lead: lead["value"], reverse=True)
    soon = closing_soon(snapshot)
    stale = [lead for lead in active if (today - _day(lead["lastContact"])).days > STALE_CONTACT_DAYS]
    overdue = [lead for lead in active if _day(lead["expectedCloseDate"]) < today]
    largest_share = _share(by_value[0]["value"] * by_value[0]["probability"] / 100, weighted) if by_value else 0.0
    findings = [
        f"The open pipeline holds {_plural(len(active), 'opportunity', 'opportunities')} worth {usd(value)}; "
        f"weighted by probability it is worth {usd(weighted)}.",
        "By stage: "
        + "; ".join(
            f"{stage} {usd(stage_value.get(stage, 0))} ({int(stage_count.get(stage, 0))})" for stage in OPEN_STAGES
        )
        + ".",
        (
            f"{len(won)} won and {len(lost)} lost among the closed leads on the board: a win rate of {pct(rate)}."
            if rate is not None
            else "No lead on the board has closed yet, so there is no win rate to report."
        ),
        f"{_plural(len(soon), 'opportunity', 'opportunities')} worth {usd(sum(lead['value'] for lead in soon))} "
        f"{_verb(len(soon))} expected to close within 30 days.",
    ]
    if by_value:
        top = by_value[0]
        findings.insert(
            2,
            f"The largest opportunity is {top['companyName']} at {usd(top['value'])} "
            f"({top['stage']}, {top['probability']}% likely).",
        )
    risks = _risks(
        (
            _level_above(early_share, 75, 60, 50),
            f"{pct(early_share)} of the open pipeline is still in Prospecting or Qualification.",
            "Qualify early-stage leads faster and move the best of them to a proposal this month.",
        ),
        (
            _level_below(rate, 20, 35, 50) if rate is not None else None,
            f"The win rate is {pct(rate or 0)} ({len(won)} won, {len(lost)} lost).",
            "Review the lost deals with the sales team and tighten qualification before proposals.",
        ),
        (
            _level_above(largest_share, 30, 20, 12),
            f"One deal ({by_value[0]['companyName'] if by_value else ''}) makes up "
            f"{pct(largest_share)} of the weighted pipeline.",
            "Give the deal an executive sponsor and build enough other pipeline to absorb losing it.",
        ),
        (
            _level_above(len(stale) + len(overdue), 5, 2, 1),
            f"{_plural(len(stale), 'lead')} had no contact for over {STALE_CONTACT_DAYS} days and "
            f"{_plural(len(overdue), 'lead')} {_verb(len(overdue))} past the expected close date.",
            f"Contact {_companies(stale + overdue)} this week and update their close dates.",
        ),
    )
    negotiation = [lead for lead in active if lead["stage"] in ("Negotiation", "Proposal")]
    recommendations = [
        f"Focus the team on late-stage deals: {_companies(sorted(negotiation, key=lambda lead: -lead['value']))}."
        if negotiation
        else "Move qualified leads to proposals: no deal is in the late stages.",
        f"Prepare closing plans for the deals due within 30 days ({_companies(soon)})." if soon else "",
        "Qualify early-stage leads within two weeks or drop them, to keep the forecast honest."
        if early_share >= 50
        else "",
        "Review lost deals monthly and feed the reasons into qualification." if lost else "",
        "Invest in the lead sources that bring the most pipeline.",
    ]
    actions = [
        f"This week: review the {min(3, len(by_value))} largest open deals with their owners." if by_value else "",
        f"Before {(today + timedelta(days=30)).isoformat()}: close or re-date {_companies(soon)}." if soon else "",
        f"This week: call {_companies(stale + overdue)}." if stale or overdue else "",
        "Next week: re-run this report to follow the weighted pipeline.",
    ]
    return Insights(
        summary=_summary(
            f"The pipeline holds {usd(value)} in {_plural(len(active), 'open opportunity', 'open opportunities')}, "
            f"{usd(weighted)} weighted by probability.",
            f"The win rate is {pct(rate)}." if rate is not None else "No lead on the board has closed yet.",
            risks=risks,
        ),
        key_findings=tuple(findings),
        risks=risks,
        opportunities=tuple(
            text
            for text in (
                f"Deals in Negotiation are worth {usd(stage_value.get('Negotiation', 0))}: "
                "closing them lifts this quarter."
                if stage_value.get("Negotiation")
                else "",
                f"The average open deal is worth {usd(average_deal_size(snapshot))}; selling larger bundles raises it."
                if active
                else "",
            )
            if text
        ),
        recommendations=tuple(text for text in recommendations if text),
        next_actions=tuple(text for text in actions if text),
    )


def _pipeline_charts(snapshot: Snapshot) -> tuple[ChartSpec, ...]:
    active = open_leads(snapshot)
    stage_value = _totals_by(active, "stage", lambda lead: lead["value"])
    stage_weighted = _totals_by(active, "stage", lambda lead: lead["value"] * lead["probability"] / 100)
    source_value = _totals_by(active, "source", lambda lead: lead["value"])
    sources = sorted(source_value, key=lambda source: source_value[source], reverse=True)[:10]
    months = sorted({lead["expectedCloseDate"][:7] for lead in active})[:12]
    return (
        ChartSpec(
            "Open pipeline by stage: total and weighted value",
            "bar",
            OPEN_STAGES,
            (
                Series("Total value", tuple(stage_value.get(stage, 0.0) for stage in OPEN_STAGES), BLUE),
                Series("Weighted value", tuple(stage_weighted.get(stage, 0.0) for stage in OPEN_STAGES), TEAL),
            ),
        ),
        ChartSpec(
            "Open pipeline by lead source",
            "barh",
            tuple(sources),
            (Series("Value", tuple(source_value[source] for source in sources), PURPLE),),
        ),
        ChartSpec(
            "Weighted value by expected close month",
            "bar",
            tuple(_month_label(month) for month in months),
            (
                Series(
                    "Weighted value",
                    tuple(
                        _by_month(
                            active, "expectedCloseDate", months, lambda lead: lead["value"] * lead["probability"] / 100
                        )
                    ),
                    TEAL,
                ),
            ),
        ),
    )


# --- resource allocation -------------------------------------------------------------------


def team_utilisation(snapshot: Snapshot) -> float:
    """Billable over total hours, all technicians, %."""
    technicians = snapshot.items["technicians"]
    return _share(sum(t["billableHours"] for t in technicians), sum(t["totalHours"] for t in technicians))


def billable_hours(snapshot: Snapshot) -> float:
    """Hours billed to clients this month."""
    return sum(technician["billableHours"] for technician in snapshot.items["technicians"])


def billable_revenue(snapshot: Snapshot) -> float:
    """Billable hours times hourly rate, all technicians, this month."""
    return sum(t["billableHours"] * t["hourlyRate"] for t in snapshot.items["technicians"])


def revenue_gap_to_target(technician: Item) -> float:
    """Revenue a technician below the utilisation target would add by reaching it."""
    missing_hours = technician["totalHours"] * TARGET_UTILISATION / 100 - technician["billableHours"]
    return max(0.0, missing_hours) * technician["hourlyRate"]


def _people(technicians: Sequence[Item]) -> str:
    return _join([technician["name"] for technician in technicians])


def _resource_insights(snapshot: Snapshot) -> Insights:
    technicians = snapshot.items["technicians"]
    utilisation, revenue = team_utilisation(snapshot), billable_revenue(snapshot)
    hours = billable_hours(snapshot)
    worked = sum(t["totalHours"] for t in technicians)
    overloaded = sorted((t for t in technicians if t["utilization"] > OVERLOADED), key=lambda t: -t["utilization"])
    underused = sorted((t for t in technicians if t["utilization"] < UNDERUSED), key=lambda t: t["utilization"])
    gap = sum(revenue_gap_to_target(t) for t in technicians)
    on_leave = [t for t in technicians if t["status"] == "On Leave"]
    uncovered = [t for t in on_leave if t["activeProjects"] > 0]
    status = _totals_by(technicians, "status", lambda t: 1)
    earners = sorted(technicians, key=lambda t: t["billableHours"] * t["hourlyRate"], reverse=True)
    findings = [
        f"The team billed {hours:,.0f} of {worked:,.0f} hours worked this month: {pct(utilisation)} utilisation "
        f"against a {TARGET_UTILISATION:.0f}% target.",
        f"Billable revenue this month is {usd(revenue)}"
        + (
            f"; the top earner is {earners[0]['name']} ({earners[0]['role']}) with "
            f"{usd(earners[0]['billableHours'] * earners[0]['hourlyRate'])}."
            if earners
            else "."
        ),
        f"{_plural(len(overloaded), 'technician')} {_verb(len(overloaded))} above {OVERLOADED:.0f}% utilisation"
        + (f" ({_people(overloaded)})." if overloaded else "."),
        f"{_plural(len(underused), 'technician')} {_verb(len(underused))} below {UNDERUSED:.0f}%"
        + (f" ({_people(underused)})" if underused else "")
        + f"; bringing everyone below target up to {TARGET_UTILISATION:.0f}% would add {usd(gap)} of billable revenue.",
        f"{int(status.get('Available', 0))} available, {int(status.get('Busy', 0))} busy and "
        f"{int(status.get('On Leave', 0))} on leave, "
        f"with {sum(t['activeProjects'] for t in technicians)} active projects in all.",
    ]
    risks = _risks(
        (
            _level_above(len(overloaded), 3, 2, 1),
            f"{_plural(len(overloaded), 'technician')} {_verb(len(overloaded), 'works', 'work')} "
            f"above {OVERLOADED:.0f}% "
            f"utilisation ({_people(overloaded)}): a risk of burnout and slipping quality.",
            f"Move work from {_people(overloaded)} to colleagues with spare capacity.",
        ),
        (
            _level_above(len(underused), 4, 2, 1),
            f"{_plural(len(underused), 'technician')} {_verb(len(underused))} below {UNDERUSED:.0f}% utilisation "
            f"({_people(underused)}).",
            f"Assign billable project work or training with a billable follow-up to {_people(underused)}.",
        ),
        (
            _level_above(TARGET_UTILISATION - utilisation, 10, 5, 0.01) if technicians else None,
            f"Team utilisation is {pct(utilisation)}, {TARGET_UTILISATION - utilisation:.1f} points below the "
            f"{TARGET_UTILISATION:.0f}% target.",
            "Review non-billable time (internal work, travel) and book it against clients where the contract allows.",
        ),
        (
            "Medium" if uncovered else None,
            f"{_plural(len(uncovered), 'technician')} on leave "
            f"{_verb(len(uncovered), 'holds', 'hold')} active projects "
            f"({_people(uncovered)}).",
            f"Name a stand-in for each project of {_people(uncovered)}.",
        ),
    )
    available = [t for t in technicians if t["status"] == "Available" and t["utilization"] < TARGET_UTILISATION]
    recommendations = [
        f"Rebalance work from {_people(overloaded)} to {_people(available) or 'colleagues with spare capacity'}."
        if overloaded
        else "",
        f"Fill the spare capacity of {_people(underused)} with billable work." if underused else "",
        f"Aim for {TARGET_UTILISATION:.0f}% utilisation per technician and review it weekly in the resourcing meeting.",
        "Cross-train technicians on the most requested skills so that work can move between them.",
    ]
    actions = [
        f"This week: move at least one project away from {_people(overloaded)}." if overloaded else "",
        f"This week: plan billable work for {_people(underused)}." if underused else "",
        f"Today: name stand-ins for the projects of {_people(uncovered)}." if uncovered else "",
        "Next week: re-run this report to check utilisation against target.",
    ]
    return Insights(
        summary=_summary(
            f"The team of {len(technicians)} is {pct(utilisation)} utilised against a {TARGET_UTILISATION:.0f}% target "
            f"and billed {usd(revenue)} this month.",
            f"{_plural(len(overloaded), 'technician')} {_verb(len(overloaded))} overloaded and "
            f"{_plural(len(underused), 'technician')} {_verb(len(underused))} underused.",
            risks=risks,
        ),
        key_findings=tuple(findings),
        risks=risks,
        opportunities=tuple(
            text
            for text in (
                f"Reaching the {TARGET_UTILISATION:.0f}% target across the team "
                f"would add {usd(gap)} of revenue a month."
                if gap
                else "",
                f"Available technicians ({_people(available)}) can take on new client projects now."
                if available
                else "",
            )
            if text
        ),
        recommendations=tuple(text for text in recommendations if text),
        next_actions=tuple(text for text in actions if text),
    )


def _resource_charts(snapshot: Snapshot) -> tuple[ChartSpec, ...]:
    technicians = sorted(snapshot.items["technicians"], key=lambda t: t["utilization"], reverse=True)[:MAX_CHART_ROWS]
    role_revenue = _totals_by(snapshot.items["technicians"], "role", lambda t: t["billableHours"] * t["hourlyRate"])
    roles = sorted(role_revenue, key=lambda role: role_revenue[role], reverse=True)[:MAX_CHART_ROWS]
    statuses = ("Available", "Busy", "On Leave")
    status = _totals_by(snapshot.items["technicians"], "status", lambda t: 1)

    def band(utilisation: float) -> str:
        return RED if utilisation > OVERLOADED else AMBER if utilisation < UNDERUSED else BLUE

    return (
        ChartSpec(
            f"Utilisation by technician against the {TARGET_UTILISATION:.0f}% target",
            "barh",
            tuple(t["name"] for t in technicians),
            (Series("Utilisation", tuple(t["utilization"] for t in technicians)),),
            unit="percent",
            bar_colors=tuple(band(t["utilization"]) for t in technicians),
            legend=((f"Above {OVERLOADED:.0f}%", RED), ("In range", BLUE), (f"Below {UNDERUSED:.0f}%", AMBER)),
            reference=(TARGET_UTILISATION, "target"),
        ),
        ChartSpec(
            "Billable revenue this month by role",
            "barh",
            tuple(roles),
            (Series("Billable revenue", tuple(role_revenue[role] for role in roles), TEAL),),
        ),
        ChartSpec(
            "Technicians by status",
            "donut",
            statuses,
            (Series("Technicians", tuple(status.get(name, 0.0) for name in statuses)),),
            unit="count",
            bar_colors=(GREEN, BLUE, GREY),
        ),
    )


# --- departmental spend --------------------------------------------------------------------


def year_elapsed(snapshot: Snapshot) -> float:
    """Share of the calendar (fiscal) year gone by at the snapshot's time, %."""
    moment = snapshot.time
    start = datetime(moment.year, 1, 1, tzinfo=UTC)
    end = datetime(moment.year + 1, 1, 1, tzinfo=UTC)
    return _share((moment - start).total_seconds(), (end - start).total_seconds())


def annual_budget(snapshot: Snapshot) -> float:
    """Annual budget of all departments."""
    return sum(department["budget"] for department in snapshot.items["departments"])


def spent_year_to_date(snapshot: Snapshot) -> float:
    """Spend of all departments this year to date."""
    return sum(department["spent"] for department in snapshot.items["departments"])


def spend_pace(snapshot: Snapshot) -> float:
    """Share of the budget spent over share of the year gone, % (100 is exactly on pace)."""
    return _share(_share(spent_year_to_date(snapshot), annual_budget(snapshot)), year_elapsed(snapshot))


def month_spend(snapshot: Snapshot) -> float:
    """Spend of all departments this month."""
    return sum(department["actualSpend"] for department in snapshot.items["departments"])


def month_variance(snapshot: Snapshot) -> float:
    """Monthly budget less this month's spend, all departments (negative when over)."""
    return sum(department["variance"] for department in snapshot.items["departments"])


def over_monthly_budget(snapshot: Snapshot) -> list[Item]:
    """Departments spending more than their monthly budget this month, worst first."""
    over = [department for department in snapshot.items["departments"] if department["variance"] < 0]
    return sorted(over, key=lambda department: department["variancePercentage"])


def projected_year_end(department: Item, elapsed: float) -> float:
    """A department's spend at year end if it keeps its pace so far."""
    return department["spent"] / (elapsed / 100) if elapsed else department["spent"]


def _departments(departments: Sequence[Item]) -> str:
    return _join([department["name"] for department in departments])


def _spend_insights(snapshot: Snapshot) -> Insights:
    departments = snapshot.items["departments"]
    elapsed, budget, spent = year_elapsed(snapshot), annual_budget(snapshot), spent_year_to_date(snapshot)
    projected = sum(projected_year_end(d, elapsed) for d in departments)
    over_month = over_monthly_budget(snapshot)
    overrun = {d["id"]: _share(projected_year_end(d, elapsed) - d["budget"], d["budget"]) for d in departments}
    heading_over = sorted((d for d in departments if overrun[d["id"]] > 0), key=lambda d: -overrun[d["id"]])
    rising = [d for d in departments if d["trend"] == "up"]
    categories = _totals_by((c for d in departments for c in d["categories"]), "name", lambda c: c["spend"])
    top_category = max(categories, key=lambda name: categories[name]) if categories else None
    this_month = month_spend(snapshot)
    findings = [
        f"Departments have spent {usd(spent)} of their {usd(budget)} annual budget ({pct(_share(spent, budget))}) "
        f"with {pct(elapsed)} of the year gone.",
        f"At this pace the year ends at {usd(projected)}: {usd(abs(projected - budget))} "
        f"{'over' if projected > budget else 'under'} budget.",
        f"This month {usd(this_month)} is spent against {usd(sum(d['monthlyBudget'] for d in departments))} budgeted; "
        f"{_plural(len(over_month), 'department')} {_verb(len(over_month))} over"
        + (
            ": " + ", ".join(f"{d['name']} ({pct(-d['variancePercentage'])} over)" for d in over_month[:3]) + "."
            if over_month
            else "."
        ),
        f"Spend is rising in {_plural(len(rising), 'department')}" + (f" ({_departments(rising)})." if rising else "."),
    ]
    if top_category:
        findings.append(
            f"The largest category this month is {top_category} at {usd(categories[top_category])} "
            f"({pct(_share(categories[top_category], this_month))} of spend)."
        )
    worst_overrun = overrun[heading_over[0]["id"]] if heading_over else 0.0
    worst_month = -over_month[0]["variancePercentage"] if over_month else 0.0
    risks = _risks(
        (
            _level_above(worst_overrun, 10, 3, 0.01),
            f"{_plural(len(heading_over), 'department')} {_verb(len(heading_over), 'is', 'are')} "
            "on course to overspend the "
            f"annual budget ({_departments(heading_over)}; worst {pct(worst_overrun)} over).",
            f"Agree a spending plan for the rest of the year with the heads of {_departments(heading_over)}.",
        ),
        (
            _level_above(worst_month, 10, 5, 0.01),
            f"{_plural(len(over_month), 'department')} spent over the monthly budget this month "
            f"({_departments(over_month)}; worst {pct(worst_month)} over).",
            f"Hold discretionary purchases in {_departments(over_month)} until the month closes.",
        ),
        (
            _level_above(_share(len(rising), len(departments)), 50, 34, 0.01),
            f"Spend is trending up in {_plural(len(rising), 'department')} ({_departments(rising)}).",
            "Ask each department with rising spend to explain the rise at the next budget review.",
        ),
    )
    under = sorted((d for d in departments if d["variance"] > 0), key=lambda d: -d["variance"])
    recommendations = [
        f"Review the annual plans of {_departments(heading_over)} with their managers." if heading_over else "",
        f"Set monthly spending caps for {_departments(over_month)}." if over_month else "",
        f"Check whether {top_category} spend can be consolidated under fewer suppliers." if top_category else "",
        "Share this burn-rate view with department heads every month.",
    ]
    actions = [
        f"This week: meet {', '.join(d['manager'] for d in over_month[:3])} about this month's overspend."
        if over_month
        else "",
        f"Within 30 days: re-forecast the year for {_departments(heading_over)}." if heading_over else "",
        "At month end: re-run this report to confirm the monthly variance.",
    ]
    return Insights(
        summary=_summary(
            f"Departments have spent {pct(_share(spent, budget))} of the annual budget "
            f"with {pct(elapsed)} of the year gone, "
            f"a pace of {pct(spend_pace(snapshot))} of plan.",
            f"This month's spend is {usd(this_month)}, {usd(abs(month_variance(snapshot)))} "
            f"{'over' if month_variance(snapshot) < 0 else 'under'} the monthly budget.",
            risks=risks,
        ),
        key_findings=tuple(findings),
        risks=risks,
        opportunities=tuple(
            text
            for text in (
                f"{_departments(under)} {_verb(len(under), 'is', 'are')} under budget this month by "
                f"{usd(sum(d['variance'] for d in under))}; the headroom can fund priorities elsewhere."
                if under
                else "",
                f"Pooling {top_category} purchases across departments could win volume discounts."
                if top_category
                else "",
            )
            if text
        ),
        recommendations=tuple(text for text in recommendations if text),
        next_actions=tuple(text for text in actions if text),
    )


def _spend_charts(snapshot: Snapshot) -> tuple[ChartSpec, ...]:
    departments = snapshot.items["departments"][:MAX_CHART_ROWS]
    elapsed = year_elapsed(snapshot)
    used = [_share(d["spent"], d["budget"]) for d in departments]
    months: list[str] = [entry["month"] for entry in departments[0]["historicalSpend"]] if departments else []
    monthly: dict[str, float] = defaultdict(float)
    for department in snapshot.items["departments"]:
        for entry in department["historicalSpend"]:
            monthly[entry["month"]] += entry["amount"]
    categories = _totals_by(
        (c for d in snapshot.items["departments"] for c in d["categories"]), "name", lambda category: category["spend"]
    )
    names = sorted(categories, key=lambda name: categories[name], reverse=True)
    return (
        ChartSpec(
            "Budget used this year by department, against the share of the year gone",
            "barh",
            tuple(d["name"] for d in departments),
            (Series("Budget used", tuple(used)),),
            unit="percent",
            bar_colors=tuple(RED if share > elapsed else BLUE for share in used),
            legend=(("Ahead of the calendar", RED), ("Within pace", BLUE)),
            reference=(elapsed, "year gone"),
        ),
        ChartSpec(
            "Spend of all departments, last twelve months, against the monthly budget",
            "bar",
            tuple(_month_label(month) for month in months),
            (Series("Spend", tuple(monthly[month] for month in months), BLUE),),
            reference=(sum(d["monthlyBudget"] for d in snapshot.items["departments"]), "monthly budget"),
        ),
        ChartSpec(
            "This month's spend by category, all departments",
            "barh",
            tuple(names),
            (Series("Spend", tuple(categories[name] for name in names), TEAL),),
        ),
    )


# --- vendor management ---------------------------------------------------------------------


def vendor_spend(snapshot: Snapshot) -> float:
    """Spend with all vendors over the last twelve months."""
    return sum(vendor["totalSpend"] for vendor in snapshot.items["vendors"])


def top_vendor_share(snapshot: Snapshot, count: int = 3) -> float:
    """Share of vendor spend going to the largest `count` vendors, %."""
    spends = sorted((vendor["totalSpend"] for vendor in snapshot.items["vendors"]), reverse=True)
    return _share(sum(spends[:count]), sum(spends))


def active_contracts(snapshot: Snapshot) -> list[Item]:
    """Contracts not expired."""
    return [contract for contract in snapshot.items["contracts"] if contract["status"] != "Expired"]


def expiring_contracts(snapshot: Snapshot) -> list[Item]:
    """Contracts ending within 90 days, soonest first."""
    expiring = [contract for contract in snapshot.items["contracts"] if contract["status"] == "Expiring Soon"]
    return sorted(expiring, key=lambda contract: contract["endDate"])


def average_sla_compliance(snapshot: Snapshot) -> float:
    """Mean SLA compliance of the contracts not expired, %."""
    return _mean(contract["slaCompliance"] for contract in active_contracts(snapshot))


def low_performers(snapshot: Snapshot) -> list[Item]:
    """Vendors scoring below the performance bar, worst first."""
    low = [vendor for vendor in snapshot.items["vendors"] if vendor["performanceScore"] < LOW_PERFORMANCE]
    return sorted(low, key=lambda vendor: vendor["performanceScore"])


def _vendors(vendors: Sequence[Item]) -> str:
    return _join([vendor["name"] for vendor in vendors])


def _contract_names(contracts: Sequence[Item]) -> str:
    return _join([f"{contract['vendorName']} ({contract['type']})" for contract in contracts])


def _vendor_insights(snapshot: Snapshot) -> Insights:
    vendors = snapshot.items["vendors"]
    spend, share = vendor_spend(snapshot), top_vendor_share(snapshot)
    by_spend = sorted(vendors, key=lambda vendor: vendor["totalSpend"], reverse=True)
    expiring = expiring_contracts(snapshot)
    manual = [contract for contract in expiring if not contract["autoRenew"]]
    weak = low_performers(snapshot)
    poor = [vendor for vendor in weak if vendor["performanceScore"] < POOR_PERFORMANCE]
    live = active_contracts(snapshot)
    by_sla = sorted(live, key=lambda contract: contract["slaCompliance"])
    missed_sla = [contract for contract in by_sla if contract["slaCompliance"] < SLA_FLOOR]
    lapsed = [vendor for vendor in vendors if vendor["status"] == "expired"]
    findings = [
        f"{_plural(len(vendors), 'vendor')} were paid {usd(spend)} in the last twelve months; the top three "
        f"({_vendors(by_spend[:3])}) took {pct(share)}.",
        f"{_plural(len(expiring), 'contract')} worth {usd(sum(c['value'] for c in expiring))} "
        f"{_verb(len(expiring), 'expires', 'expire')} within {RENEWAL_WINDOW_DAYS} days; "
        f"{len(manual)} of them {_verb(len(manual), 'does', 'do')} not renew automatically"
        + (f" ({_contract_names(manual)})." if manual else "."),
        (
            f"{_plural(len(weak), 'vendor')} {_verb(len(weak), 'scores', 'score')} below {LOW_PERFORMANCE:.0f}: "
            + ", ".join(f"{vendor['name']} ({vendor['performanceScore']:.1f})" for vendor in weak[:4])
            + "."
            if weak
            else f"Every vendor scores {LOW_PERFORMANCE:.0f} or more on performance."
        ),
    ]
    if by_sla:
        findings.append(
            f"Average SLA compliance is {pct(average_sla_compliance(snapshot))}; the lowest is "
            f"{by_sla[0]['vendorName']} ({by_sla[0]['type']}) at {pct(by_sla[0]['slaCompliance'])}."
        )
    if lapsed:
        findings.append(
            f"{_plural(len(lapsed), 'vendor agreement')} {_verb(len(lapsed), 'has', 'have')} expired: "
            f"{_vendors(lapsed)}."
        )
    risks = _risks(
        (
            _level_above(share, 60, 45, 35),
            f"The top three vendors take {pct(share)} of vendor spend ({_vendors(by_spend[:3])}).",
            "Qualify an alternative supplier for the largest categories and use it in the next negotiation.",
        ),
        (
            _level_above(len(manual), 3, 1, 1),
            f"{_plural(len(manual), 'contract')} {_verb(len(manual), 'expires', 'expire')} "
            f"within {RENEWAL_WINDOW_DAYS} days "
            f"without auto-renewal ({_contract_names(manual)}).",
            "Decide renew, renegotiate or replace for each, leaving time for the notice periods.",
        ),
        (
            "High" if poor else "Medium" if weak else None,
            f"{_plural(len(weak), 'vendor')} {_verb(len(weak), 'performs', 'perform')} below {LOW_PERFORMANCE:.0f} "
            f"({_vendors(weak)}).",
            f"Put {_vendors(weak)} on an improvement plan with monthly reviews and service credits.",
        ),
        (
            _level_above(len(missed_sla), 3, 1, 1),
            f"{_plural(len(missed_sla), 'contract')} {_verb(len(missed_sla), 'misses', 'miss')} {SLA_FLOOR:.0f}% SLA "
            f"compliance ({_contract_names(missed_sla)}).",
            "Claim the service credits due and ask for a remediation plan.",
        ),
        (
            "Medium" if lapsed else None,
            f"{_plural(len(lapsed), 'vendor')} {_verb(len(lapsed), 'is', 'are')} supplying without a current agreement "
            f"({_vendors(lapsed)}).",
            f"Renew or end the agreements with {_vendors(lapsed)}.",
        ),
    )
    recommendations = [
        f"Start renewal decisions for {_contract_names(manual)} now." if manual else "",
        f"Hold performance reviews with {_vendors(weak)}." if weak else "",
        f"Benchmark the prices of {_vendors(by_spend[:2])}, the largest suppliers." if by_spend else "",
        "Keep a single contract calendar with notice dates and owners.",
    ]
    actions = [
        f"Before {manual[0]['endDate']}: decide on {_contract_names(manual[:1])}." if manual else "",
        f"Within 30 days: agree improvement plans with {_vendors(weak)}." if weak else "",
        f"This month: claim SLA credits from {_contract_names(missed_sla)}." if missed_sla else "",
        "Next month: re-run this report to follow spend concentration and performance.",
    ]
    return Insights(
        summary=_summary(
            f"{_plural(len(vendors), 'vendor')} were paid {usd(spend)} over twelve months, "
            f"{pct(share)} of it to the top three.",
            f"{_plural(len(live), 'contract')} {_verb(len(live))} active, {len(expiring)} expiring within "
            f"{RENEWAL_WINDOW_DAYS} days; {_plural(len(weak), 'vendor')} {_verb(len(weak), 'scores', 'score')} below "
            f"{LOW_PERFORMANCE:.0f}.",
            risks=risks,
        ),
        key_findings=tuple(findings),
        risks=risks,
        opportunities=tuple(
            text
            for text in (
                f"Expiring contracts worth {usd(sum(c['value'] for c in expiring))} can be renegotiated now."
                if expiring
                else "",
                f"Consolidating spend with strong performers such as "
                f"{_vendors(sorted(vendors, key=lambda v: -v['performanceScore'])[:2])} "
                "can earn volume discounts."
                if vendors
                else "",
            )
            if text
        ),
        recommendations=tuple(text for text in recommendations if text),
        next_actions=tuple(text for text in actions if text),
    )


def _vendor_charts(snapshot: Snapshot) -> tuple[ChartSpec, ...]:
    vendors = snapshot.items["vendors"]
    by_spend = sorted(vendors, key=lambda vendor: vendor["totalSpend"], reverse=True)[:10]
    by_score = sorted(vendors, key=lambda vendor: vendor["performanceScore"])[:MAX_CHART_ROWS]
    months = _next_months(_today(snapshot))
    contracts = snapshot.items["contracts"]

    def band(score: float) -> str:
        return RED if score < POOR_PERFORMANCE else AMBER if score < LOW_PERFORMANCE else GREEN

    return (
        ChartSpec(
            "Spend by vendor, last twelve months (ten largest)",
            "barh",
            tuple(vendor["name"] for vendor in by_spend),
            (Series("Spend", tuple(vendor["totalSpend"] for vendor in by_spend), BLUE),),
        ),
        ChartSpec(
            "Vendor performance score, weakest first",
            "barh",
            tuple(vendor["name"] for vendor in by_score),
            (Series("Score", tuple(vendor["performanceScore"] for vendor in by_score)),),
            unit="score",
            bar_colors=tuple(band(vendor["performanceScore"]) for vendor in by_score),
            legend=((f"Below {POOR_PERFORMANCE:.0f}", RED), (f"Below {LOW_PERFORMANCE:.0f}", AMBER), ("Good", GREEN)),
            reference=(LOW_PERFORMANCE, "bar"),
        ),
        ChartSpec(
            "Contract value ending per month, next twelve months",
            "bar",
            tuple(_month_label(month) for month in months),
            (
                Series(
                    "Auto-renew",
                    tuple(_by_month((c for c in contracts if c["autoRenew"]), "endDate", months, _value)),
                    TEAL,
                ),
                Series(
                    "Needs a decision",
                    tuple(_by_month((c for c in contracts if not c["autoRenew"]), "endDate", months, _value)),
                    AMBER,
                ),
            ),
            stacked=True,
        ),
    )


def _value(item: Item) -> float:
    return float(item["value"])


# --- the six pages -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetricDef:
    """A key metric: how to measure it on a snapshot, its unit, and which way is good news."""

    label: str
    unit: Unit
    better: int  # +1 when a rise is good news, -1 when it is bad news, 0 when neither
    measure: Callable[[Snapshot], float | None]


@dataclass(frozen=True, slots=True)
class Page:
    """One dashboard's report: its titles, metrics, charts and default insights."""

    dashboard: str
    title: str
    metrics: tuple[MetricDef, ...]
    charts: Callable[[Snapshot], tuple[ChartSpec, ...]]
    insights: Callable[[Snapshot], Insights]


PAGES: dict[PageType, Page] = {
    "client-profitability": Page(
        "Client Profitability",
        "Client Profitability Report",
        (
            MetricDef("Monthly recurring revenue", "money", 1, monthly_recurring_revenue),
            MetricDef("Average margin", "percent", 1, average_margin),
            MetricDef("Annual gross profit", "money", 1, annual_gross_profit),
            MetricDef("Clients at risk", "count", -1, lambda s: len(at_risk_clients(s))),
            MetricDef(
                "Clients with high churn risk",
                "count",
                -1,
                lambda s: sum(c["churnRisk"] == "High" for c in s.items["clients"]),
            ),
            MetricDef("Revenue share of the top 20% of clients", "percent", -1, top_fifth_revenue_share),
        ),
        _client_charts,
        _client_insights,
    ),
    "software-license": Page(
        "Software Licenses",
        "Software License Report",
        (
            MetricDef("Monthly license cost", "money", -1, monthly_license_cost),
            MetricDef("Seat utilisation", "percent", 1, seat_utilisation),
            MetricDef("Unused seats", "count", -1, unused_seats),
            MetricDef("Monthly cost of unused seats", "money", -1, wasted_license_spend),
            MetricDef("Over-allocated licenses", "count", -1, lambda s: len(over_allocated_licenses(s))),
            MetricDef(
                f"Renewals in the next {RENEWAL_WINDOW_DAYS} days", "count", 0, lambda s: len(license_renewals(s))
            ),
        ),
        _license_charts,
        _license_insights,
    ),
    "sales-pipeline": Page(
        "Sales Pipeline",
        "Sales Pipeline Report",
        (
            MetricDef("Open pipeline value", "money", 1, open_pipeline_value),
            MetricDef("Weighted pipeline value", "money", 1, weighted_pipeline),
            MetricDef("Open opportunities", "count", 1, lambda s: len(open_leads(s))),
            MetricDef("Win rate", "percent", 1, win_rate),
            MetricDef("Average open deal size", "money", 1, average_deal_size),
            MetricDef(
                "Expected to close in 30 days", "money", 1, lambda s: sum(lead["value"] for lead in closing_soon(s))
            ),
        ),
        _pipeline_charts,
        _pipeline_insights,
    ),
    "resource-allocation": Page(
        "Resource Allocation",
        "Resource Allocation Report",
        (
            MetricDef("Team utilisation", "percent", 1, team_utilisation),
            MetricDef("Billable hours this month", "hours", 1, billable_hours),
            MetricDef("Billable revenue this month", "money", 1, billable_revenue),
            MetricDef(
                "Average efficiency", "percent", 1, lambda s: _mean(t["efficiency"] for t in s.items["technicians"])
            ),
            MetricDef(
                f"Technicians above {OVERLOADED:.0f}%",
                "count",
                -1,
                lambda s: sum(t["utilization"] > OVERLOADED for t in s.items["technicians"]),
            ),
            MetricDef(
                "Available technicians",
                "count",
                0,
                lambda s: sum(t["status"] == "Available" for t in s.items["technicians"]),
            ),
        ),
        _resource_charts,
        _resource_insights,
    ),
    "departmental-spend": Page(
        "Departmental Spend",
        "Departmental Spend Report",
        (
            MetricDef("Annual budget", "money", 0, annual_budget),
            MetricDef("Spent this year to date", "money", 0, spent_year_to_date),
            MetricDef("Spend pace against the calendar", "percent", -1, spend_pace),
            MetricDef("Spend this month", "money", -1, month_spend),
            MetricDef("Monthly variance (negative = over)", "money", 1, month_variance),
            MetricDef("Departments over monthly budget", "count", -1, lambda s: len(over_monthly_budget(s))),
        ),
        _spend_charts,
        _spend_insights,
    ),
    "vendor-management": Page(
        "Vendor Management",
        "Vendor Management Report",
        (
            MetricDef("Vendor spend, last 12 months", "money", 0, vendor_spend),
            MetricDef("Spend share of the top 3 vendors", "percent", -1, top_vendor_share),
            MetricDef("Active contracts", "count", 0, lambda s: len(active_contracts(s))),
            MetricDef(
                f"Contracts expiring in {RENEWAL_WINDOW_DAYS} days", "count", -1, lambda s: len(expiring_contracts(s))
            ),
            MetricDef(
                "Average vendor performance",
                "score",
                1,
                lambda s: _mean(v["performanceScore"] for v in s.items["vendors"]),
            ),
            MetricDef("Average SLA compliance", "percent", 1, average_sla_compliance),
        ),
        _vendor_charts,
        _vendor_insights,
    ),
}


def _count(kind: str, keep: Callable[[Item], bool] = lambda item: True) -> Callable[[Snapshot], float]:
    return lambda s: sum(1 for item in s.items[kind] if keep(item))


def _sum(kind: str, field: str, keep: Callable[[Item], bool] = lambda item: True) -> Callable[[Snapshot], float]:
    return lambda s: sum(item[field] for item in s.items[kind] if keep(item))


def _average(kind: str, field: str) -> Callable[[Snapshot], float]:
    return lambda s: _mean(item[field] for item in s.items[kind])


# Figures the dashboards show besides the report's own key metrics: a metric the page sends is matched to
# one of these (or of the page's metrics) to give it its trend over the last hour.
EXTRA_FIGURES: dict[PageType, tuple[MetricDef, ...]] = {
    "client-profitability": (
        MetricDef("Total clients", "count", 1, _count("clients")),
        MetricDef("Annual revenue", "money", 1, _sum("clients", "annualRevenue")),
        MetricDef("Annual costs", "money", -1, _sum("clients", "annualCosts")),
        MetricDef("Monthly costs", "money", -1, _sum("clients", "monthlyCosts")),
        MetricDef(
            "Monthly profit",
            "money",
            1,
            lambda s: sum(c["monthlyRevenue"] - c["monthlyCosts"] for c in s.items["clients"]),
        ),
        MetricDef("Active clients", "count", 1, _count("clients", lambda c: c["status"] == "Active")),
        MetricDef("Medium churn risk", "count", -1, _count("clients", lambda c: c["churnRisk"] == "Medium")),
    ),
    "software-license": (
        MetricDef("Total licenses seats", "count", 0, _sum("licenses", "totalLicenses")),
        MetricDef("Used licenses seats", "count", 1, _sum("licenses", "usedLicenses")),
        MetricDef("Annual license cost", "money", -1, _sum("licenses", "annualCost")),
        MetricDef("Potential savings", "money", -1, _sum("licenses", "potentialSavings")),
        MetricDef("Average utilization rate", "percent", 1, _average("licenses", "utilizationRate")),
        MetricDef("License subscriptions", "count", 0, _count("licenses")),
        MetricDef(
            "Compliance issues at risk",
            "count",
            -1,
            _count("licenses", lambda lic: lic["complianceStatus"] != "Compliant"),
        ),
    ),
    "sales-pipeline": (
        MetricDef("Total pipeline value", "money", 1, _sum("leads", "value")),
        MetricDef("Total leads", "count", 1, _count("leads")),
        MetricDef("Won deals value", "money", 1, _sum("leads", "value", lambda lead: lead["stage"] == "Closed Won")),
        MetricDef("Average probability", "percent", 1, _average("leads", "probability")),
        MetricDef("Average deal size", "money", 1, _average("leads", "value")),
    ),
    "resource-allocation": (
        MetricDef("Total technicians", "count", 0, _count("technicians")),
        MetricDef("Average utilization", "percent", 1, _average("technicians", "utilization")),
        MetricDef("Total hours", "hours", 0, _sum("technicians", "totalHours")),
        MetricDef("Active projects", "count", 0, _sum("technicians", "activeProjects")),
        MetricDef("Average hourly rate", "money", 0, _average("technicians", "hourlyRate")),
        MetricDef("Busy technicians", "count", 0, _count("technicians", lambda t: t["status"] == "Busy")),
    ),
    "departmental-spend": (
        MetricDef("Total remaining budget", "money", 1, _sum("departments", "remaining")),
        MetricDef("Monthly budget", "money", 0, _sum("departments", "monthlyBudget")),
        MetricDef("Total departments", "count", 0, _count("departments")),
        MetricDef("Employees", "count", 0, _sum("departments", "employeeCount")),
        MetricDef(
            "Budget utilization used",
            "percent",
            -1,
            lambda s: _share(_sum("departments", "spent")(s), _sum("departments", "budget")(s)),
        ),
    ),
    "vendor-management": (
        MetricDef("Total vendors", "count", 0, _count("vendors")),
        MetricDef("Total contract value", "money", 0, _sum("contracts", "value")),
        MetricDef("Annual vendor value", "money", 0, _sum("vendors", "annualValue")),
        MetricDef("Total contracts", "count", 0, _count("contracts")),
        MetricDef(
            "Vendors expiring soon",
            "count",
            -1,
            _count("vendors", lambda v: v["status"] in ("expiring-soon", "expired")),
        ),
    ),
}


def measure_figures(metrics: Sequence[MetricDef], snapshot: Snapshot, earlier: Snapshot) -> tuple[Figure, ...]:
    """Each metric measured now and on the earlier snapshot."""
    return tuple(Figure(m.label, m.unit, m.better, m.measure(snapshot), m.measure(earlier)) for m in metrics)


def figure_row(figure: Figure, shown: str | None = None) -> MetricRow:
    """A key-metrics row of a figure: its value (or the text shown for it) and its change in the last hour."""
    now, before = figure.now, figure.before
    if now is None:
        return MetricRow(figure.label, shown or "n/a", "—")
    value = shown or format_value(now, figure.unit)
    if before is None:
        return MetricRow(figure.label, value, "—")
    change = format_change(now - before, figure.unit)
    tone: Literal["good", "bad", "neutral"] = "neutral"
    if change != "no change" and figure.better:
        tone = "good" if (now > before) == (figure.better > 0) else "bad"
    return MetricRow(figure.label, value, change, tone)


def metric_rows(page: Page, snapshot: Snapshot, earlier: Snapshot) -> tuple[MetricRow, ...]:
    """The page's metrics now, with their change since the earlier snapshot."""
    return tuple(figure_row(figure) for figure in measure_figures(page.metrics, snapshot, earlier))


def hour_earlier(snapshot: Snapshot, snapshot_at: Callable[[int], Snapshot]) -> Snapshot:
    """The snapshot one hour of simulated time before this one (one tick at least), of the same generation."""
    generation = snapshot.generation
    ticks_back = max(1, round(TREND_WINDOW.total_seconds() / generation.interval))
    tick = max(generation.first_tick, snapshot.tick - ticks_back)
    earlier = snapshot_at(tick)
    if earlier.generation != generation:  # a regenerate happened meanwhile
        earlier = dg.compute_snapshot(generation, tick)
    return earlier


_DOUBLED_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")
_BUILD_LOCKS = {page_type: threading.Lock() for page_type in PAGE_TYPES}


def page_content(page_type: PageType, snapshot: Snapshot, earlier: Callable[[], Snapshot]) -> PageContent:
    """Metrics, charts and default insights of a page type for a snapshot, built once per snapshot."""
    key = f"report:{page_type}"
    content: PageContent | None = snapshot.cache.get(key)
    if content is None:
        with _BUILD_LOCKS[page_type]:  # two first requests of a tick draw the charts once
            content = snapshot.cache.get(key)
            if content is None:
                content = snapshot.cache[key] = _build_content(page_type, snapshot, earlier())
    return content


def _build_content(page_type: PageType, snapshot: Snapshot, earlier: Snapshot) -> PageContent:
    page = PAGES[page_type]
    figures = measure_figures((*page.metrics, *EXTRA_FIGURES[page_type]), snapshot, earlier)
    return PageContent(
        page_type=page_type,
        title=page.title,
        dashboard=page.dashboard,
        data_time=snapshot.time,
        compared_time=earlier.time,
        tick=snapshot.tick,
        metrics=tuple(figure_row(figure) for figure in figures[: len(page.metrics)]),
        charts=tuple(_draw_chart(spec) for spec in page.charts(snapshot)),
        insights=_tidy(page.insights(snapshot)),
        figures=figures,
    )


def _tidy(insights: Insights) -> Insights:
    """Drop the doubled full stop left where a sentence ends on a name like `Acme Co.`."""

    def fix(text: str) -> str:
        return _DOUBLED_STOP.sub(".", text)

    return Insights(
        summary=fix(insights.summary),
        key_findings=tuple(map(fix, insights.key_findings)),
        risks=tuple(Risk(r.level, fix(r.description), fix(r.recommendation)) for r in insights.risks),
        opportunities=tuple(map(fix, insights.opportunities)),
        recommendations=tuple(map(fix, insights.recommendations)),
        next_actions=tuple(map(fix, insights.next_actions)),
    )


# --- what the client sent -----------------------------------------------------------------


def _sent(texts: Sequence[str] | None, computed: tuple[str, ...]) -> tuple[str, ...]:
    """The client's texts word for word, then the computed ones it did not already say."""
    sent = tuple(text for text in texts or () if text.strip())
    return (*sent, *(text for text in computed if text not in sent))


def merge_insights(computed: Insights, request: ReportRequest) -> Insights:
    """The client's insights first, as sent, then the report's own findings from the live data."""
    sent = request.insights or ReportInsights()
    summaries = [text for text in (sent.summary, request.summary) if text and text.strip()]
    summary = "\n\n".join((*summaries[:1], computed.summary))
    sent_risks = tuple(Risk(risk.level, risk.description, risk.recommendation) for risk in sent.risks or ())
    return Insights(
        summary=summary,
        key_findings=_sent(sent.keyFindings, computed.key_findings),
        risks=(*sent_risks, *(risk for risk in computed.risks if risk not in sent_risks)),
        opportunities=_sent(sent.opportunities, computed.opportunities),
        recommendations=_sent(sent.recommendations, computed.recommendations),
        next_actions=_sent(sent.nextActions, computed.next_actions),
    )


_NUMBER = re.compile(r"^\s*([-+−]?)\s*(\$?)\s*([0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)\s*(%?)\s*$")
# Within this relative distance a figure the page sent is taken for the figure the report measures.
SAME_FIGURE = 0.02


def read_figure(value: str | float | int) -> tuple[float | None, Unit | None]:
    """A figure the page sent, as a number and, when its text says so, a unit: `"$9,531.617"` is money."""
    if isinstance(value, bool):
        return None, None
    if isinstance(value, int | float):
        return (float(value), None) if math.isfinite(value) else (None, None)
    match = _NUMBER.match(value)
    if match is None:
        return None, None
    sign, dollar, digits, percent = match.groups()
    number = float(digits.replace(",", "")) * (-1 if sign in ("-", "−") else 1)
    if dollar:
        return number, "money"
    if percent:
        return number, "percent"
    return number, ("count" if "." not in digits else None)


# Words of a label too common to tell one figure from another.
_GENERIC_WORDS = frozenset({"total", "average", "avg", "all", "number", "count", "this", "last", "the", "and", "per"})


def _words(label: str) -> set[str]:
    return {word for word in re.findall(r"[a-z]+", label.lower()) if len(word) > 2} - _GENERIC_WORDS


def match_figure(label: str, number: float | None, unit: Unit | None, figures: Sequence[Figure]) -> Figure | None:
    """The measured figure a sent metric stands for: the nearest in value (same unit), else the best by label."""
    words = _words(label)
    measured = [(f.now, f) for f in figures if f.now is not None and (unit is None or f.unit == unit)]
    if number is not None:
        near = [
            (abs(now - number), -len(_words(f.label) & words), i, f)
            for i, (now, f) in enumerate(measured)
            if _same(now, number)
        ]
        if near:
            return min(near)[3]
    scored = [(len(_words(f.label) & words), -i, f) for i, (_, f) in enumerate(measured)]
    best = max(scored, key=lambda entry: entry[:2], default=None)
    return best[2] if best and best[0] else None


def _same(measured: float, sent: float) -> bool:
    return abs(measured - sent) <= SAME_FIGURE * max(abs(sent), 1.0)


def _shown(number: float | None, unit: Unit | None, value: str | float | int) -> str:
    if number is None:
        return str(value)
    if unit is None:
        return f"{number:,.0f}" if float(number).is_integer() else f"{number:,.2f}"
    return format_value(number, unit)


def merge_metrics(content: PageContent, request: ReportRequest) -> tuple[MetricRow, ...]:
    """The client's metrics, formatted, each with its trend: the client's, else the simulation's last hour."""
    if not request.metrics:
        return content.metrics
    rows = []
    for metric in request.metrics:
        number, unit = read_figure(metric.value)
        figure = match_figure(metric.label, number, unit, content.figures)
        unit = unit or (figure.unit if figure else None)
        shown = _shown(number, unit, metric.value)
        live = figure.now if figure is not None else None
        if figure is not None and live is not None and number is not None and not _same(live, number):
            shown += f" (live: {format_value(live, figure.unit)})"
        if metric.trend and metric.trend.strip():
            rows.append(MetricRow(metric.label, shown, metric.trend))
        elif figure is not None:
            rows.append(replace(figure_row(figure, shown), label=metric.label))
        else:
            rows.append(MetricRow(metric.label, shown, "not measured"))
    return tuple(rows)


# --- charts --------------------------------------------------------------------------------


_LIBRARIES_LOCK = threading.Lock()
_libraries_loaded = False


def _prepare_matplotlib() -> None:
    """Import the drawing libraries once, under a lock (concurrent first imports of numpy can break)."""
    global _libraries_loaded
    if _libraries_loaded:
        return
    with _LIBRARIES_LOCK:
        if not _libraries_loaded:
            _load_libraries()
            _libraries_loaded = True


def _load_libraries() -> None:
    """Point matplotlib at a writable cache folder before its first import, and set its text rendering."""
    if not os.environ.get("MPLCONFIGDIR"):
        user = os.getuid() if hasattr(os, "getuid") else "user"
        folder = Path(tempfile.gettempdir()) / f"prism-matplotlib-{user}"
        folder.mkdir(mode=0o700, exist_ok=True)
        os.environ["MPLCONFIGDIR"] = str(folder)
    import matplotlib

    # Set once for the process (no other module uses matplotlib). Glyph hinting is most of the
    # cost of drawing a chart and adds nothing at 150 dpi; labels are plain text, never math
    # (a money label holds a `$`).
    matplotlib.rcParams["text.hinting"] = "no_hinting"
    matplotlib.rcParams["text.parse_math"] = False
    import matplotlib.backends.backend_agg
    import matplotlib.figure
    import PIL.Image  # noqa: F401
    import reportlab.platypus  # noqa: F401


def _compact(value: float, unit: Unit) -> str:
    """A short axis label: `$12K`, `$1.2M`, `40%`."""
    if unit == "money":
        size = abs(value)
        if size >= 1e6:
            return f"${value / 1e6:.1f}M"
        return f"${value / 1e3:.0f}K" if size >= 1e3 else f"${value:.0f}"
    if unit == "percent":
        return f"{value:.0f}%"
    return f"{value:,.0f}"


def _chart_height(spec: ChartSpec) -> float:
    if spec.kind == "donut":
        return 2.1
    if spec.kind == "bar":
        return 2.3
    rows = len(spec.labels) * (1 if spec.stacked or len(spec.series) == 1 else 1.6)
    return max(1.6, 0.42 + 0.155 * rows)


def _draw_chart(spec: ChartSpec) -> RenderedChart:
    """Draw a chart with matplotlib's object API (no pyplot state) and encode it as an RGB PNG."""
    _prepare_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    height = _chart_height(spec)
    figure = Figure(figsize=(CHART_WIDTH_IN, height), dpi=CHART_DPI, facecolor="white")
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if not spec.labels or not any(value for series in spec.series for value in series.values):
        axes.set_axis_off()
        axes.text(0.5, 0.5, "Nothing to show in this snapshot", ha="center", va="center", fontsize=9, color=GREY)
    else:
        _DRAWERS[spec.kind](axes, spec)
    figure.subplots_adjust(**_margins(spec, height))
    canvas.draw()
    width_px, height_px = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width_px, height_px), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    encoded = io.BytesIO()
    # 64 colours are plenty for flat bars and anti-aliased text, and make the PNG a quarter the size.
    quantized = image.convert("RGB").quantize(64, method=Image.Quantize.FASTOCTREE)
    palette = quantized.getpalette() or []
    for start in range(0, len(palette), 3):
        if min(palette[start : start + 3]) >= 248:  # the quantizer's average of the white background
            palette[start : start + 3] = [255, 255, 255]
    quantized.putpalette(palette)
    quantized.save(encoded, format="PNG")
    png = encoded.getvalue()
    return RenderedChart(spec.title, png, CHART_WIDTH_IN, height, png_pixels(png))


def _margins(spec: ChartSpec, height: float) -> dict[str, float]:
    """Room around the plot, in figure fractions, for the words drawn outside it."""
    if spec.kind == "donut":
        return {"left": 0.02, "right": 0.34, "top": 0.96, "bottom": 0.04}
    legend_room = 0.28 if spec.legend or spec.reference or len(spec.series) > 1 else 0.0
    top = 1 - (0.08 + legend_room) / height
    if spec.kind == "bar":
        return {"left": 0.02, "right": 0.98, "top": top, "bottom": 0.3 / height}
    longest = max((len(_short(label)) for label in spec.labels), default=10)
    bottom = 0.06
    return {
        "left": min(0.4, (longest * 4.3 + 10) / (CHART_WIDTH_IN * 72)),
        "right": 0.98,
        "top": top,
        "bottom": bottom / height,
    }


def _legend(axes: Any, spec: ChartSpec) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = [Patch(color=color, label=label) for label, color in spec.legend]
    if not handles and len(spec.series) > 1:
        handles = [Patch(color=series.color or PALETTE[i], label=series.name) for i, series in enumerate(spec.series)]
    if spec.reference is not None:
        value, label = spec.reference
        handles.append(
            Line2D([], [], color=NAVY, linestyle="--", linewidth=1, label=f"{label} {_compact(value, spec.unit)}")
        )
    if handles:
        axes.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0, 1.0),
            ncol=len(handles),
            frameon=False,
            fontsize=7.5,
            handlelength=1.4,
            borderaxespad=0.2,
        )


def _text_color_on(color: str) -> str:
    """Dark text on light fills, white text on dark ones."""
    red, green, blue = (int(color[index : index + 2], 16) for index in (1, 3, 5))
    return INK if 0.299 * red + 0.587 * green + 0.114 * blue > 160 else "white"


def _draw_bars(axes: Any, spec: ChartSpec, horizontal: bool) -> None:
    """Bars with their values written on them and their categories written beside them.

    Both axes are hidden and the words are plain texts: matplotlib's tick machinery would
    cost more than everything else on the chart together.
    """
    from matplotlib.transforms import blended_transform_factory

    count, series_count = len(spec.labels), len(spec.series)
    grouped = series_count > 1 and not spec.stacked
    thickness = 0.74 / series_count if grouped else 0.68
    base = [0.0] * count
    ends: list[tuple[float, float, str]] = []
    for index, series in enumerate(spec.series):
        color = series.color or PALETTE[index]
        colors = spec.bar_colors if spec.bar_colors and series_count == 1 else (color,) * count
        offset = (index - (series_count - 1) / 2) * thickness if grouped else 0.0
        spots = [position + offset for position in range(count)]
        if horizontal:
            axes.barh(spots, series.values, height=thickness, left=base, color=colors)
        else:
            axes.bar(spots, series.values, width=thickness, bottom=base, color=colors)
        tops = [low + value for low, value in zip(base, series.values, strict=True)]
        if spec.stacked:
            base = tops
        if grouped or index == series_count - 1:
            ends.extend(zip(spots, tops, colors, strict=True))
    reference = spec.reference[0] if spec.reference else 0.0
    limit = max(max(value for _, value, _ in ends), reference) * (1.12 if horizontal else 1.1) or 1.0
    size = 6.5 if grouped else 7.0
    for spot, value, color in ends:
        # A single series' long bars carry their value inside, clear of any reference line.
        inside = series_count == 1 and value >= 0.22 * limit
        text = _compact(value, spec.unit) if value else ""
        ink = _text_color_on(color) if inside else INK
        if horizontal:
            x, align = (value - limit * 0.008, "right") if inside else (value + limit * 0.006, "left")
            axes.text(x, spot, text, ha=align, va="center", fontsize=size, color=ink)
        else:
            y, align = (value - limit * 0.015, "top") if inside else (value + limit * 0.01, "bottom")
            axes.text(spot, y, text, ha="center", va=align, fontsize=size, color=ink)
    if horizontal:
        axes.set_xlim(0, limit)
        axes.set_ylim(count - 0.5, -0.5)  # first category on top
        names = blended_transform_factory(axes.transAxes, axes.transData)
        for position, label in enumerate(spec.labels):
            axes.text(-0.01, position, _short(label), transform=names, ha="right", va="center", fontsize=7.5, color=INK)
    else:
        axes.set_ylim(0, limit)
        axes.set_xlim(-0.5, count - 0.5)
        names = blended_transform_factory(axes.transData, axes.transAxes)
        for position, label in enumerate(spec.labels):
            axes.text(
                position, -0.03, _short(label, 18), transform=names, ha="center", va="top", fontsize=7.5, color=INK
            )
    axes.xaxis.set_visible(False)
    axes.yaxis.set_visible(False)
    for side in ("top", "right", "bottom" if horizontal else "left"):
        axes.spines[side].set_visible(False)
    axes.spines["left" if horizontal else "bottom"].set_color("#B8C0CC")
    if spec.reference is not None:
        line = axes.axvline if horizontal else axes.axhline
        line(spec.reference[0], color=NAVY, linestyle="--", linewidth=1)
    _legend(axes, spec)


def _draw_donut(axes: Any, spec: ChartSpec) -> None:
    values = spec.series[0].values
    colors = spec.bar_colors or PALETTE
    wedges, _ = axes.pie(
        values,
        colors=colors[: len(values)],
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.36, "edgecolor": "white", "linewidth": 1.5},
    )
    total = sum(values)
    axes.set_aspect("equal")
    axes.text(0, 0, format_value(total, spec.unit), ha="center", va="center", fontsize=9, fontweight="bold", color=NAVY)
    labels = [
        f"{label}: {format_value(value, spec.unit)} ({_share(value, total):.0f}%)"
        for label, value in zip(spec.labels, values, strict=True)
    ]
    axes.legend(wedges, labels, loc="center left", bbox_to_anchor=(1.05, 0.5), frameon=False, fontsize=8.5)


_DRAWERS: dict[ChartKind, Callable[[Any, ChartSpec], None]] = {
    "barh": partial(_draw_bars, horizontal=True),
    "bar": partial(_draw_bars, horizontal=False),
    "donut": _draw_donut,
}


# --- layout --------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def paragraph_text(text: str) -> str:
    """Text shown literally in a ReportLab paragraph: markup characters escaped, line breaks kept."""
    return escape(_CONTROL.sub("", text.replace("\t", " "))).replace("\r\n", "\n").replace("\n", "<br/>")


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%d %b %Y, %H:%M} UTC"


@cache
def _styles() -> dict[str, Any]:
    """Paragraph styles, with DejaVu Sans (shipped with matplotlib) so any text prints, not only Latin-1."""
    _prepare_matplotlib()
    import matplotlib
    from reportlab import rl_config
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    # Binary image streams: ASCII85 (the default) is a quarter larger and, without the
    # optional C accelerator, encoded in pure Python at a cost of tens of milliseconds per chart.
    rl_config.useA85 = 0

    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont("PrismSans", str(fonts / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("PrismSans-Bold", str(fonts / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(
        "PrismSans", normal="PrismSans", bold="PrismSans-Bold", italic="PrismSans", boldItalic="PrismSans-Bold"
    )
    ink, navy = colors.HexColor("#222222"), colors.HexColor(NAVY)
    body = ParagraphStyle("body", fontName="PrismSans", fontSize=9.5, leading=13.5, textColor=ink, spaceAfter=4)
    return {
        "body": body,
        "heading": ParagraphStyle(
            "heading",
            parent=body,
            fontName="PrismSans-Bold",
            fontSize=13,
            leading=16,
            textColor=navy,
            spaceBefore=14,
            spaceAfter=6,
            keepWithNext=1,
        ),
        "caption": ParagraphStyle(
            "caption", parent=body, fontName="PrismSans-Bold", fontSize=9.5, spaceBefore=6, spaceAfter=3, keepWithNext=1
        ),
        "bullet": ParagraphStyle("bullet", parent=body, leftIndent=14, bulletIndent=2, bulletFontName="PrismSans"),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=11, spaceAfter=0),
        "cell_bold": ParagraphStyle(
            "cell_bold", parent=body, fontName="PrismSans-Bold", fontSize=8.5, leading=11, spaceAfter=0
        ),
        "kicker": ParagraphStyle(
            "kicker",
            parent=body,
            fontName="PrismSans-Bold",
            fontSize=8.5,
            textColor=colors.HexColor("#9CC3EE"),
            spaceAfter=2,
        ),
        "title": ParagraphStyle(
            "title", parent=body, fontName="PrismSans-Bold", fontSize=20, leading=24, textColor=colors.white
        ),
        "meta": ParagraphStyle(
            "meta", parent=body, fontSize=8.5, leading=12, textColor=colors.HexColor("#D5E2F0"), spaceAfter=0
        ),
    }


@cache
def _numbered_canvas() -> type:
    """A canvas that holds its pages back until the end, so each footer can say `Page n of N`."""
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, footer: str = "", **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._footer = footer
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._draw_footer(number, total)
                Canvas.showPage(self)
            Canvas.save(self)

        def _draw_footer(self, number: int, total: int) -> None:
            width = self._pagesize[0]
            self.saveState()
            self.setStrokeColor("#C9D1DC")
            self.setLineWidth(0.5)
            self.line(54, 40, width - 54, 40)
            self.setFont("PrismSans", 7.5)
            self.setFillColor("#6B7687")
            self.drawString(54, 28, self._footer)
            self.drawRightString(width - 54, 28, f"Page {number} of {total}")
            self.restoreState()

    return NumberedCanvas


def render_report(request: ReportRequest, content: PageContent, *, generated_at: datetime) -> bytes:
    """Lay out the PDF of a page's content, with the client's text where it sent some."""
    _prepare_matplotlib()
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.units import inch
    from reportlab.platypus import KeepTogether, SimpleDocTemplate

    title = request.pageTitle if request.pageTitle and request.pageTitle.strip() else content.title
    insights = merge_insights(content.insights, request)
    metrics = merge_metrics(content, request)
    styles = _styles()
    width = LETTER[0] - 1.5 * inch
    story = [
        *_cover(title, content, generated_at, styles, width),
        _heading("Executive summary", styles),
        *(_paragraph(text, styles["body"]) for text in insights.summary.split("\n\n")),
        KeepTogether(
            [_heading("Key metrics", styles), _metrics_table(metrics, content, bool(request.metrics), styles, width)]
        ),
        *_charts(content.charts, styles),
        *_bullets("Key findings", insights.key_findings, styles),
        KeepTogether([_heading("Risks", styles), _risk_table(insights.risks, styles, width)]),
        *_bullets("Opportunities", insights.opportunities, styles),
        *_bullets("Recommendations", insights.recommendations, styles, numbered=True),
        *_bullets("Next actions", insights.next_actions, styles, marker="☐"),
    ]
    output = io.BytesIO()
    document = SimpleDocTemplate(
        output,
        pagesize=LETTER,
        leftMargin=0.75 * inch,
        rightMargin=0.75 * inch,
        topMargin=0.7 * inch,
        bottomMargin=0.85 * inch,
        title=title,
        author="Prism Insights",
        subject=f"{content.dashboard} report, data of {_when(content.data_time)}",
        creator="Prism data simulator",
    )
    footer = f"Prism Insights · {_short(title, 70)} · generated {_when(generated_at)}"
    document.build(story, canvasmaker=partial(_numbered_canvas(), footer=footer))
    return output.getvalue()


def _paragraph(text: str, style: Any) -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(paragraph_text(text), style)


def _heading(text: str, styles: dict[str, Any]) -> Any:
    return _paragraph(text, styles["heading"])


def _cover(title: str, content: PageContent, generated_at: datetime, styles: dict[str, Any], width: float) -> list[Any]:
    from reportlab.lib import colors
    from reportlab.platypus import Spacer, Table, TableStyle

    rows = [
        [_paragraph(f"PRISM INSIGHTS · {content.dashboard.upper()} REPORT", styles["kicker"])],
        [_paragraph(title, styles["title"])],
        [
            _paragraph(
                f"Generated {_when(generated_at)}\n"
                f"Data as of {content.data_time.astimezone(UTC):%d %b %Y, %H:%M:%S} UTC "
                f"(simulation tick {content.tick})",
                styles["meta"],
            )
        ],
    ]
    cover = Table(rows, colWidths=[width], splitInRow=1)
    cover.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(NAVY)),
                ("LINEBEFORE", (0, 0), (0, -1), 5, colors.HexColor(TEAL)),
                ("LEFTPADDING", (0, 0), (-1, -1), 16),
                ("RIGHTPADDING", (0, 0), (-1, -1), 16),
                ("TOPPADDING", (0, 0), (-1, 0), 14),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 14),
                ("TOPPADDING", (0, 1), (-1, -1), 4),
            ]
        )
    )
    return [cover, Spacer(1, 4)]


_TONE_COLORS = {"good": "#2E7D4F", "bad": "#B3261E", "neutral": "#555555"}


def _table_style(extra: Iterable[tuple[Any, ...]]) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import TableStyle

    return TableStyle(
        [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(NAVY)),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F3F6FA")]),
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#D9DFE7")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ("LEFTPADDING", (0, 0), (-1, -1), 7),
            ("RIGHTPADDING", (0, 0), (-1, -1), 7),
            *extra,
        ]
    )


def _header_cells(names: Sequence[str], styles: dict[str, Any]) -> list[Any]:
    from reportlab.platypus import Paragraph

    return [Paragraph(f'<font color="white">{paragraph_text(name)}</font>', styles["cell_bold"]) for name in names]


def _metrics_table(
    metrics: Sequence[MetricRow], content: PageContent, from_client: bool, styles: dict[str, Any], width: float
) -> Any:
    from reportlab.platypus import Paragraph, Table

    change_header = "Trend" if from_client else f"Change since {content.compared_time.astimezone(UTC):%H:%M} UTC"
    rows = [_header_cells(["Metric", "Value", change_header], styles)]
    for metric in metrics:
        tone = _TONE_COLORS[metric.tone]
        rows.append(
            [
                _paragraph(metric.label, styles["cell"]),
                _paragraph(metric.value, styles["cell_bold"]),
                Paragraph(f'<font color="{tone}">{paragraph_text(metric.change)}</font>', styles["cell"]),
            ]
        )
    table = Table(rows, colWidths=[width * 0.46, width * 0.22, width * 0.32], repeatRows=1, splitInRow=1)
    table.setStyle(_table_style([]))
    return table


@cache
def _png_flowable() -> type:
    """A flowable that puts a PNG's compressed pixels into the PDF untouched.

    ReportLab's own Image decodes a PNG and compresses its pixels again on every document,
    which would be most of the time of a report whose charts are already drawn.
    """
    from reportlab.pdfbase import pdfdoc
    from reportlab.platypus import Flowable

    class HexString(pdfdoc.PDFObject):
        def __init__(self, data: bytes) -> None:
            self.data = data

        def format(self, document: Any) -> bytes:
            return b"<" + self.data.hex().encode() + b">"

    class PngXObject(pdfdoc.PDFImageXObject):
        def __init__(self, pixels: PngPixels) -> None:
            self.name = pixels.name
            self.pixels = pixels

        def format(self, document: Any) -> bytes:
            pixels = self.pixels
            stream = pdfdoc.PDFStream(content=pixels.scanlines)
            entries = stream.dictionary
            entries["Type"] = pdfdoc.PDFName("XObject")
            entries["Subtype"] = pdfdoc.PDFName("Image")
            entries["Width"] = pixels.width
            entries["Height"] = pixels.height
            entries["BitsPerComponent"] = pixels.depth
            rgb = pdfdoc.PDFName("DeviceRGB")
            if pixels.palette:
                top = len(pixels.palette) // 3 - 1
                entries["ColorSpace"] = pdfdoc.PDFArray(
                    [pdfdoc.PDFName("Indexed"), rgb, top, HexString(pixels.palette)]
                )
            else:
                entries["ColorSpace"] = rgb
            entries["Filter"] = pdfdoc.PDFName("FlateDecode")
            entries["DecodeParms"] = pdfdoc.PDFDictionary(
                {
                    "Predictor": 15,
                    "Colors": 1 if pixels.palette else 3,
                    "BitsPerComponent": pixels.depth,
                    "Columns": pixels.width,
                }
            )
            entries["Length"] = len(pixels.scanlines)
            result: bytes = stream.format(document)
            return result

    class PngImage(Flowable):
        def __init__(self, pixels: PngPixels, width: float, height: float) -> None:
            super().__init__()
            self.pixels, self.width, self.height = pixels, width, height

        def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
            return self.width, self.height

        def draw(self) -> None:
            # What Canvas.drawImage does once it has its image object.
            canvas, name = self.canv, self.pixels.name
            document = canvas._doc
            reference = document.getXObjectName(name)
            if document.idToObject.get(reference) is None:
                image = PngXObject(self.pixels)
                document.Reference(image, reference)
                document.addForm(name, image)
            canvas._currentPageHasImages = 1
            canvas.saveState()
            canvas.scale(self.width, self.height)
            canvas._code.append(f"/{reference} Do")
            canvas.restoreState()
            canvas._formsinuse.append(name)

    return PngImage


def _charts(charts: Sequence[RenderedChart], styles: dict[str, Any]) -> list[Any]:
    from reportlab.lib.units import inch
    from reportlab.platypus import KeepTogether

    flowables: list[Any] = []
    for chart in charts:
        image = _png_flowable()(chart.pixels, chart.width_in * inch, chart.height_in * inch)
        heading = [] if flowables else [_heading("Charts", styles)]
        flowables.append(KeepTogether([*heading, _paragraph(chart.title, styles["caption"]), image]))
    return flowables


def _bullets(
    heading: str, texts: Sequence[str], styles: dict[str, Any], *, numbered: bool = False, marker: str = "•"
) -> list[Any]:
    from reportlab.platypus import KeepTogether, Paragraph

    if not texts:
        return []
    items = [
        Paragraph(paragraph_text(text), styles["bullet"], bulletText=f"{number}." if numbered else marker)
        for number, text in enumerate(texts, start=1)
    ]
    # An item never splits over two pages, and a heading never ends one.
    return [KeepTogether([_heading(heading, styles), items[0]]), *(KeepTogether([item]) for item in items[1:])]


def _level_color(level: str) -> str:
    return LEVEL_COLORS.get(level.strip().lower(), GREY)


def _risk_table(risks: Sequence[Risk], styles: dict[str, Any], width: float) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table

    rows = [_header_cells(["Level", "Risk", "Recommendation"], styles)]
    coloring: list[tuple[Any, ...]] = []
    for row, risk in enumerate(risks, start=1):
        rows.append(
            [
                Paragraph(f'<font color="white">{paragraph_text(risk.level)}</font>', styles["cell_bold"]),
                _paragraph(risk.description, styles["cell"]),
                _paragraph(risk.recommendation, styles["cell"]),
            ]
        )
        coloring.append(("BACKGROUND", (0, row), (0, row), colors.HexColor(_level_color(risk.level))))
    table = Table(rows, colWidths=[width * 0.13, width * 0.435, width * 0.435], repeatRows=1, splitInRow=1)
    table.setStyle(_table_style([*coloring, ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


# --- the request as a whole ---------------------------------------------------------------------


def report_name(page_type: PageType, moment: datetime) -> str:
    """A server-made file name: page type, UTC time and a short random suffix."""
    return f"{page_type}-{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}.pdf"


def _write_file(path: Path, data: bytes) -> None:
    """Write a file whole or not at all (readers never see half a PDF)."""
    partial_path = path.with_name(f".{path.name}.part")
    try:
        with open(partial_path, "xb") as stream:
            stream.write(data)
        os.replace(partial_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial_path.unlink()
        raise


def prune_reports(reports_dir: Path, keep: int) -> int:
    """Delete all but the newest `keep` reports (only files named like ours); return how many went."""
    found = []
    with os.scandir(reports_dir) as entries:
        for entry in entries:
            if REPORT_NAME.match(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(FileNotFoundError):
                    found.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.name))
    found.sort(reverse=True)
    for _, name in found[keep:]:
        with contextlib.suppress(FileNotFoundError):
            (reports_dir / name).unlink()
    return max(0, len(found) - keep)


def keep_copy(pdf: bytes, name: str, reports_dir: Path, keep: int) -> Path:
    """Save a report under its name in the reports folder and drop the oldest beyond `keep`."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / name
    _write_file(path, pdf)
    prune_reports(reports_dir, keep)
    return path


def create_report(
    request: ReportRequest,
    *,
    snapshot: Snapshot,
    snapshot_at: Callable[[int], Snapshot],
    reports_dir: Path,
    keep: int,
    clock: Callable[[], datetime] = now_utc,
) -> Report:
    """Render the report a request asks for from a snapshot and keep a copy; blocking, run it in a worker thread."""
    generated_at = clock()
    try:
        content = page_content(request.pageType, snapshot, lambda: hour_earlier(snapshot, snapshot_at))
        pdf = render_report(request, content, generated_at=generated_at)
    except Exception as exc:
        logger.exception("rendering the %s report of tick %d failed", request.pageType, snapshot.tick)
        raise ReportError(500, f"rendering the report failed ({type(exc).__name__})") from exc
    name = report_name(request.pageType, generated_at)
    try:
        keep_copy(pdf, name, reports_dir, keep)
    except OSError as exc:
        logger.exception("keeping a copy of report %s in %s failed", name, reports_dir)
        if exc.errno in DISK_FULL_ERRNOS:
            raise ReportError(507, "no space left on the server to keep a copy of the report") from exc
        raise ReportError(500, f"could not keep a copy of the report ({exc.strerror or type(exc).__name__})") from exc
    return Report(name=name, pdf=pdf, tick=snapshot.tick)


def warm_up() -> None:
    """Import and set up the drawing libraries ahead of the first report."""
    _prepare_matplotlib()
    _styles()
