"""A page's content for one snapshot: its figures now and an hour earlier, its charts drawn and its
insights, built once per tick and page type; and the merge with what the client sent (its text first,
word for word, then the report's own findings; its display-string metrics read as numbers, with trends).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Literal

import data_generator as dg
from data_generator import Snapshot
from models import PageType, ReportInsights, ReportRequest
from prism.memo import MemoKey
from prism.reporting.charts import draw_chart
from prism.reporting.model import PAGE_TYPES, TREND_WINDOW, Figure, Insights, MetricRow, PageContent, Risk, Unit
from prism.reporting.pages import PAGES
from prism.reporting.pages.base import MetricDef, Page
from prism.reporting.text import format_change, format_value


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


PAGE_CONTENT: MemoKey[PageContent] = MemoKey("report page content")
_BUILD_LOCKS = {page_type: threading.Lock() for page_type in PAGE_TYPES}


def page_content(page_type: PageType, snapshot: Snapshot, earlier: Callable[[], Snapshot]) -> PageContent:
    """Metrics, charts and default insights of a page type for a snapshot, built once per snapshot."""
    content = snapshot.cache.get(PAGE_CONTENT, page_type)
    if content is None:
        with _BUILD_LOCKS[page_type]:  # two first requests of a tick draw the charts once
            content = snapshot.cache.get_or_build(
                PAGE_CONTENT, lambda: _build_content(page_type, snapshot, earlier()), page_type
            )
    return content


def _build_content(page_type: PageType, snapshot: Snapshot, earlier: Snapshot) -> PageContent:
    page = PAGES[page_type]
    figures = measure_figures((*page.metrics, *page.other_figures), snapshot, earlier)
    return PageContent(
        page_type=page_type,
        title=page.title,
        dashboard=page.dashboard,
        data_time=snapshot.time,
        compared_time=earlier.time,
        tick=snapshot.tick,
        metrics=tuple(figure_row(figure) for figure in figures[: len(page.metrics)]),
        charts=tuple(draw_chart(spec) for spec in page.charts(snapshot)),
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


# Abbreviations and spellings dashboards use, in the words of the report's own labels.
_SYNONYMS = {
    "mrr": ("monthly", "recurring", "revenue"),
    "arr": ("annual", "revenue"),
    "utilisation": ("utilization",),
    "util": ("utilization",),
}


def _words(label: str) -> set[str]:
    words: set[str] = set()
    for word in re.findall(r"[a-z]+", label.lower()):
        words.update(_SYNONYMS.get(word, (word,)))
    return {word for word in words if len(word) > 2} - _GENERIC_WORDS


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
