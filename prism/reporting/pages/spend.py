"""Departmental spend: budgets, spend to date against the calendar, this month's variance."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from data_generator import Item, Snapshot
from kpis import department_spend
from prism.reporting.model import BLUE, MAX_CHART_ROWS, RED, TEAL, ChartSpec, Insights, Series
from prism.reporting.text import (
    join_names,
    level_above,
    month_label,
    pct,
    plural_of,
    ranked_risks,
    share_pct,
    summary_text,
    totals_by,
    usd,
    verb,
)


def year_elapsed(snapshot: Snapshot) -> float:
    """Share of the calendar (fiscal) year gone by at the snapshot's time, %."""
    moment = snapshot.time
    start = datetime(moment.year, 1, 1, tzinfo=UTC)
    end = datetime(moment.year + 1, 1, 1, tzinfo=UTC)
    return share_pct((moment - start).total_seconds(), (end - start).total_seconds())


def annual_budget(snapshot: Snapshot) -> float:
    """Annual budget of all departments."""
    return sum(department["budget"] for department in snapshot.items["departments"])


def spent_year_to_date(snapshot: Snapshot) -> float:
    """Spend of all departments this year to date."""
    return sum(department["spent"] for department in snapshot.items["departments"])


def spend_pace(snapshot: Snapshot) -> float:
    """Share of the budget spent over share of the year gone, % (100 is exactly on pace)."""
    return share_pct(share_pct(spent_year_to_date(snapshot), annual_budget(snapshot)), year_elapsed(snapshot))


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
    return join_names([department["name"] for department in departments])


def spend_insights(snapshot: Snapshot) -> Insights:
    departments = snapshot.items["departments"]
    elapsed, budget, spent = year_elapsed(snapshot), annual_budget(snapshot), spent_year_to_date(snapshot)
    projected = sum(projected_year_end(d, elapsed) for d in departments)
    over_month = over_monthly_budget(snapshot)
    overrun = {d["id"]: share_pct(projected_year_end(d, elapsed) - d["budget"], d["budget"]) for d in departments}
    heading_over = sorted((d for d in departments if overrun[d["id"]] > 0), key=lambda d: -overrun[d["id"]])
    rising = [d for d in departments if d["trend"] == "up"]
    categories = totals_by((c for d in departments for c in d["categories"]), "name", lambda c: c["spend"])
    top_category = max(categories, key=lambda name: categories[name]) if categories else None
    this_month = department_spend(snapshot)
    findings = [
        f"Departments have spent {usd(spent)} of their {usd(budget)} annual budget ({pct(share_pct(spent, budget))}) "
        f"with {pct(elapsed)} of the year gone.",
        f"At this pace the year ends at {usd(projected)}: {usd(abs(projected - budget))} "
        f"{'over' if projected > budget else 'under'} budget.",
        f"This month {usd(this_month)} is spent against {usd(sum(d['monthlyBudget'] for d in departments))} budgeted; "
        f"{plural_of(len(over_month), 'department')} {verb(len(over_month))} over"
        + (
            ": " + ", ".join(f"{d['name']} ({pct(-d['variancePercentage'])} over)" for d in over_month[:3]) + "."
            if over_month
            else "."
        ),
        f"Spend is rising in {plural_of(len(rising), 'department')}"
        + (f" ({_departments(rising)})." if rising else "."),
    ]
    if top_category:
        findings.append(
            f"The largest category this month is {top_category} at {usd(categories[top_category])} "
            f"({pct(share_pct(categories[top_category], this_month))} of spend)."
        )
    worst_overrun = overrun[heading_over[0]["id"]] if heading_over else 0.0
    worst_month = -over_month[0]["variancePercentage"] if over_month else 0.0
    risks = ranked_risks(
        (
            level_above(worst_overrun, 10, 3, 0.01),
            f"{plural_of(len(heading_over), 'department')} {verb(len(heading_over), 'is', 'are')} "
            "on course to overspend the "
            f"annual budget ({_departments(heading_over)}; worst {pct(worst_overrun)} over).",
            f"Agree a spending plan for the rest of the year with the heads of {_departments(heading_over)}.",
        ),
        (
            level_above(worst_month, 10, 5, 0.01),
            f"{plural_of(len(over_month), 'department')} spent over the monthly budget this month "
            f"({_departments(over_month)}; worst {pct(worst_month)} over).",
            f"Hold discretionary purchases in {_departments(over_month)} until the month closes.",
        ),
        (
            level_above(share_pct(len(rising), len(departments)), 50, 34, 0.01),
            f"Spend is trending up in {plural_of(len(rising), 'department')} ({_departments(rising)}).",
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
        summary=summary_text(
            f"Departments have spent {pct(share_pct(spent, budget))} of the annual budget "
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
                f"{_departments(under)} {verb(len(under), 'is', 'are')} under budget this month by "
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


def spend_charts(snapshot: Snapshot) -> tuple[ChartSpec, ...]:
    departments = snapshot.items["departments"][:MAX_CHART_ROWS]
    elapsed = year_elapsed(snapshot)
    used = [share_pct(d["spent"], d["budget"]) for d in departments]
    months: list[str] = [entry["month"] for entry in departments[0]["historicalSpend"]] if departments else []
    monthly: dict[str, float] = defaultdict(float)
    for department in snapshot.items["departments"]:
        for entry in department["historicalSpend"]:
            monthly[entry["month"]] += entry["amount"]
    categories = totals_by(
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
            tuple(month_label(month) for month in months),
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
