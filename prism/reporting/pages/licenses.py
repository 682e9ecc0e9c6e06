"""Software licenses: what seats cost a month, how many are used, what unused seats waste, renewals."""

from __future__ import annotations

from collections.abc import Sequence

from data_generator import Item, Snapshot
from kpis import license_utilization
from prism.reporting.model import (
    AMBER,
    BLUE,
    LOW_SEAT_USE,
    RENEWAL_WINDOW_DAYS,
    SEAT_PRESSURE,
    TEAL,
    ChartSpec,
    Insights,
    Series,
)
from prism.reporting.text import (
    by_month,
    is_within,
    join_names,
    level_above,
    month_label,
    next_months,
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


def monthly_license_cost(snapshot: Snapshot) -> float:
    """Monthly cost of every seat of every license."""
    return sum(license["monthlyCost"] for license in snapshot.items["licenses"])


def unused_seats(snapshot: Snapshot) -> int:
    """Seats bought and not assigned."""
    return sum(license["availableLicenses"] for license in snapshot.items["licenses"])


def wasted_license_spend(snapshot: Snapshot) -> float:
    """Monthly cost of the unused seats: the sum of the licenses' potentialSavings."""
    return sum(license["potentialSavings"] for license in snapshot.items["licenses"])


def over_allocated_licenses(snapshot: Snapshot) -> list[Item]:
    """Licenses with every seat taken."""
    return [lic for lic in snapshot.items["licenses"] if lic["complianceStatus"] == "Over-allocated"]


def license_renewals(snapshot: Snapshot, days: int = RENEWAL_WINDOW_DAYS) -> list[Item]:
    """Licenses renewing within the next `days` days, soonest first."""
    today = today_of(snapshot)
    due = [lic for lic in snapshot.items["licenses"] if is_within(lic["renewalDate"], today, days)]
    return sorted(due, key=lambda license: license["renewalDate"])


def _products(licenses: Sequence[Item]) -> str:
    return join_names([license["product"] for license in licenses])


def license_insights(snapshot: Snapshot) -> Insights:
    licenses = snapshot.items["licenses"]
    cost, waste = monthly_license_cost(snapshot), wasted_license_spend(snapshot)
    used, total = sum(lic["usedLicenses"] for lic in licenses), sum(lic["totalLicenses"] for lic in licenses)
    full = over_allocated_licenses(snapshot)
    pressed = [lic for lic in licenses if lic["complianceStatus"] == "At Risk"]
    renewing = license_renewals(snapshot)
    idle_renewals = [lic for lic in renewing if lic["utilizationRate"] < LOW_SEAT_USE]
    by_waste = sorted(
        (lic for lic in licenses if lic["potentialSavings"] > 0), key=lambda lic: lic["potentialSavings"], reverse=True
    )
    waste_share = share_pct(waste, cost)
    findings = [
        f"{plural_of(len(licenses), 'license')} cost {usd(cost)} a month ({usd(cost * 12)} a year); "
        f"{used:,} of {total:,} seats are in use ({pct(license_utilization(snapshot))}).",
        f"Unused seats cost {usd(waste)} a month, {usd(waste * 12)} a year: {pct(waste_share)} of license spend.",
        f"{plural_of(len(full), 'license')} {verb(len(full))} over-allocated (every seat taken) and "
        f"{len(pressed)} more {verb(len(pressed))} at {SEAT_PRESSURE:.0f}% of their seats or above.",
    ]
    if by_waste:
        worst = by_waste[0]
        findings.insert(
            2,
            f"The largest waste is {worst['product']} ({worst['vendor']}): {worst['availableLicenses']} unused seats "
            f"costing {usd(worst['potentialSavings'])} a month.",
        )
    if renewing:
        findings.append(
            f"{plural_of(len(renewing), 'license')} {verb(len(renewing), 'renews', 'renew')} "
            f"in the next {RENEWAL_WINDOW_DAYS} days, "
            f"worth {usd(sum(lic['annualCost'] for lic in renewing))} a year; the first is {renewing[0]['product']} "
            f"on {renewing[0]['renewalDate']}."
        )
    else:
        findings.append(f"No license renews in the next {RENEWAL_WINDOW_DAYS} days.")
    risks = ranked_risks(
        (
            level_above(waste_share, 25, 15, 5),
            f"{pct(waste_share)} of license spend ({usd(waste)} a month) pays for seats nobody uses.",
            f"Reclaim unused seats, starting with {_products(by_waste)}, and lower the seat counts at renewal.",
        ),
        (
            level_above(len(full), 5, 2, 1),
            f"{plural_of(len(full), 'license')} {verb(len(full), 'has', 'have')} no spare seat ({_products(full)}): "
            "new starters cannot be licensed and a vendor audit may find over-use.",
            f"Buy a small buffer of seats for {_products(full)} or free seats held by leavers.",
        ),
        (
            level_above(len(idle_renewals), 3, 1, 1),
            f"{plural_of(len(idle_renewals), 'license')} {verb(len(idle_renewals), 'renews', 'renew')} within "
            f"{RENEWAL_WINDOW_DAYS} days below {LOW_SEAT_USE:.0f}% use ({_products(idle_renewals)}).",
            f"Cut the seat counts of {_products(idle_renewals)} before their renewal dates.",
        ),
    )
    recommendations = []
    if by_waste:
        recommendations.append(
            f"Reclaim the unused seats of {_products(by_waste[:3])}: together "
            f"{usd(sum(lic['potentialSavings'] for lic in by_waste[:3]))} a month."
        )
    if full:
        recommendations.append(f"Add seats or reassign idle users for {_products(full)} to stay compliant.")
    if idle_renewals:
        recommendations.append(f"Right-size {_products(idle_renewals)} before they renew.")
    recommendations.append("Remove leavers' seats the day they leave, through the offboarding checklist.")
    recommendations.append("Review seat usage monthly with each license owner.")
    actions = [
        f"This week: send the list of unused seats to the owners of {_products(by_waste)}." if by_waste else "",
        f"Before {renewing[0]['renewalDate']}: confirm the seat count for {renewing[0]['product']}."
        if renewing
        else "",
        f"Within 30 days: resolve the over-allocation of {_products(full)}." if full else "",
        "Next month: re-run this report and compare the cost of unused seats.",
    ]
    return Insights(
        summary=summary_text(
            f"The business pays {usd(cost)} a month for software licenses "
            f"and uses {pct(license_utilization(snapshot))} of its seats.",
            f"Unused seats cost {usd(waste)} a month, and {plural_of(len(renewing), 'license')} "
            f"{verb(len(renewing), 'renews', 'renew')} in the next {RENEWAL_WINDOW_DAYS} days.",
            risks=risks,
        ),
        key_findings=tuple(findings),
        risks=risks,
        opportunities=tuple(
            text
            for text in (
                f"Reclaiming every unused seat would save {usd(waste * 12)} a year." if waste else "",
                f"Upcoming renewals ({_products(renewing)}) are the moment to negotiate price and seat counts."
                if renewing
                else "",
            )
            if text
        ),
        recommendations=tuple(recommendations),
        next_actions=tuple(text for text in actions if text),
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
