"""The invariant checker itself: a valid world passes, and each kind of breakage is caught."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

import data_generator as dg
from rules import EntityKind
from tests.support import SEED, make_settings
from tests.support.invariants import check_items

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
Lists = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def served() -> tuple[Lists, datetime]:
    """A default world as a client decodes it from JSON, and its time."""
    generation = dg.new_generation(counts=make_settings().entity_counts, interval=30, now=NOW, seed=SEED)
    snapshot = dg.compute_snapshot(generation, generation.tick_at(NOW))
    lists = orjson.loads(orjson.dumps({kind: list(items) for kind, items in snapshot.items.items()}))
    return lists, snapshot.time


def first(kind: EntityKind, **where: Any) -> Callable[[Lists], dict[str, Any]]:
    """The first item of an entity whose fields have the given values."""

    def pick(lists: Lists) -> dict[str, Any]:
        return next(item for item in lists[kind] if all(item[k] == v for k, v in where.items()))

    return pick


def set_field(kind: EntityKind, field: str, value: Any, **where: Any) -> Callable[[Lists], None]:
    def mutate(lists: Lists) -> None:
        first(kind, **where)(lists)[field] = value

    return mutate


def nudge(kind: EntityKind, name: str, by: float) -> Callable[[Lists], None]:
    def mutate(lists: Lists) -> None:
        item = lists[kind][0]
        item[name] = round(item[name] + by, 2)

    return mutate


def drop_field(kind: EntityKind, name: str) -> Callable[[Lists], None]:
    def mutate(lists: Lists) -> None:
        del lists[kind][0][name]

    return mutate


def nested(kind: EntityKind, field: str, index: int, name: str, value: Any) -> Callable[[Lists], None]:
    def mutate(lists: Lists) -> None:
        lists[kind][0][field][index][name] = value

    return mutate


def swap_vendor_name(lists: Lists) -> None:
    lists["contracts"][0]["vendorName"] = "Somebody Else Inc"


def orphan_contract(lists: Lists) -> None:
    lists["contracts"][0]["vendorId"] = "vendor-999"


def move_email_domain(lists: Lists) -> None:
    lead = lists["leads"][0]
    lead["email"] = lead["email"].split("@")[0] + "@example.com"


def repeat_department(lists: Lists) -> None:
    lists["departments"][1]["name"] = lists["departments"][0]["name"]


def satisfaction_out_of_five(lists: Lists) -> None:
    for record in lists["vendors"][0]["serviceHistory"]:
        record["satisfaction"] = 4.6


def gap_in_ids(lists: Lists) -> None:
    del lists["clients"][3]


BREAKAGES: dict[str, Callable[[Lists], None]] = {
    "number as a string": set_field("clients", "annualRevenue", "180000.00"),
    "integer as a float": set_field("licenses", "totalLicenses", 150.0),
    "boolean as a number": set_field("contracts", "autoRenew", 1),
    "NaN": set_field("technicians", "efficiency", float("nan")),
    "infinity in a nested object": nested("departments", "categories", 0, "spend", float("inf")),
    "fraction of a cent": set_field("vendors", "totalSpend", 1234.567),
    "missing field": drop_field("leads", "lastContact"),
    "extra field": set_field("clients", "notes", "x"),
    "unknown status word": set_field("vendors", "status", "Active"),
    "time without Z": set_field("clients", "lastUpdated", "2026-11-28T09:30:00"),
    "stamps in two formats": set_field("clients", "lastUpdated", "2026-11-28T09:29:30.000Z"),
    "lastUpdated in the future": set_field("clients", "lastUpdated", "2026-11-28T09:30:30Z"),
    "date in another format": set_field("licenses", "renewalDate", "2027/01/15"),
    "monthly revenue off by two cents": nudge("clients", "monthlyRevenue", 0.02),
    "margin off": nudge("clients", "marginPercentage", 0.5),
    "churn risk against the margin": set_field("clients", "churnRisk", "High", churnRisk="Low"),
    "status against the margin": set_field("clients", "status", "At Risk", status="Active"),
    "a churned client still listed": set_field("clients", "status", "Churned"),
    "repeated client names": lambda lists: lists["clients"][1].update(name=lists["clients"][0]["name"]),
    "an id outside its slot": set_field("leads", "id", "lead-99999927"),
    "price per seat per month": lambda lists: lists["licenses"][0].update(
        costPerLicense=round(lists["licenses"][0]["costPerLicense"] / 12, 2)
    ),
    "savings of unused seats per year": lambda lists: lists["licenses"][0].update(
        potentialSavings=round(lists["licenses"][0]["availableLicenses"] * lists["licenses"][0]["costPerLicense"], 2)
        + 1
    ),
    "seven months of vendor scores": lambda lists: lists["vendors"][0]["performanceMetrics"].insert(
        0, {"month": "2020-01", "score": 80.0}
    ),
    "satisfaction on a 1-5 scale": satisfaction_out_of_five,
    "SLA unit as a word": nested("contracts", "slaMetrics", 0, "unit", "hours"),
    "seats that do not add up": nudge("licenses", "availableLicenses", 1),
    "annual cost not 12 months": nudge("licenses", "annualCost", 1),
    "utilisation off": nudge("licenses", "utilizationRate", 1),
    "compliance against usage": set_field(
        "licenses", "complianceStatus", "Over-allocated", complianceStatus="Compliant"
    ),
    "probability outside its stage": set_field("leads", "probability", 100, stage="Prospecting"),
    "email on another domain": move_email_domain,
    "email of another person": set_field("leads", "email", "someone@example.com"),
    "contact in the future": set_field("leads", "lastContact", "2026-12-01"),
    "billable over total hours": nudge("technicians", "billableHours", 500),
    "rate outside the role's band": set_field("technicians", "hourlyRate", 999.0),
    "skill the role is never staffed at": set_field("technicians", "skillLevel", "Expert", role="Help Desk Technician"),
    "remaining not budget - spent": nudge("departments", "remaining", 5),
    "categories not adding up": nested("departments", "categories", 0, "spend", 0.0),
    "top category not the largest": set_field("departments", "topExpenseCategory", "Training", name="IT Operations"),
    "five months of history": lambda lists: lists["departments"][0]["historicalSpend"].pop(0),
    "repeated department names": repeat_department,
    "performance score not the latest month": nudge("vendors", "performanceScore", 1),
    "renewal date not the contract end": set_field("vendors", "renewalDate", "2030-01-01"),
    "vendor status against the dates": set_field("vendors", "status", "expired", status="active"),
    "contract status against the dates": set_field("contracts", "status", "Expired", status="Active"),
    "renewal status against autoRenew": set_field("contracts", "renewalStatus", "manual", autoRenew=True),
    "service type not the type": set_field("contracts", "serviceType", "Something"),
    "contract of a missing vendor": orphan_contract,
    "vendor name that is not the vendor's": swap_vendor_name,
    "ids with a gap": gap_in_ids,
}


# The check each breakage must trip, by the start of its message (not any assertion that happens to fail).
CAUGHT_BY: dict[str, str] = {
    "number as a string": r"client-\d+\.annualRevenue: not a JSON number",
    "integer as a float": r"license-1\.totalLicenses: not an integer",
    "boolean as a number": r"contract-1\.autoRenew: not a boolean",
    "NaN": r"tech-1\.efficiency: nan",
    "infinity in a nested object": r"dept-1\.categories\[0\]\.spend: inf",
    "fraction of a cent": r"vendor-1\.totalSpend: 1234\.567 has more than two decimals",
    "missing field": r"lead-\d+: fields \[",
    "extra field": r"client-\d+: fields \[",
    "unknown status word": r"vendor-1\.status: 'Active' is not one of",
    "time without Z": r"not an ISO time with Z: '2026-11-28T09:30:00'",
    "stamps in two formats": r"lastUpdated stamps mix formats",
    "lastUpdated in the future": r"client-\d+: lastUpdated 2026-11-28T09:30:30Z after",
    "date in another format": r"license-1\.renewalDate: not YYYY-MM-DD",
    "monthly revenue off by two cents": r"client-\d+: monthlyRecurring != monthlyRevenue",
    "margin off": r"client-\d+: marginPercentage",
    "churn risk against the margin": r"churnRisk High at margin",
    "status against the margin": r"client-\d+: status At Risk at margin",
    "a churned client still listed": r"client-\d+\.status: 'Churned' is not one of",
    "repeated client names": r"client names repeat",
    "an id outside its slot": r"leads: ids do not follow their slots",
    "price per seat per month": r"license-1: costPerLicense is not the yearly list price",
    "savings of unused seats per year": r"license-1: potentialSavings",
    "seven months of vendor scores": r"vendor-1: 7 months of performanceMetrics",
    "satisfaction on a 1-5 scale": r"vendor-1: satisfaction looks like a 1-5 score",
    "SLA unit as a word": r"contract-1\.slaMetrics\[0\]\.unit: 'hours' is not one of",
    "seats that do not add up": r"license-1: availableLicenses",
    "annual cost not 12 months": r"license-1: totalCost != annualCost",
    "utilisation off": r"license-1: utilizationRate",
    "compliance against usage": r"license-\d+: Over-allocated at",
    "probability outside its stage": r"probability 100 in Prospecting",
    "email on another domain": r"lead-\d+: .*@example\.com is not on .*'s domain",
    "email of another person": r"lead-\d+: someone@example\.com is not ",
    "contact in the future": r"lead-\d+: lastContact 2026-12-01 after",
    "billable over total hours": r"tech-1: billable .* of .* hours",
    "rate outside the role's band": r"tech-1: 999\.0/h outside",
    "skill the role is never staffed at": r"a Help Desk Technician is never Expert",
    "remaining not budget - spent": r"dept-1: remaining != budget - spent",
    "categories not adding up": r"dept-1: categories do not add up to actualSpend",
    "top category not the largest": r"dept-1: topExpenseCategory Training is not the largest",
    "five months of history": r"dept-1: 5 months of historicalSpend",
    "repeated department names": r"department names repeat",
    "performance score not the latest month": r"vendor-1: performanceScore != latest month",
    "renewal date not the contract end": r"vendor-1: renewalDate != contractEnd",
    "vendor status against the dates": r"vendor-1: status expired, expected active",
    "contract status against the dates": r"status Expired with \d+ days left",
    "renewal status against autoRenew": r"renewalStatus manual",
    "service type not the type": r"contract-1: serviceType != type",
    "contract of a missing vendor": r"contract-1: no vendor vendor-999",
    "vendor name that is not the vendor's": r"contract-1: vendorName",
    "ids with a gap": r"clients: ids do not follow their slots",
}


def test_a_valid_world_passes(served: tuple[Lists, datetime]) -> None:
    lists, at = served
    check_items(lists, at)


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_each_breakage_is_caught(served: tuple[Lists, datetime], breakage: str) -> None:
    lists, at = served
    broken = copy.deepcopy(lists)
    BREAKAGES[breakage](broken)
    with pytest.raises(AssertionError, match=CAUGHT_BY[breakage]):
        check_items(broken, at)


def test_every_breakage_names_the_check_it_trips() -> None:
    assert set(CAUGHT_BY) == set(BREAKAGES)
