"""Every invariant and relationship of DESIGN.md's entity table, as reusable assertions.

Two entry points:

- `check_snapshot(snapshot)` checks a `data_generator.Snapshot` at its own time, including that ids are
  `kind-N`, unique, and that the item in slot i has an N with N - 1 = i modulo the count (a replaced
  lead or client gets a new N in the same slot), that the counts are the generation's and that every
  `lastUpdated` is a tick of the generation at or before the snapshot.
- `check_items(items, at)` checks entity lists as served over HTTP (decoded JSON) or taken from a
  snapshot: `items` maps entity names (`"clients"`, ...) to lists of items, `at` is the time of the tick
  they show. With `complete=False` the lists may be partial (a filtered or paged answer): ids need not
  follow the slots and contracts may name vendors that are not listed.

What is checked: every field present (no more, in the model's order) with its JSON type (numbers are
never strings or bools, never NaN or infinite; nested objects too); numbers rounded to two decimals
(cents, percentages); ids; ISO formats (`...Z` times, `YYYY-MM-DD` dates, `YYYY-MM` months); each
entity's arithmetic within a cent (or 0.01 of a percentage point); statuses following the rules in
models.py's Field descriptions; dates that make sense at `at`; and the relations across entities.
Assertion messages name the item and what is wrong.

For long runs, `check_snapshot(snapshot, previous=...)` skips the checks that do not depend on the
date for items that are the very same object as in an already checked previous snapshot (an unchanged
item is shared between ticks); the date-dependent checks still run on every item.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

import catalogue as cat
import data_generator as dg
from models import ENTITY_MODELS
from rules import EntityKind

Item = Mapping[str, Any]
Check = Callable[[Item, str], None]
DatedCheck = Callable[[Item, date, str], None]

ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")
ISO_DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
ISO_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

# A cent for money, 0.01 for a percentage rounded to two decimals (plus float noise).
CENT = 0.0100001
# Days before its end within which a contract is "Expiring Soon" and a vendor "expiring-soon".
EXPIRING_WITHIN_DAYS = 90
# A vendor scoring below this (with its agreement not near its end) is under review.
UNDER_REVIEW_BELOW = 65
# Client churn risk by margin, as the dashboard derives it: High below 15%, Medium below 25%, else Low.
CHURN_RISK_BANDS = ((15.0, "High"), (25.0, "Medium"))
# A client is At Risk exactly below this margin (the dashboard's own threshold).
AT_RISK_MARGIN = 20.0
# Monthly histories: the last six months, oldest first, ending with the current one.
HISTORY_MONTHS = 6
SLA_UNITS = frozenset({"%", "h", "d"})
# License compliance: At Risk from this utilisation on, Over-allocated when every seat is taken.
AT_RISK_UTILIZATION = 90
# Probability band (inclusive, %) of each stage.
STAGE_PROBABILITY = {
    "Prospecting": (5, 15),
    "Qualification": (20, 35),
    "Proposal": (40, 60),
    "Negotiation": (65, 85),
    "Closed Won": (100, 100),
    "Closed Lost": (0, 0),
}
ROLES = {band.role: band for band in cat.TECHNICIAN_ROLES}
PRODUCTS = {(p.vendor, p.product): p for p in cat.SOFTWARE_PRODUCTS}
DATE_FIELDS = {
    "clients": ("contractEndDate",),
    "licenses": ("renewalDate",),
    "leads": ("expectedCloseDate", "lastContact"),
    "technicians": (),
    "departments": (),
    "vendors": ("contractStart", "contractEnd", "renewalDate"),
    "contracts": ("startDate", "endDate"),
}


# --- entry points ------------------------------------------------------------------


def check_snapshot(snapshot: dg.Snapshot, previous: dg.Snapshot | None = None) -> None:
    """Assert every invariant of DESIGN.md's entity table on a snapshot, at the snapshot's time."""
    assert set(snapshot.items) == set(dg.ENTITY_KINDS)
    for kind, items in snapshot.items.items():
        assert len(items) == snapshot.generation.counts.get(kind, 0), kind
    known: Mapping[EntityKind, Sequence[Item]] = {}
    if previous is not None and previous.generation.seed == snapshot.generation.seed:
        known = previous.items
    check_items(snapshot.items, snapshot.time, already_checked=known)
    generation = snapshot.generation
    for kind, items in snapshot.items.items():
        seen = known.get(kind, ())
        for index, item in enumerate(items):
            if index < len(seen) and seen[index] is item:
                continue
            ticks = (parse_time(item["lastUpdated"]) - generation.epoch).total_seconds() / generation.interval
            assert abs(ticks - round(ticks)) < 0.01, f"{item['id']}: lastUpdated {item['lastUpdated']} is not a tick"


def check_items(
    items: Mapping[Any, Sequence[Item]],
    at: datetime,
    *,
    complete: bool = True,
    already_checked: Mapping[Any, Sequence[Item]] | None = None,
) -> None:
    """Assert every invariant on entity lists (decoded JSON or a snapshot's items) showing the tick at `at`."""
    today = at.date()
    for kind, listed in items.items():
        _check_ids(kind, listed, complete)
        check_static, check_dated = _STATIC[kind], _DATED[kind]
        seen = (already_checked or {}).get(kind, ())
        for index, item in enumerate(listed):
            where = str(item["id"])
            if not (index < len(seen) and seen[index] is item):
                check_static(item, where)
            assert parse_time(item["lastUpdated"]) <= at, f"{where}: lastUpdated {item['lastUpdated']} after {at}"
            check_dated(item, today, where)
    _check_relations(items, complete)


@functools.lru_cache(maxsize=65_536)
def parse_time(text: str) -> datetime:
    """An ISO 8601 UTC timestamp with a `Z`, as a datetime."""
    assert ISO_TIME.match(text), f"not an ISO time with Z: {text!r}"
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def parse_date(text: str, where: str = "") -> date:
    """A `YYYY-MM-DD` date."""
    assert ISO_DATE.match(text), f"{where}: not YYYY-MM-DD: {text!r}"
    return date.fromisoformat(text)


def month_label(day: date, months_back: int = 0) -> str:
    """`YYYY-MM` of the month `months_back` before the month holding `day`."""
    key = day.year * 12 + day.month - 1 - months_back
    return f"{key // 12:04d}-{key % 12 + 1:02d}"


@functools.lru_cache(maxsize=4096)
def last_six_months(day: date) -> tuple[str, ...]:
    """The 6 months up to the one holding `day`, oldest first."""
    return tuple(month_label(day, back) for back in range(HISTORY_MONTHS - 1, -1, -1))


def close(actual: float, expected: float, tolerance: float = CENT) -> bool:
    """Whether two figures agree within a cent (or the tolerance given)."""
    return abs(actual - expected) <= tolerance


def _check_ids(kind: EntityKind, listed: Sequence[Item], complete: bool) -> None:
    prefix = dg.ID_PREFIX[kind]
    ids = [item.get("id") for item in listed]
    assert len(set(ids)) == len(ids), f"{kind}: repeated ids"
    pattern = re.compile(rf"{prefix}-[1-9]\d*")
    bad = [i for i in ids if not isinstance(i, str) or not pattern.fullmatch(i)]
    assert not bad, f"{kind}: bad ids {bad}"
    if complete:
        slots = [(int(str(i).rpartition("-")[2]) - 1) % len(listed) for i in ids]
        assert slots == list(range(len(listed))), f"{kind}: ids do not follow their slots"
        if kind not in ("clients", "leads"):
            assert ids == [f"{prefix}-{n}" for n in range(1, len(listed) + 1)], f"{kind}: ids are not {prefix}-1..N"


# --- JSON shape: fields, types, finiteness, rounding ---------------------------------


def _shape_of(annotation: Any) -> Check:
    """A checker of the JSON value of a field with this type annotation."""
    simple: dict[Any, Check] = {float: _number, int: _integer, bool: _boolean, str: _string}
    if annotation in simple:
        return simple[annotation]
    origin = get_origin(annotation)
    if origin is Literal:
        allowed = frozenset(get_args(annotation))

        def literal(value: Any, where: str) -> None:
            assert type(value) is str, f"{where}: not a string: {value!r}"
            assert value in allowed, f"{where}: {value!r} is not one of {sorted(allowed)}"

        return literal
    if origin is list:
        element = _shape_of(get_args(annotation)[0])

        def listing(value: Any, where: str) -> None:
            assert type(value) is list, f"{where}: not a list: {value!r}"
            for position, entry in enumerate(value):
                element(entry, f"{where}[{position}]")

        return listing
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_shape(annotation)
    raise TypeError(f"no JSON shape for {annotation!r} (entity fields are never optional)")


def _model_shape(model: type[BaseModel]) -> Check:
    fields = [(name, _shape_of(info.annotation)) for name, info in model.model_fields.items()]
    names = [name for name, _ in fields]

    def shape(value: Any, where: str) -> None:
        assert isinstance(value, Mapping), f"{where}: not an object"
        assert list(value) == names, f"{where}: fields {list(value)} are not {model.__name__}'s {names}"
        for name, check in fields:
            check(value[name], f"{where}.{name}")

    return shape


def _number(value: Any, where: str) -> None:
    assert type(value) in (int, float), f"{where}: not a JSON number: {value!r}"
    assert math.isfinite(value), f"{where}: {value!r}"
    assert round(value, 2) == value, f"{where}: {value!r} has more than two decimals"


def _integer(value: Any, where: str) -> None:
    assert type(value) is int, f"{where}: not an integer: {value!r}"


def _boolean(value: Any, where: str) -> None:
    assert type(value) is bool, f"{where}: not a boolean: {value!r}"


def _string(value: Any, where: str) -> None:
    assert type(value) is str, f"{where}: not a string: {value!r}"
    assert value, f"{where}: empty"
    assert value.strip() == value, f"{where}: blanks around {value!r}"


# --- one entity at a time: what holds whatever the date ----------------------------------


def _client(c: Item, where: str) -> None:
    assert c["monthlyRecurring"] == c["monthlyRevenue"], f"{where}: monthlyRecurring != monthlyRevenue"
    assert close(c["annualRevenue"] / 12, c["monthlyRevenue"]), f"{where}: monthlyRevenue != annualRevenue / 12"
    assert close(c["annualCosts"] / 12, c["monthlyCosts"]), f"{where}: monthlyCosts != annualCosts / 12"
    assert c["annualRevenue"] > 0, where
    margin = (c["annualRevenue"] - c["annualCosts"]) / c["annualRevenue"] * 100
    assert close(margin, c["marginPercentage"]), f"{where}: marginPercentage {c['marginPercentage']} != {margin}"
    risk = next((name for bound, name in CHURN_RISK_BANDS if c["marginPercentage"] < bound), "Low")
    assert c["churnRisk"] == risk, f"{where}: churnRisk {c['churnRisk']} at margin {c['marginPercentage']}"
    status = "At Risk" if c["marginPercentage"] < AT_RISK_MARGIN else "Active"
    assert c["status"] == status, f"{where}: status {c['status']} at margin {c['marginPercentage']}"
    assert c["employeeCount"] >= 1, where


def _license(lic: Item, where: str) -> None:
    total, used, available = lic["totalLicenses"], lic["usedLicenses"], lic["availableLicenses"]
    assert 0 <= used <= total, f"{where}: {used} of {total} seats used"
    assert available == total - used, f"{where}: availableLicenses {available} != {total} - {used}"
    product = PRODUCTS.get((lic["vendor"], lic["product"]))
    assert product is not None, f"{where}: {lic['vendor']} {lic['product']} is not in the catalogue"
    assert lic["licenseType"] == product.license_type, where
    assert lic["costPerLicense"] == product.annual_price, f"{where}: costPerLicense is not the yearly list price"
    assert lic["totalCost"] == lic["annualCost"], f"{where}: totalCost != annualCost"
    assert close(lic["totalCost"], total * lic["costPerLicense"]), f"{where}: totalCost != seats x price"
    assert close(lic["monthlyCost"], lic["totalCost"] / 12), f"{where}: monthlyCost != totalCost / 12"
    assert close(lic["potentialSavings"], available * lic["costPerLicense"] / 12), f"{where}: potentialSavings"
    utilization = used / total * 100 if total else 0.0
    assert close(lic["utilizationRate"], utilization), f"{where}: utilizationRate {lic['utilizationRate']}"
    if used >= total:
        expected = "Over-allocated"
    elif lic["utilizationRate"] >= AT_RISK_UTILIZATION:
        expected = "At Risk"
    else:
        expected = "Compliant"
    assert lic["complianceStatus"] == expected, f"{where}: {lic['complianceStatus']} at {utilization:.2f}% used"


def _lead(lead: Item, where: str) -> None:
    low, high = STAGE_PROBABILITY[lead["stage"]]
    assert low <= lead["probability"] <= high, f"{where}: probability {lead['probability']} in {lead['stage']}"
    assert lead["value"] > 0, where
    assert lead["employeeCount"] >= 1, where
    local, _, domain = lead["email"].partition("@")
    assert local, f"{where}: email {lead['email']!r}"
    assert "." in domain, f"{where}: email {lead['email']!r}"
    assert _letters(local) == _letters(lead["contactName"]), f"{where}: {lead['email']} is not {lead['contactName']}"
    # On the company's domain: its label is the company's first word(s) run together.
    words = re.findall(r"[a-z]+", lead["companyName"].lower())
    label = domain.split(".")[0]
    assert any(label == "".join(words[:n]) for n in range(1, len(words) + 1)), (
        f"{where}: {lead['email']} is not on {lead['companyName']}'s domain"
    )


def _technician(tech: Item, where: str) -> None:
    billable, total = tech["billableHours"], tech["totalHours"]
    assert 0 <= billable <= total, f"{where}: billable {billable} of {total} hours"
    assert tech["utilization"] == tech["utilizationRate"], f"{where}: utilization != utilizationRate"
    expected = billable / total * 100 if total else 0.0
    assert close(tech["utilization"], expected), f"{where}: utilization {tech['utilization']} != {expected}"
    band = ROLES.get(tech["role"])
    assert band is not None, f"{where}: unknown role {tech['role']!r}"
    assert tech["skillLevel"] in band.rates, f"{where}: a {tech['role']} is never {tech['skillLevel']}"
    low, high = band.rates[tech["skillLevel"]]
    assert low <= tech["hourlyRate"] <= high, f"{where}: {tech['hourlyRate']}/h outside {low}-{high}"
    certifications = tech["certifications"]
    assert certifications, f"{where}: no certifications"
    assert len(set(certifications)) == len(certifications), f"{where}: repeated certifications"
    assert set(certifications) <= set(band.certifications), f"{where}: {certifications} for a {tech['role']}"
    if tech["status"] == "On Leave":
        assert tech["activeProjects"] == 0, f"{where}: on leave with projects"


def _department(dept: Item, where: str) -> None:
    assert close(dept["remaining"], dept["budget"] - dept["spent"]), f"{where}: remaining != budget - spent"
    assert dept["employeeCount"] >= 1, where
    assert close(dept["avgCostPerEmployee"], dept["spent"] / dept["employeeCount"]), f"{where}: avgCostPerEmployee"
    assert close(dept["monthlyBudget"], dept["budget"] / 12), f"{where}: monthlyBudget != budget / 12"
    assert dept["monthlyBudget"] > 0, where
    assert close(dept["variance"], dept["monthlyBudget"] - dept["actualSpend"]), f"{where}: variance"
    percentage = dept["variance"] / dept["monthlyBudget"] * 100
    assert close(dept["variancePercentage"], percentage), f"{where}: variancePercentage"
    spends = {c["name"]: c["spend"] for c in dept["categories"]}
    assert len(spends) == len(dept["categories"]) > 0, f"{where}: categories {list(spends)}"
    assert close(sum(spends.values()), dept["actualSpend"]), f"{where}: categories do not add up to actualSpend"
    top = dept["topExpenseCategory"]
    assert spends.get(top) == max(spends.values()), f"{where}: topExpenseCategory {top} is not the largest"
    history = dept["historicalSpend"]
    assert len(history) == HISTORY_MONTHS, f"{where}: {len(history)} months of historicalSpend"
    assert all(ISO_MONTH.match(m["month"]) for m in history), where
    assert history[-1]["amount"] == dept["actualSpend"], f"{where}: this month's historicalSpend != actualSpend"
    previous, actual = history[-2]["amount"], dept["actualSpend"]
    trend = "up" if actual > previous * 1.05 else "down" if actual < previous * 0.95 else "stable"
    assert dept["trend"] == trend, f"{where}: trend {dept['trend']} for {previous} -> {actual}"


def _vendor(vendor: Item, where: str) -> None:
    start, end = date.fromisoformat(vendor["contractStart"]), date.fromisoformat(vendor["contractEnd"])
    assert start < end, f"{where}: agreement {start} - {end}"
    assert vendor["renewalDate"] == vendor["contractEnd"], f"{where}: renewalDate != contractEnd"
    metrics = vendor["performanceMetrics"]
    assert len(metrics) == HISTORY_MONTHS, f"{where}: {len(metrics)} months of performanceMetrics"
    assert all(ISO_MONTH.match(m["month"]) for m in metrics), where
    assert vendor["performanceScore"] == metrics[-1]["score"], f"{where}: performanceScore != latest month"
    assert all(0 <= m["score"] <= 100 for m in metrics), where
    years = (end - start).days / 365
    assert close(vendor["contractValue"], vendor["annualValue"] * years, vendor["annualValue"] * 0.01 + CENT), (
        f"{where}: contractValue is not annualValue over {years:.2f} years"
    )
    history = vendor["serviceHistory"]
    days = [parse_date(r["date"], f"{where}.serviceHistory") for r in history]
    assert days == sorted(days, reverse=True), f"{where}: serviceHistory is not newest first"
    assert all(0 <= r["satisfaction"] <= 100 for r in history), f"{where}: satisfaction is not a percentage"
    # On the 0-100 scale a whole service history under 5 would be a 1-5 score in disguise.
    assert max(r["satisfaction"] for r in history) > 5, f"{where}: satisfaction looks like a 1-5 score"
    local, _, domain = vendor["email"].partition("@")
    assert _letters(local) == _letters(vendor["contactPerson"]), f"{where}: email {vendor['email']}"
    assert "." in domain, f"{where}: email {vendor['email']}"


def _contract(contract: Item, where: str) -> None:
    start, end = date.fromisoformat(contract["startDate"]), date.fromisoformat(contract["endDate"])
    assert start < end, f"{where}: term {start} - {end}"
    assert contract["serviceType"] == contract["type"], f"{where}: serviceType != type"
    assert contract["value"] > 0, where
    assert contract["slaMetrics"], f"{where}: no slaMetrics"
    assert contract["terms"], f"{where}: no terms"
    assert 0 <= contract["slaCompliance"] <= 100, where
    units = {m["unit"] for m in contract["slaMetrics"]}
    assert units <= SLA_UNITS, f"{where}: SLA units {sorted(units)} are not the symbols %, h, d"


# --- one entity at a time: what depends on today ------------------------------------------


def _client_today(c: Item, today: date, where: str) -> None:
    end = date.fromisoformat(c["contractEndDate"])
    assert today < end <= today + timedelta(days=3 * 366), f"{where}: contractEndDate {end} on {today}"


def _license_today(lic: Item, today: date, where: str) -> None:
    renewal = date.fromisoformat(lic["renewalDate"])
    assert today < renewal <= today + timedelta(days=366), f"{where}: renewalDate {renewal} on {today}"


def _lead_today(lead: Item, today: date, where: str) -> None:
    assert date.fromisoformat(lead["lastContact"]) <= today, f"{where}: lastContact {lead['lastContact']} after {today}"


def _technician_today(tech: Item, today: date, where: str) -> None:
    """Nothing of a technician is tied to the calendar beyond what its change ticks already cover."""


def _department_today(dept: Item, today: date, where: str) -> None:
    history = dept["historicalSpend"]
    assert tuple(m["month"] for m in history) == last_six_months(today), f"{where}: historicalSpend months on {today}"
    # Year to date: the year's earlier months in full and part of this month; the history shows six of them.
    shown = sum(m["amount"] for m in history[:-1] if m["month"].startswith(f"{today.year:04d}-"))
    hidden = max(0, today.month - HISTORY_MONTHS)
    ceiling = shown + dept["actualSpend"] + hidden * dept["monthlyBudget"] * 1.2
    assert shown - CENT <= dept["spent"] <= ceiling + CENT, f"{where}: spent is not YTD"


def _vendor_today(vendor: Item, today: date, where: str) -> None:
    assert date.fromisoformat(vendor["contractStart"]) <= today, f"{where}: agreement starts after {today}"
    metrics = vendor["performanceMetrics"]
    assert tuple(m["month"] for m in metrics) == last_six_months(today), f"{where}: performanceMetrics on {today}"
    days_left = (date.fromisoformat(vendor["contractEnd"]) - today).days
    if days_left <= 0:
        status = "expired"
    elif days_left <= EXPIRING_WITHIN_DAYS:
        status = "expiring-soon"
    else:
        status = "under-review" if vendor["performanceScore"] < UNDER_REVIEW_BELOW else "active"
    assert vendor["status"] == status, f"{where}: status {vendor['status']}, expected {status} on {today}"
    assert vendor["serviceHistory"][0]["date"] <= today.isoformat(), f"{where}: service after {today}"


def _contract_today(contract: Item, today: date, where: str) -> None:
    assert date.fromisoformat(contract["startDate"]) <= today, f"{where}: starts after {today}"
    days_left = (date.fromisoformat(contract["endDate"]) - today).days
    status = "Expired" if days_left <= 0 else "Expiring Soon" if days_left <= EXPIRING_WITHIN_DAYS else "Active"
    assert contract["status"] == status, f"{where}: status {contract['status']} with {days_left} days left"
    expected = "auto-renew" if contract["autoRenew"] else "manual" if status == "Active" else "expiring"
    assert contract["renewalStatus"] == expected, f"{where}: renewalStatus {contract['renewalStatus']}"


_ENTITY_CHECKS: dict[str, tuple[Check, DatedCheck]] = {
    "clients": (_client, _client_today),
    "licenses": (_license, _license_today),
    "leads": (_lead, _lead_today),
    "technicians": (_technician, _technician_today),
    "departments": (_department, _department_today),
    "vendors": (_vendor, _vendor_today),
    "contracts": (_contract, _contract_today),
}


def _static_check(kind: EntityKind) -> Check:
    shape = _model_shape(ENTITY_MODELS[kind])
    relations, _ = _ENTITY_CHECKS[kind]
    dates = DATE_FIELDS[kind]

    def check(item: Item, where: str) -> None:
        shape(item, where)
        parse_time(item["lastUpdated"])
        for name in dates:
            parse_date(item[name], f"{where}.{name}")
        relations(item, where)

    return check


_STATIC: dict[str, Check] = {kind: _static_check(kind) for kind in ENTITY_MODELS}
_DATED: dict[str, DatedCheck] = {kind: dated for kind, (_, dated) in _ENTITY_CHECKS.items()}


# --- across items ----------------------------------------------------------------------


def _check_relations(items: Mapping[str, Sequence[Item]], complete: bool) -> None:
    # One format for every stamp (milliseconds on all or none), so that stamps sort as text.
    stamp_lengths = {len(item["lastUpdated"]) for listed in items.values() for item in listed}
    assert len(stamp_lengths) <= 1, "lastUpdated stamps mix formats and do not sort as text"
    departments = [d["name"] for d in items.get("departments", ())]
    assert len(set(departments)) == len(departments), "department names repeat"
    vendors = {v["id"]: v["name"] for v in items.get("vendors", ())}
    assert len(set(vendors.values())) == len(vendors), "vendor names repeat"
    for contract in items.get("contracts", ()):
        if complete:
            assert contract["vendorId"] in vendors, f"{contract['id']}: no vendor {contract['vendorId']}"
        if contract["vendorId"] in vendors:
            assert contract["vendorName"] == vendors[contract["vendorId"]], f"{contract['id']}: vendorName"
    clients = [c["name"] for c in items.get("clients", ())]
    assert len(set(clients)) == len(clients), "client names repeat"


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())
