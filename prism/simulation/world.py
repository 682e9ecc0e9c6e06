"""What an item of a generation is without its fields: its randomness, its chance-change schedule, the ids and
lifetimes of the items that are replaced, and the ticks at which its dates change it."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from prism.simulation.generation import (
    CHANGE_BLOCK,
    CHANGES_PER_BLOCK,
    CLIENT_TENURE_TICKS,
    ENTITY_KINDS,
    ID_PREFIX,
    REPLACED_KINDS,
    Ch,
    Generation,
    Item,
    day_start,
    iso_time,
    item_key,
    item_keys,
)
from prism.simulation.randomness import Rng, integers, item_bases
from rules import EntityKind


def same_but_stamp(before: Item, after: Item) -> bool:
    """Whether two builds of an item differ in nothing but `lastUpdated`."""
    return before == {**after, "lastUpdated": before["lastUpdated"]}


@dataclass(frozen=True, slots=True)
class Built:
    """An item as of a change tick, and the next tick at which its dates alone would change it."""

    item: Item
    next_change: int | None


class WorldCore:
    """One generation's items without their fields: randomness, change schedule, ids, lifetimes and dates."""

    _builders: dict[str, Callable[[int, int], Built]]

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        self.seed = generation.seed
        # With ticks between whole seconds every stamp carries milliseconds, so that stamps sort as text
        # (`...:05Z` would sort after `...:05.200Z`).
        self._stamp_milliseconds = generation.interval % 1 != 0 or generation.epoch.microsecond != 0
        # Drawn up front (not lazily) so that threads sharing this world never race on them.
        self._bases: dict[EntityKind, list[int]] = {
            kind: item_bases(self.seed, item_keys(kind, generation.counts.get(kind, 0))).tolist()
            for kind in ENTITY_KINDS
        }
        self._phases: dict[EntityKind, tuple[int, ...]] = {
            kind: tuple(integers(np.asarray(bases, dtype=np.uint64), 0, CHANGE_BLOCK - 1, Ch.PHASE).tolist())
            for kind, bases in self._bases.items()
        }
        # The last block's offsets of each item: consecutive ticks mostly fall in the same block.
        self._offsets: dict[tuple[str, int], tuple[int, tuple[int, ...]]] = {}
        # What other modules derive from this world and keep exactly as long as it lives (the item columns).
        self.derived: dict[str, Any] = {}

    def rng(self, kind: EntityKind, index: int) -> Rng:
        """Randomness of one item."""
        bases = self._bases[kind]
        return Rng(bases[index]) if index < len(bases) else Rng.of(self.seed, item_key(kind, index))

    # --- change schedule -------------------------------------------------------------

    def _phase(self, kind: EntityKind, index: int) -> int:
        phases = self._phases.get(kind, ())
        if index < len(phases):
            return phases[index]
        return self._draw_phase(kind, index)

    def _draw_phase(self, kind: EntityKind, index: int) -> int:
        return self.rng(kind, index).integer(0, CHANGE_BLOCK - 1, Ch.PHASE)

    def _block(self, kind: EntityKind, index: int, tick: int) -> tuple[int, int]:
        """The item's change block holding a tick, and the tick's offset in it."""
        return divmod(tick + self._phase(kind, index), CHANGE_BLOCK)

    def _block_offsets(self, kind: EntityKind, index: int, block: int) -> tuple[int, ...]:
        """Offsets of the chance-change ticks within one block, ascending, always 0 first and an even count.

        An even count lets every chance change flip a parity (see `change_parity`), which is what makes
        each chance change a real change of the item without looking at the change before it.
        """
        key = (kind, index)
        cached = self._offsets.get(key)
        if cached is not None and cached[0] == block:
            return cached[1]
        draw = self.rng(kind, index).bits(Ch.CHANGE, block)
        offsets = sorted({0, *((draw >> (12 * j)) % CHANGE_BLOCK for j in range(CHANGES_PER_BLOCK))})
        if len(offsets) % 2:
            offsets = offsets[:-1] if len(offsets) > 1 else [0, CHANGE_BLOCK // 2]
        result = tuple(offsets)
        self._offsets[key] = (block, result)
        return result

    def changes_at(self, kind: EntityKind, index: int, tick: int) -> bool:
        """Whether an item changes at a tick by chance."""
        block, offset = self._block(kind, index, tick)
        return offset == 0 or offset in self._block_offsets(kind, index, block)

    def _latest_offset(self, kind: EntityKind, index: int, tick: int) -> tuple[int, int]:
        """The offset of the last chance change at or before `tick` in its block, and its rank there."""
        block, offset = self._block(kind, index, tick)
        offsets = self._block_offsets(kind, index, block)
        rank = bisect.bisect_right(offsets, offset) - 1
        return offset - offsets[rank], rank

    def last_chance_change(self, kind: EntityKind, index: int, tick: int) -> int:
        """The last tick at or before `tick` where the item changed by chance (one hash, no replay)."""
        return tick - self._latest_offset(kind, index, tick)[0]

    def change_parity(self, kind: EntityKind, index: int, tick: int) -> int:
        """0 or 1, flipping at every chance change of the item.

        Builders fold it into the last digit of one moving figure, so two successive chance changes
        never give the very same item: `lastUpdated` then moves only with a real change.
        """
        return self._latest_offset(kind, index, tick)[1] % 2

    def build(self, kind: EntityKind, index: int, tick: int) -> Built:
        """The item as it is right after a change at `tick`."""
        return self._builders[kind](index, tick)

    def item_at(self, kind: EntityKind, index: int, tick: int) -> Built:
        """The item as it is at any tick, computed directly."""
        built = self.build(kind, index, self.last_chance_change(kind, index, tick))
        while built.next_change is not None and built.next_change <= tick:
            built = self.step(kind, index, built, built.next_change)
        return built

    def step(self, kind: EntityKind, index: int, before: Built, tick: int) -> Built:
        """The item after a change tick: the very same object when no field but `lastUpdated` would move."""
        after = self.build(kind, index, tick)
        if same_but_stamp(before.item, after.item):
            return Built(before.item, after.next_change)
        return after

    # --- ids of items that are replaced ----------------------------------------------

    def serial(self, kind: EntityKind, index: int, cycle: int) -> int:
        """The N of `kind-N` for the item in a slot during one of its cycles (cycle 0 holds tick 0).

        Cycles are numbered 0, -1, 1, -2, 2, … so that the items of tick 0 are `kind-1` … `kind-count`
        and every successor (or predecessor, in history before the epoch) gets a new, unused N.
        """
        return index + 1 + self.generation.counts.get(kind, 0) * (2 * cycle if cycle >= 0 else -2 * cycle - 1)

    def locate(self, kind: EntityKind, item_id: str) -> tuple[int, int] | None:
        """The slot and cycle of an id, or None when the id cannot name an item of this generation."""
        prefix, _, number = item_id.rpartition("-")
        count = self.generation.counts.get(kind, 0)
        if prefix != ID_PREFIX[kind] or not number.isdigit() or number.startswith("0") or not count:
            return None
        index, turn = divmod(int(number) - 1, count)[::-1]
        if kind not in REPLACED_KINDS:
            return (index, 0) if turn == 0 else None
        return index, (turn // 2 if turn % 2 == 0 else -(turn + 1) // 2)

    def lifetime(self, kind: EntityKind, index: int, cycle: int) -> tuple[int, int] | None:
        """The ticks [first, end) during which a slot holds the item of one cycle; None when it never ends."""
        if kind == "leads":
            window, offset = self._lead_window(index)
        elif kind == "clients":
            window, offset = self._tenure_window(index)
        else:
            return None
        start = cycle * window - offset
        return start, start + window

    def _cycle(self, kind: EntityKind, index: int, tick: int) -> tuple[int, int, int]:
        """The cycle of a replaced item's slot at a tick, with its first tick and its end."""
        window, offset = self._lead_window(index) if kind == "leads" else self._tenure_window(index)
        cycle = (tick + offset) // window
        start = cycle * window - offset
        return cycle, start, start + window

    def _lead_window(self, index: int) -> tuple[int, int]:
        window = self.rng("leads", index).integer(480, 2880, Ch.WINDOW)
        return window, self._phase("leads", index) * 61 % window

    def _tenure_window(self, index: int) -> tuple[int, int]:
        slot = self.rng("clients", index)
        window = slot.integer(*CLIENT_TENURE_TICKS, Ch.TENURE)
        return window, slot.integer(0, window - 1, Ch.TENURE_PHASE)

    def _date_change(self, tick: int, *days: date) -> int | None:
        """The first tick after `tick` at which one of the days begins."""
        upcoming = [self.generation.first_tick_from(day_start(day)) for day in days]
        later = [t for t in upcoming if t > tick]
        return min(later) if later else None

    def _stamp(self, tick: int) -> tuple[datetime, str]:
        moment = self.generation.time_of(tick)
        return moment, iso_time(moment, self._stamp_milliseconds)
