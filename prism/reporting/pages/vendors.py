"""Vendor management: spend and its concentration, contracts expiring, performance and SLA compliance."""

from __future__ import annotations

from collections.abc import Sequence

from data_generator import Item, Snapshot
from kpis import active_contracts, vendor_spend
from prism.reporting.model import (
    AMBER,
    BLUE,
    GREEN,
    LOW_PERFORMANCE,
    MAX_CHART_ROWS,
    POOR_PERFORMANCE,
    RED,
    RENEWAL_WINDOW_DAYS,
    SLA_FLOOR,
    TEAL,
    ChartSpec,
    Insights,
    Series,
)
from prism.reporting.text import (
    by_month,
    join_names,
    level_above,
    mean,
    month_label,
    next_months,
    pct,
    plural_of,
    ranked_risks,
    share_pct,
    summary_text,
    today_of,
    usd,
    verb,
)


def top_vendor_share(snapshot: Snapshot, count: int = 3) -> float:
    """Share of vendor spend going to the largest `count` vendors, %."""
    spends = sorted((vendor["totalSpend"] for vendor in snapshot.items["vendors"]), reverse=True)
    return share_pct(sum(spends[:count]), sum(spends))


def expiring_contracts(snapshot: Snapshot) -> list[Item]:
    """Contracts ending within 90 days, soonest first."""
    expiring = [contract for contract in snapshot.items["contracts"] if contract["status"] == "Expiring Soon"]
    return sorted(expiring, key=lambda contract: contract["endDate"])


def average_sla_compliance(snapshot: Snapshot) -> float:
    """Mean SLA compliance of the contracts not expired, %."""
    return mean(contract["slaCompliance"] for contract in active_contracts(snapshot))


def low_performers(snapshot: Snapshot) -> list[Item]:
    """Vendors scoring below the performance bar, worst first."""
    low = [vendor for vendor in snapshot.items["vendors"] if vendor["performanceScore"] < LOW_PERFORMANCE]
    return sorted(low, key=lambda vendor: vendor["performanceScore"])


def _vendors(vendors: Sequence[Item]) -> str:
    return join_names([vendor["name"] for vendor in vendors])


def _contract_names(contracts: Sequence[Item]) -> str:
    return join_names([f"{contract['vendorName']} ({contract['type']})" for contract in contracts])


def vendor_insights(snapshot: Snapshot) -> Insights:
    vendors = snapshot.items["vendors"]
    spend, share = vendor_spend(snapshot), top_vendor_share(snapshot)
    by_spend = sorted(vendors, key=lambda vendor: vendor["totalSpend"], reverse=True)
    expiring = expiring_contracts(snapshot)
    manual = [contract for contract in expiring if not contract["autoRenew"]]
    weak = low_performers(snapshot)
    poor = [vendor for vendor in weak if vendor["performanceScore"] < POOR_PERFORMANCE]
    live = active_contracts(snapshot)
    by_sla = sorted(live, key=lambda contract: contract["slaCompliance"])
    missed_sla = [contract for contract in by_sla if contract["slaCompliance"] < SLA_FLOOR]
    lapsed = [vendor for vendor in vendors if vendor["status"] == "expired"]
    findings = [
        f"{plural_of(len(vendors), 'vendor')} were paid {usd(spend)} in the last twelve months; the top three "
        f"({_vendors(by_spend[:3])}) took {pct(share)}.",
        f"{plural_of(len(expiring), 'contract')} worth {usd(sum(c['value'] for c in expiring))} "
        f"{verb(len(expiring), 'expires', 'expire')} within {RENEWAL_WINDOW_DAYS} days; "
        f"{len(manual)} of them {verb(len(manual), 'does', 'do')} not renew automatically"
        + (f" ({_contract_names(manual)})." if manual else "."),
        (
            f"{plural_of(len(weak), 'vendor')} {verb(len(weak), 'scores', 'score')} below {LOW_PERFORMANCE:.0f}: "
            + ", ".join(f"{vendor['name']} ({vendor['performanceScore']:.1f})" for vendor in weak[:4])
            + "."
            if weak
            else f"Every vendor scores {LOW_PERFORMANCE:.0f} or more on performance."
        ),
    ]
    if by_sla:
        findings.append(
            f"Average SLA compliance is {pct(average_sla_compliance(snapshot))}; the lowest is "
            f"{by_sla[0]['vendorName']} ({by_sla[0]['type']}) at {pct(by_sla[0]['slaCompliance'])}."
        )
    if lapsed:
        findings.append(
            f"{plural_of(len(lapsed), 'vendor agreement')} {verb(len(lapsed), 'has', 'have')} expired: "
            f"{_vendors(lapsed)}."
        )
    risks = ranked_risks(
        (
            level_above(share, 60, 45, 35),
            f"The top three vendors take {pct(share)} of vendor spend ({_vendors(by_spend[:3])}).",
            "Qualify an alternative supplier for the largest categories and use it in the next negotiation.",
        ),
        (
            level_above(len(manual), 3, 1, 1),
            f"{plural_of(len(manual), 'contract')} {verb(len(manual), 'expires', 'expire')} "
            f"within {RENEWAL_WINDOW_DAYS} days "
            f"without auto-renewal ({_contract_names(manual)}).",
            "Decide renew, renegotiate or replace for each, leaving time for the notice periods.",
        ),
        (
            "High" if poor else "Medium" if weak else None,
            f"{plural_of(len(weak), 'vendor')} {verb(len(weak), 'performs', 'perform')} below {LOW_PERFORMANCE:.0f} "
            f"({_vendors(weak)}).",
            f"Put {_vendors(weak)} on an improvement plan with monthly reviews and service credits.",
        ),
        (
            level_above(len(missed_sla), 3, 1, 1),
            f"{plural_of(len(missed_sla), 'contract')} {verb(len(missed_sla), 'misses', 'miss')} {SLA_FLOOR:.0f}% SLA "
            f"compliance ({_contract_names(missed_sla)}).",
            "Claim the service credits due and ask for a remediation plan.",
        ),
        (
            "Medium" if lapsed else None,
            f"{plural_of(len(lapsed), 'vendor')} {verb(len(lapsed), 'is', 'are')} "
            "supplying without a current agreement "
            f"({_vendors(lapsed)}).",
            f"Renew or end the agreements with {_vendors(lapsed)}.",
        ),
    )
    recommendations = [
        f"Start renewal decisions for {_contract_names(manual)} now." if manual else "",
        f"Hold performance reviews with {_vendors(weak)}." if weak else "",
        f"Benchmark the prices of {_vendors(by_spend[:2])}, the largest suppliers." if by_spend else "",
        "Keep a single contract calendar with notice dates and owners.",
    ]
    actions = [
        f"Before {manual[0]['endDate']}: decide on {_contract_names(manual[:1])}." if manual else "",
        f"Within 30 days: agree improvement plans with {_vendors(weak)}." if weak else "",
        f"This month: claim SLA credits from {_contract_names(missed_sla)}." if missed_sla else "",
        "Next month: re-run this report to follow spend concentration and performance.",
    ]
    return Insights(
        summary=summary_text(
            f"{plural_of(len(vendors), 'vendor')} were paid {usd(spend)} over twelve months, "
            f"{pct(share)} of it to the top three.",
            f"{plural_of(len(live), 'contract')} {verb(len(live))} active, {len(expiring)} expiring within "
            f"{RENEWAL_WINDOW_DAYS} days; {plural_of(len(weak), 'vendor')} {verb(len(weak), 'scores', 'score')} below "
            f"{LOW_PERFORMANCE:.0f}.",
            risks=risks,
        ),
        key_findings=tuple(findings),
        risks=risks,
        opportunities=tuple(
            text
            for text in (
                f"Expiring contracts worth {usd(sum(c['value'] for c in expiring))} can be renegotiated now."
                if expiring
                else "",
                f"Consolidating spend with strong performers such as "
                f"{_vendors(sorted(vendors, key=lambda v: -v['performanceScore'])[:2])} "
                "can earn volume discounts."
                if vendors
                else "",
            )
            if text
        ),
        recommendations=tuple(text for text in recommendations if text),
        next_actions=tuple(text for text in actions if text),
    )


def vendor_charts(snapshot: Snapshot) -> tuple[ChartSpec, ...]:
    vendors = snapshot.items["vendors"]
    by_spend = sorted(vendors, key=lambda vendor: vendor["totalSpend"], reverse=True)[:10]
    by_score = sorted(vendors, key=lambda vendor: vendor["performanceScore"])[:MAX_CHART_ROWS]
    months = next_months(today_of(snapshot))
    contracts = snapshot.items["contracts"]

    def band(score: float) -> str:
        return RED if score < POOR_PERFORMANCE else AMBER if score < LOW_PERFORMANCE else GREEN

    return (
        ChartSpec(
            "Spend by vendor, last twelve months (ten largest)",
            "barh",
            tuple(vendor["name"] for vendor in by_spend),
            (Series("Spend", tuple(vendor["totalSpend"] for vendor in by_spend), BLUE),),
        ),
        ChartSpec(
            "Vendor performance score, weakest first",
            "barh",
            tuple(vendor["name"] for vendor in by_score),
            (Series("Score", tuple(vendor["performanceScore"] for vendor in by_score)),),
            unit="score",
            bar_colors=tuple(band(vendor["performanceScore"]) for vendor in by_score),
            legend=((f"Below {POOR_PERFORMANCE:.0f}", RED), (f"Below {LOW_PERFORMANCE:.0f}", AMBER), ("Good", GREEN)),
            reference=(LOW_PERFORMANCE, "bar"),
        ),
        ChartSpec(
            "Contract value ending per month, next twelve months",
            "bar",
            tuple(month_label(month) for month in months),
            (
                Series(
                    "Auto-renew",
                    tuple(by_month((c for c in contracts if c["autoRenew"]), "endDate", months, _value)),
                    TEAL,
                ),
                Series(
                    "Needs a decision",
                    tuple(by_month((c for c in contracts if not c["autoRenew"]), "endDate", months, _value)),
                    AMBER,
                ),
            ),
            stacked=True,
        ),
    )


def _value(item: Item) -> float:
    return float(item["value"])
