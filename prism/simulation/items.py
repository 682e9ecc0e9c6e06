"""Whole items from columns: for one entity and arrays of (item index, tick) of equal length, the items
`World.item_at` gives (the same dicts, field for field and key for key) and their next date changes.

One call serves a snapshot (every index at one tick), a tick (the indexes that change at it) and an item's
history (one index over many ticks). The draws are made for all elements at once (`item_fields.py`,
`spend_fields.py`), the rows assembled at the end; the builders of `builders.py` stay the reference.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from prism.simulation.builders import World
from prism.simulation.columns import Columns
from prism.simulation.generation import Item
from prism.simulation.item_fields import ItemFields
from prism.simulation.randomness import I64
from prism.simulation.timeline import NEVER
from prism.simulation.world import Built, same_but_stamp
from rules import EntityKind

_ENGINES_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Builds:
    """Items, and the next tick at which their dates alone would change each (None: never)."""

    items: list[Item]
    next_changes: list[int | None]
    next_ticks: I64  # the same with `NEVER` for None


@functools.cache
def _row_maker(keys: tuple[str, ...]) -> Callable[..., Item]:
    """A function making one item of its fields' values with a dict display, in the order of `keys`: about
    twice as fast as `dict(zip(keys, values))` (generated as `collections.namedtuple` generates its code)."""
    names = [f"v{i}" for i in range(len(keys))]
    display = ", ".join(f"{key!r}: {name}" for key, name in zip(keys, names, strict=True))
    maker: Callable[..., Item] = eval(f"lambda {', '.join(names)}: {{{display}}}", {})
    return maker


def _rows(table: dict[str, Any]) -> list[Item]:
    """One item per element of the columns, its keys in the columns' order."""
    return list(map(_row_maker(tuple(table)), *table.values()))


class _CollectionPause:
    """No cyclic garbage collection while rows are made, in any thread: the rows hold no cycles, and a
    collection in the middle of making thousands of dicts walks every object the process holds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._was_enabled = False

    def __enter__(self) -> None:
        with self._lock:
            if self._holders == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._holders += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0 and self._was_enabled:
                gc.enable()


collection_paused = _CollectionPause()
# Ticks whose chance changes are drawn together (a tick asks for the next one's soon after).
CHANCE_WINDOW = 16
# Below this many elements a call builds its items one by one with the builders: what the columns cost hardly
# grows with the number of elements, but starts at about what 12 to 20 builds cost (measured per entity).
VECTOR_FROM = 16


class ItemColumns:
    """Whole items of one world over arrays of (item index, tick)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.columns = Columns(world)
        self.fields = ItemFields(self.columns)
        self.counts = self.columns.counts
        self._chances: dict[EntityKind, tuple[int, npt.NDArray[np.bool_]]] = {}

    def build(self, kind: EntityKind, index: I64, ticks: I64) -> Builds:
        """`World.build` of each element: the item as it is right after a change at its tick."""
        if index.size < VECTOR_FROM:
            return _one_by_one(self.world.build, kind, index, ticks)
        parity = self.columns.schedule.latest(kind, index, ticks)[1]
        return self._built(kind, index, ticks, parity)

    def _built(self, kind: EntityKind, index: I64, ticks: I64, parity: I64) -> Builds:
        if not index.size:
            return Builds([], [], np.zeros(0, dtype=np.int64))
        with collection_paused:
            table, upcoming = self.fields.table(kind, index, ticks, parity)
            return Builds(_rows(table), [None if t == NEVER else t for t in upcoming.tolist()], upcoming)

    def items_at(self, kind: EntityKind, index: I64, ticks: I64) -> Builds:
        """`World.item_at` of each element: the item as it is at its tick."""
        index, ticks = np.asarray(index, dtype=np.int64), np.asarray(ticks, dtype=np.int64)
        if index.size < VECTOR_FROM:
            return _one_by_one(self.world.item_at, kind, index, ticks)
        built, parity, stepped = self.columns.built_and_stepped(kind, index, ticks)
        result = self._built(kind, index, built, parity)
        # A date that changed nothing but `lastUpdated` keeps the item as it was (`World.step`): the item
        # just before that date then is the one shown.
        where = np.flatnonzero(stepped)
        if where.size:
            before = self.items_at(kind, index[where], built[where] - 1)
            items = result.items
            for position, earlier in zip(where.tolist(), before.items, strict=True):
                if same_but_stamp(earlier, items[position]):
                    items[position] = earlier
        return result

    def chance_changes(self, kind: EntityKind, tick: int) -> I64:
        """The indexes of the items that change by chance at a tick (`World.changes_at`).

        Drawn for CHANCE_WINDOW ticks at once: successive ticks ask for the ticks after.
        """
        window = self._chances.get(kind)
        if window is None or not window[0] <= tick < window[0] + CHANCE_WINDOW:
            count = self.counts[kind]
            ticks = np.arange(tick, tick + CHANCE_WINDOW, dtype=np.int64)
            index = np.repeat(np.arange(count, dtype=np.int64), CHANCE_WINDOW)
            last, _ = self.columns.schedule.latest(kind, index, np.tile(ticks, count))
            window = self._chances[kind] = (tick, (last == np.tile(ticks, count)).reshape(count, CHANCE_WINDOW).T)
        return np.flatnonzero(window[1][tick - window[0]])


def _one_by_one(build: Callable[[EntityKind, int, int], Built], kind: EntityKind, index: I64, ticks: I64) -> Builds:
    built = [build(kind, i, t) for i, t in zip(index.tolist(), ticks.tolist(), strict=True)]
    upcoming = [b.next_change for b in built]
    return Builds([b.item for b in built], upcoming, np.array([NEVER if t is None else t for t in upcoming], np.int64))


def item_columns(world: World) -> ItemColumns:
    """The item columns of a world (made once per world and kept as long as it lives)."""
    with _ENGINES_LOCK:
        engine = world.derived.get("item columns")
        if engine is None:
            engine = world.derived["item columns"] = ItemColumns(world)
        result: ItemColumns = engine
        return result


def item_history(world: World, kind: EntityKind, index: int, ticks: Sequence[int]) -> list[Item]:
    """One item (a slot, for the entities whose items are replaced) at each of the ticks."""
    engine = item_columns(world)
    return engine.items_at(kind, np.full(len(ticks), index, dtype=np.int64), np.asarray(ticks, dtype=np.int64)).items
