"""Every field of each entity's items over arrays of (item index, build tick): the builders of `builders.py`
written over numpy arrays, one column per field in the item's key order, and the tick each build's dates
change it next (`NEVER` for none).

The quantities the KPIs add up come from `columns.py`; the item's other constants are drawn here once per
world with the array randomness, and the per-tick fields with it for all elements at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

import catalogue as cat
import prism.simulation.generation as gen
import rules
from prism.simulation import spend_fields
from prism.simulation.columns import Columns, _client_profile, _client_term
from prism.simulation.randomness import F64, I64, draws, drifts, integers, units
from prism.simulation.texts import (
    Texts,
    choices,
    companies,
    email_locals,
    full_names,
    iso_days,
    numbered,
    people,
    phones,
    stamps,
    table,
)
from prism.simulation.timeline import pct, py_round
from rules import EntityKind

Ch = gen.Ch
# Each field's values, one per element, in the order of the item's keys; and when each build changes next.
Table = dict[str, Any]
ItemTable = tuple[Table, I64]

_PRODUCTS = cat.SOFTWARE_PRODUCTS
_PRODUCT_VENDOR = table([p.vendor for p in _PRODUCTS])
_PRODUCT_NAME = table([p.product for p in _PRODUCTS])
_PRODUCT_TYPE = table([p.license_type for p in _PRODUCTS])
_PRODUCT_PRICE = np.array([gen.cents(p.annual_price) for p in _PRODUCTS], dtype=np.int64)
_COMPLIANCE = table(["Compliant", "At Risk", "Over-allocated"])
_TIERS = table(["Standard", "Premium", "Enterprise"])
_STAGES = table([*rules.OPEN_STAGES, "Closed Won", "Closed Lost"])
_TLDS = table(cat.TOP_LEVEL_DOMAINS)
_SOURCES = table(cat.LEAD_SOURCES)


def money(cents: I64) -> F64:
    """`money` over arrays."""
    result: F64 = cents / 100
    return result


def pick(options: Texts, position: npt.NDArray[Any]) -> list[Any]:
    """The options at the positions, as a column."""
    result: list[Any] = options[position].tolist()
    return result


class ItemFields:
    """The fields of one world's items over arrays, for every entity."""

    def __init__(self, columns: Columns) -> None:
        self.columns = columns
        self.world = columns.world
        self.generation = columns.generation
        self.calendar = columns.calendar
        self.bases = columns.bases
        self.seed = self.world.seed
        self._constants: dict[EntityKind, dict[str, Any]] = {}
        self._ids: dict[EntityKind, Texts] = {}
        self._client_salt = self.seed % 9973
        self._lead_salt = (self.seed >> 7) % 9973 + 1
        self._tables: dict[EntityKind, Callable[[I64, I64, I64], ItemTable]] = {
            "clients": self._clients,
            "licenses": self._licenses,
            "leads": self._leads,
            "technicians": self._technicians,
            "departments": lambda index, ticks, parity: spend_fields.departments(self, index, ticks, parity),
            "vendors": lambda index, ticks, parity: spend_fields.vendors(self, index, ticks, parity),
            "contracts": lambda index, ticks, parity: spend_fields.contracts(self, index, ticks, parity),
        }
        self._drawn: dict[EntityKind, Callable[[], dict[str, Any]]] = {
            "technicians": self._technician_constants,
            "departments": lambda: spend_fields.department_constants(self),
            "vendors": lambda: spend_fields.vendor_constants(self),
            "contracts": lambda: spend_fields.contract_constants(self),
        }

    def table(self, kind: EntityKind, index: I64, ticks: I64, parity: I64) -> ItemTable:
        """The fields of the items built at the ticks (with the change parity there), and their next change."""
        return self._tables[kind](index, ticks, parity)

    def ids(self, kind: EntityKind, index: I64) -> list[str]:
        """Ids of the items of an entity whose items are never replaced (`{prefix}-{index + 1}`), made once."""
        known = self._ids.get(kind)
        if known is None:
            known = self._ids[kind] = table(numbered(gen.ID_PREFIX[kind], np.arange(1, self.columns.counts[kind] + 1)))
        result: list[str] = known[index].tolist()
        return result

    def const(self, kind: EntityKind) -> dict[str, Any]:
        """The kind's per-item constants, drawn on first use."""
        constants = self._constants.get(kind)
        if constants is None:
            constants = self._constants[kind] = self._drawn[kind]()
        return constants

    # --- clients ------------------------------------------------------------------------------------------

    def _clients(self, index: I64, ticks: I64, parity: I64) -> ItemTable:
        columns = self.columns
        cycles = columns._cycles("clients", index, ticks)
        fields = columns._client_fields(index, ticks, parity, cycles)
        revenue, costs, margin = fields["revenue"], fields["costs"], fields["marginPercentage"]
        tier = columns._company_constants("clients", index, cycles.serial, _client_profile)[:, 3].astype(np.int64)
        term = columns._company_constants("clients", index, cycles.serial, _client_term)
        length, phase = term[:, 0].astype(np.int64), term[:, 1].astype(np.int64)
        day = self.calendar.day(ticks) + phase
        end = day - day % length - phase + length
        names, industries, _ = companies(cycles.serial, self._client_salt)
        annual_revenue = money(revenue * 12).tolist()
        monthly = money(revenue).tolist()
        margins = margin.tolist()
        by_field = {
            "id": numbered("client", cycles.serial),
            "name": names.tolist(),
            "industry": industries.tolist(),
            "employeeCount": fields["employees"].tolist(),
            "annualRevenue": annual_revenue,
            "annualCosts": money(costs * 12).tolist(),
            "contractValue": annual_revenue,
            "contractType": pick(_TIERS, tier),
            "status": [rules.client_status(m) for m in margins],
            "monthlyRecurring": monthly,
            "churnRisk": [rules.churn_risk(m) for m in margins],
            "lastUpdated": stamps(self.world, ticks),
            "marginPercentage": margins,
            "monthlyRevenue": monthly,
            "monthlyCosts": money(costs).tolist(),
            "contractEndDate": iso_days(end),
        }
        return by_field, columns._client_next(index, ticks)

    # --- licenses -----------------------------------------------------------------------------------------

    def _licenses(self, index: I64, ticks: I64, parity: I64) -> ItemTable:
        columns = self.columns
        product = columns._const("licenses", "product", index)
        fields = columns._license_fields(index, ticks, parity)
        total, used = fields["totalLicenses"], fields["usedLicenses"]
        available = total - used
        price = _PRODUCT_PRICE[product]
        annual = total * price
        utilization = pct(used, total)
        compliance = np.where(used >= total, 2, (utilization >= rules.SEAT_PRESSURE).astype(np.int64))
        renewal = columns._license_renewal(index, ticks)
        annual_cost = money(annual).tolist()
        by_field = {
            "id": self.ids("licenses", index),
            "vendor": pick(_PRODUCT_VENDOR, product),
            "product": pick(_PRODUCT_NAME, product),
            "licenseType": pick(_PRODUCT_TYPE, product),
            "totalLicenses": total.tolist(),
            "usedLicenses": used.tolist(),
            "availableLicenses": available.tolist(),
            "costPerLicense": money(price).tolist(),
            "totalCost": annual_cost,
            "renewalDate": iso_days(renewal),
            "complianceStatus": pick(_COMPLIANCE, compliance),
            "utilizationRate": utilization.tolist(),
            "lastUpdated": stamps(self.world, ticks),
            "monthlyCost": py_round(annual / 1200, 2).tolist(),
            "annualCost": annual_cost,
            "potentialSavings": py_round(available * price / 1200, 2).tolist(),
        }
        return by_field, columns.calendar.next_after(ticks, renewal)

    # --- leads --------------------------------------------------------------------------------------------

    def _leads(self, index: I64, ticks: I64, parity: I64) -> ItemTable:
        columns = self.columns
        stages = columns._lead_stages(index, ticks)
        cycles, company, _, upcoming = stages
        fields = columns._lead_fields(index, ticks, parity, stages)
        bases = cycles.bases
        stage = fields["stage"]
        is_open = fields["open"]
        shown = np.where(is_open, stage, np.where(company[:, 3] > 0, 4, 5))
        names, industries, domains = companies(cycles.serial, self._lead_salt)
        first, last = people(bases, Ch.CONTACT_FIRST, Ch.CONTACT_LAST)
        emails = email_locals(first, last) + "@" + domains + choices(_TLDS, bases, Ch.PHONE + 1)
        started = self.calendar.day(cycles.start)
        close = started + integers(bases, 21, 120, Ch.CLOSE)
        last_contact = self.calendar.day(ticks) - integers(bases, 0, 6, Ch.LAST_CONTACT, ticks)
        by_field = {
            "id": numbered("lead", cycles.serial),
            "companyName": names.tolist(),
            "contactName": full_names(first, last).tolist(),
            "email": emails.tolist(),
            "phone": phones(bases, Ch.PHONE).tolist(),
            "stage": pick(_STAGES, shown),
            "value": fields["value"].tolist(),
            "probability": fields["stageProbability"].tolist(),
            "expectedCloseDate": iso_days(close),
            "source": choices(_SOURCES, bases, Ch.SOURCE).tolist(),
            "industry": industries.tolist(),
            "employeeCount": company[:, 1].astype(np.int64).tolist(),
            "lastContact": iso_days(last_contact),
            "lastUpdated": stamps(self.world, ticks),
        }
        return by_field, upcoming

    # --- technicians --------------------------------------------------------------------------------------

    def _technician_constants(self) -> dict[str, Any]:
        count = self.columns.counts["technicians"]
        bases = self.bases["technicians"]
        roles = cat.TECHNICIAN_ROLES
        band = (np.arange(count, dtype=np.int64) * 7 + self.seed) % len(roles)
        skill_draw = draws(bases, Ch.SKILL, 0).tolist()
        unit_rate = units(bases, Ch.RATE).tolist()
        extra_cert = integers(bases, 0, 1, Ch.CERTS).tolist()
        cert_draw = draws(bases, Ch.CERTS + 1, 0).tolist()
        rows = []
        for b, s, u, e, c in zip(band.tolist(), skill_draw, unit_rate, extra_cert, cert_draw, strict=True):
            role = roles[b]
            skill = tuple(role.rates)[s % len(role.rates)]
            low, high = role.rates[skill]
            extra = cat.SKILL_ORDER.index(skill)
            certs = role.certifications
            start = c % len(certs)
            chosen = [certs[(start + i) % len(certs)] for i in range(min(len(certs), 1 + extra + e))]
            rows.append((role.role, round((low + (high - low) * u) * 4) / 4, skill, extra, chosen))
        first, last = people(bases, Ch.NAME_A, Ch.NAME_B)
        return {
            "name": full_names(first, last),
            "role": table([row[0] for row in rows]),
            "rate": np.array([row[1] for row in rows], dtype=np.float64),
            "skill": table([row[2] for row in rows]),
            "extra": np.array([row[3] for row in rows], dtype=np.int64),
            "certifications": [row[4] for row in rows],
        }

    def _technicians(self, index: I64, ticks: I64, parity: I64) -> ItemTable:
        columns = self.columns
        const = self.const("technicians")
        bases = self.bases["technicians"][index]
        fields = columns._technician_fields(index, ticks, parity)
        billable, total, on_leave, share = (fields[n] for n in ("billableHours", "totalHours", "on_leave", "share"))
        utilization = pct(billable, total)
        projects = np.rint(1 + 4 * share + 1.5 * drifts(bases, Ch.PROJECTS, ticks)).astype(np.int64)
        projects = np.maximum(0, np.minimum(8, projects))
        busy = (utilization >= 85) | (projects >= 5)
        status = np.where(on_leave, "On Leave", np.where(busy, "Busy", "Available"))
        extra = const["extra"][index]
        efficiency = 78 + 6 * extra + 5 * drifts(bases, Ch.EFFICIENCY, ticks)
        utilization_ = utilization.tolist()
        certifications = const["certifications"]
        by_field = {
            "id": self.ids("technicians", index),
            "name": const["name"][index].tolist(),
            "role": const["role"][index].tolist(),
            "hourlyRate": const["rate"][index].tolist(),
            "utilization": utilization_,
            "billableHours": billable.tolist(),
            "totalHours": total.tolist(),
            "efficiency": py_round(np.minimum(99.5, np.maximum(60.0, efficiency)), 2).tolist(),
            "certifications": [list(certifications[i]) for i in index.tolist()],
            "status": status.tolist(),
            "lastUpdated": stamps(self.world, ticks),
            "utilizationRate": utilization_,
            "skillLevel": const["skill"][index].tolist(),
            "activeProjects": np.where(on_leave, 0, projects).tolist(),
        }
        return by_field, columns._technician_next(index, ticks)
