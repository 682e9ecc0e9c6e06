"""The skeleton every page's report fills in.

A page module declares one `Page`: its titles, its key metrics and the other figures its dashboard
shows (each a `MetricDef`: how to measure it, its unit, which way is good news), its charts, and a
`Narrative` subclass that writes its default insights. The narrative works out the page's facts once
from the snapshot and fills one hook per section of the report (summary, key findings, risk rules,
opportunities, recommendations, next actions); `Narrative.insights` puts the sections together the same
way for every page: risks ranked, the top one told in the summary, a text left empty dropped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from data_generator import Snapshot
from prism.reporting.model import LEVEL_RANK, ChartSpec, Insights, Risk, Unit
from prism.reporting.tally import today_of

# A risk rule: its level (None where the snapshot does not reach its threshold), what it is, what to do.
RiskRule = tuple[str | None, str, str]


@dataclass(frozen=True, slots=True)
class MetricDef:
    """A figure of a page: how to measure it on a snapshot, its unit, and which way is good news."""

    label: str
    unit: Unit
    better: int  # +1 when a rise is good news, -1 when it is bad news, 0 when neither
    measure: Callable[[Snapshot], float | None]


@dataclass(frozen=True, slots=True)
class Page:
    """One dashboard's report: its titles, key metrics, charts, default insights and other figures."""

    dashboard: str
    title: str
    metrics: tuple[MetricDef, ...]
    charts: Callable[[Snapshot], tuple[ChartSpec, ...]]
    insights: Callable[[Snapshot], Insights]
    # Figures the dashboard shows besides the key metrics: a metric the page sends is matched to one of
    # these (or of the key metrics) to give it its trend over the last hour.
    other_figures: tuple[MetricDef, ...] = ()


class Narrative(ABC):
    """The default insights of one page for one snapshot: one hook per section, put together by `insights`.

    A subclass works out the facts its sentences share in `__init__`; each hook returns its texts in
    reading order, with an empty text where a sentence's condition is not met.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.today = today_of(snapshot)

    @classmethod
    def write(cls, snapshot: Snapshot) -> Insights:
        """The page's insights for a snapshot."""
        return cls(snapshot).insights()

    @abstractmethod
    def summary(self) -> Sequence[str]:
        """The sentences of the executive summary; the top risk is told after them."""

    @abstractmethod
    def key_findings(self) -> Sequence[str]:
        """What the figures say."""

    @abstractmethod
    def risks(self) -> Sequence[RiskRule]:
        """Every risk the page watches, with the level this snapshot reaches."""

    def opportunities(self) -> Sequence[str]:
        """What could be gained (nothing, unless the page says)."""
        return ()

    def recommendations(self) -> Sequence[str]:
        """What to change (nothing, unless the page says)."""
        return ()

    def next_actions(self) -> Sequence[str]:
        """What to do next, each with its time frame (nothing, unless the page says)."""
        return ()

    def insights(self) -> Insights:
        """The sections put together: risks ranked, the top one told in the summary, empty texts dropped."""
        risks = ranked_risks(self.risks())
        return Insights(
            summary=summary_text(self.summary(), risks),
            key_findings=_written(self.key_findings()),
            risks=risks,
            opportunities=_written(self.opportunities()),
            recommendations=_written(self.recommendations()),
            next_actions=_written(self.next_actions()),
        )


def _written(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(text for text in texts if text)


def ranked_risks(rules: Iterable[RiskRule]) -> tuple[Risk, ...]:
    """The risks whose level was reached, most severe first; a clean bill of health otherwise."""
    risks = [Risk(level, description, action) for level, description, action in rules if level]
    if not risks:
        risks = [
            Risk(
                "Low",
                "No measure crossed its risk threshold in this snapshot.",
                "Keep the regular review cadence and re-run this report after the next change.",
            )
        ]
    return tuple(sorted(risks, key=lambda risk: LEVEL_RANK[risk.level]))


def summary_text(sentences: Iterable[str], risks: Sequence[Risk]) -> str:
    """The sentences, then the most severe risk unless it is Low or the sentences already state it."""
    text = " ".join(sentence for sentence in sentences if sentence)
    top = risks[0] if risks else None
    if top is not None and top.level != "Low" and top.description.split(" (")[0].rstrip(".") not in text:
        text += f" Top risk ({top.level.lower()}): {top.description}"
    return text


def level_above(value: float, high: float, medium: float, low: float) -> str | None:
    """Level of a risk that grows with the value (None below the lowest threshold)."""
    for level, threshold in (("High", high), ("Medium", medium), ("Low", low)):
        if value >= threshold:
            return level
    return None


def level_below(value: float, high: float, medium: float, low: float) -> str | None:
    """Level of a risk that grows as the value falls."""
    return level_above(-value, -high, -medium, -low)
