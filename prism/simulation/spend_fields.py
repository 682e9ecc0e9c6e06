"""The fields of the items about money going out (departments, vendors, contracts) over arrays of (item index,
build tick): `World._department`, `World._vendor` and `World._contract` written over numpy arrays."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

import catalogue as cat
import prism.simulation.generation as gen
import rules
from prism.simulation.randomness import F64, I64, draws, drifts, integers, units
from prism.simulation.texts import (
    choices,
    email_locals,
    full_names,
    iso_days,
    month_labels,
    numbered,
    people,
    phones,
    stamps,
    table,
)
from prism.simulation.timeline import pct, py_round, scenario_intensity, with_parity

if TYPE_CHECKING:
    from prism.simulation.item_fields import ItemFields, ItemTable

Ch = gen.Ch
_PAYMENT_TERMS = table(cat.PAYMENT_TERMS)
_AGREEMENT_TYPES = table(cat.VENDOR_AGREEMENT_TYPES)
_NOTICE = np.array([30, 60, 90], dtype=np.int64)
_CLAUSES = table(cat.CONTRACT_CLAUSES)
_OBJECTIVES = cat.SLA_OBJECTIVES
_OBJECTIVE_TARGET = np.array([o.target for o in _OBJECTIVES], dtype=np.float64)
_OBJECTIVE_IS_SHARE = np.array([o.unit == "%" for o in _OBJECTIVES], dtype=np.bool_)
_OBJECTIVE_METRIC = table([o.metric for o in _OBJECTIVES])
_OBJECTIVE_UNIT = table([o.unit for o in _OBJECTIVES])


def _padded(rows: list[tuple[str, ...]]) -> tuple[Any, I64]:
    """Vocabularies of different lengths as one table (padded with "") and their lengths."""
    width = max((len(row) for row in rows), default=1)
    result = np.full((len(rows), width), "", dtype=object)
    for i, row in enumerate(rows):
        result[i, : len(row)] = row
    return result, np.array([len(row) for row in rows], dtype=np.int64)


_SERVICES, _SERVICE_COUNT = _padded([kind.services for kind in cat.VENDORS])
_CONTRACT_TYPES, _CONTRACT_TYPE_COUNT = _padded([cat.CONTRACT_TYPES_BY_CATEGORY[k.category] for k in cat.VENDORS])
_VENDOR_CATEGORY = table([kind.category for kind in cat.VENDORS])
_VENDOR_DOMAIN = table([kind.domain for kind in cat.VENDORS])
_VENDOR_LOW = np.array([kind.annual_value[0] for kind in cat.VENDORS], dtype=np.int64)
_VENDOR_HIGH = np.array([kind.annual_value[1] for kind in cat.VENDORS], dtype=np.int64)


def _chosen(options: Any, counts: I64, row: I64, drawn: Any) -> Any:
    """`Rng.choice` among each row's own options (a padded table and its lengths)."""
    return options[row, (drawn % counts[row].astype(np.uint64)).astype(np.int64)]


# --- departments ----------------------------------------------------------------------------------------------


def department_constants(fields: ItemFields) -> dict[str, Any]:
    """What a department keeps for the generation: its kind's categories, head count, name and manager."""
    count = fields.columns.counts["departments"]
    bases = fields.bases["departments"]
    kinds = [cat.DEPARTMENTS[i % len(cat.DEPARTMENTS)] for i in range(count)]
    low = np.array([k.employees[0] for k in kinds], dtype=np.int64)
    high = np.array([k.employees[1] for k in kinds], dtype=np.int64)
    categories, category_count = _padded([k.categories for k in kinds])
    first, last = people(bases, Ch.MANAGER_FIRST, Ch.MANAGER_LAST)
    return {
        "name": table([gen.department_name(i) for i in range(count)]),
        "employees": (draws(bases, Ch.SIZE, 0) % (high - low + 1).astype(np.uint64)).astype(np.int64) + low,
        "categories": categories,
        "category_count": category_count,
        "manager": full_names(first, last),
    }


def _month_elapsed(fields: ItemFields, ticks: I64) -> F64:
    """The share of its month each tick has reached (with the builders' datetime arithmetic, once per tick)."""
    generation = fields.generation
    unique, where = np.unique(ticks, return_inverse=True)
    shares = []
    for tick in unique.tolist():
        moment = generation.time_of(tick)
        month = gen.month_key(moment.date())
        elapsed = moment - gen.day_start(gen.month_start(month))
        shares.append(elapsed.total_seconds() / (86_400 * gen.days_in_month(month)))
    result: F64 = np.asarray(shares, dtype=np.float64)[where.reshape(-1)]
    return result


def _split(fields: ItemFields, index: I64, actual: I64, month: I64) -> tuple[list[list[gen.Item]], Any]:
    """`World._split` per element: each category's share of the month's spend, and the largest one's name."""
    const = fields.const("departments")
    bases = fields.bases["departments"][index]
    names, count = const["categories"][index], const["category_count"][index]
    weights = np.zeros(names.shape, dtype=np.float64)
    for i in range(names.shape[1]):
        weight = (count - i) * (0.75 + 0.5 * units(bases, Ch.WEIGHT + i, month))
        weights[:, i] = np.where(i < count, weight, 0.0)
    # Python's own sum of each row's weights (the bits `sum` gives in every version).
    totals = np.array([sum(row[:n]) for row, n in zip(weights.tolist(), count.tolist(), strict=True)])
    shares = np.trunc(weights * (actual / totals)[:, None]).astype(np.int64)
    shares[:, 0] += actual - shares.sum(axis=1)
    largest = np.argmax(np.where(np.arange(names.shape[1]) < count[:, None], shares, -1), axis=1)
    spends = (shares / 100).tolist()
    categories = [
        [{"name": name, "spend": spend} for name, spend in zip(row_names[:n], row_spends[:n], strict=True)]
        for row_names, row_spends, n in zip(names.tolist(), spends, count.tolist(), strict=True)
    ]
    return categories, names[np.arange(len(index)), largest]


def departments(fields: ItemFields, index: I64, ticks: I64, parity: I64) -> ItemTable:
    """`World._department` over arrays."""
    columns = fields.columns
    const = fields.const("departments")
    bases = fields.bases["departments"][index]
    quantities = columns._department_fields(index, ticks, parity)
    actual, month = quantities["actual"], quantities["month"]
    monthly_budget = columns._const("departments", "monthly_budget", index).astype(np.int64)
    past = month[:, None] + np.arange(-11, 0)
    pace = 0.86 + 0.22 * units(bases[:, None], Ch.PACE_MONTH, past)
    amounts = np.rint(monthly_budget[:, None] / 100 * pace * 100).astype(np.int64)
    this_year = np.where(past >= (month // 12 * 12)[:, None], amounts, 0).sum(axis=1)
    spent = this_year + np.rint(actual * _month_elapsed(fields, ticks)).astype(np.int64)
    budget = monthly_budget * 12
    categories, top = _split(fields, index, actual, month)
    variance = monthly_budget - actual
    previous = amounts[:, -1]
    trend = np.where(actual > previous * 1.05, "up", np.where(actual < previous * 0.95, "down", "stable"))
    employees = const["employees"][index]
    labels = month_labels(month[:, None] + np.arange(-gen.HISTORY_MONTHS + 1, 1))
    shown = (np.concatenate([amounts[:, -gen.HISTORY_MONTHS + 1 :], actual[:, None]], axis=1) / 100).tolist()
    by_field = {
        "id": fields.ids("departments", index),
        "name": const["name"][index].tolist(),
        "budget": (budget / 100).tolist(),
        "spent": (spent / 100).tolist(),
        "remaining": ((budget - spent) / 100).tolist(),
        "employeeCount": employees.tolist(),
        "avgCostPerEmployee": py_round(spent / 100 / employees, 2).tolist(),
        "topExpenseCategory": top.tolist(),
        "lastUpdated": stamps(fields.world, ticks),
        "monthlyBudget": (monthly_budget / 100).tolist(),
        "actualSpend": (actual / 100).tolist(),
        "variance": (variance / 100).tolist(),
        "variancePercentage": pct(variance, monthly_budget).tolist(),
        "trend": trend.tolist(),
        "manager": const["manager"][index].tolist(),
        "categories": categories,
        "historicalSpend": [
            [{"month": m, "amount": a} for m, a in zip(row_labels, row_amounts, strict=True)]
            for row_labels, row_amounts in zip(labels, shown, strict=True)
        ],
    }
    return by_field, columns._department_next(index, ticks)


# --- vendors --------------------------------------------------------------------------------------------------


def vendor_constants(fields: ItemFields) -> dict[str, Any]:
    """What a vendor keeps for the generation: kind, term, performance level, name and contact."""
    world = fields.world
    count = fields.columns.counts["vendors"]
    bases = fields.bases["vendors"]
    kind = (np.arange(count, dtype=np.int64) + fields.seed) % len(cat.VENDORS)
    first, last = people(bases, Ch.NAME_A, Ch.NAME_B)
    performance = units(bases, Ch.PERF_BASE).tolist()
    return {
        "kind": kind,
        "term_years": integers(bases, 1, 3, Ch.TERM),
        "base_perf": np.array([68 + 28 * u**0.6 for u in performance], dtype=np.float64),
        "name": table([world.vendor_name(i) for i in range(count)]),
        "contact": full_names(first, last),
        "email": email_locals(first, last) + "@" + _VENDOR_DOMAIN[kind],
        "phone": phones(bases, Ch.PHONE),
        "payment_terms": choices(_PAYMENT_TERMS, bases, Ch.TERMS_PAY),
        "agreement": choices(_AGREEMENT_TYPES, bases, Ch.AGREEMENT),
    }


def _scores(base_perf: F64, bases: Any, months: I64, live: F64 | float) -> F64:
    """`score` of `World._vendor` for each element (and month)."""
    raw = base_perf + 6 * (2 * units(bases, Ch.PERF_MONTH, months) - 1) + live
    return py_round(np.minimum(100.0, np.maximum(0.0, raw)), 1)


def _service_history(bases: Any, kind: I64, today: I64, base_perf: F64) -> list[list[gen.Item]]:
    """`World._service_history` per element: the last four services, newest first."""
    records: list[Any] = []
    fortnight = today // 14
    for back in range(4):
        period = fortnight - back
        day = np.minimum(today, period * 14 + integers(bases, 0, 13, Ch.SERVICE, period))
        level = base_perf + (-14 + 24 * units(bases, Ch.SATISFACTION, period))
        satisfaction = py_round(np.minimum(100.0, np.maximum(0.0, level)), 1)
        service = _chosen(_SERVICES, _SERVICE_COUNT, kind, draws(bases, Ch.SERVICE + 1, period))
        records.append(zip(iso_days(day), service.tolist(), satisfaction.tolist(), strict=True))
    return [[{"date": d, "service": s, "satisfaction": v} for d, s, v in row] for row in zip(*records, strict=True)]


def vendors(fields: ItemFields, index: I64, ticks: I64, parity: I64) -> ItemTable:
    """`World._vendor` over arrays."""
    columns = fields.columns
    const = fields.const("vendors")
    bases = fields.bases["vendors"][index]
    kind, base_perf = const["kind"][index], const["base_perf"][index]
    today = fields.calendar.day(ticks)
    month = fields.calendar.month(today)
    start, end, _ = columns._agreement("vendors", index, today)
    outage = scenario_intensity(fields.generation, "vendor-outage", ticks, index)
    current = _scores(base_perf, bases, month, 3 * drifts(bases, Ch.PERF, ticks) - 35 * outage)
    past = month[:, None] + np.arange(-gen.HISTORY_MONTHS + 1, 0)
    history = _scores(base_perf[:, None], bases[:, None], past, 0.0)
    labels = month_labels(np.concatenate([past, month[:, None]], axis=1))
    scores = np.concatenate([history, current[:, None]], axis=1).tolist()
    days_left = end - today
    reviewed = np.where(current < rules.UNDER_REVIEW_BELOW, "under-review", "active")
    status = np.where(
        days_left <= 0, "expired", np.where(days_left <= rules.EXPIRING_WITHIN_DAYS, "expiring-soon", reviewed)
    )
    annual = columns._const("vendors", "annual", index).astype(np.int64)
    ends = iso_days(end)
    by_field = {
        "id": fields.ids("vendors", index),
        "name": const["name"][index].tolist(),
        "category": _VENDOR_CATEGORY[kind].tolist(),
        "totalSpend": columns._vendor_fields(index, ticks, parity)["totalSpend"].tolist(),
        "contractValue": (annual * const["term_years"][index] / 100).tolist(),
        "contractStart": iso_days(start),
        "contractEnd": ends,
        "paymentTerms": const["payment_terms"][index].tolist(),
        "status": status.tolist(),
        "performanceScore": current.tolist(),
        "lastUpdated": stamps(fields.world, ticks),
        "annualValue": (annual / 100).tolist(),
        "contractType": const["agreement"][index].tolist(),
        "renewalDate": ends,
        "contactPerson": const["contact"][index].tolist(),
        "email": const["email"][index].tolist(),
        "phone": const["phone"][index].tolist(),
        "performanceMetrics": [
            [{"month": m, "score": s} for m, s in zip(row_labels, row_scores, strict=True)]
            for row_labels, row_scores in zip(labels, scores, strict=True)
        ],
        "serviceHistory": _service_history(bases, kind, today, base_perf),
    }
    return by_field, columns._vendor_next(index, ticks)


# --- contracts ------------------------------------------------------------------------------------------------


def contract_constants(fields: ItemFields) -> dict[str, Any]:
    """What a contract keeps for the generation: its vendor, type, value, clauses and terms."""
    world = fields.world
    count = fields.columns.counts["contracts"]
    vendor_count = fields.columns.counts["vendors"]
    bases = fields.bases["contracts"]
    vendor = (
        integers(bases, 0, max(vendor_count, 1) - 1, Ch.VENDOR) if vendor_count else np.zeros(count, dtype=np.int64)
    )
    kind = (vendor + fields.seed) % len(cat.VENDORS)
    low, high = _VENDOR_LOW[kind], _VENDOR_HIGH[kind]
    level = (low + (high - low) * units(bases, Ch.VALUE_BASE)) * (0.15 + (0.6 - 0.15) * units(bases, Ch.VALUE))
    clause = integers(bases, 0, len(cat.CONTRACT_CLAUSES) - 1, Ch.CLAUSES)
    clauses = _CLAUSES[(clause[:, None] + np.arange(3) * 5) % len(cat.CONTRACT_CLAUSES)].tolist()
    return {
        "vendor": vendor,
        "vendor_id": table(numbered("vendor", vendor + 1)),
        "vendor_name": table([world.vendor_name(v) for v in vendor.tolist()]),
        "auto_renew": units(bases, Ch.AUTO_RENEW) < 0.55,
        "type": _chosen(_CONTRACT_TYPES, _CONTRACT_TYPE_COUNT, kind, draws(bases, Ch.CONTRACT_TYPE, 0)),
        "annual": np.rint(level * 100).astype(np.int64) // 100 * 100,
        "sla_base": units(bases, Ch.SLA_BASE),
        "clauses": clauses,
        "notice": _NOTICE[(draws(bases, Ch.NOTICE, 0) % np.uint64(3)).astype(np.int64)],
        "payment_terms": choices(_PAYMENT_TERMS, bases, Ch.TERMS_PAY),
        "objective": integers(bases, 0, len(_OBJECTIVES) - 1, Ch.SLA + 10),
    }


def _sla_metrics(bases: Any, ticks: I64, compliance: F64, first: I64) -> list[list[gen.Item]]:
    """`World._sla_metrics` per element: three objectives and this month's measurements."""
    measured: list[Any] = []
    for i in range(3):
        objective = (first + i * 2) % len(_OBJECTIVES)
        target = _OBJECTIVE_TARGET[objective]
        slack = (compliance - 90) / 100 + 0.02 * drifts(bases, Ch.SLA + 20 + i, ticks)
        share = np.minimum(100.0, target + slack * (100 - target + 5) * 2)
        other = np.maximum(0.1, target * (1 - slack * 2))
        actual = py_round(np.where(_OBJECTIVE_IS_SHARE[objective], share, other), 2)
        metric, unit = _OBJECTIVE_METRIC[objective].tolist(), _OBJECTIVE_UNIT[objective].tolist()
        measured.append(zip(metric, target.tolist(), actual.tolist(), unit, strict=True))
    return [
        [{"metric": m, "target": t, "actual": a, "unit": u} for m, t, a, u in row]
        for row in zip(*measured, strict=True)
    ]


def contracts(fields: ItemFields, index: I64, ticks: I64, parity: I64) -> ItemTable:
    """`World._contract` over arrays."""
    columns = fields.columns
    const = fields.const("contracts")
    bases = fields.bases["contracts"][index]
    today, end, _ = columns._contract_end(index, ticks)
    start, _, _ = columns._agreement("contracts", index, today)
    days_left = end - today
    status = np.where(
        days_left <= 0, "Expired", np.where(days_left <= rules.EXPIRING_WITHIN_DAYS, "Expiring Soon", "Active")
    )
    auto_renew = const["auto_renew"][index]
    renewal = np.where(auto_renew, "auto-renew", np.where(status != "Active", "expiring", "manual"))
    vendor = const["vendor"][index]
    outage = scenario_intensity(fields.generation, "vendor-outage", ticks, vendor)
    level = 86 + 12 * const["sla_base"][index] + 2 * drifts(bases, Ch.SLA, ticks) - 30 * outage
    compliance = np.minimum(100.0, np.maximum(0.0, level))
    sla = with_parity(np.rint(compliance * 100).astype(np.int64), parity, 0, 10_000) / 100
    term_days = columns._const("contracts", "term_days", index).astype(np.int64)
    contract_type = const["type"][index].tolist()
    clauses = const["clauses"]
    by_field = {
        "id": fields.ids("contracts", index),
        "vendorId": const["vendor_id"][index].tolist(),
        "vendorName": const["vendor_name"][index].tolist(),
        "type": contract_type,
        "value": (const["annual"][index] * term_days // 365 / 100).tolist(),
        "startDate": iso_days(start),
        "endDate": iso_days(end),
        "autoRenew": auto_renew.tolist(),
        "noticePeriod": const["notice"][index].tolist(),
        "status": status.tolist(),
        "lastUpdated": stamps(fields.world, ticks),
        "serviceType": contract_type,
        "slaCompliance": sla.tolist(),
        "renewalStatus": renewal.tolist(),
        "paymentTerms": const["payment_terms"][index].tolist(),
        "slaMetrics": _sla_metrics(bases, ticks, compliance, const["objective"][index]),
        "terms": [list(clauses[i]) for i in index.tolist()],
    }
    return by_field, columns._contract_next(index, ticks)
