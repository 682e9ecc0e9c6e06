"""The quantities behind the dashboard's KPIs, for many items at many ticks at once.

For each entity: the item's constants as arrays (drawn once per world, or once per company for the kinds
whose items are replaced), the tick its current build dates from (its last chance change, then every date it
crossed since, as `World.item_at` steps through them), and from that tick the fields the KPIs add up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

import catalogue as cat
import prism.simulation.generation as gen
import rules
from prism.simulation.builders import World
from prism.simulation.randomness import F64, I64, U64, draws, drifts, integers, successors, units
from prism.simulation.timeline import (
    NEVER,
    Calendar,
    Schedule,
    pull_forward,
    py_exp,
    py_round,
    scenario_intensity,
    with_parity,
)
from rules import EntityKind

Ch = gen.Ch
Fields = dict[str, npt.NDArray[Any]]
# Companies (a slot's client or lead of one cycle) whose constants are kept between calls, per kind.
_COMPANIES_KEPT = 200_000
_NO_COMPANIES = (np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float64))


@dataclass(frozen=True, slots=True)
class Cycles:
    """The tenure (clients) or lifecycle (leads) of the slots' items at some ticks."""

    cycle: I64
    start: I64
    end: I64
    serial: I64
    bases: U64


class Columns:
    """KPI quantities of one world's items, over arrays of (item index, tick)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.generation = world.generation
        self.calendar = Calendar(world.generation)
        self.schedule = Schedule(world)
        self.counts = self.schedule.counts
        self.bases = self.schedule.bases
        self._companies: dict[tuple[EntityKind, str], tuple[I64, F64]] = {}
        self._constants = {kind: self._item_constants(kind) for kind in gen.ENTITY_KINDS}
        self._next: dict[EntityKind, Callable[[I64, I64], I64]] = {
            "clients": self._client_next,
            "licenses": self._license_next,
            "leads": self._lead_next,
            "technicians": self._technician_next,
            "departments": self._department_next,
            "vendors": self._vendor_next,
            "contracts": self._contract_next,
        }
        self._fields: dict[EntityKind, Callable[[I64, I64, I64], Fields]] = {
            "clients": self._client_fields,
            "licenses": self._license_fields,
            "leads": self._lead_fields,
            "technicians": self._technician_fields,
            "departments": self._department_fields,
            "vendors": self._vendor_fields,
            "contracts": self._contract_fields,
        }

    # --- shared -------------------------------------------------------------------------------------------

    def built_at(self, kind: EntityKind, index: I64, ticks: I64) -> tuple[I64, I64]:
        """The tick of the build each item shows at each tick (`World.item_at`: its last chance change, then each
        date it crossed since), and the item's change parity there."""
        built, parity, _ = self.built_and_stepped(kind, index, ticks)
        return built, parity

    def built_and_stepped(self, kind: EntityKind, index: I64, ticks: I64) -> tuple[I64, I64, npt.NDArray[np.bool_]]:
        """`built_at`, and whether each build is a date's (True) rather than the last chance change's."""
        built, parity = self.schedule.latest(kind, index, ticks)
        stepped = np.zeros(built.size, dtype=np.bool_)
        pending = self._may_step(kind, index, built, ticks)
        while pending.size:
            upcoming = self._next[kind](index[pending], built[pending])
            due = upcoming <= ticks[pending]
            pending = pending[due]
            built[pending] = upcoming[due]
            stepped[pending] = True
        if stepped.any():
            parity[stepped] = self.schedule.latest(kind, index[stepped], built[stepped])[1]
        return built, parity, stepped

    def _may_step(self, kind: EntityKind, index: I64, built: I64, ticks: I64) -> I64:
        """The elements whose build may be followed by a date before their tick (the others cannot step).

        Dates change an item at the start of a day, so only a midnight between the build and the tick can; a
        client also leaves at the end of its tenure, and a lead moves on at its stage boundaries (any tick).
        """
        if kind == "leads":
            return np.flatnonzero(built < ticks)
        crossed = self.calendar.day(built) < self.calendar.day(ticks)
        if kind == "clients":
            window = self._const(kind, "window", index).astype(np.int64)
            offset = self._const(kind, "offset", index).astype(np.int64)
            crossed |= (built + offset) // window < (ticks + offset) // window
        return np.flatnonzero(crossed)

    def fields(self, kind: EntityKind, index: I64, ticks: I64) -> Fields:
        """The KPI fields of the items at the ticks (each as the item shows it then)."""
        built, parity = self.built_at(kind, index, ticks)
        return self._fields[kind](index, built, parity)

    def _item_constants(self, kind: EntityKind) -> dict[str, npt.NDArray[Any]]:
        return _CONSTANTS[kind](self.world, self.bases[kind], np.arange(self.counts[kind], dtype=np.int64))

    def _const(self, kind: EntityKind, name: str, index: I64) -> npt.NDArray[Any]:
        return self._constants[kind][name][index]

    def _cycles(self, kind: EntityKind, index: I64, ticks: I64) -> Cycles:
        """`World._cycle` and `World.serial` over arrays, with the randomness of each cycle's item."""
        window = self._const(kind, "window", index).astype(np.int64)
        offset = self._const(kind, "offset", index).astype(np.int64)
        cycle = (ticks + offset) // window
        start = cycle * window - offset
        turn = np.where(cycle >= 0, 2 * cycle, -2 * cycle - 1)
        serial = index + 1 + self.counts[kind] * turn
        return Cycles(cycle, start, start + window, serial, successors(self.bases[kind][index], serial))

    def _company_constants(self, kind: EntityKind, index: I64, serials: I64, draw: Callable[[U64], F64]) -> F64:
        """Per-company constants (one row per element), drawn once per company from its randomness."""
        known_serials, known_rows = self._companies.get((kind, draw.__name__), _NO_COMPANIES)
        position = np.minimum(np.searchsorted(known_serials, serials), max(0, known_serials.size - 1))
        found = known_serials[position] == serials if known_serials.size else np.zeros(serials.shape, np.bool_)
        if not found.all():
            new = np.unique(serials[~found])
            rows = draw(successors(self.bases[kind][(new - 1) % self.counts[kind]], new))
            merged = np.concatenate([known_serials, new])
            table = np.concatenate([known_rows.reshape(-1, rows.shape[1]), rows])
            order = np.argsort(merged, kind="stable")
            if merged.size > _COMPANIES_KEPT:  # forget the others rather than grow without bound
                order = order[np.isin(merged[order], serials)]
            known_serials, known_rows = merged[order], table[order]
            self._companies[kind, draw.__name__] = (known_serials, known_rows)
            position = np.searchsorted(known_serials, serials)
        result: F64 = known_rows[position]
        return result

    def _today(self, ticks: I64) -> I64:
        return self.calendar.day(ticks)

    # --- clients ------------------------------------------------------------------------------------------

    def _client_next(self, index: I64, ticks: I64) -> I64:
        cycles = self._cycles("clients", index, ticks)
        term = self._company_constants("clients", index, cycles.serial, _client_term)
        length, phase = term[:, 0].astype(np.int64), term[:, 1].astype(np.int64)
        day = self._today(ticks) + phase
        end = day - day % length - phase + length
        return np.minimum(self.calendar.next_after(ticks, end), cycles.end)

    def _client_fields(self, index: I64, ticks: I64, parity: I64, cycles: Cycles | None = None) -> Fields:
        cycles = cycles or self._cycles("clients", index, ticks)
        company = self._company_constants("clients", index, cycles.serial, _client_profile)
        base_employees, per_seat_year, base_margin = company[:, 0], company[:, 1], company[:, 2]
        bases = cycles.bases
        employees = np.maximum(5, np.rint(base_employees * (1 + 0.03 * drifts(bases, Ch.HEADCOUNT, ticks))))
        revenue = np.rint(employees * per_seat_year / 12 * (1 + 0.04 * drifts(bases, Ch.REVENUE, ticks)) * 100)
        revenue = with_parity(np.maximum(revenue.astype(np.int64), 50_000), parity, 0, 1 << 62)
        squeeze = 0.13 * scenario_intensity(self.generation, "churn-wave", ticks)
        souring_ticks = self._const("clients", "souring", index).astype(np.int64)
        souring = 0.10 * np.minimum(1.0, np.maximum(0.0, (ticks - (cycles.end - souring_ticks)) / souring_ticks))
        margin = base_margin + 0.05 * drifts(bases, Ch.MARGIN, ticks) - squeeze - souring
        low = margin < 0.06
        if low.any():
            margin[low] = 0.06 * py_exp((margin[low] - 0.06) / 0.06)
        costs = np.rint(revenue / 100 * (1 - margin) * 100).astype(np.int64)
        margin_pct = py_round((revenue - costs) / revenue * 100, 2)
        return {
            "monthlyRecurring": revenue / 100,
            "marginPercentage": margin_pct,
            "employees": employees.astype(np.int64),
            "revenue": revenue,
            "costs": costs,
        }

    # --- licenses -----------------------------------------------------------------------------------------

    def _license_renewal(self, index: I64, ticks: I64) -> I64:
        phase = self._const("licenses", "renewal_phase", index).astype(np.int64)
        today = self._today(ticks)
        day = today + phase
        end = day - day % 365 - phase + 365
        return pull_forward(today, end, scenario_intensity(self.generation, "renewal-season", ticks))

    def _license_next(self, index: I64, ticks: I64) -> I64:
        return self.calendar.next_after(ticks, self._license_renewal(index, ticks))

    def _license_fields(self, index: I64, ticks: I64, parity: I64) -> Fields:
        const = self._constants["licenses"]
        seat_unit, base_seats = const["seat_unit"][index], const["base_seats"][index]
        block = (ticks + self.schedule.phases["licenses"][index] * 37) // 720
        bases = self.bases["licenses"][index]
        step = integers(bases, -2, 2, Ch.SEATS_STEP, block) * seat_unit
        total = np.maximum(seat_unit, base_seats + step)
        usage = np.minimum(1.0, np.maximum(0.2, const["base_usage"][index] + 0.05 * drifts(bases, Ch.USAGE, ticks)))
        used = with_parity(np.minimum(total, np.rint(total * usage).astype(np.int64)), parity, 0, total)
        return {"usedLicenses": used, "totalLicenses": total}

    # --- leads --------------------------------------------------------------------------------------------

    def _lead_stages(self, index: I64, ticks: I64) -> tuple[Cycles, F64, I64, I64]:
        """The cycle, the company's constants, the stage index, and the next stage boundary after each tick."""
        cycles = self._cycles("leads", index, ticks)
        company = self._company_constants("leads", index, cycles.serial, _lead_profile)
        furthest = company[:, 0].astype(np.int64)
        open_span = self._const("leads", "open_span", index).astype(np.int64)
        segment = np.maximum(1, open_span // furthest)
        boundaries = [np.where(s < furthest, cycles.start + segment * s, NEVER) for s in (1, 2, 3)]
        boundaries.append(cycles.start + open_span)
        stage = np.zeros(ticks.shape, dtype=np.int64)
        for boundary in boundaries:
            stage += boundary <= ticks
        upcoming = cycles.end
        for boundary in reversed(boundaries):
            upcoming = np.where(boundary > ticks, np.minimum(boundary, upcoming), upcoming)
        return cycles, company, stage, upcoming

    def _lead_next(self, index: I64, ticks: I64) -> I64:
        return self._lead_stages(index, ticks)[3]

    def _lead_fields(
        self, index: I64, ticks: I64, parity: I64, stages: tuple[Cycles, F64, I64, I64] | None = None
    ) -> Fields:
        cycles, company, stage, _ = stages or self._lead_stages(index, ticks)
        furthest, employees, rate = company[:, 0].astype(np.int64), company[:, 1], company[:, 2]
        value = np.rint(employees * rate * (1 + 0.03 * drifts(cycles.bases, Ch.VALUE + 1, ticks)) * 100)
        value = with_parity(np.maximum(value.astype(np.int64), 500_000), parity, 500_000, 1 << 62)
        is_open = stage < furthest
        low, high = _OPEN_LOW[np.minimum(stage, 3)], _OPEN_HIGH[np.minimum(stage, 3)]
        spread = np.where(is_open, high - low + 1, 1).astype(np.uint64)
        probability = (draws(cycles.bases, Ch.CLOSE + 100, stage) % spread).astype(np.int64) + low
        closed = np.where(company[:, 3] > 0, _WON_PROBABILITY, _LOST_PROBABILITY)
        return {
            "value": value / 100,
            "probability": np.where(is_open, probability, 0),
            "open": is_open,
            "stage": stage,
            "stageProbability": np.where(is_open, probability, closed),
        }

    # --- technicians --------------------------------------------------------------------------------------

    def _leave(self, bases: U64, today: I64) -> tuple[I64, I64]:
        """`World._leave` over arrays: the leave (first day, day after the last) holding today or next."""
        block = today // 45
        first = np.full(today.shape, -1, dtype=np.int64)
        end = np.full(today.shape, -1, dtype=np.int64)
        found = np.zeros(today.shape, dtype=np.bool_)
        for ahead in range(4):
            candidate = block + ahead
            starts = candidate * 45 + integers(bases, 0, 30, Ch.LEAVE_START, candidate)
            ends = starts + integers(bases, 2, 10, Ch.LEAVE_LENGTH, candidate)
            hit = ~found & (units(bases, Ch.LEAVE, candidate) < 0.25) & (ends > today)
            first, end = np.where(hit, starts, first), np.where(hit, ends, end)
            found |= hit
        far = (block + 4) * 45
        return np.where(found, first, far), np.where(found, end, far)

    def _technician_next(self, index: I64, ticks: I64) -> I64:
        bases = self.bases["technicians"][index]
        start, end = self._leave(bases, self._today(ticks))
        following, _ = self._leave(bases, end)
        return self.calendar.next_after(ticks, start, end, following)

    def _technician_fields(self, index: I64, ticks: I64, parity: I64) -> Fields:
        bases = self.bases["technicians"][index]
        today = self._today(ticks)
        start, end = self._leave(bases, today)
        on_leave = (start <= today) & (today < end)
        total = py_round(160 * (1 + 0.06 * drifts(bases, Ch.HOURS, ticks)), 1)
        total = np.where(on_leave, py_round(total * 0.6, 1), total)
        target = self._const("technicians", "utilization_target", index)
        share = np.minimum(0.98, np.maximum(0.3, target + 0.08 * drifts(bases, Ch.UTIL, ticks)))
        tenths = with_parity(np.rint(total * share * 10).astype(np.int64), parity, 0, 1 << 62)
        billable = np.minimum(tenths, np.rint(total * 10).astype(np.int64)) / 10
        return {"billableHours": billable, "totalHours": total, "on_leave": on_leave, "share": share}

    # --- departments --------------------------------------------------------------------------------------

    def _department_next(self, index: I64, ticks: I64) -> I64:
        month = self.calendar.month(self._today(ticks))
        return self.calendar.next_after(ticks, self.calendar.month_start(month + 1))

    def _department_fields(self, index: I64, ticks: I64, parity: I64) -> Fields:
        bases = self.bases["departments"][index]
        month = self.calendar.month(self._today(ticks))
        freeze = scenario_intensity(self.generation, "budget-freeze", ticks)
        pace = 0.86 + 0.22 * units(bases, Ch.PACE_MONTH, month)
        now_pace = (pace + 0.03 * drifts(bases, Ch.PACE, ticks)) * (1 - 0.25 * freeze)
        monthly_budget = self._const("departments", "monthly_budget", index)
        actual = with_parity(np.rint(monthly_budget / 100 * now_pace * 100).astype(np.int64), parity, 0, 1 << 62)
        return {"actualSpend": actual / 100, "actual": actual, "month": month}

    # --- vendors and contracts ----------------------------------------------------------------------------

    def _agreement(self, kind: EntityKind, index: I64, today: I64) -> tuple[I64, I64, I64]:
        """`World._agreement` over arrays: start and end of the current agreement, and the next cycle's start."""
        const = self._constants[kind]
        term, cycle, phase = const["term_days"][index], const["cycle"][index], const["phase"][index]
        day = today + phase
        start = day - day % cycle - phase
        return start, start + term, start + cycle

    def _vendor_next(self, index: I64, ticks: I64) -> I64:
        today = self._today(ticks)
        _, end, following = self._agreement("vendors", index, today)
        month_end = self.calendar.month_start(self.calendar.month(today) + 1)
        return self.calendar.next_after(ticks, end - 90, end, following, month_end)

    def _vendor_fields(self, index: I64, ticks: I64, parity: I64) -> Fields:
        bases = self.bases["vendors"][index]
        const = self._constants["vendors"]
        level = 0.88 + 0.1 * const["spend_unit"][index] + 0.02 * drifts(bases, Ch.SPEND + 1, ticks)
        spend = with_parity(np.rint(const["annual"][index] * level).astype(np.int64), parity, 0, 1 << 62)
        return {"totalSpend": spend / 100, "spend": spend}

    def _contract_end(self, index: I64, ticks: I64) -> tuple[I64, I64, I64]:
        today = self._today(ticks)
        _, end, following = self._agreement("contracts", index, today)
        end = pull_forward(today, end, scenario_intensity(self.generation, "renewal-season", ticks))
        return today, end, following

    def _contract_next(self, index: I64, ticks: I64) -> I64:
        _, end, following = self._contract_end(index, ticks)
        return self.calendar.next_after(ticks, end - 90, end, following)

    def _contract_fields(self, index: I64, ticks: I64, parity: I64) -> Fields:
        today, end, _ = self._contract_end(index, ticks)
        return {"active": end - today > 0}


# --- constants, drawn with the scalar randomness the item builders use ---------------------------------------

_OPEN_LOW = np.array([rules.STAGE_PROBABILITY[s][0] for s in rules.OPEN_STAGES], dtype=np.int64)
_OPEN_HIGH = np.array([rules.STAGE_PROBABILITY[s][1] for s in rules.OPEN_STAGES], dtype=np.int64)
# A closed stage allows one probability (its low and high are the same).
_WON_PROBABILITY = rules.STAGE_PROBABILITY["Closed Won"][0]
_LOST_PROBABILITY = rules.STAGE_PROBABILITY["Closed Lost"][0]


_TERM_DAYS = np.array([365, 730, 1095], dtype=np.int64)
_TIER_LOW = np.array([850, 1150, 1500], dtype=np.int64)  # Standard, Premium, Enterprise
_TIER_HIGH = np.array([1150, 1550, 2100], dtype=np.int64)


def _powers(base: float, exponents: F64) -> list[float]:
    # Python's float power, for the very bits the scalar builders get (numpy's may differ in the last one).
    return [base**e for e in exponents.tolist()]


def _client_term(bases: U64) -> F64:
    """Term length and phase of each company's contract (`World._client` and `_cycle_end`)."""
    length = _TERM_DAYS[(draws(bases, Ch.TERM, 0) % np.uint64(3)).astype(np.int64)]
    phase = (draws(bases, Ch.TERM_PHASE, 0) % length.astype(np.uint64)).astype(np.int64)
    return np.column_stack([length, phase]).astype(np.float64)


def _client_profile(bases: U64) -> F64:
    """Base head count, rate per seat and year, base margin and tier (0-2) of each client company."""
    base_employees = np.array([int(10 * p) for p in _powers(200, units(bases, Ch.SIZE))], dtype=np.int64)
    tier = (base_employees >= 60).astype(np.int64) + (base_employees >= 350) + (units(bases, Ch.TIER) < 0.15)
    tier = np.minimum(2, tier)
    low, high = _TIER_LOW[tier], _TIER_HIGH[tier]
    rate = low + (high - low) * units(bases, Ch.RATE)
    margin = np.array([0.11 + 0.30 * u**0.55 for u in units(bases, Ch.MARGIN_BASE).tolist()])
    return np.column_stack([base_employees, rate, margin, tier]).astype(np.float64)


def _lead_profile(bases: U64) -> F64:
    """Furthest stage, head count, value per head and whether it is won, of each lead company."""
    won = units(bases, Ch.OUTCOME) < 0.3
    furthest = np.where(won, 4, integers(bases, 1, 4, Ch.FURTHEST))
    employees = np.array([int(12 * p) for p in _powers(100, units(bases, Ch.SIZE))], dtype=np.int64)
    rate = 900 + (1900 - 900) * units(bases, Ch.VALUE)
    return np.column_stack([furthest, employees, rate, won]).astype(np.float64)


Constants = dict[str, npt.NDArray[Any]]
_PRODUCTS = cat.SOFTWARE_PRODUCTS
_PRODUCT_SEAT_UNIT = np.array([1 if p.license_type == "Concurrent" else 5 for p in _PRODUCTS], dtype=np.int64)
_PRODUCT_SEATS_HIGH = np.array([{"User": 400, "Device": 300, "Concurrent": 40}[p.license_type] for p in _PRODUCTS])


def _choose(bases: U64, channel: int, count: int) -> I64:
    """Positions drawn by `Rng.choice` among `count` options."""
    return (draws(bases, channel, 0) % np.uint64(count)).astype(np.int64)


def _clients(world: World, bases: U64, index: I64) -> Constants:
    window = integers(bases, *gen.CLIENT_TENURE_TICKS, Ch.TENURE)
    offset = (draws(bases, Ch.TENURE_PHASE, 0) % window.astype(np.uint64)).astype(np.int64)
    souring = np.trunc(window * gen.CLIENT_SOURING_SHARE).astype(np.int64)
    return {"window": window, "offset": offset, "souring": np.maximum(1, np.minimum(gen.CLIENT_SOURING_TICKS, souring))}


def _licenses(world: World, bases: U64, index: I64) -> Constants:
    """`license_plan` over arrays."""
    products = len(_PRODUCTS)
    product = np.where(index < products * 3, (index * 13 + world.seed) % products, _choose(bases, Ch.PRODUCT, products))
    seat_unit, high = _PRODUCT_SEAT_UNIT[product], _PRODUCT_SEATS_HIGH[product]
    crowd = np.array([u**1.6 for u in units(bases, Ch.SEATS_BASE).tolist()])
    base_seats = np.trunc(high * crowd / seat_unit).astype(np.int64) * seat_unit + seat_unit * 2
    return {
        "product": product,
        "seat_unit": seat_unit,
        "base_seats": np.maximum(seat_unit, base_seats),
        "base_usage": np.array([0.5 + 0.47 * u**0.7 for u in units(bases, Ch.USAGE_BASE).tolist()]),
        "renewal_phase": integers(bases, 0, 364, Ch.RENEWAL_PHASE),
    }


def _leads(world: World, bases: U64, index: I64) -> Constants:
    window = integers(bases, 480, 2880, Ch.WINDOW)
    offset = np.asarray(world._phases["leads"], dtype=np.int64).reshape(-1)[index] * 61 % window
    return {"window": window, "offset": offset, "open_span": np.trunc(window * 0.85).astype(np.int64)}


def _technicians(world: World, bases: U64, index: I64) -> Constants:
    return {"utilization_target": 0.55 + 0.35 * units(bases, Ch.UTIL_BASE)}


def _departments(world: World, bases: U64, index: I64) -> Constants:
    kinds = [cat.DEPARTMENTS[i % len(cat.DEPARTMENTS)] for i in index.tolist()]
    low, high = (np.array([k.employees[j] for k in kinds], dtype=np.int64) for j in (0, 1))
    employees = (draws(bases, Ch.SIZE, 0) % (high - low + 1).astype(np.uint64)).astype(np.int64) + low
    cost_low, cost_high = (np.array([k.monthly_cost_per_employee[j] for k in kinds], dtype=np.int64) for j in (0, 1))
    cost = cost_low + (cost_high - cost_low) * units(bases, Ch.BUDGET)
    budget = np.rint(employees * cost * 100).astype(np.int64) // 50_000 * 50_000
    return {"monthly_budget": np.maximum(50_000, budget)}


def _agreement_constants(bases: U64, term_days: I64) -> Constants:
    gap = np.where(units(bases, Ch.GAP) < 0.6, 0, integers(bases, 20, 90, Ch.GAP + 1))
    cycle = term_days + gap
    phase = (draws(bases, Ch.TERM_PHASE, 0) % cycle.astype(np.uint64)).astype(np.int64)
    return {"term_days": term_days, "cycle": cycle, "phase": phase}


def _vendors(world: World, bases: U64, index: I64) -> Constants:
    kind = (index + world.seed) % len(cat.VENDORS)
    low = np.array([k.annual_value[0] for k in cat.VENDORS], dtype=np.int64)[kind]
    high = np.array([k.annual_value[1] for k in cat.VENDORS], dtype=np.int64)[kind]
    annual = np.rint((low + (high - low) * units(bases, Ch.VALUE_BASE)) * 100).astype(np.int64) // 100 * 100
    return {
        "annual": annual,
        "spend_unit": units(bases, Ch.SPEND),
        **_agreement_constants(bases, integers(bases, 1, 3, Ch.TERM) * 365),
    }


def _contracts(world: World, bases: U64, index: I64) -> Constants:
    return _agreement_constants(bases, np.array([365, 730, 1095], dtype=np.int64)[_choose(bases, Ch.TERM, 3)])


_CONSTANTS: dict[EntityKind, Callable[[World, U64, I64], Constants]] = {
    "clients": _clients,
    "licenses": _licenses,
    "leads": _leads,
    "technicians": _technicians,
    "departments": _departments,
    "vendors": _vendors,
    "contracts": _contracts,
}
