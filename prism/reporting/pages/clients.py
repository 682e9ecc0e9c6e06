"""Client profitability: recurring revenue, margins, clients at risk, concentration and renewals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta

from data_generator import Item, Snapshot
from kpis import at_risk_clients, average_margin, total_mrr
from prism.reporting.model import (
    AMBER,
    BLUE,
    GREEN,
    GREY,
    HEALTHY_MARGIN,
    MAX_CHART_ROWS,
    NAVY,
    RED,
    RENEWAL_WINDOW_DAYS,
    THIN_MARGIN,
    ChartSpec,
    Insights,
    Series,
)
from prism.reporting.text import (
    is_within,
    join_names,
    level_above,
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


def annual_gross_profit(snapshot: Snapshot) -> float:
    """Revenue less cost to serve over all clients, per year."""
    return sum(client["annualRevenue"] - client["annualCosts"] for client in snapshot.items["clients"])


def top_fifth_revenue_share(snapshot: Snapshot) -> float:
    """Share of revenue brought by the largest 20% of clients (at least one), %."""
    revenues = sorted((client["annualRevenue"] for client in snapshot.items["clients"]), reverse=True)
    return share_pct(sum(revenues[: math.ceil(len(revenues) / 5)]), sum(revenues))


def _client_names(clients: Sequence[Item]) -> str:
    return join_names([client["name"] for client in clients])


def client_insights(snapshot: Snapshot) -> Insights:
    clients = snapshot.items["clients"]
    today = today_of(snapshot)
    mrr, margin = total_mrr(snapshot), average_margin(snapshot)
    at_risk = at_risk_clients(snapshot)
    by_margin = sorted(clients, key=lambda client: client["marginPercentage"])
    thin = [client for client in by_margin if client["marginPercentage"] < THIN_MARGIN]
    exposed = [c for c in clients if c["status"] == "At Risk" or c["churnRisk"] == "High"]
    exposed_mrr = sum(client["monthlyRecurring"] for client in exposed)
    by_revenue = sorted(clients, key=lambda client: client["monthlyRecurring"], reverse=True)
    top_count, top_share = math.ceil(len(clients) / 5), top_fifth_revenue_share(snapshot)
    renewing = sorted(
        (c for c in clients if is_within(c["contractEndDate"], today, RENEWAL_WINDOW_DAYS)),
        key=lambda client: client["contractEndDate"],
    )
    upsell = [
        c
        for c in clients
        if c["contractType"] == "Standard" and c["status"] == "Active" and c["marginPercentage"] >= HEALTHY_MARGIN
    ]
    findings = [
        f"Monthly recurring revenue is {usd(mrr)} across {plural_of(len(clients), 'client')}, "
        f"at an average margin of {pct(margin)}.",
        f"{plural_of(len(at_risk), 'client')} {verb(len(at_risk))} At Risk"
        + (
            f" ({_client_names(at_risk)}), with {usd(sum(c['monthlyRecurring'] for c in at_risk))} of monthly revenue."
            if at_risk
            else "."
        ),
    ]
    if by_revenue:
        largest = by_revenue[0]
        findings.append(
            f"The top 20% of clients ({top_count}) bring {pct(top_share)} of revenue; the largest, "
            f"{largest['name']}, pays {usd(largest['monthlyRecurring'])} a month."
        )
        findings.append(
            f"Margins range from {pct(by_margin[0]['marginPercentage'])} ({by_margin[0]['name']}) to "
            f"{pct(by_margin[-1]['marginPercentage'])} ({by_margin[-1]['name']}); "
            f"{plural_of(len(thin), 'client')} {verb(len(thin))} below {THIN_MARGIN:.0f}%."
        )
    if renewing:
        findings.append(
            f"{plural_of(len(renewing), 'contract')} {verb(len(renewing), 'ends', 'end')} "
            f"in the next {RENEWAL_WINDOW_DAYS} days, "
            f"worth {usd(sum(c['monthlyRecurring'] for c in renewing))} a month; the first is {renewing[0]['name']} "
            f"on {renewing[0]['contractEndDate']}."
        )
    risks = ranked_risks(
        (
            level_above(share_pct(exposed_mrr, mrr), 15, 5, 0.01),
            f"{usd(exposed_mrr)} of monthly revenue ({pct(share_pct(exposed_mrr, mrr))}) comes from clients At Risk "
            f"or with high churn risk ({_client_names(exposed)}).",
            f"Hold account reviews with {_client_names(exposed)} and agree a recovery plan with each.",
        ),
        (
            level_above(top_share, 60, 45, 35),
            f"Revenue is concentrated: the top 20% of clients bring {pct(top_share)} of it.",
            "Grow mid-sized accounts through cross-selling so that losing one large client cannot hurt as much.",
        ),
        (
            level_above(share_pct(len(thin), len(clients)), 20, 10, 0.01),
            f"{plural_of(len(thin), 'client')} {verb(len(thin), 'runs', 'run')} below a {THIN_MARGIN:.0f}% margin "
            f"({_client_names(thin)}).",
            f"Reprice or reduce the cost to serve {_client_names(thin)} at their next review.",
        ),
    )
    recommendations = []
    if thin:
        recommendations.append(
            f"Review pricing and cost to serve for {_client_names(thin)}, whose margins are below {THIN_MARGIN:.0f}%."
        )
    if at_risk:
        recommendations.append(
            f"Give each At Risk client ({_client_names(at_risk)}) an executive sponsor and track it weekly."
        )
    if upsell:
        recommendations.append(
            f"Offer a Premium upgrade to {_client_names(upsell)}: "
            f"Standard-tier clients with margins above {HEALTHY_MARGIN:.0f}%."
        )
    if renewing:
        recommendations.append(
            f"Open renewal talks early with {_client_names(renewing)}, and use them to correct pricing."
        )
    recommendations.append(
        "Track margin per client monthly, not only revenue, so that unprofitable growth shows early."
    )
    actions = [
        f"This week: book account reviews with {_client_names(at_risk or thin or by_margin[:1])}." if clients else "",
        f"Within 30 days: prepare a cost-to-serve breakdown for the {min(3, len(by_margin))} lowest-margin clients.",
        f"Before {(today + timedelta(days=30)).isoformat()}: agree renewal terms with {_client_names(renewing)}."
        if renewing
        else "",
        "Next week: re-run this report to confirm that margins are moving the right way.",
    ]
    opportunities = [
        f"{plural_of(len(upsell), 'Standard-tier client')} with healthy margins could move to Premium: "
        f"{_client_names(upsell)}."
        if upsell
        else "",
        f"Renewals in the next {RENEWAL_WINDOW_DAYS} days ({_client_names(renewing)}) are a chance to reset prices."
        if renewing
        else "",
        f"Healthy accounts such as {_client_names(by_margin[::-1][:2])} are candidates for references and case studies."
        if len(by_margin) >= 2
        else "",
    ]
    return Insights(
        summary=summary_text(
            f"{plural_of(len(clients), 'client')} bring {usd(mrr)} of monthly recurring revenue "
            f"at an average margin of {pct(margin)}.",
            f"{plural_of(len(at_risk), 'client')} {verb(len(at_risk))} At Risk and the top 20% of clients bring "
            f"{pct(top_share)} of revenue.",
            risks=risks,
        ),
        key_findings=tuple(findings),
        risks=risks,
        opportunities=tuple(text for text in opportunities if text),
        recommendations=tuple(recommendations),
        next_actions=tuple(text for text in actions if text),
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
