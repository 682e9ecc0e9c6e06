"""Worlds the engine's tests share: one with a scenario of each kind, and the ticks where something turns."""

from __future__ import annotations

from datetime import UTC, date, datetime

import data_generator as dg
from rules import EntityKind
from tests.support import make_settings

COUNTS = make_settings().entity_counts


def world_with_scenarios(seed: int = 17, interval: float = 30, scale: int = 1) -> dg.World:
    """A world of the default counts (times `scale`) with a churn wave, a renewal season, a budget freeze and
    an outage of vendor-4 around tick 30,000."""
    counts = {kind: count * scale for kind, count in COUNTS.items()}
    generation = dg.new_generation(counts=counts, interval=interval, now=dg.FIXED_EPOCH, seed=seed)
    for run in (
        dg.ScenarioRun("churn-wave", 30_000, 30_500),
        dg.ScenarioRun("renewal-season", 31_000, 34_000),
        dg.ScenarioRun("budget-freeze", 29_900, 30_200),
        dg.ScenarioRun("vendor-outage", 30_000, 30_100, target=3),
    ):
        generation = generation.with_scenario(run)
    return dg.World(generation)


def first_tick_of(generation: dg.Generation, day: date) -> int:
    return generation.first_tick_from(datetime(day.year, day.month, day.day, tzinfo=UTC))


def hard_ticks(world: dg.World) -> list[int]:
    """Ticks where something turns: month and year ends, scenario edges, a lead's and a client's replacement,
    and the days a license renews or a contract ends, each with its neighbours."""
    g = world.generation
    edges = [first_tick_of(g, date(2025, month, 1)) for month in range(1, 13)]
    edges += [first_tick_of(g, date(2026, 1, 1)), g.first_tick]
    edges += [tick for run in g.scenarios for tick in (run.start_tick, run.start_tick + 10, run.end_tick)]
    for index in range(3):
        start, end = world.lifetime("leads", index, 5) or (0, 0)
        edges += [start, end]
    snapshot = dg.compute_snapshot(g, 40_000, world)
    dated: tuple[tuple[EntityKind, str], ...] = (
        ("licenses", "renewalDate"),
        ("contracts", "endDate"),
        ("vendors", "contractEnd"),
    )
    for kind, field in dated:
        for item in snapshot.items[kind][:3]:
            edges.append(first_tick_of(g, date.fromisoformat(item[field])))
    return sorted({tick + delta for tick in edges for delta in (-1, 0, 1)})
