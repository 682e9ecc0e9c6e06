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
from typing import ClassVar

from data_generator import Item, Snapshot
from prism.reporting.model import LEVEL_RANK, ChartSpec, Insights, Risk, Unit
from prism.reporting.tally import mean, today_of
from prism.reporting.text import join_names
from rules import EntityKind

# The texts of a section in reading order; an empty one is a sentence whose condition is not met, and is dropped.
Sentences = Sequence[str]

# A risk rule: its level (None where the snapshot does not reach its threshold), what it is, what to do.
RiskRule = tuple[str | None, str, str]
RiskRules = Sequence[RiskRule]


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

    name_field = "name"  # the field of the page's items that names one in a sentence
    follow_up: ClassVar[str]  # the last next action: when to re-run the report, and what to look at then

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.today = today_of(snapshot)

    def named(self, items: Sequence[Item]) -> str:
        """Items by name, as a sentence lists them: `A`, `A and B`, `A, B and C` or `A, B, C and 4 more`."""
        return join_names([item[self.name_field] for item in items])

    @classmethod
    def write(cls, snapshot: Snapshot) -> Insights:
        """The page's insights for a snapshot."""
        return cls(snapshot).insights()

    @abstractmethod
    def summary(self) -> Sentences:
        """The sentences of the executive summary; the top risk is told after them."""

    @abstractmethod
    def key_findings(self) -> Sentences:
        """What the figures say."""

    @abstractmethod
    def risks(self) -> RiskRules:
        """Every risk the page watches, with the level this snapshot reaches."""

    def opportunities(self) -> Sentences:
        """What could be gained (nothing, unless the page says)."""
        return ()

    def recommendations(self) -> Sentences:
        """What to change (nothing, unless the page says)."""
        return ()

    def next_actions(self) -> Sentences:
        """What to do next, each with its time frame (nothing, unless the page says), before the follow-up."""
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
            next_actions=_written((*self.next_actions(), self.follow_up)),
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


def _every(item: Item) -> bool:
    return True


def count_of(kind: EntityKind, keep: Callable[[Item], bool] = _every) -> Callable[[Snapshot], float]:
    """A measure: how many items of a kind (that `keep` accepts) the snapshot holds."""
    return lambda snapshot: sum(1 for item in snapshot.items[kind] if keep(item))


def total_of(kind: EntityKind, field: str, keep: Callable[[Item], bool] = _every) -> Callable[[Snapshot], float]:
    """A measure: a field summed over the items of a kind (that `keep` accepts)."""
    return lambda snapshot: sum(item[field] for item in snapshot.items[kind] if keep(item))


def average_of(kind: EntityKind, field: str) -> Callable[[Snapshot], float]:
    """A measure: the mean of a field over the items of a kind (0 when there are none)."""
    return lambda snapshot: mean(item[field] for item in snapshot.items[kind])
