"""Client profitability: recurring revenue, margins, clients at risk, concentration and renewals."""

from __future__ import annotations

import math
from datetime import timedelta

from data_generator import Snapshot
from kpis import at_risk_clients, average_margin, total_mrr
from prism.reporting.colours import AMBER, BLUE, GREEN, GREY, NAVY, RED
from prism.reporting.model import MAX_CHART_ROWS, ChartSpec, Series
from prism.reporting.pages.base import MetricDef, Narrative, Page, RiskRules, Sentences, count_of, total_of
from prism.reporting.tally import is_within, share_pct, totals_by
from prism.reporting.text import pct, plural_of, usd, verb
from prism.reporting.thresholds import HEALTHY_MARGIN, RENEWAL_WINDOW_DAYS, THIN_MARGIN, level_above


def annual_gross_profit(snapshot: Snapshot) -> float:
    """Revenue less cost to serve over all clients, per year."""
    return float(sum(client["annualRevenue"] - client["annualCosts"] for client in snapshot.items["clients"]))


def top_fifth_revenue_share(snapshot: Snapshot) -> float:
    """Share of revenue brought by the largest 20% of clients (at least one), %."""
    revenues = sorted((client["annualRevenue"] for client in snapshot.items["clients"]), reverse=True)
    return share_pct(sum(revenues[: math.ceil(len(revenues) / 5)]), sum(revenues))


class ClientNarrative(Narrative):
    """What the client-profitability report says about a snapshot: revenue and margins, the clients at risk
    or on thin margins, how much of the revenue the largest clients bring, renewals and upsell candidates.
    """

    follow_up = "Next week: re-run this report to confirm that margins are moving the right way."

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot)
        clients = self.clients = snapshot.items["clients"]
        self.mrr, self.margin = total_mrr(snapshot), average_margin(snapshot)
        self.by_margin = sorted(clients, key=lambda client: client["marginPercentage"])
        self.at_risk = at_risk_clients(snapshot)
        self.thin = [client for client in self.by_margin if client["marginPercentage"] < THIN_MARGIN]
        self.exposed = [c for c in clients if c["status"] == "At Risk" or c["churnRisk"] == "High"]
        self.by_revenue = sorted(clients, key=lambda client: client["monthlyRecurring"], reverse=True)
        self.top_share = top_fifth_revenue_share(snapshot)
        self.renewing = sorted(
            (c for c in clients if is_within(c["contractEndDate"], self.today, RENEWAL_WINDOW_DAYS)),
            key=lambda client: client["contractEndDate"],
        )
        self.upsell = [
            c
            for c in clients
            if c["contractType"] == "Standard" and c["status"] == "Active" and c["marginPercentage"] >= HEALTHY_MARGIN
        ]

    def summary(self) -> Sentences:
        return (
            f"{plural_of(len(self.clients), 'client')} bring {usd(self.mrr)} of monthly recurring revenue at an "
            f"average margin of {pct(self.margin)}.",
            f"{plural_of(len(self.at_risk), 'client')} {verb(len(self.at_risk))} At Risk and the top 20% of clients "
            f"bring {pct(self.top_share)} of revenue.",
        )

    def key_findings(self) -> Sentences:
        findings = [
            f"Monthly recurring revenue is {usd(self.mrr)} across {plural_of(len(self.clients), 'client')}, at an "
            f"average margin of {pct(self.margin)}.",
            f"{plural_of(len(self.at_risk), 'client')} {verb(len(self.at_risk))} At Risk"
            + (
                f" ({self.named(self.at_risk)}), with {usd(sum(c['monthlyRecurring'] for c in self.at_risk))} of "
                "monthly revenue."
                if self.at_risk
                else "."
            ),
        ]
        if self.by_revenue:
            largest = self.by_revenue[0]
            findings.append(
                f"The top 20% of clients ({math.ceil(len(self.clients) / 5)}) bring {pct(self.top_share)} of revenue; "
                f"the largest, {largest['name']}, pays {usd(largest['monthlyRecurring'])} a month."
            )
            findings.append(
                f"Margins range from {pct(self.by_margin[0]['marginPercentage'])} ({self.by_margin[0]['name']}) to "
                f"{pct(self.by_margin[-1]['marginPercentage'])} ({self.by_margin[-1]['name']}); "
                f"{plural_of(len(self.thin), 'client')} {verb(len(self.thin))} below {THIN_MARGIN:.0f}%."
            )
        if self.renewing:
            findings.append(
                f"{plural_of(len(self.renewing), 'contract')} {verb(len(self.renewing), 'ends', 'end')} in the next "
                f"{RENEWAL_WINDOW_DAYS} days, worth {usd(sum(c['monthlyRecurring'] for c in self.renewing))} a month; "
                f"the first is {self.renewing[0]['name']} on {self.renewing[0]['contractEndDate']}."
            )
        return findings

    def risks(self) -> RiskRules:
        exposed_mrr = sum(client["monthlyRecurring"] for client in self.exposed)
        return (
            (
                level_above(share_pct(exposed_mrr, self.mrr), 15, 5, 0.01),
                f"{usd(exposed_mrr)} of monthly revenue ({pct(share_pct(exposed_mrr, self.mrr))}) comes from clients "
                f"At Risk or with high churn risk ({self.named(self.exposed)}).",
                f"Hold account reviews with {self.named(self.exposed)} and agree a recovery plan with each.",
            ),
            (
                level_above(self.top_share, 60, 45, 35),
                f"Revenue is concentrated: the top 20% of clients bring {pct(self.top_share)} of it.",
                "Grow mid-sized accounts through cross-selling so that losing one large client cannot hurt as much.",
            ),
            (
                level_above(share_pct(len(self.thin), len(self.clients)), 20, 10, 0.01),
                f"{plural_of(len(self.thin), 'client')} {verb(len(self.thin), 'runs', 'run')} below a "
                f"{THIN_MARGIN:.0f}% margin ({self.named(self.thin)}).",
                f"Reprice or reduce the cost to serve {self.named(self.thin)} at their next review.",
            ),
        )

    def opportunities(self) -> Sentences:
        return (
            f"{plural_of(len(self.upsell), 'Standard-tier client')} with healthy margins could move to Premium: "
            f"{self.named(self.upsell)}."
            if self.upsell
            else "",
            f"Renewals in the next {RENEWAL_WINDOW_DAYS} days ({self.named(self.renewing)}) are a chance to reset "
            "prices."
            if self.renewing
            else "",
            f"Healthy accounts such as {self.named(self.by_margin[::-1][:2])} are candidates for references and case "
            "studies."
            if len(self.by_margin) >= 2
            else "",
        )

    def recommendations(self) -> Sentences:
        return (
            f"Review pricing and cost to serve for {self.named(self.thin)}, whose margins are below {THIN_MARGIN:.0f}%."
            if self.thin
            else "",
            f"Give each At Risk client ({self.named(self.at_risk)}) an executive sponsor and track it weekly."
            if self.at_risk
            else "",
            f"Offer a Premium upgrade to {self.named(self.upsell)}: Standard-tier clients with margins above "
            f"{HEALTHY_MARGIN:.0f}%."
            if self.upsell
            else "",
            f"Open renewal talks early with {self.named(self.renewing)}, and use them to correct pricing."
            if self.renewing
            else "",
            "Track margin per client monthly, not only revenue, so that unprofitable growth shows early.",
        )

    def next_actions(self) -> Sentences:
        return (
            f"This week: book account reviews with {self.named(self.at_risk or self.thin or self.by_margin[:1])}."
            if self.clients
            else "",
            f"Within 30 days: prepare a cost-to-serve breakdown for the {min(3, len(self.by_margin))} lowest-margin "
            "clients.",
            f"Before {(self.today + timedelta(days=30)).isoformat()}: agree renewal terms with "
            f"{self.named(self.renewing)}."
            if self.renewing
            else "",
        )


def client_charts(snapshot: Snapshot) -> tuple[ChartSpec, ...]:
    clients = snapshot.items["clients"]
    by_margin = sorted(clients, key=lambda client: client["marginPercentage"])[:MAX_CHART_ROWS]
    risk_colors = {"High": RED, "Medium": AMBER, "Low": GREEN}
    largest = sorted(clients, key=lambda client: client["monthlyRecurring"], reverse=True)[:10]
    tiers = ("Standard", "Premium", "Enterprise")
    tier_revenue = totals_by(clients, "contractType", lambda client: client["monthlyRecurring"])
    return (
        ChartSpec(
            "Monthly recurring revenue by contract tier",
            "donut",
            tiers,
            (Series("Revenue", tuple(tier_revenue.get(tier, 0.0) for tier in tiers)),),
            bar_colors=(GREY, BLUE, NAVY),
        ),
        ChartSpec(
            "Margin by client, lowest first (colour: churn risk)",
            "barh",
            tuple(client["name"] for client in by_margin),
            (Series("Margin", tuple(client["marginPercentage"] for client in by_margin)),),
            unit="percent",
            bar_colors=tuple(risk_colors[client["churnRisk"]] for client in by_margin),
            legend=(("High churn risk", RED), ("Medium", AMBER), ("Low", GREEN)),
        ),
        ChartSpec(
            "Monthly revenue and cost to serve, ten largest clients",
            "barh",
            tuple(client["name"] for client in largest),
            (
                Series("Revenue", tuple(client["monthlyRevenue"] for client in largest), BLUE),
                Series("Cost to serve", tuple(client["monthlyCosts"] for client in largest), AMBER),
            ),
        ),
    )


PAGE = Page(
    metrics=(
        MetricDef("Monthly recurring revenue", "money", 1, total_mrr),
        MetricDef("Average margin", "percent", 1, average_margin),
        MetricDef("Annual gross profit", "money", 1, annual_gross_profit),
        MetricDef("Clients at risk", "count", -1, lambda s: len(at_risk_clients(s))),
        MetricDef("Clients with high churn risk", "count", -1, count_of("clients", lambda c: c["churnRisk"] == "High")),
        MetricDef("Revenue share of the top 20% of clients", "percent", -1, top_fifth_revenue_share),
    ),
    other_figures=(
        MetricDef("Total clients", "count", 1, count_of("clients")),
        MetricDef("Annual revenue", "money", 1, total_of("clients", "annualRevenue")),
        MetricDef("Annual costs", "money", -1, total_of("clients", "annualCosts")),
        MetricDef("Monthly costs", "money", -1, total_of("clients", "monthlyCosts")),
        MetricDef(
            "Monthly profit",
            "money",
            1,
            lambda s: sum(c["monthlyRevenue"] - c["monthlyCosts"] for c in s.items["clients"]),
        ),
        MetricDef("Active clients", "count", 1, count_of("clients", lambda c: c["status"] == "Active")),
        MetricDef("Medium churn risk", "count", -1, count_of("clients", lambda c: c["churnRisk"] == "Medium")),
    ),
    dashboard="Client Profitability",
    title="Client Profitability Report",
    charts=client_charts,
    insights=ClientNarrative.write,
)
