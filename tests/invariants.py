"""Every invariant and relationship of DESIGN.md's entity table, checked on a snapshot."""

from __future__ import annotations

import math
import re
from datetime import date, datetime

import catalogue as cat
import data_generator as dg
from models import ENTITY_MODELS

ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_MONTH = re.compile(r"^\d{4}-\d{2}$")
RATE_BANDS = {band.role: band.rates for band in cat.TECHNICIAN_ROLES}
PROBABILITY = {"Prospecting": (5, 15), "Qualification": (20, 35), "Proposal": (40, 60), "Negotiation": (65, 85)}


def _close(a: float, b: float, tolerance: float = 0.011) -> bool:
    return abs(a - b) <= tolerance


def check_snapshot(snapshot: dg.Snapshot) -> None:
    """Assert every invariant of DESIGN.md's entity table, and that items validate against their models."""
    check_shapes(snapshot)
    today = snapshot.time.date()
    for kind, item in dg.iter_items(snapshot):
        for value in item.values():
            assert not (isinstance(value, float) and not math.isfinite(value)), (kind, item["id"])
    for c in snapshot.items["clients"]:
        assert c["monthlyRecurring"] == c["monthlyRevenue"]
        assert _close(c["monthlyRevenue"] * 12, c["annualRevenue"])
        assert _close(c["monthlyCosts"] * 12, c["annualCosts"])
        margin = (c["annualRevenue"] - c["annualCosts"]) / c["annualRevenue"] * 100
        assert _close(margin, c["marginPercentage"], 0.011)
        risk = "Low" if c["marginPercentage"] >= 30 else "Medium" if c["marginPercentage"] >= 15 else "High"
        assert c["churnRisk"] == risk
        assert (c["status"] == "Active") == (risk != "High")
    for lic in snapshot.items["licenses"]:
        assert lic["availableLicenses"] == lic["totalLicenses"] - lic["usedLicenses"] >= 0
        assert _close(lic["totalCost"], lic["totalLicenses"] * lic["costPerLicense"])
        assert lic["monthlyCost"] == lic["totalCost"]
        assert _close(lic["potentialSavings"], lic["availableLicenses"] * lic["costPerLicense"])
        assert date.fromisoformat(lic["renewalDate"]) > today
    for lead in snapshot.items["leads"]:
        assert date.fromisoformat(lead["lastContact"]) <= today
        assert lead["email"].endswith("@" + lead["email"].split("@")[1])
        if lead["stage"] == "Closed Won":
            assert lead["probability"] == 100
        if lead["stage"] == "Closed Lost":
            assert lead["probability"] == 0
    for tech in snapshot.items["technicians"]:
        assert 0 <= tech["billableHours"] <= tech["totalHours"]
        assert tech["utilization"] == tech["utilizationRate"]
    names = [d["name"] for d in snapshot.items["departments"]]
    assert len(names) == len(set(names))
    for dept in snapshot.items["departments"]:
        assert _close(dept["remaining"], dept["budget"] - dept["spent"])
        assert _close(sum(c["spend"] for c in dept["categories"]), dept["actualSpend"], 0.001)
        assert _close(dept["variance"], dept["monthlyBudget"] - dept["actualSpend"])
        assert len(dept["historicalSpend"]) == 12
    vendor_names = {v["id"]: v["name"] for v in snapshot.items["vendors"]}
    for vendor in snapshot.items["vendors"]:
        end = date.fromisoformat(vendor["contractEnd"])
        assert date.fromisoformat(vendor["contractStart"]) < end
        assert vendor["renewalDate"] == vendor["contractEnd"]
        assert vendor["performanceScore"] == vendor["performanceMetrics"][-1]["score"]
        expected = "expired" if end <= today else "expiring-soon" if (end - today).days <= 90 else None
        assert expected is None or vendor["status"] == expected
    for contract in snapshot.items["contracts"]:
        assert vendor_names[contract["vendorId"]] == contract["vendorName"]
        end = date.fromisoformat(contract["endDate"])
        assert date.fromisoformat(contract["startDate"]) < end
        status = "Expired" if end <= today else "Expiring Soon" if (end - today).days <= 90 else "Active"
        assert contract["status"] == status
        if contract["autoRenew"]:
            assert contract["renewalStatus"] == "auto-renew"


def check_shapes(snapshot: dg.Snapshot) -> None:
    """Ids, models, formats and units of every item."""
    today = snapshot.time.date()
    for kind, items in snapshot.items.items():
        prefix = dg.ID_PREFIX[kind]
        assert [item["id"] for item in items] == [f"{prefix}-{n}" for n in range(1, len(items) + 1)]
        for item in items:
            ENTITY_MODELS[kind].model_validate(item)
            assert ISO_TIME.match(item["lastUpdated"]), item["lastUpdated"]
            changed = datetime.fromisoformat(item["lastUpdated"].replace("Z", "+00:00"))
            assert changed <= snapshot.time
    for lead in snapshot.items["leads"]:
        assert ISO_DATE.match(lead["expectedCloseDate"])
        assert ISO_DATE.match(lead["lastContact"])
        domain = lead["email"].split("@")[1]
        first_word = re.sub(r"[^a-z]", "", lead["companyName"].split()[0].lower())
        assert domain.startswith(first_word), (lead["companyName"], lead["email"])
        if lead["stage"] in PROBABILITY:
            least, most = PROBABILITY[lead["stage"]]
            assert least <= lead["probability"] <= most
    for tech in snapshot.items["technicians"]:
        low, high = RATE_BANDS[tech["role"]][tech["skillLevel"]]
        assert low <= tech["hourlyRate"] <= high
        assert math.isclose(tech["utilization"], tech["billableHours"] / tech["totalHours"] * 100, abs_tol=0.011)
    for dept in snapshot.items["departments"]:
        assert [m["month"] for m in dept["historicalSpend"]] == sorted(m["month"] for m in dept["historicalSpend"])
        assert all(ISO_MONTH.match(m["month"]) for m in dept["historicalSpend"])
        top = max(dept["categories"], key=lambda c: c["spend"])
        assert dept["topExpenseCategory"] == top["name"]
        assert math.isclose(dept["monthlyBudget"] * 12, dept["budget"], abs_tol=0.011)
        assert math.isclose(dept["avgCostPerEmployee"], dept["spent"] / dept["employeeCount"], abs_tol=0.011)
    for vendor in snapshot.items["vendors"]:
        assert len(vendor["performanceMetrics"]) == 12
        assert all(date.fromisoformat(r["date"]) <= today for r in vendor["serviceHistory"])
    for contract in snapshot.items["contracts"]:
        assert contract["serviceType"] == contract["type"]
        if not contract["autoRenew"]:
            expected = "expiring" if contract["status"] != "Active" else "manual"
            assert contract["renewalStatus"] == expected
