"""Sales pipeline: open and weighted value, win rate, stages, deals closing soon and stale contacts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from data_generator import Item, Snapshot
from kpis import open_leads, pipeline_value, weighted_pipeline_value
from prism.reporting.model import BLUE, PURPLE, STALE_CONTACT_DAYS, TEAL, ChartSpec, Insights, Series
from prism.reporting.text import (
    by_month,
    is_within,
    join_names,
    level_above,
    level_below,
    mean,
    month_label,
    parse_day,
    pct,
    plural_of,
    ranked_risks,
    share_pct,
    summary_text,
    today_of,
    totals_by,
    usd,
    verb,
)
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


def _companies(leads: Sequence[Item]) -> str:
    return join_names([lead["companyName"] for lead in leads])


def pipeline_insights(snapshot: Snapshot) -> Insights:
    leads, today = snapshot.items["leads"], today_of(snapshot)
    active = open_leads(snapshot)
    value, weighted, rate = pipeline_value(snapshot), weighted_pipeline_value(snapshot), win_rate(snapshot)
    won = [lead for lead in leads if lead["stage"] == "Closed Won"]
    lost = [lead for lead in leads if lead["stage"] == "Closed Lost"]
    stage_value = totals_by(active, "stage", lambda lead: lead["value"])
    stage_count = totals_by(active, "stage", lambda lead: 1)
    early_share = share_pct(stage_value.get("Prospecting", 0) + stage_value.get("Qualification", 0), value)
    by_value = sorted(active, key=lambda lead: lead["value"], reverse=True)
    soon = closing_soon(snapshot)
    stale = [lead for lead in active if (today - parse_day(lead["lastContact"])).days > STALE_CONTACT_DAYS]
    overdue = [lead for lead in active if parse_day(lead["expectedCloseDate"]) < today]
    largest_share = share_pct(by_value[0]["value"] * by_value[0]["probability"] / 100, weighted) if by_value else 0.0
    findings = [
        f"The open pipeline holds {plural_of(len(active), 'opportunity', 'opportunities')} worth {usd(value)}; "
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
        f"{plural_of(len(soon), 'opportunity', 'opportunities')} worth {usd(sum(lead['value'] for lead in soon))} "
        f"{verb(len(soon))} expected to close within 30 days.",
    ]
    if by_value:
        top = by_value[0]
        findings.insert(
            2,
            f"The largest opportunity is {top['companyName']} at {usd(top['value'])} "
            f"({top['stage']}, {top['probability']}% likely).",
        )
    risks = ranked_risks(
        (
            level_above(early_share, 75, 60, 50),
            f"{pct(early_share)} of the open pipeline is still in Prospecting or Qualification.",
            "Qualify early-stage leads faster and move the best of them to a proposal this month.",
        ),
        (
            level_below(rate, 20, 35, 50) if rate is not None else None,
            f"The win rate is {pct(rate or 0)} ({len(won)} won, {len(lost)} lost).",
            "Review the lost deals with the sales team and tighten qualification before proposals.",
        ),
        (
            level_above(largest_share, 30, 20, 12),
            f"One deal ({by_value[0]['companyName'] if by_value else ''}) makes up "
            f"{pct(largest_share)} of the weighted pipeline.",
            "Give the deal an executive sponsor and build enough other pipeline to absorb losing it.",
        ),
        (
            level_above(len(stale) + len(overdue), 5, 2, 1),
            f"{plural_of(len(stale), 'lead')} had no contact for over {STALE_CONTACT_DAYS} days and "
            f"{plural_of(len(overdue), 'lead')} {verb(len(overdue))} past the expected close date.",
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
        summary=summary_text(
            f"The pipeline holds {usd(value)} in {plural_of(len(active), 'open opportunity', 'open opportunities')}, "
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
