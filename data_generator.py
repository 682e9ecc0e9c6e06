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
service uses.
"""

from __future__ import annotations

from prism.simulation.builders import World
from prism.simulation.generation import (
    CHANGE_BLOCK,
    CHANGES_PER_BLOCK,
    CLIENT_SOURING_SHARE,
    CLIENT_SOURING_TICKS,
    CLIENT_TENURE_TICKS,
    ENTITY_KINDS,
    FIXED_EPOCH,
    HISTORY_BEFORE_EPOCH,
    HISTORY_MONTHS,
    ID_PREFIX,
    KIND_CODE,
    REPLACED_KINDS,
    SCENARIOS,
    Ch,
    Generation,
    Item,
    ScenarioRun,
    cents,
    company_name,
    day_start,
    days_in_month,
    department_name,
    domain_of,
    email_local,
    iso_time,
    item_key,
    item_keys,
    money,
    month_key,
    month_label,
    month_start,
    new_generation,
    pct,
    person,
    phone,
    pull_forward,
    with_parity,
)
from prism.simulation.items import item_history
from prism.simulation.randomness import Rng
from prism.simulation.snapshot import Snapshot, advance, compute_snapshot, diff_ids, iter_items
from prism.simulation.world import Built, WorldCore

__all__ = [
    "CHANGES_PER_BLOCK",
    "CHANGE_BLOCK",
    "CLIENT_SOURING_SHARE",
    "CLIENT_SOURING_TICKS",
    "CLIENT_TENURE_TICKS",
    "ENTITY_KINDS",
    "FIXED_EPOCH",
    "HISTORY_BEFORE_EPOCH",
    "HISTORY_MONTHS",
    "ID_PREFIX",
    "KIND_CODE",
    "REPLACED_KINDS",
    "SCENARIOS",
    "Built",
    "Ch",
    "Generation",
    "Item",
    "Rng",
    "ScenarioRun",
    "Snapshot",
    "World",
    "WorldCore",
    "advance",
    "cents",
    "company_name",
    "compute_snapshot",
    "day_start",
    "days_in_month",
    "department_name",
    "diff_ids",
    "domain_of",
    "email_local",
    "iso_time",
    "item_history",
    "item_key",
    "item_keys",
    "iter_items",
    "money",
    "month_key",
    "month_label",
    "month_start",
    "new_generation",
    "pct",
    "person",
    "phone",
    "pull_forward",
    "with_parity",
]
