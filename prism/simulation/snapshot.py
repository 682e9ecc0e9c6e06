"""The whole world at one tick: computed directly, or from the tick before by rebuilding only what changes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from prism.memo import Memo, MemoKey
from prism.simulation.builders import World
from prism.simulation.generation import (
    ENTITY_KINDS,
    Generation,
    Item,
)
from prism.simulation.world import Built
from rules import EntityKind

BY_ID: MemoKey[Mapping[str, Item]] = MemoKey("items by id")


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


def compute_snapshot(generation: Generation, tick: int, world: World | None = None) -> Snapshot:
    """The snapshot of any tick, computed directly from the generation."""
    world = world or World(generation)
    items: dict[EntityKind, tuple[Item, ...]] = {}
    next_changes: dict[EntityKind, tuple[int | None, ...]] = {}
    for kind in ENTITY_KINDS:
        built = [world.item_at(kind, index, tick) for index in range(generation.counts.get(kind, 0))]
        items[kind] = tuple(b.item for b in built)
        next_changes[kind] = tuple(b.next_change for b in built)
    return Snapshot(generation, tick, items, next_changes)


def advance(previous: Snapshot, world: World | None = None) -> Snapshot:
    """The snapshot of the tick after `previous`, rebuilding only the items that change."""
    generation = previous.generation
    world = world or World(generation)
    tick = previous.tick + 1
    items: dict[EntityKind, tuple[Item, ...]] = {}
    next_changes: dict[EntityKind, tuple[int | None, ...]] = {}
    changed: dict[EntityKind, tuple[str, ...]] = {}
    for kind in ENTITY_KINDS:
        old_items, old_next = previous.items[kind], previous.next_changes[kind]
        new_items, new_next, ids = list(old_items), list(old_next), []
        for index in range(len(old_items)):
            due = old_next[index]
            chance = world.changes_at(kind, index, tick)
            if chance or (due is not None and due <= tick):
                # A chance change always changes the item (its parity flips); only a date may change nothing.
                built = (
                    world.build(kind, index, tick)
                    if chance
                    else world.step(kind, index, Built(old_items[index], due), tick)
                )
                new_items[index], new_next[index] = built.item, built.next_change
                if built.item is not old_items[index]:
                    ids.append(built.item["id"])
        items[kind], next_changes[kind], changed[kind] = tuple(new_items), tuple(new_next), tuple(ids)
    return Snapshot(generation, tick, items, next_changes, changed)


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
