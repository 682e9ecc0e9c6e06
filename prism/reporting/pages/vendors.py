"""Vendor management: spend and its concentration, contracts expiring, performance and SLA compliance."""

from __future__ import annotations

from collections.abc import Sequence

from data_generator import Item, Snapshot
from kpis import active_contracts, vendor_spend
from prism.reporting.colours import AMBER, BLUE, GREEN, RED, TEAL
from prism.reporting.model import MAX_CHART_ROWS, ChartSpec, Series
from prism.reporting.pages.base import MetricDef, Narrative, Page, RiskRules, Sentences, average_of, count_of, total_of
from prism.reporting.tally import by_month, mean, next_months, share_pct, today_of
from prism.reporting.text import join_names, month_label, pct, plural_of, usd, verb
from prism.reporting.thresholds import LOW_PERFORMANCE, POOR_PERFORMANCE, RENEWAL_WINDOW_DAYS, SLA_FLOOR, level_above

# The vendor statuses the dashboard counts as "expiring soon".
ENDING_STATUSES = ("expiring-soon", "expired")


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


def _contract_names(contracts: Sequence[Item]) -> str:
    return join_names([f"{contract['vendorName']} ({contract['type']})" for contract in contracts])


def _value(item: Item) -> float:
    return float(item["value"])


class VendorNarrative(Narrative):
    """What the vendor-management report says about a snapshot: spend and its concentration, contracts
    expiring without auto-renewal, weak performers and missed SLAs, and agreements that have lapsed.
    """

    follow_up = "Next month: re-run this report to follow spend concentration and performance."

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot)
        vendors = self.vendors = snapshot.items["vendors"]
        self.spend, self.share = vendor_spend(snapshot), top_vendor_share(snapshot)
        self.by_spend = sorted(vendors, key=lambda vendor: vendor["totalSpend"], reverse=True)
        self.expiring = expiring_contracts(snapshot)
        self.manual = [contract for contract in self.expiring if not contract["autoRenew"]]
        self.weak = low_performers(snapshot)
        self.live = active_contracts(snapshot)
        self.by_sla = sorted(self.live, key=lambda contract: contract["slaCompliance"])
        self.missed_sla = [contract for contract in self.by_sla if contract["slaCompliance"] < SLA_FLOOR]
        self.lapsed = [vendor for vendor in vendors if vendor["status"] == "expired"]

    def summary(self) -> Sentences:
        return (
            f"{plural_of(len(self.vendors), 'vendor')} were paid {usd(self.spend)} over twelve months, "
            f"{pct(self.share)} of it to the top three.",
            f"{plural_of(len(self.live), 'contract')} {verb(len(self.live))} active, {len(self.expiring)} expiring "
            f"within {RENEWAL_WINDOW_DAYS} days; {plural_of(len(self.weak), 'vendor')} "
            f"{verb(len(self.weak), 'scores', 'score')} below {LOW_PERFORMANCE:.0f}.",
        )

    def key_findings(self) -> Sentences:
        return (
            f"{plural_of(len(self.vendors), 'vendor')} were paid {usd(self.spend)} in the last twelve months; the top "
            f"three ({self.named(self.by_spend[:3])}) took {pct(self.share)}.",
            f"{plural_of(len(self.expiring), 'contract')} worth {usd(sum(c['value'] for c in self.expiring))} "
            f"{verb(len(self.expiring), 'expires', 'expire')} within {RENEWAL_WINDOW_DAYS} days; {len(self.manual)} of "
            f"them {verb(len(self.manual), 'does', 'do')} not renew automatically"
            + (f" ({_contract_names(self.manual)})." if self.manual else "."),
            (
                f"{plural_of(len(self.weak), 'vendor')} {verb(len(self.weak), 'scores', 'score')} below "
                f"{LOW_PERFORMANCE:.0f}: "
                + ", ".join(f"{vendor['name']} ({vendor['performanceScore']:.1f})" for vendor in self.weak[:4])
                + "."
                if self.weak
                else f"Every vendor scores {LOW_PERFORMANCE:.0f} or more on performance."
            ),
            f"Average SLA compliance is {pct(average_sla_compliance(self.snapshot))}; the lowest is "
            f"{self.by_sla[0]['vendorName']} ({self.by_sla[0]['type']}) at {pct(self.by_sla[0]['slaCompliance'])}."
            if self.by_sla
            else "",
            f"{plural_of(len(self.lapsed), 'vendor agreement')} {verb(len(self.lapsed), 'has', 'have')} expired: "
            f"{self.named(self.lapsed)}."
            if self.lapsed
            else "",
        )

    def risks(self) -> RiskRules:
        poor = [vendor for vendor in self.weak if vendor["performanceScore"] < POOR_PERFORMANCE]
        return (
            (
                level_above(self.share, 60, 45, 35),
                f"The top three vendors take {pct(self.share)} of vendor spend ({self.named(self.by_spend[:3])}).",
                "Qualify an alternative supplier for the largest categories and use it in the next negotiation.",
            ),
            (
                level_above(len(self.manual), 3, 1, 1),
                f"{plural_of(len(self.manual), 'contract')} {verb(len(self.manual), 'expires', 'expire')} within "
                f"{RENEWAL_WINDOW_DAYS} days without auto-renewal ({_contract_names(self.manual)}).",
                "Decide renew, renegotiate or replace for each, leaving time for the notice periods.",
            ),
            (
                "High" if poor else "Medium" if self.weak else None,
                f"{plural_of(len(self.weak), 'vendor')} {verb(len(self.weak), 'performs', 'perform')} below "
                f"{LOW_PERFORMANCE:.0f} ({self.named(self.weak)}).",
                f"Put {self.named(self.weak)} on an improvement plan with monthly reviews and service credits.",
            ),
            (
                level_above(len(self.missed_sla), 3, 1, 1),
                f"{plural_of(len(self.missed_sla), 'contract')} {verb(len(self.missed_sla), 'misses', 'miss')} "
                f"{SLA_FLOOR:.0f}% SLA compliance ({_contract_names(self.missed_sla)}).",
                "Claim the service credits due and ask for a remediation plan.",
            ),
            (
                "Medium" if self.lapsed else None,
                f"{plural_of(len(self.lapsed), 'vendor')} {verb(len(self.lapsed), 'is', 'are')} supplying without a "
                f"current agreement ({self.named(self.lapsed)}).",
                f"Renew or end the agreements with {self.named(self.lapsed)}.",
            ),
        )

    def opportunities(self) -> Sentences:
        strongest = sorted(self.vendors, key=lambda v: -v["performanceScore"])[:2]
        return (
            f"Expiring contracts worth {usd(sum(c['value'] for c in self.expiring))} can be renegotiated now."
            if self.expiring
            else "",
            f"Consolidating spend with strong performers such as {self.named(strongest)} can earn volume discounts."
            if strongest
            else "",
        )

    def recommendations(self) -> Sentences:
        return (
            f"Start renewal decisions for {_contract_names(self.manual)} now." if self.manual else "",
            f"Hold performance reviews with {self.named(self.weak)}." if self.weak else "",
            f"Benchmark the prices of {self.named(self.by_spend[:2])}, the largest suppliers." if self.by_spend else "",
            "Keep a single contract calendar with notice dates and owners.",
        )

    def next_actions(self) -> Sentences:
        first = self.manual[:1]  # the contract to decide on soonest
        return (
            f"Before {first[0]['endDate']}: decide on {_contract_names(first)}." if first else "",
            f"Within 30 days: agree improvement plans with {self.named(self.weak)}." if self.weak else "",
            f"This month: claim SLA credits from {_contract_names(self.missed_sla)}." if self.missed_sla else "",
        )


def vendor_charts(snapshot: Snapshot) -> tuple[ChartSpec, ...]:
    vendors = snapshot.items["vendors"]
    by_spend = sorted(vendors, key=lambda vendor: vendor["totalSpend"], reverse=True)[:10]
    by_score = sorted(vendors, key=lambda vendor: vendor["performanceScore"])[:MAX_CHART_ROWS]
    spends = tuple(vendor["totalSpend"] for vendor in by_spend)
    scores = tuple(vendor["performanceScore"] for vendor in by_score)
    months = next_months(today_of(snapshot))
    contracts = snapshot.items["contracts"]

    def band(score: float) -> str:
        return RED if score < POOR_PERFORMANCE else AMBER if score < LOW_PERFORMANCE else GREEN

    return (
        ChartSpec(
            "Spend by vendor, last twelve months (ten largest)",
            "barh",
            tuple(vendor["name"] for vendor in by_spend),
            (Series("Spend", spends, BLUE),),
        ),
        ChartSpec(
            "Vendor performance score, weakest first",
            "barh",
            tuple(vendor["name"] for vendor in by_score),
            (Series("Score", scores),),
            unit="score",
            bar_colors=tuple(band(score) for score in scores),
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


PAGE = Page(
    metrics=(
        MetricDef("Vendor spend, last 12 months", "money", 0, vendor_spend),
        MetricDef("Spend share of the top 3 vendors", "percent", -1, top_vendor_share),
        MetricDef("Active contracts", "count", 0, lambda s: len(active_contracts(s))),
        MetricDef(
            f"Contracts expiring in {RENEWAL_WINDOW_DAYS} days", "count", -1, lambda s: len(expiring_contracts(s))
        ),
        MetricDef("Average vendor performance", "score", 1, average_of("vendors", "performanceScore")),
        MetricDef("Average SLA compliance", "percent", 1, average_sla_compliance),
    ),
    other_figures=(
        MetricDef("Total vendors", "count", 0, count_of("vendors")),
        MetricDef("Total contract value", "money", 0, total_of("contracts", "value")),
        MetricDef("Annual vendor value", "money", 0, total_of("vendors", "annualValue")),
        MetricDef("Total contracts", "count", 0, count_of("contracts")),
        MetricDef("Vendors expiring soon", "count", -1, count_of("vendors", lambda v: v["status"] in ENDING_STATUSES)),
    ),
    dashboard="Vendor Management",
    title="Vendor Management Report",
    charts=vendor_charts,
    insights=VendorNarrative.write,
)
