"""Resource allocation: team utilisation, billable hours and revenue, overloaded and idle technicians."""

from __future__ import annotations

from data_generator import Item, Snapshot
from kpis import technician_utilization
from prism.reporting.colours import AMBER, BLUE, GREEN, GREY, RED, TEAL
from prism.reporting.model import MAX_CHART_ROWS, ChartSpec, Series
from prism.reporting.pages.base import MetricDef, Narrative, Page, RiskRules, Sentences, average_of, count_of, total_of
from prism.reporting.tally import totals_by
from prism.reporting.text import pct, plural_of, usd, verb
from prism.reporting.thresholds import OVERLOADED, TARGET_UTILISATION, UNDERUSED, level_above


def billable_hours(snapshot: Snapshot) -> float:
    """Hours billed to clients this month."""
    return float(sum(technician["billableHours"] for technician in snapshot.items["technicians"]))


def billable_revenue(snapshot: Snapshot) -> float:
    """Billable hours times hourly rate, all technicians, this month."""
    return float(sum(t["billableHours"] * t["hourlyRate"] for t in snapshot.items["technicians"]))


def revenue_gap_to_target(technician: Item) -> float:
    """Revenue a technician below the utilisation target would add by reaching it."""
    missing_hours = technician["totalHours"] * TARGET_UTILISATION / 100 - technician["billableHours"]
    return float(max(0.0, missing_hours) * technician["hourlyRate"])


class ResourceNarrative(Narrative):
    """What the resource-allocation report says about a snapshot: utilisation against the target, billable
    revenue and what reaching the target would add, overloaded and underused technicians, uncovered leave.
    """

    follow_up = "Next week: re-run this report to check utilisation against target."

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot)
        technicians = self.technicians = snapshot.items["technicians"]
        self.utilisation, self.revenue = technician_utilization(snapshot), billable_revenue(snapshot)
        self.overloaded = sorted(
            (t for t in technicians if t["utilization"] > OVERLOADED), key=lambda t: -t["utilization"]
        )
        self.underused = sorted(
            (t for t in technicians if t["utilization"] < UNDERUSED), key=lambda t: t["utilization"]
        )
        self.gap = sum(revenue_gap_to_target(t) for t in technicians)
        self.uncovered = [t for t in technicians if t["status"] == "On Leave" and t["activeProjects"] > 0]
        self.available = [
            t for t in technicians if t["status"] == "Available" and t["utilization"] < TARGET_UTILISATION
        ]

    def summary(self) -> Sentences:
        return (
            f"The team of {len(self.technicians)} is {pct(self.utilisation)} utilised against a "
            f"{TARGET_UTILISATION:.0f}% target and billed {usd(self.revenue)} this month.",
            f"{plural_of(len(self.overloaded), 'technician')} {verb(len(self.overloaded))} overloaded and "
            f"{plural_of(len(self.underused), 'technician')} {verb(len(self.underused))} underused.",
        )

    def key_findings(self) -> Sentences:
        worked = sum(t["totalHours"] for t in self.technicians)
        status = totals_by(self.technicians, "status", lambda t: 1)
        earners = sorted(self.technicians, key=lambda t: t["billableHours"] * t["hourlyRate"], reverse=True)
        return (
            f"The team billed {billable_hours(self.snapshot):,.0f} of {worked:,.0f} hours worked this month: "
            f"{pct(self.utilisation)} utilisation against a {TARGET_UTILISATION:.0f}% target.",
            f"Billable revenue this month is {usd(self.revenue)}"
            + (
                f"; the top earner is {earners[0]['name']} ({earners[0]['role']}) with "
                f"{usd(earners[0]['billableHours'] * earners[0]['hourlyRate'])}."
                if earners
                else "."
            ),
            f"{plural_of(len(self.overloaded), 'technician')} {verb(len(self.overloaded))} above {OVERLOADED:.0f}% "
            "utilisation" + (f" ({self.named(self.overloaded)})." if self.overloaded else "."),
            f"{plural_of(len(self.underused), 'technician')} {verb(len(self.underused))} below {UNDERUSED:.0f}%"
            + (f" ({self.named(self.underused)})" if self.underused else "")
            + f"; bringing everyone below target up to {TARGET_UTILISATION:.0f}% would add {usd(self.gap)} "
            "of billable revenue.",
            f"{int(status.get('Available', 0))} available, {int(status.get('Busy', 0))} busy and "
            f"{int(status.get('On Leave', 0))} on leave, with {sum(t['activeProjects'] for t in self.technicians)} "
            "active projects in all.",
        )

    def risks(self) -> RiskRules:
        overloaded, underused, uncovered = self.overloaded, self.underused, self.uncovered
        utilisation = self.utilisation
        return (
            (
                level_above(len(overloaded), 3, 2, 1),
                f"{plural_of(len(overloaded), 'technician')} {verb(len(overloaded), 'works', 'work')} above "
                f"{OVERLOADED:.0f}% utilisation ({self.named(overloaded)}): a risk of burnout and slipping quality.",
                f"Move work from {self.named(overloaded)} to colleagues with spare capacity.",
            ),
            (
                level_above(len(underused), 4, 2, 1),
                f"{plural_of(len(underused), 'technician')} {verb(len(underused))} below {UNDERUSED:.0f}% utilisation "
                f"({self.named(underused)}).",
                f"Assign billable project work or training with a billable follow-up to {self.named(underused)}.",
            ),
            (
                level_above(TARGET_UTILISATION - utilisation, 10, 5, 0.01) if self.technicians else None,
                f"Team utilisation is {pct(utilisation)}, {TARGET_UTILISATION - utilisation:.1f} points below the "
                f"{TARGET_UTILISATION:.0f}% target.",
                "Review non-billable time (internal work, travel) and book it against clients where the contract "
                "allows.",
            ),
            (
                "Medium" if uncovered else None,
                f"{plural_of(len(uncovered), 'technician')} on leave {verb(len(uncovered), 'holds', 'hold')} active "
                f"projects ({self.named(uncovered)}).",
                f"Name a stand-in for each project of {self.named(uncovered)}.",
            ),
        )

    def opportunities(self) -> Sentences:
        return (
            f"Reaching the {TARGET_UTILISATION:.0f}% target across the team would add {usd(self.gap)} of revenue a "
            "month."
            if self.gap
            else "",
            f"Available technicians ({self.named(self.available)}) can take on new client projects now."
            if self.available
            else "",
        )

    def recommendations(self) -> Sentences:
        return (
            f"Rebalance work from {self.named(self.overloaded)} to "
            f"{self.named(self.available) or 'colleagues with spare capacity'}."
            if self.overloaded
            else "",
            f"Fill the spare capacity of {self.named(self.underused)} with billable work." if self.underused else "",
            f"Aim for {TARGET_UTILISATION:.0f}% utilisation per technician and review it weekly in the resourcing "
            "meeting.",
            "Cross-train technicians on the most requested skills so that work can move between them.",
        )

    def next_actions(self) -> Sentences:
        return (
            f"This week: move at least one project away from {self.named(self.overloaded)}." if self.overloaded else "",
            f"This week: plan billable work for {self.named(self.underused)}." if self.underused else "",
            f"Today: name stand-ins for the projects of {self.named(self.uncovered)}." if self.uncovered else "",
        )


def resource_charts(snapshot: Snapshot) -> tuple[ChartSpec, ...]:
    technicians = sorted(snapshot.items["technicians"], key=lambda t: t["utilization"], reverse=True)[:MAX_CHART_ROWS]
    role_revenue = totals_by(snapshot.items["technicians"], "role", lambda t: t["billableHours"] * t["hourlyRate"])
    roles = sorted(role_revenue, key=lambda role: role_revenue[role], reverse=True)[:MAX_CHART_ROWS]
    statuses = ("Available", "Busy", "On Leave")
    status = totals_by(snapshot.items["technicians"], "status", lambda t: 1)

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


PAGE = Page(
    metrics=(
        MetricDef("Team utilisation", "percent", 1, technician_utilization),
        MetricDef("Billable hours this month", "hours", 1, billable_hours),
        MetricDef("Billable revenue this month", "money", 1, billable_revenue),
        MetricDef("Average efficiency", "percent", 1, average_of("technicians", "efficiency")),
        MetricDef(
            f"Technicians above {OVERLOADED:.0f}%",
            "count",
            -1,
            count_of("technicians", lambda t: t["utilization"] > OVERLOADED),
        ),
        MetricDef("Available technicians", "count", 0, count_of("technicians", lambda t: t["status"] == "Available")),
    ),
    other_figures=(
        MetricDef("Total technicians", "count", 0, count_of("technicians")),
        MetricDef("Average utilization", "percent", 1, average_of("technicians", "utilization")),
        MetricDef("Total hours", "hours", 0, total_of("technicians", "totalHours")),
        MetricDef("Active projects", "count", 0, total_of("technicians", "activeProjects")),
        MetricDef("Average hourly rate", "money", 0, average_of("technicians", "hourlyRate")),
        MetricDef("Busy technicians", "count", 0, count_of("technicians", lambda t: t["status"] == "Busy")),
    ),
    dashboard="Resource Allocation",
    title="Resource Allocation Report",
    charts=resource_charts,
    insights=ResourceNarrative.write,
)
