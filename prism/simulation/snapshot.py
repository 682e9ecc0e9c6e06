"""The whole world at one tick: computed directly, or from the tick before by rebuilding only what changes."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from prism.memo import Memo, MemoKey
from prism.simulation.builders import World
from prism.simulation.generation import (
    ENTITY_KINDS,
    Generation,
    Item,
)
from prism.simulation.items import collection_paused, item_columns
from prism.simulation.randomness import I64
from prism.simulation.timeline import NEVER
from prism.simulation.world import same_but_stamp
from rules import EntityKind

BY_ID: MemoKey[Mapping[str, Item]] = MemoKey("items by id")
# Per entity, the next changes of the items as an array (what a tick compares with), kept with the snapshot.
NEXT_CHANGES: MemoKey[I64] = MemoKey("next changes")


@dataclass(frozen=True, slots=True, eq=False)
class Snapshot:
    """The whole world at one tick. Never mutated once built; a tick makes a new one."""

    generation: Generation
    tick: int
    items: Mapping[EntityKind, tuple[Item, ...]]
    next_changes: Mapping[EntityKind, tuple[int | None, ...]] = field(repr=False)
    changed: Mapping[EntityKind, tuple[str, ...]] | None = field(default=None, repr=False)
    cache: Memo = field(default_factory=Memo, repr=False, compare=False)

    @property
    def time(self) -> datetime:
        """Simulated time of this tick."""
        return self.generation.time_of(self.tick)

    @property
    def counts(self) -> dict[EntityKind, int]:
        """Number of items per entity."""
        return {kind: len(items) for kind, items in self.items.items()}

    def by_id(self, kind: EntityKind) -> Mapping[str, Item]:
        """The items of an entity keyed by id (built once per snapshot)."""
        return self.cache.get_or_build(BY_ID, lambda: {item["id"]: item for item in self.items[kind]}, kind)


class _OnDemand:
    """The items and next changes of a snapshot computed directly, one entity at a time on first use: a
    `?at=` list or item needs one entity of the world, a tick or a report all of them."""

    def __init__(self, generation: Generation, tick: int, world: World, cache: Memo) -> None:
        self.generation, self.tick, self.world, self.cache = generation, tick, world, cache
        self._done: dict[EntityKind, tuple[tuple[Item, ...], tuple[int | None, ...]]] = {}
        self._lock = threading.Lock()

    def get(self, kind: EntityKind) -> tuple[tuple[Item, ...], tuple[int | None, ...]]:
        done = self._done.get(kind)
        if done is None:
            with self._lock:
                done = self._done.get(kind)
                if done is None:
                    done = self._done[kind] = self._compute(kind)
        return done

    def _compute(self, kind: EntityKind) -> tuple[tuple[Item, ...], tuple[int | None, ...]]:
        if kind not in ENTITY_KINDS:
            raise KeyError(kind)
        count = self.generation.counts.get(kind, 0)
        with collection_paused:
            built = item_columns(self.world).items_at(
                kind, np.arange(count, dtype=np.int64), np.full(count, self.tick, dtype=np.int64)
            )
            self.cache.put(NEXT_CHANGES, built.next_ticks, kind)
            return tuple(built.items), tuple(built.next_changes)


class _PerEntity(Mapping[EntityKind, tuple[Any, ...]]):
    """One part (items or next changes) of an `_OnDemand`, as the mapping a snapshot holds."""

    def __init__(self, source: _OnDemand, part: int) -> None:
        self._source, self._part = source, part

    def __getitem__(self, kind: EntityKind) -> tuple[Any, ...]:
        return self._source.get(kind)[self._part]

    def __iter__(self) -> Iterator[EntityKind]:
        return iter(ENTITY_KINDS)

    def __len__(self) -> int:
        return len(ENTITY_KINDS)


def compute_snapshot(generation: Generation, tick: int, world: World | None = None) -> Snapshot:
    """The snapshot of any tick, computed directly from the generation (each entity when first asked for)."""
    cache = Memo()
    source = _OnDemand(generation, tick, world or World(generation), cache)
    return Snapshot(generation, tick, _PerEntity(source, 0), _PerEntity(source, 1), cache=cache)


def _next_changes(snapshot: Snapshot, kind: EntityKind) -> I64:
    """A snapshot's next changes of an entity's items as an array (`NEVER` for none), made once."""

    def array() -> I64:
        return np.array([NEVER if t is None else t for t in snapshot.next_changes[kind]], dtype=np.int64)

    return snapshot.cache.get_or_build(NEXT_CHANGES, array, kind)


def advance(previous: Snapshot, world: World | None = None) -> Snapshot:
    """The snapshot of the tick after `previous`, rebuilding only the items that change."""
    generation = previous.generation
    world = world or World(generation)
    engine = item_columns(world)
    tick = previous.tick + 1
    items: dict[EntityKind, tuple[Item, ...]] = {}
    next_changes: dict[EntityKind, tuple[int | None, ...]] = {}
    changed: dict[EntityKind, tuple[str, ...]] = {}
    arrays: dict[EntityKind, I64] = {}
    with collection_paused:
        for kind in ENTITY_KINDS:
            old_items, old_next = previous.items[kind], previous.next_changes[kind]
            upcoming = _next_changes(previous, kind)
            chance, due = engine.chance_changes(kind, tick), np.flatnonzero(upcoming <= tick)
            changing = np.union1d(chance, due) if due.size else chance
            if not changing.size:
                items[kind], next_changes[kind], changed[kind], arrays[kind] = old_items, old_next, (), upcoming
                continue
            built = engine.build(kind, changing, np.full(changing.size, tick, dtype=np.int64))
            by_chance = set(chance.tolist())
            new_items, new_next, ids = list(old_items), list(old_next), []
            for index, item, next_change in zip(changing.tolist(), built.items, built.next_changes, strict=True):
                before = old_items[index]
                # A chance change always changes the item (its parity flips); only a date may change nothing.
                if index not in by_chance and same_but_stamp(before, item):
                    item = before
                else:
                    ids.append(item["id"])
                new_items[index], new_next[index] = item, next_change
            arrays[kind] = upcoming.copy()
            arrays[kind][changing] = built.next_ticks
            items[kind], next_changes[kind], changed[kind] = tuple(new_items), tuple(new_next), tuple(ids)
    snapshot = Snapshot(generation, tick, items, next_changes, changed)
    for kind, array in arrays.items():
        snapshot.cache.put(NEXT_CHANGES, array, kind)
    return snapshot


def diff_ids(older: Snapshot, newer: Snapshot) -> dict[EntityKind, list[str]]:
    """Per entity, the ids whose item differs between two snapshots."""
    result: dict[EntityKind, list[str]] = {}
    for kind in ENTITY_KINDS:
        before = older.by_id(kind)
        result[kind] = [item["id"] for item in newer.items[kind] if before.get(item["id"]) != item]
    return result


def iter_items(snapshot: Snapshot) -> Iterable[tuple[str, Item]]:
    """Every (entity, item) pair of a snapshot."""
    for kind in ENTITY_KINDS:
        for item in snapshot.items[kind]:
            yield kind, item
