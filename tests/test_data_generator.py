"""The simulation itself: invariants at every tick, determinism, random access, bounds and sparse change."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import orjson
import pytest

import catalogue as cat
import data_generator as dg
from tests.conftest import SEED, make_settings
from tests.invariants import check_snapshot
from tests.servers import PROJECT

COUNTS = make_settings().entity_counts
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
PRICES = {product.product: product.monthly_price for product in cat.SOFTWARE_PRODUCTS}


def generation(seed: int = SEED, counts: dict[str, int] | None = None) -> dg.Generation:
    return dg.new_generation(counts=counts or COUNTS, interval=30, now=NOW, seed=seed)


def test_invariants_hold_at_every_one_of_2000_consecutive_ticks() -> None:
    world = generation()
    snapshot = dg.compute_snapshot(world, world.tick_at(NOW))
    for _ in range(2000):
        snapshot = dg.advance(snapshot)
        check_snapshot(snapshot)


def _json_of(snapshot: dg.Snapshot) -> str:
    return orjson.dumps({kind: list(items) for kind, items in snapshot.items.items()}).decode()


def _in_fresh_process(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, check=True, timeout=60
    ).stdout


FRESH_SNAPSHOT = """
import orjson, sys
from datetime import datetime
import data_generator as dg
g = dg.new_generation(counts={counts}, interval=30, now=datetime.fromisoformat("{now}"), seed={seed})
s = dg.compute_snapshot(g, {tick})
sys.stdout.write(orjson.dumps({{k: list(v) for k, v in s.items.items()}}).decode())
"""


def test_a_tick_computed_alone_in_a_fresh_process_equals_the_one_reached_by_ticking() -> None:
    world = generation()
    snapshot = dg.compute_snapshot(world, 0)
    for _ in range(300):
        snapshot = dg.advance(snapshot)
    code = FRESH_SNAPSHOT.format(counts=dict(COUNTS), now=NOW.isoformat(), seed=SEED, tick=300)
    assert _in_fresh_process(code) == _json_of(snapshot)


def test_the_same_seed_gives_the_same_data_in_a_fresh_process_and_another_seed_does_not() -> None:
    tick = generation().tick_at(NOW)
    code = FRESH_SNAPSHOT.format(counts=dict(COUNTS), now=NOW.isoformat(), seed=SEED, tick=tick)
    here = _json_of(dg.compute_snapshot(generation(), tick))
    assert _in_fresh_process(code) == here
    assert _json_of(dg.compute_snapshot(generation(seed=SEED + 1), tick)) != here


def test_after_a_simulated_year_and_more_every_value_stays_in_its_realistic_band() -> None:
    world = generation()
    start = world.tick_at(NOW)
    per_day = 2880
    for day in range(0, 760, 5):  # two years, one sample every five days at a varying time of day
        snapshot = dg.compute_snapshot(world, start + day * per_day + day * 37)
        check_snapshot(snapshot)
        for client in snapshot.items["clients"]:
            assert -25 <= client["marginPercentage"] <= 65
            assert 600 <= client["annualRevenue"] / client["employeeCount"] <= 2600
        for lic in snapshot.items["licenses"]:
            assert lic["costPerLicense"] == PRICES[lic["product"]]
            assert 1 <= lic["totalLicenses"] <= 700
            assert 15 <= lic["utilizationRate"] <= 100
        for lead in snapshot.items["leads"]:
            assert 5_000 <= lead["value"] <= 5_000_000
        for tech in snapshot.items["technicians"]:
            assert 80 <= tech["totalHours"] <= 200  # fewer hours on leave
            assert 25 <= tech["utilization"] <= 100
        for dept in snapshot.items["departments"]:
            assert -35 <= dept["variancePercentage"] <= 35
            assert dept["spent"] <= dept["budget"] * 1.15
        for vendor in snapshot.items["vendors"]:
            assert 40 <= vendor["performanceScore"] <= 100
        for contract in snapshot.items["contracts"]:
            assert 50 <= contract["slaCompliance"] <= 100
            assert date_span_days(contract["startDate"], contract["endDate"]) <= 3 * 366


def date_span_days(start: str, end: str) -> int:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).days


def test_a_few_items_change_per_tick_and_last_updated_moves_only_for_them() -> None:
    world = generation()
    previous = dg.compute_snapshot(world, world.tick_at(NOW))
    changed_total = items_total = 0
    for _ in range(600):
        current = dg.advance(previous)
        for kind in dg.ENTITY_KINDS:
            for before, after in zip(previous.items[kind], current.items[kind], strict=True):
                moved = before["lastUpdated"] != after["lastUpdated"]
                assert moved == (before != after)
                if moved:
                    assert after["lastUpdated"] == dg.iso_time(current.time)
                changed_total += moved
                items_total += 1
        assert current.changed is not None
        assert {kind: list(ids) for kind, ids in current.changed.items()} == dg.diff_ids(previous, current)
        previous = current
    rate = changed_total / items_total
    assert 0.05 <= rate <= 0.15, rate


def test_empty_and_large_worlds_work() -> None:
    empty = dg.compute_snapshot(generation(counts=dict.fromkeys(dg.ENTITY_KINDS, 0)), 1000)
    assert all(items == () for items in empty.items.values())
    assert dg.advance(empty).items == empty.items
    big = {**dict.fromkeys(dg.ENTITY_KINDS, 1), "clients": 2000, "departments": 300, "vendors": 60, "contracts": 400}
    snapshot = dg.compute_snapshot(generation(counts=big), 5000)
    check_snapshot(snapshot)
    assert len(snapshot.items["clients"]) == 2000
    assert len({c["name"] for c in snapshot.items["clients"]}) == 2000


def test_names_stay_unique_up_to_100000_items() -> None:
    departments = [dg.department_name(index) for index in range(100_000)]
    assert len(set(departments)) == 100_000
    companies = [dg.company_name(index, 17) for index in range(100_000)]
    assert len(set(companies)) == 100_000
    world = dg.World(generation(counts={**COUNTS, "vendors": 100_000}))
    assert len({world.vendor_name(index) for index in range(100_000)}) == 100_000


@pytest.mark.parametrize("kind", dg.ENTITY_KINDS)
def test_one_hundred_thousand_items_of_any_entity_can_be_built(kind: str) -> None:
    counts = {**dict.fromkeys(dg.ENTITY_KINDS, 0), kind: 100_000, "vendors": 100_000 if kind == "contracts" else 0}
    world = dg.World(generation(counts=counts))
    for index in (0, 1, 99_998, 99_999):
        item = world.item_at(kind, index, 10_000).item
        assert item["id"] == f"{dg.ID_PREFIX[kind]}-{index + 1}"


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
