"""Software licenses: what seats cost a month, how many are used, what unused seats waste, renewals."""

from __future__ import annotations

from data_generator import Item, Snapshot
from kpis import license_utilization
from prism.reporting.colours import AMBER, BLUE, TEAL
from prism.reporting.model import ChartSpec, Series
from prism.reporting.pages.base import MetricDef, Narrative, Page, RiskRules, Sentences, average_of, count_of, total_of
from prism.reporting.tally import by_month, is_within, next_months, share_pct, today_of, totals_by
from prism.reporting.text import month_label, pct, plural_of, usd, verb
from prism.reporting.thresholds import LOW_SEAT_USE, RENEWAL_WINDOW_DAYS, SEAT_PRESSURE, level_above


def monthly_license_cost(snapshot: Snapshot) -> float:
    """Monthly cost of every seat of every license."""
    return float(sum(license["monthlyCost"] for license in snapshot.items["licenses"]))


def unused_seats(snapshot: Snapshot) -> int:
    """Seats bought and not assigned."""
    return sum(license["availableLicenses"] for license in snapshot.items["licenses"])


def wasted_license_spend(snapshot: Snapshot) -> float:
    """Monthly cost of the unused seats: the sum of the licenses' potentialSavings."""
    return float(sum(license["potentialSavings"] for license in snapshot.items["licenses"]))


def over_allocated_licenses(snapshot: Snapshot) -> list[Item]:
    """Licenses with every seat taken."""
    return [lic for lic in snapshot.items["licenses"] if lic["complianceStatus"] == "Over-allocated"]


def license_renewals(snapshot: Snapshot, days: int = RENEWAL_WINDOW_DAYS) -> list[Item]:
    """Licenses renewing within the next `days` days, soonest first."""
    today = today_of(snapshot)
    due = [lic for lic in snapshot.items["licenses"] if is_within(lic["renewalDate"], today, days)]
    return sorted(due, key=lambda license: license["renewalDate"])


class LicenseNarrative(Narrative):
    """What the software-license report says about a snapshot: what seats cost, how many stand unused and
    what they waste, licenses with no spare seat, and renewals (above all those of little-used licenses).
    """

    name_field = "product"
    follow_up = "Next month: re-run this report and compare the cost of unused seats."

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot)
        licenses = self.licenses = snapshot.items["licenses"]
        self.cost, self.waste = monthly_license_cost(snapshot), wasted_license_spend(snapshot)
        self.full = over_allocated_licenses(snapshot)
        self.renewing = license_renewals(snapshot)
        self.idle_renewals = [lic for lic in self.renewing if lic["utilizationRate"] < LOW_SEAT_USE]
        self.by_waste = sorted(
            (lic for lic in licenses if lic["potentialSavings"] > 0),
            key=lambda lic: lic["potentialSavings"],
            reverse=True,
        )
        self.waste_share = share_pct(self.waste, self.cost)

    def summary(self) -> Sentences:
        return (
            f"The business pays {usd(self.cost)} a month for software licenses and uses "
            f"{pct(license_utilization(self.snapshot))} of its seats.",
            f"Unused seats cost {usd(self.waste)} a month, and {plural_of(len(self.renewing), 'license')} "
            f"{verb(len(self.renewing), 'renews', 'renew')} in the next {RENEWAL_WINDOW_DAYS} days.",
        )

    def key_findings(self) -> Sentences:
        used, total = (
            sum(lic["usedLicenses"] for lic in self.licenses),
            sum(lic["totalLicenses"] for lic in self.licenses),
        )
        pressed = [lic for lic in self.licenses if lic["complianceStatus"] == "At Risk"]
        worst = self.by_waste[0] if self.by_waste else None
        return (
            f"{plural_of(len(self.licenses), 'license')} cost {usd(self.cost)} a month ({usd(self.cost * 12)} a year); "
            f"{used:,} of {total:,} seats are in use ({pct(license_utilization(self.snapshot))}).",
            f"Unused seats cost {usd(self.waste)} a month, {usd(self.waste * 12)} a year: {pct(self.waste_share)} of "
            "license spend.",
            f"The largest waste is {worst['product']} ({worst['vendor']}): {worst['availableLicenses']} unused seats "
            f"costing {usd(worst['potentialSavings'])} a month."
            if worst
            else "",
            f"{plural_of(len(self.full), 'license')} {verb(len(self.full))} over-allocated (every seat taken) and "
            f"{len(pressed)} more {verb(len(pressed))} at {SEAT_PRESSURE:.0f}% of their seats or above.",
            f"{plural_of(len(self.renewing), 'license')} {verb(len(self.renewing), 'renews', 'renew')} in the next "
            f"{RENEWAL_WINDOW_DAYS} days, worth {usd(sum(lic['annualCost'] for lic in self.renewing))} a year; the "
            f"first is {self.renewing[0]['product']} on {self.renewing[0]['renewalDate']}."
            if self.renewing
            else f"No license renews in the next {RENEWAL_WINDOW_DAYS} days.",
        )

    def risks(self) -> RiskRules:
        return (
            (
                level_above(self.waste_share, 25, 15, 5),
                f"{pct(self.waste_share)} of license spend ({usd(self.waste)} a month) pays for seats nobody uses.",
                f"Reclaim unused seats, starting with {self.named(self.by_waste)}, and lower the seat counts at "
                "renewal.",
            ),
            (
                level_above(len(self.full), 5, 2, 1),
                f"{plural_of(len(self.full), 'license')} {verb(len(self.full), 'has', 'have')} no spare seat "
                f"({self.named(self.full)}): new starters cannot be licensed and a vendor audit may find over-use.",
                f"Buy a small buffer of seats for {self.named(self.full)} or free seats held by leavers.",
            ),
            (
                level_above(len(self.idle_renewals), 3, 1, 1),
                f"{plural_of(len(self.idle_renewals), 'license')} {verb(len(self.idle_renewals), 'renews', 'renew')} "
                f"within {RENEWAL_WINDOW_DAYS} days below {LOW_SEAT_USE:.0f}% use ({self.named(self.idle_renewals)}).",
                f"Cut the seat counts of {self.named(self.idle_renewals)} before their renewal dates.",
            ),
        )

    def opportunities(self) -> Sentences:
        return (
            f"Reclaiming every unused seat would save {usd(self.waste * 12)} a year." if self.waste else "",
            f"Upcoming renewals ({self.named(self.renewing)}) are the moment to negotiate price and seat counts."
            if self.renewing
            else "",
        )

    def recommendations(self) -> Sentences:
        most_wasteful = self.by_waste[:3]
        return (
            f"Reclaim the unused seats of {self.named(most_wasteful)}: together "
            f"{usd(sum(lic['potentialSavings'] for lic in most_wasteful))} a month."
            if most_wasteful
            else "",
            f"Add seats or reassign idle users for {self.named(self.full)} to stay compliant." if self.full else "",
            f"Right-size {self.named(self.idle_renewals)} before they renew." if self.idle_renewals else "",
            "Remove leavers' seats the day they leave, through the offboarding checklist.",
            "Review seat usage monthly with each license owner.",
        )

    def next_actions(self) -> Sentences:
        first = self.renewing[0] if self.renewing else None
        return (
            f"This week: send the list of unused seats to the owners of {self.named(self.by_waste)}."
            if self.by_waste
            else "",
            f"Before {first['renewalDate']}: confirm the seat count for {first['product']}." if first else "",
            f"Within 30 days: resolve the over-allocation of {self.named(self.full)}." if self.full else "",
        )


def license_charts(snapshot: Snapshot) -> tuple[ChartSpec, ...]:
    licenses = snapshot.items["licenses"]
    wasteful = sorted(licenses, key=lambda license: license["potentialSavings"], reverse=True)[:10]
    used_cost = totals_by(licenses, "vendor", lambda lic: lic["usedLicenses"] * lic["costPerLicense"] / 12)
    idle_cost = totals_by(licenses, "vendor", lambda lic: lic["potentialSavings"])
    vendors = sorted(used_cost, key=lambda vendor: used_cost[vendor] + idle_cost[vendor], reverse=True)[:10]
    months = next_months(today_of(snapshot))
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
            tuple(month_label(month) for month in months),
            (
                Series(
                    "Annual cost",
                    tuple(by_month(licenses, "renewalDate", months, lambda lic: lic["annualCost"])),
                    TEAL,
                ),
            ),
        ),
    )


PAGE = Page(
    metrics=(
        MetricDef("Monthly license cost", "money", -1, monthly_license_cost),
        MetricDef("Seat utilisation", "percent", 1, license_utilization),
        MetricDef("Unused seats", "count", -1, unused_seats),
        MetricDef("Monthly cost of unused seats", "money", -1, wasted_license_spend),
        MetricDef("Over-allocated licenses", "count", -1, lambda s: len(over_allocated_licenses(s))),
        MetricDef(f"Renewals in the next {RENEWAL_WINDOW_DAYS} days", "count", 0, lambda s: len(license_renewals(s))),
    ),
    other_figures=(
        MetricDef("Total licenses seats", "count", 0, total_of("licenses", "totalLicenses")),
        MetricDef("Used licenses seats", "count", 1, total_of("licenses", "usedLicenses")),
        MetricDef("Annual license cost", "money", -1, total_of("licenses", "annualCost")),
        MetricDef("Potential savings", "money", -1, total_of("licenses", "potentialSavings")),
        MetricDef("Average utilization rate", "percent", 1, average_of("licenses", "utilizationRate")),
        MetricDef("License subscriptions", "count", 0, count_of("licenses")),
        MetricDef(
            "Compliance issues at risk",
            "count",
            -1,
            count_of("licenses", lambda lic: lic["complianceStatus"] != "Compliant"),
        ),
    ),
    dashboard="Software Licenses",
    title="Software License Report",
    charts=license_charts,
    insights=LicenseNarrative.write,
)
