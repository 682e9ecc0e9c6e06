"""Expected KPIs written from the KPIs' meaning with plain arithmetic: an oracle independent of kpis.py.

Sums run in the order the items come (the API's order), so that a float total is bit for bit the one a
correct implementation finds; each figure is then rounded as the contract says (money to cents, rates to
two decimals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Lists by entity: a snapshot's (keyed by EntityKind) or the API's decoded JSON (keyed by plain text).
Items = Mapping[Any, Sequence[Mapping[str, Any]]]

CLOSED = ("Closed Won", "Closed Lost")
NOT_EXPIRED = ("Active", "Expiring Soon")


def percent_of(part: float, whole: float) -> float:
    """part / whole as a percentage rounded to 2 decimals; 0 when there is no whole."""
    if whole == 0:
        return 0.0
    return round(part / whole * 100, 2)


def expected_kpis(items: Items) -> dict[str, float]:
    """The ten dashboard KPIs of a world given as lists of items (API JSON or a snapshot's items)."""
    clients = items["clients"]
    licenses = items["licenses"]
    leads = items["leads"]
    technicians = items["technicians"]

    mrr = 0.0
    margins = 0.0
    at_risk = 0
    for client in clients:
        mrr += client["monthlyRecurring"]
        margins += client["marginPercentage"]
        if client["status"] == "At Risk":
            at_risk += 1

    used_seats = sum(license["usedLicenses"] for license in licenses)
    bought_seats = sum(license["totalLicenses"] for license in licenses)

    pipeline = 0.0
    weighted = 0.0
    for lead in leads:
        if lead["stage"] in CLOSED:
            continue
        pipeline += lead["value"]
        weighted += lead["value"] * lead["probability"] / 100

    billable = sum(technician["billableHours"] for technician in technicians)
    worked = sum(technician["totalHours"] for technician in technicians)

    department_spend = 0.0
    for department in items["departments"]:
        department_spend += department["actualSpend"]

    vendor_spend = 0.0
    for vendor in items["vendors"]:
        vendor_spend += vendor["totalSpend"]

    active = 0
    for contract in items["contracts"]:
        if contract["status"] in NOT_EXPIRED:
            active += 1

    return {
        "totalMrr": round(mrr, 2),
        "averageMargin": round(margins / len(clients), 2) if clients else 0.0,
        "atRiskClients": at_risk,
        "licenseUtilization": percent_of(used_seats, bought_seats),
        "pipelineValue": round(pipeline, 2),
        "weightedPipelineValue": round(weighted, 2),
        "technicianUtilization": percent_of(billable, worked),
        "departmentSpend": round(department_spend, 2),
        "vendorSpend": round(vendor_spend, 2),
        "activeContracts": active,
    }
