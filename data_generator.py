"""The simulation's door, as the design card names it: the MSP's world as a pure function of (seed, epoch, tick).

The code lives in `prism/simulation/`: `generation.py` (a generation: seed, clock, scenarios, the entities,
the channels of randomness and the small formulas the builders share), `world.py` (an item's change schedule,
ids and lifetimes), `builders.py` (each entity's item as the dict the API serves), `snapshot.py` (the world at
one tick, directly or from the tick before); and the engine's arrays: `randomness.py` (counter-based draws,
for one item or for arrays), `timeline.py` (days, months, scenarios and change schedules over arrays),
`columns.py` (the quantities the KPIs add up, for many items at many ticks), `series.py` (the KPIs over
many ticks at once), and whole items from columns: `items.py` (the items `World.item_at` builds, for arrays of
(index, tick): snapshots, ticks, an item's history), `item_fields.py` and `spend_fields.py` (each entity's
fields over arrays) and `texts.py` (their names, dates and ids). This module re-exports what the rest of the
service and its tests use; the other names are imported from their own modules.
"""

from __future__ import annotations

from prism.simulation.builders import World
from prism.simulation.generation import (
    CHANGE_BLOCK,
    ENTITY_KINDS,
    FIXED_EPOCH,
    ID_PREFIX,
    REPLACED_KINDS,
    SCENARIOS,
    Generation,
    Item,
    ScenarioRun,
    company_name,
    department_name,
    iso_time,
    month_key,
    month_start,
    new_generation,
)
from prism.simulation.items import item_history
from prism.simulation.snapshot import Snapshot, advance, compute_snapshot, diff_ids

__all__ = [
    "CHANGE_BLOCK",
    "ENTITY_KINDS",
    "FIXED_EPOCH",
    "ID_PREFIX",
    "REPLACED_KINDS",
    "SCENARIOS",
    "Generation",
    "Item",
    "ScenarioRun",
    "Snapshot",
    "World",
    "advance",
    "company_name",
    "compute_snapshot",
    "department_name",
    "diff_ids",
    "iso_time",
    "item_history",
    "month_key",
    "month_start",
    "new_generation",
]
