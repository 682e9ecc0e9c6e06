"""Each entity's item at a change tick, as the JSON-ready dict the API serves (the fields, one entity after the
other, from the item's randomness and the generation's clock)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta

import catalogue as cat
import rules
from prism.simulation.generation import (
    CLIENT_SOURING_SHARE,
    CLIENT_SOURING_TICKS,
    HISTORY_MONTHS,
    Ch,
    Generation,
    Item,
    cents,
    company_name,
    day_start,
    days_in_month,
    department_name,
    domain_of,
    email_local,
    money,
    month_key,
    month_label,
    month_start,
    pct,
    person,
    phone,
    pull_forward,
    with_parity,
)
from prism.simulation.randomness import Rng
from prism.simulation.world import Built, WorldCore


def license_plan(seed: int, index: int, rng: Rng) -> tuple[cat.Product, int, int, float]:
    """What a license keeps for its life: its product, seat unit, base seat count and base usage share
    (`columns._licenses` draws the same over arrays)."""
    products = cat.SOFTWARE_PRODUCTS
    product = (
        products[(index * 13 + seed) % len(products)] if index < len(products) * 3 else rng.choice(products, Ch.PRODUCT)
    )
    seat_unit = 5 if product.license_type != "Concurrent" else 1
    high = {"User": 400, "Device": 300, "Concurrent": 40}[product.license_type]
    base_seats = max(seat_unit, int(high * rng.unit(Ch.SEATS_BASE) ** 1.6 / seat_unit) * seat_unit + seat_unit * 2)
    return product, seat_unit, base_seats, 0.5 + 0.47 * rng.unit(Ch.USAGE_BASE) ** 0.7


class World(WorldCore):
    """Builders of every entity for one generation: each item as the JSON-ready dict the API serves."""

    def __init__(self, generation: Generation) -> None:
        super().__init__(generation)
        self._builders: dict[str, Callable[[int, int], Built]] = {
            "clients": self._client,
            "licenses": self._license,
            "leads": self._lead,
            "technicians": self._technician,
            "departments": self._department,
            "vendors": self._vendor,
            "contracts": self._contract,
        }

    # --- clients ---------------------------------------------------------------------

    def _client(self, index: int, tick: int) -> Built:
        cycle, signed, leaves = self._cycle("clients", index, tick)
        serial = self.serial("clients", index, cycle)
        # Each tenure is a different company: its constants are drawn for the slot and the cycle.
        rng = self.rng("clients", index).successor(serial)
        moment, stamp = self._stamp(tick)
        name = company_name(serial - 1, self.seed % 9973)
        noun = next((n for n in cat.COMPANY_NOUNS if f" {n}" in name), "Solutions")
        base_employees = int(10 * 200 ** rng.unit(Ch.SIZE))
        employees = max(5, round(base_employees * (1 + 0.03 * rng.drift(Ch.HEADCOUNT, tick))))
        # Bigger clients buy richer tiers; some small ones buy up a tier.
        tier_rank = (base_employees >= 60) + (base_employees >= 350) + (rng.unit(Ch.TIER) < 0.15)
        tier = ("Standard", "Premium", "Enterprise")[min(2, tier_rank)]
        low, high = {"Standard": (850, 1150), "Premium": (1150, 1550), "Enterprise": (1500, 2100)}[tier]
        per_seat_year = rng.between(low, high, Ch.RATE)
        monthly_revenue = cents(employees * per_seat_year / 12 * (1 + 0.04 * rng.drift(Ch.REVENUE, tick)))
        monthly_revenue = with_parity(
            max(monthly_revenue, 50_000), self.change_parity("clients", index, tick), 0, 1 << 62
        )
        margin = self._client_margin(rng, tick, signed, leaves)
        monthly_costs = cents(monthly_revenue / 100 * (1 - margin))
        margin_pct = pct(monthly_revenue - monthly_costs, monthly_revenue)
        term_days = rng.choice((365, 730, 1095), Ch.TERM)
        end = self._cycle_end(rng, moment.date(), term_days, Ch.TERM_PHASE)
        item = {
            "id": f"client-{serial}",
            "name": name,
            "industry": cat.INDUSTRY_OF_NOUN[noun],
            "employeeCount": employees,
            "annualRevenue": money(monthly_revenue * 12),
            "annualCosts": money(monthly_costs * 12),
            "contractValue": money(monthly_revenue * 12),
            "contractType": tier,
            "status": rules.client_status(margin_pct),
            "monthlyRecurring": money(monthly_revenue),
            "churnRisk": rules.churn_risk(margin_pct),
            "lastUpdated": stamp,
            "marginPercentage": margin_pct,
            "monthlyRevenue": money(monthly_revenue),
            "monthlyCosts": money(monthly_costs),
            "contractEndDate": end.isoformat(),
        }
        date_change = self._date_change(tick, end)
        return Built(item, leaves if date_change is None else min(date_change, leaves))

    def _client_margin(self, rng: Rng, tick: int, signed: int, leaves: int) -> float:
        """A client's margin as a fraction: its own level, a slow drift, a churn wave, and souring before it leaves."""
        base = 0.11 + 0.30 * rng.unit(Ch.MARGIN_BASE) ** 0.55
        squeeze = 0.13 * self.generation.scenario_intensity("churn-wave", tick)
        souring_ticks = max(1, min(CLIENT_SOURING_TICKS, int((leaves - signed) * CLIENT_SOURING_SHARE)))
        souring = 0.10 * min(1.0, max(0.0, (tick - (leaves - souring_ticks)) / souring_ticks))
        margin = base + 0.05 * rng.drift(Ch.MARGIN, tick) - squeeze - souring
        # Deep squeezes bend smoothly towards zero instead of resting on a floor.
        return margin if margin >= 0.06 else 0.06 * math.exp((margin - 0.06) / 0.06)

    @staticmethod
    def _cycle_end(rng: Rng, today: date, length_days: int, channel: int) -> date:
        """End of the current term of a cycle repeating every `length_days` days (always after today)."""
        phase = rng.integer(0, length_days - 1, channel)
        day = today.toordinal() + phase
        return date.fromordinal(day - day % length_days - phase + length_days)

    # --- licenses --------------------------------------------------------------------

    def _license(self, index: int, tick: int) -> Built:
        rng = self.rng("licenses", index)
        moment, stamp = self._stamp(tick)
        product, seat_unit, base_seats, base_usage = license_plan(self.seed, index, rng)
        block = (tick + self._phase("licenses", index) * 37) // 720
        step = rng.integer(-2, 2, Ch.SEATS_STEP, block) * seat_unit
        total = max(seat_unit, base_seats + step)
        usage = min(1.0, max(0.2, base_usage + 0.05 * rng.drift(Ch.USAGE, tick)))
        used = with_parity(min(total, round(total * usage)), self.change_parity("licenses", index, tick), 0, total)
        available = total - used
        price = cents(product.annual_price)
        annual = total * price
        utilization = pct(used, total)
        compliance = (
            "Over-allocated" if used >= total else "At Risk" if utilization >= rules.SEAT_PRESSURE else "Compliant"
        )
        renewal = pull_forward(
            moment.date(),
            self._cycle_end(rng, moment.date(), 365, Ch.RENEWAL_PHASE),
            self.generation.scenario_intensity("renewal-season", tick),
        )
        item = {
            "id": f"license-{index + 1}",
            "vendor": product.vendor,
            "product": product.product,
            "licenseType": product.license_type,
            "totalLicenses": total,
            "usedLicenses": used,
            "availableLicenses": available,
            "costPerLicense": money(price),
            "totalCost": money(annual),
            "renewalDate": renewal.isoformat(),
            "complianceStatus": compliance,
            "utilizationRate": utilization,
            "lastUpdated": stamp,
            "monthlyCost": round(annual / 1200, 2),
            "annualCost": money(annual),
            "potentialSavings": round(available * price / 1200, 2),
        }
        return Built(item, self._date_change(tick, renewal))

    # --- leads -----------------------------------------------------------------------

    def _lead(self, index: int, tick: int) -> Built:
        cycle, start_tick, ends = self._cycle("leads", index, tick)
        window = ends - start_tick
        serial = self.serial("leads", index, cycle)
        rng = self.rng("leads", index).successor(serial)
        won = rng.unit(Ch.OUTCOME) < 0.3
        furthest = 4 if won else rng.integer(1, 4, Ch.FURTHEST)
        closed: rules.LeadStage = "Closed Won" if won else "Closed Lost"
        stages = (*rules.OPEN_STAGES[:furthest], closed)
        open_span = int(window * 0.85)
        segment = max(1, open_span // furthest)
        boundaries = [start_tick + segment * s for s in range(1, furthest)] + [start_tick + open_span, ends]
        stage_index = sum(1 for b in boundaries[:-1] if b <= tick)
        stage = stages[stage_index]
        next_change = next((b for b in boundaries if b > tick), None)

        moment, stamp = self._stamp(tick)
        started = self.generation.time_of(start_tick).date()
        company = company_name(serial - 1, (self.seed >> 7) % 9973 + 1)
        noun = next((n for n in cat.COMPANY_NOUNS if f" {n}" in company), "Solutions")
        first, last = person(rng, Ch.CONTACT_FIRST, Ch.CONTACT_LAST)
        domain = domain_of(company, rng.choice(cat.TOP_LEVEL_DOMAINS, Ch.PHONE + 1))
        employees = int(12 * 100 ** rng.unit(Ch.SIZE))
        value = cents(employees * rng.between(900, 1900, Ch.VALUE) * (1 + 0.03 * rng.drift(Ch.VALUE + 1, tick)))
        value = with_parity(max(value, 500_000), self.change_parity("leads", index, tick), 500_000, 1 << 62)
        low, high = rules.STAGE_PROBABILITY[stage]
        probability = rng.integer(low, high, Ch.CLOSE + 100, stage_index)
        close = started + timedelta(days=rng.integer(21, 120, Ch.CLOSE))
        last_contact = moment.date() - timedelta(days=rng.integer(0, 6, Ch.LAST_CONTACT, tick))
        item = {
            "id": f"lead-{serial}",
            "companyName": company,
            "contactName": f"{first} {last}",
            "email": f"{email_local(first, last)}@{domain}",
            "phone": phone(rng, Ch.PHONE),
            "stage": stage,
            "value": money(value),
            "probability": probability,
            "expectedCloseDate": close.isoformat(),
            "source": rng.choice(cat.LEAD_SOURCES, Ch.SOURCE),
            "industry": cat.INDUSTRY_OF_NOUN[noun],
            "employeeCount": employees,
            "lastContact": last_contact.isoformat(),
            "lastUpdated": stamp,
        }
        return Built(item, next_change)

    # --- technicians -----------------------------------------------------------------

    def _technician(self, index: int, tick: int) -> Built:
        rng = self.rng("technicians", index)
        moment, stamp = self._stamp(tick)
        band = cat.TECHNICIAN_ROLES[(index * 7 + self.seed) % len(cat.TECHNICIAN_ROLES)]
        levels = tuple(band.rates)
        skill = rng.choice(levels, Ch.SKILL)
        low, high = band.rates[skill]
        rate = round(rng.between(low, high, Ch.RATE) * 4) / 4
        extra = cat.SKILL_ORDER.index(skill)
        count = min(len(band.certifications), 1 + extra + rng.integer(0, 1, Ch.CERTS))
        start = rng.integer(0, len(band.certifications) - 1, Ch.CERTS + 1)
        certs = [band.certifications[(start + i) % len(band.certifications)] for i in range(count)]
        today = moment.date()
        leave_start, leave_end = self._leave(rng, today)
        on_leave = leave_start <= today < leave_end
        total_hours = round(160 * (1 + 0.06 * rng.drift(Ch.HOURS, tick)), 1)
        if on_leave:
            total_hours = round(total_hours * 0.6, 1)
        utilization_target = 0.55 + 0.35 * rng.unit(Ch.UTIL_BASE)
        share = min(0.98, max(0.3, utilization_target + 0.08 * rng.drift(Ch.UTIL, tick)))
        tenths = with_parity(
            round(total_hours * share * 10), self.change_parity("technicians", index, tick), 0, 1 << 62
        )
        billable = min(tenths, round(total_hours * 10)) / 10
        utilization = pct(billable, total_hours)
        projects = max(0, min(8, round(1 + 4 * share + 1.5 * rng.drift(Ch.PROJECTS, tick))))
        status = "On Leave" if on_leave else "Busy" if utilization >= 85 or projects >= 5 else "Available"
        first, last = person(rng, Ch.NAME_A, Ch.NAME_B)
        item = {
            "id": f"tech-{index + 1}",
            "name": f"{first} {last}",
            "role": band.role,
            "hourlyRate": rate,
            "utilization": utilization,
            "billableHours": billable,
            "totalHours": total_hours,
            "efficiency": round(min(99.5, max(60.0, 78 + 6 * extra + 5 * rng.drift(Ch.EFFICIENCY, tick))), 2),
            "certifications": certs,
            "status": status,
            "lastUpdated": stamp,
            "utilizationRate": utilization,
            "skillLevel": skill,
            "activeProjects": 0 if on_leave else projects,
        }
        return Built(item, self._date_change(tick, leave_start, leave_end, self._leave(rng, leave_end)[0]))

    @staticmethod
    def _leave(rng: Rng, today: date) -> tuple[date, date]:
        """The leave (first day, day after the last) of the 45-day block holding today, or the next one."""
        block = today.toordinal() // 45
        for candidate in (block, block + 1, block + 2, block + 3):
            if rng.unit(Ch.LEAVE, candidate) < 0.25:
                first = candidate * 45 + rng.integer(0, 30, Ch.LEAVE_START, candidate)
                end = first + rng.integer(2, 10, Ch.LEAVE_LENGTH, candidate)
                if end > today.toordinal():
                    return date.fromordinal(first), date.fromordinal(end)
        far = date.fromordinal((block + 4) * 45)
        return far, far

    # --- departments -----------------------------------------------------------------

    def _department(self, index: int, tick: int) -> Built:
        rng = self.rng("departments", index)
        moment, stamp = self._stamp(tick)
        kind = cat.DEPARTMENTS[index % len(cat.DEPARTMENTS)]
        employees = rng.integer(*kind.employees, Ch.SIZE)
        monthly_budget = max(
            50_000, cents(employees * rng.between(*kind.monthly_cost_per_employee, Ch.BUDGET)) // 50_000 * 50_000
        )
        today = moment.date()
        month = month_key(today)
        freeze = self.generation.scenario_intensity("budget-freeze", tick)

        def pace(month_key: int) -> float:
            return 0.86 + 0.22 * rng.unit(Ch.PACE_MONTH, month_key)

        now_pace = (pace(month) + 0.03 * rng.drift(Ch.PACE, tick)) * (1 - 0.25 * freeze)
        actual = cents(monthly_budget / 100 * now_pace)
        actual = with_parity(actual, self.change_parity("departments", index, tick), 0, 1 << 62)
        # Eleven closed months feed the year to date; the item shows the last HISTORY_MONTHS of them.
        history = [(m, cents(monthly_budget / 100 * pace(m))) for m in range(month - 11, month)]
        history.append((month, actual))
        elapsed = (moment - day_start(month_start(month))).total_seconds() / (86_400 * days_in_month(month))
        year_start = today.year * 12
        spent = sum(amount for m, amount in history[:-1] if m >= year_start) + round(actual * elapsed)
        budget = monthly_budget * 12
        categories = self._split(rng, actual, kind.categories, month)
        variance = monthly_budget - actual
        previous = history[-2][1]
        trend = "up" if actual > previous * 1.05 else "down" if actual < previous * 0.95 else "stable"
        first, last = person(rng, Ch.MANAGER_FIRST, Ch.MANAGER_LAST)
        item = {
            "id": f"dept-{index + 1}",
            "name": department_name(index),
            "budget": money(budget),
            "spent": money(spent),
            "remaining": money(budget - spent),
            "employeeCount": employees,
            "avgCostPerEmployee": round(spent / 100 / employees, 2),
            "topExpenseCategory": max(categories, key=lambda c: c["spend"])["name"],
            "lastUpdated": stamp,
            "monthlyBudget": money(monthly_budget),
            "actualSpend": money(actual),
            "variance": money(variance),
            "variancePercentage": pct(variance, monthly_budget),
            "trend": trend,
            "manager": f"{first} {last}",
            "categories": categories,
            "historicalSpend": [{"month": month_label(m), "amount": money(a)} for m, a in history[-HISTORY_MONTHS:]],
        }
        return Built(item, self._date_change(tick, month_start(month + 1)))

    @staticmethod
    def _split(rng: Rng, total_cents: int, names: tuple[str, ...], month: int) -> list[Item]:
        """Share a month's spend among categories, in cents that add up exactly."""
        weights = [(len(names) - i) * (0.75 + 0.5 * rng.unit(Ch.WEIGHT + i, month)) for i in range(len(names))]
        scale = total_cents / sum(weights)
        shares = [int(w * scale) for w in weights]
        shares[0] += total_cents - sum(shares)
        return [{"name": n, "spend": money(s)} for n, s in zip(names, shares, strict=True)]

    # --- vendors ---------------------------------------------------------------------

    def _agreement(self, rng: Rng, today: date, term_days: int) -> tuple[date, date, date]:
        """Start and end of the current agreement, and when the cycle after it begins."""
        # Most agreements renew on the day; some lapse for a while before a new term starts.
        gap = 0 if rng.unit(Ch.GAP) < 0.6 else rng.integer(20, 90, Ch.GAP + 1)
        cycle = term_days + gap
        phase = rng.integer(0, cycle - 1, Ch.TERM_PHASE)
        day = today.toordinal() + phase
        start = day - day % cycle - phase
        return date.fromordinal(start), date.fromordinal(start + term_days), date.fromordinal(start + cycle)

    def vendor_kind(self, index: int) -> cat.VendorKind:
        """What vendor-N is (stable for the generation)."""
        return cat.VENDORS[(index + self.seed) % len(cat.VENDORS)]

    def vendor_name(self, index: int) -> str:
        """Name of vendor-N, unique among vendors."""
        kind = self.vendor_kind(index)
        round_ = index // len(cat.VENDORS)
        return (
            kind.name
            if round_ == 0
            else f"{kind.name} ({cat.REGIONS[(round_ - 1) % len(cat.REGIONS)]})"
            + (f" {round_ // len(cat.REGIONS) + 1}" if round_ > len(cat.REGIONS) else "")
        )

    def _vendor(self, index: int, tick: int) -> Built:
        rng = self.rng("vendors", index)
        moment, stamp = self._stamp(tick)
        kind = self.vendor_kind(index)
        today = moment.date()
        month = month_key(today)
        term_years = rng.integer(1, 3, Ch.TERM)
        start, end, next_cycle = self._agreement(rng, today, term_years * 365)
        annual = cents(rng.between(*kind.annual_value, Ch.VALUE_BASE)) // 100 * 100
        outage = self.generation.scenario_intensity("vendor-outage", tick, target=index)
        base_perf = 68 + 28 * rng.unit(Ch.PERF_BASE) ** 0.6

        def score(month_key: int, live: float = 0.0) -> float:
            raw = base_perf + 6 * (2 * rng.unit(Ch.PERF_MONTH, month_key) - 1) + live
            return float(round(min(100.0, max(0.0, raw)), 1))

        current = score(month, 3 * rng.drift(Ch.PERF, tick) - 35 * outage)
        metrics = [{"month": month_label(m), "score": score(m)} for m in range(month - HISTORY_MONTHS + 1, month)]
        metrics.append({"month": month_label(month), "score": current})
        days_left = (end - today).days
        if days_left <= 0:
            status = "expired"
        elif days_left <= rules.EXPIRING_WITHIN_DAYS:
            status = "expiring-soon"
        else:
            status = "under-review" if current < rules.UNDER_REVIEW_BELOW else "active"
        first, last = person(rng, Ch.NAME_A, Ch.NAME_B)
        item = {
            "id": f"vendor-{index + 1}",
            "name": self.vendor_name(index),
            "category": kind.category,
            "totalSpend": money(
                with_parity(
                    round(annual * (0.88 + 0.1 * rng.unit(Ch.SPEND) + 0.02 * rng.drift(Ch.SPEND + 1, tick))),
                    self.change_parity("vendors", index, tick),
                    0,
                    1 << 62,
                )
            ),
            "contractValue": money(annual * term_years),
            "contractStart": start.isoformat(),
            "contractEnd": end.isoformat(),
            "paymentTerms": rng.choice(cat.PAYMENT_TERMS, Ch.TERMS_PAY),
            "status": status,
            "performanceScore": current,
            "lastUpdated": stamp,
            "annualValue": money(annual),
            "contractType": rng.choice(cat.VENDOR_AGREEMENT_TYPES, Ch.AGREEMENT),
            "renewalDate": end.isoformat(),
            "contactPerson": f"{first} {last}",
            "email": f"{email_local(first, last)}@{kind.domain}",
            "phone": phone(rng, Ch.PHONE),
            "performanceMetrics": metrics,
            "serviceHistory": self._service_history(rng, kind, today, base_perf),
        }
        change = self._date_change(tick, end - timedelta(days=90), end, next_cycle, month_start(month + 1))
        return Built(item, change)

    @staticmethod
    def _service_history(rng: Rng, kind: cat.VendorKind, today: date, base_perf: float) -> list[Item]:
        """The last four services, one per fortnight, newest first."""
        fortnight = today.toordinal() // 14
        records = []
        for back in range(4):
            period = fortnight - back
            day = min(today.toordinal(), period * 14 + rng.integer(0, 13, Ch.SERVICE, period))
            # A percentage, as the dashboard prints it: near the vendor's level, a little under on average.
            satisfaction = round(min(100.0, max(0.0, base_perf + rng.between(-14, 10, Ch.SATISFACTION, period))), 1)
            records.append(
                {
                    "date": date.fromordinal(day).isoformat(),
                    "service": rng.choice(kind.services, Ch.SERVICE + 1, period),
                    "satisfaction": satisfaction,
                }
            )
        return records

    # --- contracts -------------------------------------------------------------------

    def contract_vendor(self, index: int) -> int:
        """Index of the vendor a contract belongs to."""
        vendors = self.generation.counts.get("vendors", 0)
        return self.rng("contracts", index).integer(0, max(vendors, 1) - 1, Ch.VENDOR) if vendors else 0

    def _contract(self, index: int, tick: int) -> Built:
        rng = self.rng("contracts", index)
        moment, stamp = self._stamp(tick)
        vendor = self.contract_vendor(index)
        kind = self.vendor_kind(vendor)
        today = moment.date()
        auto_renew = rng.unit(Ch.AUTO_RENEW) < 0.55
        term_days = rng.choice((365, 730, 1095), Ch.TERM)
        start, end, next_cycle = self._agreement(rng, today, term_days)
        end = pull_forward(today, end, self.generation.scenario_intensity("renewal-season", tick))
        days_left = (end - today).days
        status = (
            "Expired" if days_left <= 0 else "Expiring Soon" if days_left <= rules.EXPIRING_WITHIN_DAYS else "Active"
        )
        renewal = "auto-renew" if auto_renew else "expiring" if status != "Active" else "manual"
        contract_type = rng.choice(cat.CONTRACT_TYPES_BY_CATEGORY[kind.category], Ch.CONTRACT_TYPE)
        annual = cents(rng.between(*kind.annual_value, Ch.VALUE_BASE) * rng.between(0.15, 0.6, Ch.VALUE)) // 100 * 100
        outage = self.generation.scenario_intensity("vendor-outage", tick, target=vendor)
        compliance = min(100.0, max(0.0, 86 + 12 * rng.unit(Ch.SLA_BASE) + 2 * rng.drift(Ch.SLA, tick) - 30 * outage))
        clause_start = rng.integer(0, len(cat.CONTRACT_CLAUSES) - 1, Ch.CLAUSES)
        clauses = [cat.CONTRACT_CLAUSES[(clause_start + i * 5) % len(cat.CONTRACT_CLAUSES)] for i in range(3)]
        item = {
            "id": f"contract-{index + 1}",
            "vendorId": f"vendor-{vendor + 1}",
            "vendorName": self.vendor_name(vendor),
            "type": contract_type,
            "value": money(annual * term_days // 365),
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "autoRenew": auto_renew,
            "noticePeriod": rng.choice((30, 60, 90), Ch.NOTICE),
            "status": status,
            "lastUpdated": stamp,
            "serviceType": contract_type,
            "slaCompliance": with_parity(
                round(compliance * 100), self.change_parity("contracts", index, tick), 0, 10_000
            )
            / 100,
            "renewalStatus": renewal,
            "paymentTerms": rng.choice(cat.PAYMENT_TERMS, Ch.TERMS_PAY),
            "slaMetrics": self._sla_metrics(rng, tick, compliance),
            "terms": clauses,
        }
        boundaries = (end - timedelta(days=90), end, next_cycle)
        change = self._date_change(tick, *boundaries)
        return Built(item, change)

    @staticmethod
    def _sla_metrics(rng: Rng, tick: int, compliance: float) -> list[Item]:
        """Three service-level objectives and this month's measurements."""
        first = rng.integer(0, len(cat.SLA_OBJECTIVES) - 1, Ch.SLA + 10)
        metrics = []
        for i in range(3):
            objective = cat.SLA_OBJECTIVES[(first + i * 2) % len(cat.SLA_OBJECTIVES)]
            # compliance 100 -> comfortably inside the target; 70 -> clearly missing it.
            slack = (compliance - 90) / 100 + 0.02 * rng.drift(Ch.SLA + 20 + i, tick)
            if objective.unit == "%":
                actual = min(100.0, objective.target + slack * (100 - objective.target + 5) * 2)
            else:
                actual = max(0.1, objective.target * (1 - slack * 2))
            metrics.append(
                {
                    "metric": objective.metric,
                    "target": objective.target,
                    "actual": round(actual, 2),
                    "unit": objective.unit,
                }
            )
        return metrics
