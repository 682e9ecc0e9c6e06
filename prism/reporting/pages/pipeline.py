"""Sales pipeline: open and weighted value, win rate, stages, deals closing soon and stale contacts."""

from __future__ import annotations

from datetime import timedelta

from data_generator import Item, Snapshot
from kpis import open_leads, pipeline_value, weighted_pipeline_value
from prism.reporting.colours import BLUE, PURPLE, TEAL
from prism.reporting.model import ChartSpec, Series
from prism.reporting.pages.base import MetricDef, Narrative, Page, RiskRules, Sentences, average_of, count_of, total_of
from prism.reporting.tally import by_month, is_within, mean, parse_day, share_pct, today_of, totals_by
from prism.reporting.text import month_label, pct, plural_of, usd, verb
from prism.reporting.thresholds import STALE_CONTACT_DAYS, level_above, level_below
from rules import OPEN_STAGES


def win_rate(snapshot: Snapshot) -> float | None:
    """Won over closed leads on the board, %; None when none has closed."""
    won = sum(1 for lead in snapshot.items["leads"] if lead["stage"] == "Closed Won")
    lost = sum(1 for lead in snapshot.items["leads"] if lead["stage"] == "Closed Lost")
    return share_pct(won, won + lost) if won + lost else None


def average_deal_size(snapshot: Snapshot) -> float:
    """Mean value of an open lead."""
    return mean(lead["value"] for lead in open_leads(snapshot))


def closing_soon(snapshot: Snapshot, days: int = 30) -> list[Item]:
    """Open leads expected to close within `days` days."""
    today = today_of(snapshot)
    return [lead for lead in open_leads(snapshot) if is_within(lead["expectedCloseDate"], today, days)]


class PipelineNarrative(Narrative):
    """What the sales-pipeline report says about a snapshot: open and weighted value by stage, the win
    rate, the largest deal's weight, deals closing soon, and leads gone quiet or past their close date.
    """

    name_field = "companyName"
    follow_up = "Next week: re-run this report to follow the weighted pipeline."

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot)
        leads, today = snapshot.items["leads"], self.today
        active = self.active = open_leads(snapshot)
        self.value, self.weighted = pipeline_value(snapshot), weighted_pipeline_value(snapshot)
        self.rate = win_rate(snapshot)
        self.won = [lead for lead in leads if lead["stage"] == "Closed Won"]
        self.lost = [lead for lead in leads if lead["stage"] == "Closed Lost"]
        self.stage_value = totals_by(active, "stage", lambda lead: lead["value"])
        self.early_share = share_pct(
            self.stage_value.get("Prospecting", 0) + self.stage_value.get("Qualification", 0), self.value
        )
        self.by_value = sorted(active, key=lambda lead: lead["value"], reverse=True)
        self.soon = closing_soon(snapshot)
        stale = [lead for lead in active if (today - parse_day(lead["lastContact"])).days > STALE_CONTACT_DAYS]
        overdue = [lead for lead in active if parse_day(lead["expectedCloseDate"]) < today]
        self.stale, self.overdue, self.neglected = stale, overdue, stale + overdue

    def summary(self) -> Sentences:
        return (
            f"The pipeline holds {usd(self.value)} in "
            f"{plural_of(len(self.active), 'open opportunity', 'open opportunities')}, {usd(self.weighted)} weighted "
            "by probability.",
            f"The win rate is {pct(self.rate)}." if self.rate is not None else "No lead on the board has closed yet.",
        )

    def key_findings(self) -> Sentences:
        stage_count = totals_by(self.active, "stage", lambda lead: 1)
        top, soon = self.by_value[0] if self.by_value else None, self.soon
        return (
            f"The open pipeline holds {plural_of(len(self.active), 'opportunity', 'opportunities')} worth "
            f"{usd(self.value)}; weighted by probability it is worth {usd(self.weighted)}.",
            "By stage: "
            + "; ".join(
                f"{stage} {usd(self.stage_value.get(stage, 0))} ({int(stage_count.get(stage, 0))})"
                for stage in OPEN_STAGES
            )
            + ".",
            f"The largest opportunity is {top['companyName']} at {usd(top['value'])} ({top['stage']}, "
            f"{top['probability']}% likely)."
            if top
            else "",
            f"{len(self.won)} won and {len(self.lost)} lost among the closed leads on the board: a win rate of "
            f"{pct(self.rate)}."
            if self.rate is not None
            else "No lead on the board has closed yet, so there is no win rate to report.",
            f"{plural_of(len(soon), 'opportunity', 'opportunities')} worth {usd(sum(lead['value'] for lead in soon))} "
            f"{verb(len(soon))} expected to close within 30 days.",
        )

    def risks(self) -> RiskRules:
        largest_share = (
            share_pct(self.by_value[0]["value"] * self.by_value[0]["probability"] / 100, self.weighted)
            if self.by_value
            else 0.0
        )
        return (
            (
                level_above(self.early_share, 75, 60, 50),
                f"{pct(self.early_share)} of the open pipeline is still in Prospecting or Qualification.",
                "Qualify early-stage leads faster and move the best of them to a proposal this month.",
            ),
            (
                level_below(self.rate, 20, 35, 50) if self.rate is not None else None,
                f"The win rate is {pct(self.rate or 0)} ({len(self.won)} won, {len(self.lost)} lost).",
                "Review the lost deals with the sales team and tighten qualification before proposals.",
            ),
            (
                level_above(largest_share, 30, 20, 12),
                f"One deal ({self.by_value[0]['companyName'] if self.by_value else ''}) makes up {pct(largest_share)} "
                "of the weighted pipeline.",
                "Give the deal an executive sponsor and build enough other pipeline to absorb losing it.",
            ),
            (
                level_above(len(self.neglected), 5, 2, 1),
                f"{plural_of(len(self.stale), 'lead')} had no contact for over {STALE_CONTACT_DAYS} days and "
                f"{plural_of(len(self.overdue), 'lead')} {verb(len(self.overdue))} past the expected close date.",
                f"Contact {self.named(self.neglected)} this week and update their close dates.",
            ),
        )

    def opportunities(self) -> Sentences:
        negotiating = self.stage_value.get("Negotiation")
        return (
            f"Deals in Negotiation are worth {usd(self.stage_value.get('Negotiation', 0))}: closing them lifts this "
            "quarter."
            if negotiating
            else "",
            f"The average open deal is worth {usd(average_deal_size(self.snapshot))}; selling larger bundles raises it."
            if self.active
            else "",
        )

    def recommendations(self) -> Sentences:
        late = [lead for lead in self.active if lead["stage"] in ("Negotiation", "Proposal")]
        return (
            f"Focus the team on late-stage deals: {self.named(sorted(late, key=lambda lead: -lead['value']))}."
            if late
            else "Move qualified leads to proposals: no deal is in the late stages.",
            f"Prepare closing plans for the deals due within 30 days ({self.named(self.soon)})." if self.soon else "",
            "Qualify early-stage leads within two weeks or drop them, to keep the forecast honest."
            if self.early_share >= 50
            else "",
            "Review lost deals monthly and feed the reasons into qualification." if self.lost else "",
            "Invest in the lead sources that bring the most pipeline.",
        )

    def next_actions(self) -> Sentences:
        return (
            f"This week: review the {min(3, len(self.by_value))} largest open deals with their owners."
            if self.by_value
            else "",
            f"Before {(self.today + timedelta(days=30)).isoformat()}: close or re-date {self.named(self.soon)}."
            if self.soon
            else "",
            f"This week: call {self.named(self.neglected)}." if self.neglected else "",
        )


def pipeline_charts(snapshot: Snapshot) -> tuple[ChartSpec, ...]:
    active = open_leads(snapshot)
    stage_value = totals_by(active, "stage", lambda lead: lead["value"])
    stage_weighted = totals_by(active, "stage", lambda lead: lead["value"] * lead["probability"] / 100)
    source_value = totals_by(active, "source", lambda lead: lead["value"])
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
            tuple(month_label(month) for month in months),
            (
                Series(
                    "Weighted value",
                    tuple(
                        by_month(
                            active, "expectedCloseDate", months, lambda lead: lead["value"] * lead["probability"] / 100
                        )
                    ),
                    TEAL,
                ),
            ),
        ),
    )


PAGE = Page(
    metrics=(
        MetricDef("Open pipeline value", "money", 1, pipeline_value),
        MetricDef("Weighted pipeline value", "money", 1, weighted_pipeline_value),
        MetricDef("Open opportunities", "count", 1, lambda s: len(open_leads(s))),
        MetricDef("Win rate", "percent", 1, win_rate),
        MetricDef("Average open deal size", "money", 1, average_deal_size),
        MetricDef("Expected to close in 30 days", "money", 1, lambda s: sum(lead["value"] for lead in closing_soon(s))),
    ),
    other_figures=(
        MetricDef("Total pipeline value", "money", 1, total_of("leads", "value")),
        MetricDef("Total leads", "count", 1, count_of("leads")),
        MetricDef(
            "Won deals value", "money", 1, total_of("leads", "value", lambda lead: lead["stage"] == "Closed Won")
        ),
        MetricDef("Average probability", "percent", 1, average_of("leads", "probability")),
        MetricDef("Average deal size", "money", 1, average_of("leads", "value")),
    ),
    dashboard="Sales Pipeline",
    title="Sales Pipeline Report",
    charts=pipeline_charts,
    insights=PipelineNarrative.write,
)
