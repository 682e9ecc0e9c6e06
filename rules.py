"""Business rules the dashboard computes with: thresholds and the words that follow from them.

Defined once here and imported by the simulation, the KPIs, the reports and the models'
descriptions, so the service's `status` and `churnRisk` always agree with what the dashboard
derives from `marginPercentage` itself.
"""

from __future__ import annotations

from typing import Literal, get_args

EntityKind = Literal["clients", "licenses", "leads", "technicians", "departments", "vendors", "contracts"]
# The seven lists, in the order the API and the tables present them.
ENTITY_KINDS: tuple[EntityKind, ...] = get_args(EntityKind)
# One item of each kind, in the API's words ("no technician with id ...", `getTechnician`, TECHNICIAN_COUNT).
SINGULAR: dict[EntityKind, str] = {
    "clients": "client",
    "licenses": "license",
    "leads": "lead",
    "technicians": "technician",
    "departments": "department",
    "vendors": "vendor",
    "contracts": "contract",
}

ClientStatus = Literal["Active", "At Risk"]
ChurnRisk = Literal["Low", "Medium", "High"]
LeadStage = Literal["Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]
ScenarioName = Literal["churn-wave", "renewal-season", "vendor-outage", "budget-freeze"]

# A client is At Risk exactly when its margin is under this percentage.
AT_RISK_MARGIN = 20.0
# Churn risk is High under the first margin, Medium under the second, Low from it.
HIGH_CHURN_MARGIN = 15.0
MEDIUM_CHURN_MARGIN = 25.0


def client_status(margin_percentage: float) -> ClientStatus:
    """At Risk under the at-risk margin, Active otherwise."""
    return "At Risk" if margin_percentage < AT_RISK_MARGIN else "Active"


def churn_risk(margin_percentage: float) -> ChurnRisk:
    """High, Medium or Low by the dashboard's margin bands."""
    if margin_percentage < HIGH_CHURN_MARGIN:
        return "High"
    return "Medium" if margin_percentage < MEDIUM_CHURN_MARGIN else "Low"


# The pipeline: the open stages in order, the closed ones, and the win probability (%) each stage allows.
OPEN_STAGES: tuple[LeadStage, ...] = ("Prospecting", "Qualification", "Proposal", "Negotiation")
CLOSED_STAGES: frozenset[LeadStage] = frozenset({"Closed Won", "Closed Lost"})
STAGE_PROBABILITY: dict[LeadStage, tuple[int, int]] = {
    "Prospecting": (5, 15),
    "Qualification": (20, 35),
    "Proposal": (40, 60),
    "Negotiation": (65, 85),
    "Closed Won": (100, 100),
    "Closed Lost": (0, 0),
}

# A license with this share of its seats in use (or more) is At Risk of running out of seats.
SEAT_PRESSURE = 90.0
# A vendor scoring below this, with its agreement not near its end, is put under review.
UNDER_REVIEW_BELOW = 65.0
# Within this many days of its end an agreement or a contract is expiring soon.
EXPIRING_WITHIN_DAYS = 90

# The dashboard's headline figures by their names in the API, in the order every answer lists them, and what each
# measures (the history's schema describes its fields with these words; kpis.py computes them).
KPI_DESCRIPTIONS: dict[str, str] = {
    "totalMrr": "Sum of the clients' monthly recurring revenue, USD.",
    "averageMargin": "Mean of the clients' margin percentages.",
    "atRiskClients": "Clients whose status is At Risk.",
    "licenseUtilization": "Seats used over seats purchased, %.",
    "pipelineValue": "Value of the open leads, USD.",
    "weightedPipelineValue": "Open leads' value weighted by probability, USD.",
    "technicianUtilization": "Billable over total hours, %.",
    "departmentSpend": "All departments' spend this month, USD.",
    "vendorSpend": "Spend with all vendors over 12 months, USD.",
    "activeContracts": "Contracts not expired.",
}
KPI_NAMES: tuple[str, ...] = tuple(KPI_DESCRIPTIONS)
# The figures that count items: whole numbers in every answer (the others are amounts and percentages).
KPI_COUNTS: frozenset[str] = frozenset({"atRiskClients", "activeContracts"})

SCENARIOS: dict[ScenarioName, str] = {
    "churn-wave": "Client margins are squeezed; churn risk and At Risk statuses rise.",
    "renewal-season": "Contract ends and license renewals are pulled forward; more of them expire soon.",
    "vendor-outage": "One vendor's performance and its contracts' SLA figures and compliance fall.",
    "budget-freeze": "Department spending slows; monthly variance turns positive.",
}
