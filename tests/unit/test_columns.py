"""The engine's columns: the same randomness, schedule and KPIs as the item builders, at the ticks that matter."""

from __future__ import annotations

import random
from datetime import date

import numpy as np
import pytest

import data_generator as dg
from kpis import compute_kpis
from prism.simulation.columns import Columns
from prism.simulation.randomness import Rng, drifts, integers, item_bases, successors, units
from prism.simulation.series import KpiColumns
from prism.simulation.timeline import Calendar, py_round
from rules import KPI_NAMES, EntityKind
from tests.support.oracles import expected_kpis
from tests.support.worlds import COUNTS, first_tick_of, hard_ticks, world_with_scenarios


def kpi_row(snapshot: dg.Snapshot) -> tuple[float, ...]:
    kpis = compute_kpis(snapshot)
    return tuple(kpis[name] for name in KPI_NAMES)


def test_the_scalar_and_the_array_randomness_give_the_same_bits() -> None:
    rng = random.Random(4)
    seeds = [0, 1, (1 << 63) - 1, rng.getrandbits(63)]
    keys = [0, 5, 1 << 40 | 7, 7 << 40 | 99_999]
    moments = np.array([0, 1, -1, -86_400, 2**40, *(rng.randrange(-(2**45), 2**45) for _ in range(50))])
    for seed in seeds:
        bases = item_bases(seed, keys)
        for key, base in zip(keys, bases.tolist(), strict=True):
            scalar = Rng.of(seed, key)
            assert scalar.base == base
            vector = np.full(moments.shape, base, dtype=np.uint64)
            assert units(vector, 3, moments).tolist() == [scalar.unit(3, m) for m in moments.tolist()]
            assert integers(vector, -2, 9, 4, moments).tolist() == [
                scalar.integer(-2, 9, 4, m) for m in moments.tolist()
            ]
            assert drifts(vector, 20, moments).tolist() == [scalar.drift(20, m) for m in moments.tolist()]
            assert successors(vector[:3], [1, 2, 3]).tolist() == [scalar.successor(s).base for s in (1, 2, 3)]


def test_units_are_uniform_in_zero_one() -> None:
    values = units(item_bases(9, np.arange(200_000)), 1, 0)
    assert values.min() >= 0
    assert values.max() < 1
    assert abs(values.mean() - 0.5) < 0.005
    assert np.histogram(values, bins=10, range=(0, 1))[0].min() > 19_000


def test_pythons_rounding_is_kept_next_to_a_half() -> None:
    values = np.array([2.675, 0.125, 1.005, 2.5, -0.5, 123.455, 0.285, 1e-9, 7.0])
    assert py_round(values, 2).tolist() == [round(v, 2) for v in values.tolist()]
    assert py_round(values, 1).tolist() == [round(v, 1) for v in values.tolist()]


def test_the_calendar_agrees_with_the_generations_clock() -> None:
    for interval in (30, 0.5, 7.3, 86_400):
        g = dg.new_generation(counts=COUNTS, interval=interval, now=dg.FIXED_EPOCH, seed=3)
        calendar = Calendar(g)
        ticks = np.array([-5000, -1, 0, 1, 2879, 2880, 99_999, 1_234_567])
        assert calendar.day(ticks).tolist() == [g.time_of(t).date().toordinal() for t in ticks.tolist()]
        days = np.array([date(2024, 12, 25).toordinal(), date(2025, 1, 1).toordinal(), date(2026, 3, 1).toordinal()])
        assert calendar.first_tick_of_day(days).tolist() == [first_tick_of(g, date.fromordinal(d)) for d in days]
        months = Calendar.month(days)
        assert months.tolist() == [dg.month_key(date.fromordinal(d)) for d in days.tolist()]
        assert Calendar.month_start(months).tolist() == [dg.month_start(m).toordinal() for m in months.tolist()]


@pytest.mark.parametrize("kind", dg.ENTITY_KINDS)
def test_the_change_schedule_is_the_builders_schedule(kind: EntityKind) -> None:
    world = world_with_scenarios()
    columns = Columns(world)
    ticks = np.arange(-300, 3000, 7)
    for index in range(min(6, COUNTS[kind])):
        indexes = np.full(ticks.shape, index)
        last, parity = columns.schedule.latest(kind, indexes, ticks)
        assert last.tolist() == [world.last_chance_change(kind, index, t) for t in ticks.tolist()]
        assert parity.tolist() == [world.change_parity(kind, index, t) for t in ticks.tolist()]


def test_the_build_tick_of_each_item_is_the_one_item_at_reaches() -> None:
    """A small per-item reference: the last chance change, then each date the item crossed since."""
    world = world_with_scenarios()
    columns = Columns(world)
    ticks = hard_ticks(world)
    for kind in dg.ENTITY_KINDS:
        for index in range(4):
            built, _ = columns.built_at(kind, np.full(len(ticks), index), np.asarray(ticks))
            for tick, at in zip(ticks, built.tolist(), strict=True):
                expected = world.last_chance_change(kind, index, tick)
                step = world.build(kind, index, expected).next_change
                while step is not None and step <= tick:
                    expected, step = step, world.build(kind, index, step).next_change
                assert at == expected, (kind, index, tick)


@pytest.mark.parametrize("interval", [30, 0.5])
def test_kpi_rows_equal_the_kpis_of_the_snapshots_at_the_hard_ticks(interval: float) -> None:
    world = world_with_scenarios(interval=interval)
    ticks = hard_ticks(world) if interval == 30 else list(range(-2000, 200_000, 4999))
    rows = KpiColumns(world).rows(ticks)
    for tick, row in zip(ticks, rows, strict=True):
        snapshot = dg.compute_snapshot(world.generation, tick, world)
        assert row == kpi_row(snapshot), tick
        assert dict(zip(KPI_NAMES, row, strict=True)) == expected_kpis(snapshot.items)
        assert [type(value) for value in row] == [type(value) for value in kpi_row(snapshot)]


def test_kpi_rows_equal_the_snapshots_at_random_ticks_of_many_worlds() -> None:
    rng = random.Random(12)
    for seed in range(6):
        world = world_with_scenarios(seed=seed)
        ticks = sorted(rng.randrange(world.generation.first_tick, 2_000_000) for _ in range(40))
        rows = KpiColumns(world).rows(ticks)
        for tick, row in zip(ticks, rows, strict=True):
            assert row == kpi_row(dg.compute_snapshot(world.generation, tick, world)), (seed, tick)


def test_an_empty_world_has_the_kpis_of_its_empty_snapshot() -> None:
    generation = dg.new_generation(
        counts={kind: 0 for kind in dg.ENTITY_KINDS}, interval=30, now=dg.FIXED_EPOCH, seed=1
    )
    world = dg.World(generation)
    row = KpiColumns(world).rows([5])[0]
    expected = kpi_row(dg.compute_snapshot(generation, 5, world))
    assert row == expected
    assert [type(value) for value in row] == [type(value) for value in expected]
