"""Dashboard KPIs: the headline figures of a snapshot, as used by history, reports and DynamoDB."""

from __future__ import annotations

from collections.abc import Iterable

from data_generator import Item, Snapshot

KPI_NAMES: tuple[str, ...] = (
    "totalMrr",
    "averageMargin",
    "atRiskClients",
    "licenseUtilization",
    "pipelineValue",
    "weightedPipelineValue",
    "technicianUtilization",
    "departmentSpend",
    "vendorSpend",
    "activeContracts",
)

KPI_DESCRIPTIONS: dict[str, str] = {
    "totalMrr": "Sum of the clients' monthly recurring revenue, USD.",
    "averageMargin": "Mean of the clients' margin percentages.",
    "atRiskClients": "Clients whose status is At Risk.",
    "licenseUtilization": "Seats used over seats purchased, all licenses, %.",
    "pipelineValue": "Value of the open leads (not closed), USD.",
    "weightedPipelineValue": "Value of the open leads weighted by their probability, USD.",
    "technicianUtilization": "Billable hours over total hours, all technicians, %.",
    "departmentSpend": "Spend of all departments this month, USD.",
    "vendorSpend": "Spend with all vendors over the last 12 months, USD.",
    "activeContracts": "Contracts not expired (Active or Expiring Soon).",
}

CLOSED_STAGES = frozenset({"Closed Won", "Closed Lost"})


def _total(items: Iterable[Item], field: str) -> float:
    return sum(item[field] for item in items)


def _ratio(part: float, whole: float) -> float:
    return round(part / whole * 100, 2) if whole else 0.0


def compute_kpis(snapshot: Snapshot) -> dict[str, float]:
    """The dashboard's headline figures for one snapshot (memoised on the snapshot)."""
    cached = snapshot.cache.get("kpis")
    if cached is not None:
        return dict(cached)
    clients = snapshot.items["clients"]
    licenses = snapshot.items["licenses"]
    open_leads = [lead for lead in snapshot.items["leads"] if lead["stage"] not in CLOSED_STAGES]
    technicians = snapshot.items["technicians"]
    values: dict[str, float] = {
        "totalMrr": round(_total(clients, "monthlyRecurring"), 2),
        "averageMargin": round(_total(clients, "marginPercentage") / len(clients), 2) if clients else 0.0,
        "atRiskClients": sum(1 for client in clients if client["status"] == "At Risk"),
        "licenseUtilization": _ratio(_total(licenses, "usedLicenses"), _total(licenses, "totalLicenses")),
        "pipelineValue": round(_total(open_leads, "value"), 2),
        "weightedPipelineValue": round(sum(lead["value"] * lead["probability"] / 100 for lead in open_leads), 2),
        "technicianUtilization": _ratio(_total(technicians, "billableHours"), _total(technicians, "totalHours")),
        "departmentSpend": round(_total(snapshot.items["departments"], "actualSpend"), 2),
        "vendorSpend": round(_total(snapshot.items["vendors"], "totalSpend"), 2),
        "activeContracts": sum(1 for contract in snapshot.items["contracts"] if contract["status"] != "Expired"),
    }
    snapshot.cache["kpis"] = values
    return dict(values)
