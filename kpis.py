"""Dashboard KPIs: the headline figures of a snapshot, as used by history, reports and DynamoDB."""

from __future__ import annotations

from collections.abc import Iterable

from data_generator import Item, Snapshot
from prism.memo import MemoKey
from rules import CLOSED_STAGES


def _total(items: Iterable[Item], field: str) -> float:
    return float(sum(item[field] for item in items))


def _percent(part: float, whole: float) -> float:
    return part / whole * 100 if whole else 0.0


# The arithmetic of each figure, unrounded: the KPIs below round it, the reports format it.


def total_mrr(snapshot: Snapshot) -> float:
    """Sum of the clients' monthly recurring revenue, USD."""
    return _total(snapshot.items["clients"], "monthlyRecurring")


def average_margin(snapshot: Snapshot) -> float:
    """Mean of the clients' margin percentages (0 without clients)."""
    clients = snapshot.items["clients"]
    return _total(clients, "marginPercentage") / len(clients) if clients else 0.0


def at_risk_clients(snapshot: Snapshot) -> list[Item]:
    """Clients whose status is At Risk."""
    return [client for client in snapshot.items["clients"] if client["status"] == "At Risk"]


def license_utilization(snapshot: Snapshot) -> float:
    """Seats used over seats purchased, all licenses, %."""
    licenses = snapshot.items["licenses"]
    return _percent(_total(licenses, "usedLicenses"), _total(licenses, "totalLicenses"))


def open_leads(snapshot: Snapshot) -> list[Item]:
    """Leads not yet won or lost."""
    return [lead for lead in snapshot.items["leads"] if lead["stage"] not in CLOSED_STAGES]


def pipeline_value(snapshot: Snapshot) -> float:
    """Value of the open leads, USD."""
    return _total(open_leads(snapshot), "value")


def weighted_pipeline_value(snapshot: Snapshot) -> float:
    """Value of the open leads weighted by their probability, USD."""
    return float(sum(lead["value"] * lead["probability"] / 100 for lead in open_leads(snapshot)))


def technician_utilization(snapshot: Snapshot) -> float:
    """Billable hours over total hours, all technicians, %."""
    technicians = snapshot.items["technicians"]
    return _percent(_total(technicians, "billableHours"), _total(technicians, "totalHours"))


def department_spend(snapshot: Snapshot) -> float:
    """Spend of all departments this month, USD."""
    return _total(snapshot.items["departments"], "actualSpend")


def vendor_spend(snapshot: Snapshot) -> float:
    """Spend with all vendors over the last 12 months, USD."""
    return _total(snapshot.items["vendors"], "totalSpend")


def active_contracts(snapshot: Snapshot) -> list[Item]:
    """Contracts not expired (Active or Expiring Soon)."""
    return [contract for contract in snapshot.items["contracts"] if contract["status"] != "Expired"]


def compute_kpis(snapshot: Snapshot) -> dict[str, float]:
    """The dashboard's headline figures for one snapshot (memoised on the snapshot)."""
    values = snapshot.cache.get_or_build(KPIS, lambda: _kpis(snapshot))
    return dict(values)


KPIS: MemoKey[dict[str, float]] = MemoKey("kpis")


def _kpis(snapshot: Snapshot) -> dict[str, float]:
    return {
        "totalMrr": round(total_mrr(snapshot), 2),
        "averageMargin": round(average_margin(snapshot), 2),
        "atRiskClients": len(at_risk_clients(snapshot)),
        "licenseUtilization": round(license_utilization(snapshot), 2),
        "pipelineValue": round(pipeline_value(snapshot), 2),
        "weightedPipelineValue": round(weighted_pipeline_value(snapshot), 2),
        "technicianUtilization": round(technician_utilization(snapshot), 2),
        "departmentSpend": round(department_spend(snapshot), 2),
        "vendorSpend": round(vendor_spend(snapshot), 2),
        "activeContracts": len(active_contracts(snapshot)),
    }
