"""Departmental spend: budgets, spend to date against the calendar, this month's variance."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from data_generator import Item, Snapshot
from kpis import department_spend
from prism.reporting.colours import BLUE, RED, TEAL
from prism.reporting.model import MAX_CHART_ROWS, ChartSpec, Series
from prism.reporting.pages.base import MetricDef, Narrative, Page, RiskRules, Sentences, count_of, total_of
from prism.reporting.tally import share_pct, totals_by
from prism.reporting.text import month_label, pct, plural_of, usd, verb
from prism.reporting.thresholds import level_above


def year_elapsed(snapshot: Snapshot) -> float:
    """Share of the calendar (fiscal) year gone by at the snapshot's time, %."""
    moment = snapshot.time
    start = datetime(moment.year, 1, 1, tzinfo=UTC)
    end = datetime(moment.year + 1, 1, 1, tzinfo=UTC)
    return share_pct((moment - start).total_seconds(), (end - start).total_seconds())


def annual_budget(snapshot: Snapshot) -> float:
    """Annual budget of all departments."""
    return float(sum(department["budget"] for department in snapshot.items["departments"]))


def spent_year_to_date(snapshot: Snapshot) -> float:
    """Spend of all departments this year to date."""
    return float(sum(department["spent"] for department in snapshot.items["departments"]))


def spend_pace(snapshot: Snapshot) -> float:
    """Share of the budget spent over share of the year gone, % (100 is exactly on pace)."""
    return share_pct(share_pct(spent_year_to_date(snapshot), annual_budget(snapshot)), year_elapsed(snapshot))


def month_variance(snapshot: Snapshot) -> float:
    """Monthly budget less this month's spend, all departments (negative when over)."""
    return float(sum(department["variance"] for department in snapshot.items["departments"]))


def over_monthly_budget(snapshot: Snapshot) -> list[Item]:
    """Departments spending more than their monthly budget this month, worst first."""
    over = [department for department in snapshot.items["departments"] if department["variance"] < 0]
    return sorted(over, key=lambda department: department["variancePercentage"])


def projected_year_end(department: Item, elapsed: float) -> float:
    """A department's spend at year end if it keeps its pace so far."""
    return float(department["spent"] / (elapsed / 100) if elapsed else department["spent"])


class SpendNarrative(Narrative):
    """What the departmental-spend report says about a snapshot: spend against the annual budget and the
    calendar, where the year is heading, this month's overspend, rising trends and the largest category.
    """

    follow_up = "At month end: re-run this report to confirm the monthly variance."

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot)
        departments = self.departments = snapshot.items["departments"]
        elapsed = self.elapsed = year_elapsed(snapshot)
        self.budget, self.spent = annual_budget(snapshot), spent_year_to_date(snapshot)
        self.over_month = over_monthly_budget(snapshot)
        overrun = {d["id"]: share_pct(projected_year_end(d, elapsed) - d["budget"], d["budget"]) for d in departments}
        self.heading_over = sorted((d for d in departments if overrun[d["id"]] > 0), key=lambda d: -overrun[d["id"]])
        self.worst_overrun = overrun[self.heading_over[0]["id"]] if self.heading_over else 0.0
        self.rising = [d for d in departments if d["trend"] == "up"]
        self.categories = totals_by((c for d in departments for c in d["categories"]), "name", lambda c: c["spend"])
        self.top_category = max(self.categories, key=lambda name: self.categories[name]) if self.categories else None
        self.this_month = department_spend(snapshot)

    def summary(self) -> Sentences:
        variance = month_variance(self.snapshot)
        return (
            f"Departments have spent {pct(share_pct(self.spent, self.budget))} of the annual budget with "
            f"{pct(self.elapsed)} of the year gone, a pace of {pct(spend_pace(self.snapshot))} of plan.",
            f"This month's spend is {usd(self.this_month)}, {usd(abs(variance))} {'over' if variance < 0 else 'under'} "
            "the monthly budget.",
        )

    def key_findings(self) -> Sentences:
        projected = sum(projected_year_end(d, self.elapsed) for d in self.departments)
        top_category, this_month = self.top_category, self.this_month
        return (
            f"Departments have spent {usd(self.spent)} of their {usd(self.budget)} annual budget "
            f"({pct(share_pct(self.spent, self.budget))}) with {pct(self.elapsed)} of the year gone.",
            f"At this pace the year ends at {usd(projected)}: {usd(abs(projected - self.budget))} "
            f"{'over' if projected > self.budget else 'under'} budget.",
            f"This month {usd(this_month)} is spent against {usd(sum(d['monthlyBudget'] for d in self.departments))} "
            f"budgeted; {plural_of(len(self.over_month), 'department')} {verb(len(self.over_month))} over"
            + (
                ": "
                + ", ".join(f"{d['name']} ({pct(-d['variancePercentage'])} over)" for d in self.over_month[:3])
                + "."
                if self.over_month
                else "."
            ),
            f"Spend is rising in {plural_of(len(self.rising), 'department')}"
            + (f" ({self.named(self.rising)})." if self.rising else "."),
            f"The largest category this month is {top_category} at {usd(self.categories[top_category])} "
            f"({pct(share_pct(self.categories[top_category], this_month))} of spend)."
            if top_category
            else "",
        )

    def risks(self) -> RiskRules:
        worst_month = -self.over_month[0]["variancePercentage"] if self.over_month else 0.0
        return (
            (
                level_above(self.worst_overrun, 10, 3, 0.01),
                f"{plural_of(len(self.heading_over), 'department')} {verb(len(self.heading_over), 'is', 'are')} on "
                f"course to overspend the annual budget ({self.named(self.heading_over)}; worst "
                f"{pct(self.worst_overrun)} over).",
                f"Agree a spending plan for the rest of the year with the heads of {self.named(self.heading_over)}.",
            ),
            (
                level_above(worst_month, 10, 5, 0.01),
                f"{plural_of(len(self.over_month), 'department')} spent over the monthly budget this month "
                f"({self.named(self.over_month)}; worst {pct(worst_month)} over).",
                f"Hold discretionary purchases in {self.named(self.over_month)} until the month closes.",
            ),
            (
                level_above(share_pct(len(self.rising), len(self.departments)), 50, 34, 0.01),
                f"Spend is trending up in {plural_of(len(self.rising), 'department')} ({self.named(self.rising)}).",
                "Ask each department with rising spend to explain the rise at the next budget review.",
            ),
        )

    def opportunities(self) -> Sentences:
        under = sorted((d for d in self.departments if d["variance"] > 0), key=lambda d: -d["variance"])
        return (
            f"{self.named(under)} {verb(len(under), 'is', 'are')} under budget this month by "
            f"{usd(sum(d['variance'] for d in under))}; the headroom can fund priorities elsewhere."
            if under
            else "",
            f"Pooling {self.top_category} purchases across departments could win volume discounts."
            if self.top_category
            else "",
        )

    def recommendations(self) -> Sentences:
        return (
            f"Review the annual plans of {self.named(self.heading_over)} with their managers."
            if self.heading_over
            else "",
            f"Set monthly spending caps for {self.named(self.over_month)}." if self.over_month else "",
            f"Check whether {self.top_category} spend can be consolidated under fewer suppliers."
            if self.top_category
            else "",
            "Share this burn-rate view with department heads every month.",
        )

    def next_actions(self) -> Sentences:
        managers = ", ".join(department["manager"] for department in self.over_month[:3])
        return (
            f"This week: meet {managers} about this month's overspend." if self.over_month else "",
            f"Within 30 days: re-forecast the year for {self.named(self.heading_over)}." if self.heading_over else "",
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


PAGE = Page(
    metrics=(
        MetricDef("Annual budget", "money", 0, annual_budget),
        MetricDef("Spent this year to date", "money", 0, spent_year_to_date),
        MetricDef("Spend pace against the calendar", "percent", -1, spend_pace),
        MetricDef("Spend this month", "money", -1, department_spend),
        MetricDef("Monthly variance (negative = over)", "money", 1, month_variance),
        MetricDef("Departments over monthly budget", "count", -1, lambda s: len(over_monthly_budget(s))),
    ),
    other_figures=(
        MetricDef("Total remaining budget", "money", 1, total_of("departments", "remaining")),
        MetricDef("Monthly budget", "money", 0, total_of("departments", "monthlyBudget")),
        MetricDef("Total departments", "count", 0, count_of("departments")),
        MetricDef("Employees", "count", 0, total_of("departments", "employeeCount")),
        MetricDef(
            "Budget utilization used",
            "percent",
            -1,
            lambda s: share_pct(spent_year_to_date(s), annual_budget(s)),
        ),
    ),
    dashboard="Departmental Spend",
    title="Departmental Spend Report",
    charts=spend_charts,
    insights=SpendNarrative.write,
)
