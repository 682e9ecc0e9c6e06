"""The simulation itself: invariants at every tick, determinism, random access, bounds and sparse change."""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import orjson
import pytest

import catalogue as cat
import data_generator as dg
from rules import EntityKind
from tests.support import SEED, make_settings
from tests.support.invariants import check_items, check_snapshot
from tests.support.servers import PROJECT

COUNTS = make_settings().entity_counts
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
TICKS_PER_DAY = 2880
PRICES = {product.product: product.annual_price for product in cat.SOFTWARE_PRODUCTS}
VENDOR_KINDS = {kind.name: kind for kind in cat.VENDORS}
SLA_TARGETS = {objective.metric: objective.target for objective in cat.SLA_OBJECTIVES}


def generation(seed: int = SEED, counts: dict[EntityKind, int] | None = None, interval: float = 30) -> dg.Generation:
    return dg.new_generation(counts=COUNTS if counts is None else counts, interval=interval, now=NOW, seed=seed)


def json_of(snapshot: dg.Snapshot) -> str:
    return orjson.dumps({kind: list(items) for kind, items in snapshot.items.items()}).decode()


# --- every tick -------------------------------------------------------------------------


@pytest.mark.slow
def test_invariants_hold_at_every_one_of_2000_consecutive_ticks() -> None:
    world = generation()
    snapshot = dg.compute_snapshot(world, world.tick_at(NOW))
    check_snapshot(snapshot)
    shared = dg.World(world)
    for step in range(1, 2001):
        previous, previous_json = snapshot, json_of(snapshot)
        snapshot = dg.advance(previous, shared)
        check_snapshot(snapshot, previous=previous)
        assert json_of(previous) == previous_json, "a tick changed the snapshot before it"
        if step % 250 == 0:
            assert json_of(dg.compute_snapshot(world, snapshot.tick)) == json_of(snapshot), step


@pytest.mark.slow
def test_invariants_hold_across_month_and_year_ends_at_any_interval() -> None:
    """Daily, hourly and sub-second ticks over New Year, a leap day and month ends (dates drive statuses)."""
    counts = dict.fromkeys(dg.ENTITY_KINDS, 30)
    for interval, start, ticks in (
        (86_400.0, datetime(2026, 12, 1, tzinfo=UTC), 120),
        (3_600.0, datetime(2027, 12, 30, tzinfo=UTC), 100),
        (30.0, datetime(2027, 12, 31, 23, 30, tzinfo=UTC), 150),
        (0.2, datetime(2028, 2, 29, 23, 59, 45, tzinfo=UTC), 150),
    ):
        world = dg.new_generation(counts=counts, interval=interval, now=start, seed=SEED)
        snapshot = dg.compute_snapshot(world, world.tick_at(start))
        check_snapshot(snapshot)
        for _ in range(ticks):
            previous, snapshot = snapshot, dg.advance(snapshot)
            check_snapshot(snapshot, previous=previous)
        assert json_of(dg.compute_snapshot(world, snapshot.tick)) == json_of(snapshot), interval


# --- determinism and random access -------------------------------------------------------

FRESH_SNAPSHOTS = """
import orjson, sys
from datetime import datetime
import data_generator as dg
g = dg.new_generation(counts={counts}, interval=30, now=datetime.fromisoformat("{now}"), seed={seed})
out = {{t: orjson.dumps({{k: list(v) for k, v in dg.compute_snapshot(g, t).items.items()}}).decode() for t in {ticks}}}
sys.stdout.write(orjson.dumps(out, option=orjson.OPT_NON_STR_KEYS).decode())
"""


def in_fresh_process(ticks: Iterable[int], seed: int = SEED, hash_seed: str = "0") -> dict[int, str]:
    """Snapshots of some ticks, each computed on its own by a new interpreter (with its own string hashing)."""
    code = FRESH_SNAPSHOTS.format(counts=dict(COUNTS), now=NOW.isoformat(), seed=seed, ticks=list(ticks))
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return {int(tick): body for tick, body in json.loads(result.stdout).items()}


@pytest.mark.slow
def test_a_tick_computed_alone_in_a_fresh_process_equals_the_one_reached_by_ticking_from_zero() -> None:
    world = generation()
    snapshot = dg.compute_snapshot(world, 0)
    reached = {0: json_of(snapshot)}
    for _ in range(600):
        snapshot = dg.advance(snapshot)
        if snapshot.tick in (1, 2, 47, 48, 299, 600):
            reached[snapshot.tick] = json_of(snapshot)
    assert in_fresh_process(reached, hash_seed="1") == reached


def test_the_same_seed_gives_the_same_data_in_a_fresh_process_and_another_seed_does_not() -> None:
    tick = generation().tick_at(NOW)
    here = json_of(dg.compute_snapshot(generation(), tick))
    assert in_fresh_process([tick], hash_seed="4242") == {tick: here}
    other = json_of(dg.compute_snapshot(generation(seed=SEED + 1), tick))
    assert other != here
    assert json.loads(other)["clients"][0]["name"] != json.loads(here)["clients"][0]["name"]


# --- a year and more of ticks ---------------------------------------------------------------


def band(values: list[float], low: float, high: float, what: str) -> None:
    """Every value within [low, high]."""
    assert values, what
    assert low <= min(values), f"{what}: {min(values)} < {low}"
    assert max(values) <= high, f"{what}: {max(values)} > {high}"


def realistic_bands(snapshot: dg.Snapshot) -> None:
    """The levels an MSP's data sits at: margins, prices, rates, utilisation, budgets, scores."""
    items = snapshot.items
    clients = items["clients"]
    band([c["marginPercentage"] for c in clients], -20, 60, "client margin %")
    band([c["annualRevenue"] / c["employeeCount"] for c in clients], 800, 2200, "client revenue per seat per year")
    band([c["employeeCount"] for c in clients], 5, 2500, "client employees")
    band([c["monthlyRecurring"] for c in clients], 500, 400_000, "client MRR")
    for lic in items["licenses"]:
        assert lic["costPerLicense"] == PRICES[lic["product"]], lic
    band([lic["totalLicenses"] for lic in items["licenses"]], 1, 500, "seats per license")
    band([lic["utilizationRate"] for lic in items["licenses"]], 20, 100, "license utilisation %")
    band([lic["monthlyCost"] for lic in items["licenses"]], 1, 150_000, "license monthly cost")
    leads = items["leads"]
    band([lead["value"] for lead in leads], 5_000, 3_000_000, "lead value")
    band([lead["value"] / lead["employeeCount"] for lead in leads if lead["value"] > 5_000], 850, 2000, "lead $/seat")
    band([lead["employeeCount"] for lead in leads], 10, 1500, "lead employees")
    today = snapshot.time.date()
    band([(today - date.fromisoformat(lead["lastContact"])).days for lead in leads], 0, 8, "days since contact")
    band([(date.fromisoformat(lead["expectedCloseDate"]) - today).days for lead in leads], 14, 125, "days to close")
    technicians = items["technicians"]
    band([t["totalHours"] for t in technicians], 80, 180, "technician hours this month")
    band([t["utilization"] for t in technicians], 25, 99, "technician utilisation %")
    band([t["efficiency"] for t in technicians], 60, 99.5, "technician efficiency %")
    band([t["activeProjects"] for t in technicians], 0, 8, "active projects")
    departments = items["departments"]
    band([d["variancePercentage"] for d in departments], -35, 35, "department variance %")
    band([d["monthlyBudget"] / d["employeeCount"] for d in departments], 1200, 4000, "monthly budget per employee")
    band([d["spent"] / d["budget"] for d in departments], 0, 1.15, "share of the annual budget spent")
    vendors = items["vendors"]
    band([v["performanceScore"] for v in vendors], 40, 100, "vendor performance")
    band([v["totalSpend"] / v["annualValue"] for v in vendors], 0.8, 1.05, "vendor spend over annual value")
    for vendor in vendors:
        low, high = VENDOR_KINDS[vendor["name"].split(" (")[0]].annual_value
        assert low * 0.99 <= vendor["annualValue"] <= high, vendor
    contracts = items["contracts"]
    band([c["slaCompliance"] for c in contracts], 75, 100, "SLA compliance %")
    band([c["value"] for c in contracts], 1_000, 1_500_000, "contract value")
    for contract in contracts:
        term = date.fromisoformat(contract["endDate"]) - date.fromisoformat(contract["startDate"])
        assert timedelta(days=360) <= term <= timedelta(days=3 * 366), contract
        for sla in contract["slaMetrics"]:
            assert 0.7 <= sla["actual"] / SLA_TARGETS[sla["metric"]] <= 1.3, sla


def kpis(snapshot: dg.Snapshot) -> dict[str, float]:
    items = snapshot.items
    return {
        "mean margin": statistics.fmean(c["marginPercentage"] for c in items["clients"]),
        # Per employee: a total over 20 clients jumps whenever a churned client's successor is much bigger or
        # smaller (sizes are heavy-tailed), which is turnover, not drift; the price level per seat must not move.
        "MRR per employee": sum(c["monthlyRecurring"] for c in items["clients"])
        / sum(c["employeeCount"] for c in items["clients"]),
        "seats": sum(lic["totalLicenses"] for lic in items["licenses"]),
        "license utilisation": statistics.fmean(lic["utilizationRate"] for lic in items["licenses"]),
        "technician utilisation": statistics.fmean(t["utilization"] for t in items["technicians"]),
        "department spend": sum(d["actualSpend"] for d in items["departments"]),
        "vendor score": statistics.fmean(v["performanceScore"] for v in items["vendors"]),
    }


@pytest.mark.slow
def test_after_a_simulated_year_and_more_every_value_stays_in_its_realistic_band_without_drift() -> None:
    world = generation()
    shared = dg.World(world)
    start = world.tick_at(NOW)
    samples = 300
    span = 2 * 365 * TICKS_PER_DAY
    years: list[list[dict[str, float]]] = [[], []]
    for n in range(samples):
        tick = start + n * span // samples + n * 37  # two years, at a varying time of day
        snapshot = dg.compute_snapshot(world, tick, shared)
        check_snapshot(snapshot)
        realistic_bands(snapshot)
        years[n * 2 // samples].append(kpis(snapshot))
    for name in years[0][0]:
        first, second = (statistics.fmean(sample[name] for sample in year) for year in years)
        assert abs(second - first) <= 0.1 * abs(first) + 2, f"{name} drifted from {first:.2f} to {second:.2f}"


# --- sparse change ------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_few_items_change_per_tick_and_last_updated_moves_only_for_them() -> None:
    world = generation()
    previous = dg.compute_snapshot(world, world.tick_at(NOW))
    changed_total = items_total = 0
    for _ in range(600):
        current = dg.advance(previous)
        changed_now = 0
        for kind in dg.ENTITY_KINDS:
            for before, after in zip(previous.items[kind], current.items[kind], strict=True):
                moved = before["lastUpdated"] != after["lastUpdated"]
                assert moved == (before != after), (before, after)
                if moved:
                    assert after["lastUpdated"] == dg.iso_time(current.time)
                changed_now += moved
        assert 1 <= changed_now <= 0.25 * sum(COUNTS.values()), changed_now
        assert current.changed is not None
        assert {kind: list(ids) for kind, ids in current.changed.items()} == dg.diff_ids(previous, current)
        changed_total += changed_now
        items_total += sum(COUNTS.values())
        previous = current
    rate = changed_total / items_total
    assert 0.05 <= rate <= 0.15, rate


def test_discrete_events_happen_over_a_day() -> None:
    """Leads advance and close and are replaced, statuses and seats move, in line with the contract."""
    world = generation()
    shared = dg.World(world)
    start = world.tick_at(NOW)
    day = [dg.compute_snapshot(world, start + hour * 120, shared) for hour in range(25)]
    stages = {(lead["id"], lead["stage"], lead["companyName"]) for s in day for lead in s.items["leads"]}
    assert {"Closed Won", "Closed Lost"} <= {stage for _, stage, _ in stages}
    assert len({company for _, _, company in stages}) > COUNTS["leads"], "closed leads are replaced by fresh ones"
    seats = {(lic["id"], lic["totalLicenses"]) for s in day for lic in s.items["licenses"]}
    assert len(seats) > COUNTS["licenses"], "seats are bought or released"
    statuses = {(t["id"], t["status"]) for s in day for t in s.items["technicians"]}
    assert len(statuses) > COUNTS["technicians"], "technicians become busy or available"


# --- counts ------------------------------------------------------------------------------------


def test_an_empty_world_works() -> None:
    empty = dg.compute_snapshot(generation(counts=dict.fromkeys(dg.ENTITY_KINDS, 0)), 1000)
    assert all(items == () for items in empty.items.values())
    assert dg.advance(empty).items == empty.items
    check_snapshot(empty)


def test_large_counts_keep_every_invariant_and_unique_names() -> None:
    big: dict[EntityKind, int] = {
        **dict.fromkeys(dg.ENTITY_KINDS, 1),
        "clients": 2000,
        "departments": 2000,
        "vendors": 300,
        "contracts": 600,
    }
    snapshot = dg.compute_snapshot(generation(counts=big), generation().tick_at(NOW))
    check_snapshot(snapshot)
    assert len(snapshot.items["clients"]) == 2000
    assert len({c["name"] for c in snapshot.items["clients"]}) == 2000
    assert len({d["name"] for d in snapshot.items["departments"]}) == 2000
    assert len({c["vendorId"] for c in snapshot.items["contracts"]}) > 250, "contracts spread over the vendors"


@pytest.mark.slow
def test_one_hundred_thousand_licenses_are_computed_and_ticked() -> None:
    counts: dict[EntityKind, int] = {**dict.fromkeys(dg.ENTITY_KINDS, 0), "licenses": 100_000}
    world = generation(counts=counts)
    shared = dg.World(world)
    snapshot = dg.compute_snapshot(world, world.tick_at(NOW), shared)
    licenses = snapshot.items["licenses"]
    assert len(licenses) == 100_000
    assert (licenses[0]["id"], licenses[-1]["id"]) == ("license-1", "license-100000")
    check_items({"licenses": licenses[::499]}, snapshot.time, complete=False)
    following = dg.advance(snapshot, shared)
    assert following.changed is not None
    assert 3_000 <= len(following.changed["licenses"]) <= 20_000


def test_names_stay_unique_up_to_100000_items() -> None:
    departments = [dg.department_name(index) for index in range(100_000)]
    assert len(set(departments)) == 100_000
    companies = [dg.company_name(index, 17) for index in range(100_000)]
    assert len(set(companies)) == 100_000
    world = dg.World(generation(counts=COUNTS | {"vendors": 100_000}))
    assert len({world.vendor_name(index) for index in range(100_000)}) == 100_000


@pytest.mark.parametrize("kind", dg.ENTITY_KINDS)
def test_any_item_of_one_hundred_thousand_can_be_built(kind: EntityKind) -> None:
    counts: dict[EntityKind, int] = {**dict.fromkeys(dg.ENTITY_KINDS, 0), kind: 100_000, "vendors": 100_000}
    world = dg.World(generation(counts=counts))
    time = world.generation.time_of(10_000)
    for index in (0, 1, 99_998, 99_999):
        item = world.item_at(kind, index, 10_000).item
        prefix, _, number = item["id"].rpartition("-")
        assert prefix == dg.ID_PREFIX[kind]
        assert (int(number) - 1) % 100_000 == index, item["id"]
        check_items({kind: [item]}, time, complete=False)


# --- content that makes sense ---------------------------------------------------------------------


def test_contracts_belong_to_existing_vendors_and_dates_make_sense_today() -> None:
    snapshot = dg.compute_snapshot(generation(), generation().tick_at(NOW))
    vendor_ids = {v["id"] for v in snapshot.items["vendors"]}
    assert {c["vendorId"] for c in snapshot.items["contracts"]} <= vendor_ids
    today = NOW.date().isoformat()
    assert all(c["contractEndDate"] > today for c in snapshot.items["clients"])
    assert all(lead["lastContact"] <= today for lead in snapshot.items["leads"])
    assert all(
        lead["expectedCloseDate"] >= (NOW - timedelta(days=2)).date().isoformat() for lead in snapshot.items["leads"]
    )
    assert json.loads(orjson.dumps(snapshot.items["clients"])) == list(snapshot.items["clients"])


@pytest.mark.slow
def test_advancing_any_tick_gives_the_next_tick_computed_directly() -> None:
    world = generation()
    shared = dg.World(world)
    picks = random.Random(8)
    last = world.tick_at(NOW) + 2 * 365 * TICKS_PER_DAY
    for _ in range(2000):
        tick = picks.randrange(world.first_tick, last)
        following = dg.advance(dg.compute_snapshot(world, tick, shared), shared)
        assert following.items == dg.compute_snapshot(world, tick + 1, shared).items, tick
