"""The six dashboards' reports, one module each, assembled here: each page's key metrics (how they are
measured and which way is good news), its charts and its default insights; and the other figures a
dashboard shows, by which a metric the page sends is matched to a live figure for its trend.
"""

from __future__ import annotations

from collections.abc import Callable

from data_generator import Item, Snapshot
from kpis import (
    active_contracts,
    at_risk_clients,
    average_margin,
    department_spend,
    license_utilization,
    open_leads,
    pipeline_value,
    technician_utilization,
    total_mrr,
    vendor_spend,
    weighted_pipeline_value,
)
from models import PageType
from prism.reporting.model import OVERLOADED, RENEWAL_WINDOW_DAYS, MetricDef, Page
from prism.reporting.pages.clients import (
    annual_gross_profit,
    client_charts,
    client_insights,
    top_fifth_revenue_share,
)
from prism.reporting.pages.licenses import (
    license_charts,
    license_insights,
    license_renewals,
    monthly_license_cost,
    over_allocated_licenses,
    unused_seats,
    wasted_license_spend,
)
from prism.reporting.pages.pipeline import (
    average_deal_size,
    closing_soon,
    pipeline_charts,
    pipeline_insights,
    win_rate,
)
from prism.reporting.pages.resources import (
    billable_hours,
    billable_revenue,
    resource_charts,
    resource_insights,
)
from prism.reporting.pages.spend import (
    annual_budget,
    month_variance,
    over_monthly_budget,
    spend_charts,
    spend_insights,
    spend_pace,
    spent_year_to_date,
)
from prism.reporting.pages.vendors import (
    average_sla_compliance,
    expiring_contracts,
    top_vendor_share,
    vendor_charts,
    vendor_insights,
)
from prism.reporting.text import mean, share_pct

PAGES: dict[PageType, Page] = {
    "client-profitability": Page(
        "Client Profitability",
        "Client Profitability Report",
        (
            MetricDef("Monthly recurring revenue", "money", 1, total_mrr),
            MetricDef("Average margin", "percent", 1, average_margin),
            MetricDef("Annual gross profit", "money", 1, annual_gross_profit),
            MetricDef("Clients at risk", "count", -1, lambda s: len(at_risk_clients(s))),
            MetricDef(
                "Clients with high churn risk",
                "count",
                -1,
                lambda s: sum(c["churnRisk"] == "High" for c in s.items["clients"]),
            ),
            MetricDef("Revenue share of the top 20% of clients", "percent", -1, top_fifth_revenue_share),
        ),
        client_charts,
        client_insights,
    ),
    "software-license": Page(
        "Software Licenses",
        "Software License Report",
        (
            MetricDef("Monthly license cost", "money", -1, monthly_license_cost),
            MetricDef("Seat utilisation", "percent", 1, license_utilization),
            MetricDef("Unused seats", "count", -1, unused_seats),
            MetricDef("Monthly cost of unused seats", "money", -1, wasted_license_spend),
            MetricDef("Over-allocated licenses", "count", -1, lambda s: len(over_allocated_licenses(s))),
            MetricDef(
                f"Renewals in the next {RENEWAL_WINDOW_DAYS} days", "count", 0, lambda s: len(license_renewals(s))
            ),
        ),
        license_charts,
        license_insights,
    ),
    "sales-pipeline": Page(
        "Sales Pipeline",
        "Sales Pipeline Report",
        (
            MetricDef("Open pipeline value", "money", 1, pipeline_value),
            MetricDef("Weighted pipeline value", "money", 1, weighted_pipeline_value),
            MetricDef("Open opportunities", "count", 1, lambda s: len(open_leads(s))),
            MetricDef("Win rate", "percent", 1, win_rate),
            MetricDef("Average open deal size", "money", 1, average_deal_size),
            MetricDef(
                "Expected to close in 30 days", "money", 1, lambda s: sum(lead["value"] for lead in closing_soon(s))
            ),
        ),
        pipeline_charts,
        pipeline_insights,
    ),
    "resource-allocation": Page(
        "Resource Allocation",
        "Resource Allocation Report",
        (
            MetricDef("Team utilisation", "percent", 1, technician_utilization),
            MetricDef("Billable hours this month", "hours", 1, billable_hours),
            MetricDef("Billable revenue this month", "money", 1, billable_revenue),
            MetricDef(
                "Average efficiency", "percent", 1, lambda s: mean(t["efficiency"] for t in s.items["technicians"])
            ),
            MetricDef(
                f"Technicians above {OVERLOADED:.0f}%",
                "count",
                -1,
                lambda s: sum(t["utilization"] > OVERLOADED for t in s.items["technicians"]),
            ),
            MetricDef(
                "Available technicians",
                "count",
                0,
                lambda s: sum(t["status"] == "Available" for t in s.items["technicians"]),
            ),
        ),
        resource_charts,
        resource_insights,
    ),
    "departmental-spend": Page(
        "Departmental Spend",
        "Departmental Spend Report",
        (
            MetricDef("Annual budget", "money", 0, annual_budget),
            MetricDef("Spent this year to date", "money", 0, spent_year_to_date),
            MetricDef("Spend pace against the calendar", "percent", -1, spend_pace),
            MetricDef("Spend this month", "money", -1, department_spend),
            MetricDef("Monthly variance (negative = over)", "money", 1, month_variance),
            MetricDef("Departments over monthly budget", "count", -1, lambda s: len(over_monthly_budget(s))),
        ),
        spend_charts,
        spend_insights,
    ),
    "vendor-management": Page(
        "Vendor Management",
        "Vendor Management Report",
        (
            MetricDef("Vendor spend, last 12 months", "money", 0, vendor_spend),
            MetricDef("Spend share of the top 3 vendors", "percent", -1, top_vendor_share),
            MetricDef("Active contracts", "count", 0, lambda s: len(active_contracts(s))),
            MetricDef(
                f"Contracts expiring in {RENEWAL_WINDOW_DAYS} days", "count", -1, lambda s: len(expiring_contracts(s))
            ),
            MetricDef(
                "Average vendor performance",
                "score",
                1,
                lambda s: mean(v["performanceScore"] for v in s.items["vendors"]),
            ),
            MetricDef("Average SLA compliance", "percent", 1, average_sla_compliance),
        ),
        vendor_charts,
        vendor_insights,
    ),
}


def _count(kind: str, keep: Callable[[Item], bool] = lambda item: True) -> Callable[[Snapshot], float]:
    return lambda s: sum(1 for item in s.items[kind] if keep(item))


def _sum(kind: str, field: str, keep: Callable[[Item], bool] = lambda item: True) -> Callable[[Snapshot], float]:
    return lambda s: sum(item[field] for item in s.items[kind] if keep(item))


def _average(kind: str, field: str) -> Callable[[Snapshot], float]:
    return lambda s: mean(item[field] for item in s.items[kind])


# Figures the dashboards show besides the report's own key metrics: a metric the page sends is matched to
# one of these (or of the page's metrics) to give it its trend over the last hour.
EXTRA_FIGURES: dict[PageType, tuple[MetricDef, ...]] = {
    "client-profitability": (
        MetricDef("Total clients", "count", 1, _count("clients")),
        MetricDef("Annual revenue", "money", 1, _sum("clients", "annualRevenue")),
        MetricDef("Annual costs", "money", -1, _sum("clients", "annualCosts")),
        MetricDef("Monthly costs", "money", -1, _sum("clients", "monthlyCosts")),
        MetricDef(
            "Monthly profit",
            "money",
            1,
            lambda s: sum(c["monthlyRevenue"] - c["monthlyCosts"] for c in s.items["clients"]),
        ),
        MetricDef("Active clients", "count", 1, _count("clients", lambda c: c["status"] == "Active")),
        MetricDef("Medium churn risk", "count", -1, _count("clients", lambda c: c["churnRisk"] == "Medium")),
    ),
    "software-license": (
        MetricDef("Total licenses seats", "count", 0, _sum("licenses", "totalLicenses")),
        MetricDef("Used licenses seats", "count", 1, _sum("licenses", "usedLicenses")),
        MetricDef("Annual license cost", "money", -1, _sum("licenses", "annualCost")),
        MetricDef("Potential savings", "money", -1, _sum("licenses", "potentialSavings")),
        MetricDef("Average utilization rate", "percent", 1, _average("licenses", "utilizationRate")),
        MetricDef("License subscriptions", "count", 0, _count("licenses")),
        MetricDef(
            "Compliance issues at risk",
            "count",
            -1,
            _count("licenses", lambda lic: lic["complianceStatus"] != "Compliant"),
        ),
    ),
    "sales-pipeline": (
        MetricDef("Total pipeline value", "money", 1, _sum("leads", "value")),
        MetricDef("Total leads", "count", 1, _count("leads")),
        MetricDef("Won deals value", "money", 1, _sum("leads", "value", lambda lead: lead["stage"] == "Closed Won")),
        MetricDef("Average probability", "percent", 1, _average("leads", "probability")),
        MetricDef("Average deal size", "money", 1, _average("leads", "value")),
    ),
    "resource-allocation": (
        MetricDef("Total technicians", "count", 0, _count("technicians")),
        MetricDef("Average utilization", "percent", 1, _average("technicians", "utilization")),
        MetricDef("Total hours", "hours", 0, _sum("technicians", "totalHours")),
        MetricDef("Active projects", "count", 0, _sum("technicians", "activeProjects")),
        MetricDef("Average hourly rate", "money", 0, _average("technicians", "hourlyRate")),
        MetricDef("Busy technicians", "count", 0, _count("technicians", lambda t: t["status"] == "Busy")),
    ),
    "departmental-spend": (
        MetricDef("Total remaining budget", "money", 1, _sum("departments", "remaining")),
        MetricDef("Monthly budget", "money", 0, _sum("departments", "monthlyBudget")),
        MetricDef("Total departments", "count", 0, _count("departments")),
        MetricDef("Employees", "count", 0, _sum("departments", "employeeCount")),
        MetricDef(
            "Budget utilization used",
            "percent",
            -1,
            lambda s: share_pct(_sum("departments", "spent")(s), _sum("departments", "budget")(s)),
        ),
    ),
    "vendor-management": (
        MetricDef("Total vendors", "count", 0, _count("vendors")),
        MetricDef("Total contract value", "money", 0, _sum("contracts", "value")),
        MetricDef("Annual vendor value", "money", 0, _sum("vendors", "annualValue")),
        MetricDef("Total contracts", "count", 0, _count("contracts")),
        MetricDef(
            "Vendors expiring soon",
            "count",
            -1,
            _count("vendors", lambda v: v["status"] in ("expiring-soon", "expired")),
        ),
    ),
}
