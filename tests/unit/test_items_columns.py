"""Whole items from columns are the builders' items: field for field, key for key, type for type, with the same
next change, for snapshots, ticks and one item's history. Every expectation comes from `World.item_at` and
`World.build`, the per-item reference."""

from __future__ import annotations

import gc
import hashlib
import os
import random
import subprocess
import sys
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import orjson
import pytest

import catalogue as cat
import data_generator as dg
import prism.simulation.items as items_module
from prism.simulation.generation import domain_of
from prism.simulation.items import ItemColumns
from prism.simulation.texts import companies
from prism.simulation.timeline import NEVER
from prism.simulation.world import Built
from rules import EntityKind
from tests.support import PROJECT
from tests.support.worlds import hard_ticks, world_with_scenarios


@pytest.fixture(autouse=True)
def columns_for_any_number_of_elements(monkeypatch: pytest.MonkeyPatch) -> None:
    """The columns even for a handful of elements (below VECTOR_FROM they would hand over to the builders)."""
    monkeypatch.setattr(items_module, "VECTOR_FROM", 1)


def reference(world: dg.World, kind: EntityKind, tick: int) -> list[Built]:
    return [world.item_at(kind, index, tick) for index in range(world.generation.counts[kind])]


def assert_same(expected: list[Built], items: list[dg.Item], next_changes: list[int | None], where: object) -> None:
    # orjson's bytes tell 1 from 1.0 and one key order from another; `==` on dicts tells neither.
    assert [orjson.dumps(b.item) for b in expected] == [orjson.dumps(item) for item in items], where
    assert [b.next_change for b in expected] == next_changes, where


def turning_ticks(world: dg.World) -> list[int]:
    """The hard ticks, a client's replacement (its tenure's end, with neighbours) and random ticks, some far
    enough ahead that companies are numbered past every name's first round."""
    ticks = hard_ticks(world)
    for index in range(3):
        _, end = world.lifetime("clients", index, 0) or (0, 0)
        ticks += [end - 1, end, end + 1]
    rng = random.Random(world.generation.seed)
    ticks += [rng.randrange(world.generation.first_tick, 4_000_000) for _ in range(12)]
    ticks += [rng.randrange(10**8, 10**9) for _ in range(3)]
    return ticks


@pytest.mark.parametrize("kind", dg.ENTITY_KINDS)
def test_every_item_at_every_turning_tick_is_the_builders_item(kind: EntityKind) -> None:
    world = world_with_scenarios()
    engine = ItemColumns(world)
    count = world.generation.counts[kind]
    for tick in turning_ticks(world):
        built = engine.items_at(kind, np.arange(count), np.full(count, tick))
        assert_same(reference(world, kind, tick), built.items, built.next_changes, (kind, tick))


@pytest.mark.parametrize("interval", [0.5, 7.3, 86_400])
def test_items_are_the_builders_with_ticks_between_whole_seconds_or_of_a_day(interval: float) -> None:
    world = world_with_scenarios(seed=5, interval=interval)
    engine = ItemColumns(world)
    rng = random.Random(int(interval * 10))
    for tick in [world.generation.first_tick, 0, 1, *(rng.randrange(-1000, 3_000_000) for _ in range(6))]:
        for kind in dg.ENTITY_KINDS:
            count = world.generation.counts[kind]
            built = engine.items_at(kind, np.arange(count), np.full(count, tick))
            assert_same(reference(world, kind, tick), built.items, built.next_changes, (kind, tick))


def test_items_at_larger_counts_and_other_seeds_are_the_builders() -> None:
    for seed, scale in ((3, 12), (2**62 + 11, 4)):
        world = world_with_scenarios(seed=seed, scale=scale)
        engine = ItemColumns(world)
        rng = random.Random(seed)
        for tick in (30_050, 31_900, rng.randrange(0, 2_000_000), rng.randrange(10**7, 10**8)):
            for kind in dg.ENTITY_KINDS:
                count = world.generation.counts[kind]
                built = engine.items_at(kind, np.arange(count), np.full(count, tick))
                assert_same(reference(world, kind, tick), built.items, built.next_changes, (seed, kind, tick))


@pytest.mark.parametrize("kind", dg.ENTITY_KINDS)
def test_one_items_history_is_the_builders_item_at_each_tick(kind: EntityKind) -> None:
    """One index over many ticks: across changes, month ends, scenarios and (clients, leads) replacements."""
    world = world_with_scenarios()
    engine = ItemColumns(world)
    ticks = sorted({*range(29_000, 35_000, 37), *range(-20_000, 2_000_000, 9_973), *turning_ticks(world)})
    for index in (0, 3, world.generation.counts[kind] - 1):
        built = engine.items_at(kind, np.full(len(ticks), index), np.asarray(ticks))
        expected = [world.item_at(kind, index, tick) for tick in ticks]
        assert_same(expected, built.items, built.next_changes, (kind, index))
        assert built.next_ticks.tolist() == [NEVER if b.next_change is None else b.next_change for b in expected]
    assert dg.item_history(world, kind, 3, ticks[:50]) == [world.item_at(kind, 3, t).item for t in ticks[:50]]


@pytest.mark.parametrize("kind", dg.ENTITY_KINDS)
def test_builds_at_any_tick_are_the_builders_builds(kind: EntityKind) -> None:
    world = world_with_scenarios()
    engine = ItemColumns(world)
    rng = random.Random(8)
    count = world.generation.counts[kind]
    index = np.array([rng.randrange(count) for _ in range(300)])
    ticks = np.array([rng.randrange(-10_000, 3_000_000) for _ in range(300)])
    built = engine.build(kind, index, ticks)
    expected = [world.build(kind, i, t) for i, t in zip(index.tolist(), ticks.tolist(), strict=True)]
    assert_same(expected, built.items, built.next_changes, kind)


def test_company_texts_are_the_generations_names_industries_and_domains() -> None:
    serials = np.array([1, 2, 399_999, 400_000, 400_001, 400_002, 987_654_321, *range(10_000, 10_400)])
    for salt in (0, 17, 9972):
        names, industries, domains = companies(serials, salt)
        for serial, name, industry, domain in zip(serials.tolist(), names, industries, domains, strict=True):
            assert name == dg.company_name(serial - 1, salt)
            noun = next((n for n in cat.COMPANY_NOUNS if f" {n}" in name), "Solutions")
            assert industry == cat.INDUSTRY_OF_NOUN[noun]
            assert domain + ".com" == domain_of(name, ".com")


def reference_snapshot(world: dg.World, tick: int) -> dict[str, list[Built]]:
    return {kind: reference(world, kind, tick) for kind in dg.ENTITY_KINDS}


@pytest.mark.parametrize("vector_from", [1, 10**9])
def test_a_tick_gives_the_builders_items_of_the_next_tick(monkeypatch: pytest.MonkeyPatch, vector_from: int) -> None:
    """advance(k) is item_at(k + 1) for every item, over month ends and scenario windows, with the columns
    (vector_from 1) and with the builders one by one; the changed ids are the items that differ."""
    monkeypatch.setattr(items_module, "VECTOR_FROM", vector_from)
    world = world_with_scenarios()
    generation = world.generation
    month_end = hard_ticks(world)[3]
    for start, length in ((month_end - 30, 60), (29_890, 140), (30_990, 40), (generation.first_tick, 20)):
        snapshot = dg.compute_snapshot(generation, start, world)
        expected = reference_snapshot(world, start)
        for _ in range(length):
            following = dg.advance(snapshot, world)
            assert following.changed is not None
            after = reference_snapshot(world, following.tick)
            for kind in dg.ENTITY_KINDS:
                where = (kind, following.tick)
                assert_same(after[kind], list(following.items[kind]), list(following.next_changes[kind]), where)
                differ = [new.item["id"] for old, new in zip(expected[kind], after[kind], strict=True) if old != new]
                assert list(following.changed[kind]) == differ, where
                unchanged = [old is new for old, new in zip(snapshot.items[kind], following.items[kind], strict=True)]
                assert unchanged == [old.item == new.item for old, new in zip(expected[kind], after[kind], strict=True)]
            snapshot, expected = following, after


def test_a_tick_at_larger_counts_takes_the_columns_and_gives_the_builders_items() -> None:
    world = world_with_scenarios(seed=9, scale=8)
    snapshot = dg.compute_snapshot(world.generation, 29_995, world)
    for _ in range(12):
        snapshot = dg.advance(snapshot, world)
        for kind in dg.ENTITY_KINDS:
            expected = reference(world, kind, snapshot.tick)
            assert_same(expected, list(snapshot.items[kind]), list(snapshot.next_changes[kind]), kind)


def test_items_are_the_same_in_every_world_object_and_process() -> None:
    """Two worlds of one generation agree, and so does a fresh process under other hash seeds."""
    world = world_with_scenarios(seed=21, scale=2)
    digest = hashlib.sha256(orjson.dumps(dict(dg.compute_snapshot(world.generation, 31_234, world).items))).hexdigest()
    again = dg.compute_snapshot(world.generation, 31_234, dg.World(world.generation))
    assert hashlib.sha256(orjson.dumps(dict(again.items))).hexdigest() == digest
    expected = reference_snapshot(world, 31_234)
    assert {kind: tuple(b.item for b in built) for kind, built in expected.items()} == dict(again.items)
    script = (
        "import hashlib, orjson, data_generator as dg; from tests.support.worlds import world_with_scenarios; "
        "w = world_with_scenarios(seed=21, scale=2); "
        "print(hashlib.sha256(orjson.dumps(dict(dg.compute_snapshot(w.generation, 31_234, w).items))).hexdigest())"
    )
    for hash_seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        answer = subprocess.run(
            [sys.executable, "-c", script], cwd=PROJECT, env=env, capture_output=True, text=True, check=True
        )
        assert answer.stdout.strip() == digest


def test_a_worlds_item_columns_live_as_long_as_the_world() -> None:
    world = world_with_scenarios(seed=4)
    dg.compute_snapshot(world.generation, 1_000, world)
    engine = items_module.item_columns(world)
    assert items_module.item_columns(world) is engine
    gone = weakref.ref(engine)
    del world, engine
    gc.collect()
    assert gone() is None


def test_a_snapshot_computed_directly_makes_each_entity_once_when_first_asked_for() -> None:
    world = world_with_scenarios(seed=6)
    snapshot = dg.compute_snapshot(world.generation, 30_020, world)
    assert list(snapshot.items) == list(dg.ENTITY_KINDS) == list(snapshot.next_changes)
    with pytest.raises(KeyError):
        snapshot.items["planets"]  # type: ignore[index]
    with ThreadPoolExecutor(8) as pool:
        firsts = list(pool.map(lambda kind: snapshot.items[kind], [*dg.ENTITY_KINDS] * 4))
    for kind, items in zip([*dg.ENTITY_KINDS] * 4, firsts, strict=True):
        assert items is snapshot.items[kind]
        assert_same(reference(world, kind, 30_020), list(items), list(snapshot.next_changes[kind]), kind)
    assert snapshot.counts == world.generation.counts
