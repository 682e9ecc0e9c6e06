"""What a report is made of: page types, units, chart sizes, and the frozen records (metrics, risks,
insights, chart specs, drawn charts, page content) that the other modules pass around.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from models import PageType
from prism.reporting.pdf_image import PngPixels

PAGE_TYPES: tuple[PageType, ...] = get_args(PageType)

TREND_WINDOW = timedelta(hours=1)

CHART_DPI = 150

CHART_WIDTH_IN = 7.0

MAX_CHART_ROWS = 20

LEVEL_RANK = {"High": 0, "Medium": 1, "Low": 2}

Unit = Literal["money", "percent", "count", "hours", "score"]


ChartKind = Literal["barh", "bar", "donut"]


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
    """What a chart shows; drawing it is the job of `draw_chart`."""

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
