"""Every invariant of DESIGN.md's entity table over a whole simulated year, and at 100x and 1,000x the counts."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest

import data_generator as dg
from rules import EntityKind
from tests.support import SEED, make_settings
from tests.support.invariants import check_snapshot

COUNTS = make_settings().entity_counts
START = datetime(2026, 6, 15, tzinfo=UTC)


def scaled(factor: int) -> dict[EntityKind, int]:
    return {kind: count * factor for kind, count in COUNTS.items()}


def first_tick_of(generation: dg.Generation, day: date) -> int:
    return generation.first_tick_from(datetime(day.year, day.month, day.day, tzinfo=UTC))


@pytest.mark.slow
def test_every_invariant_holds_at_every_tick_of_a_simulated_year() -> None:
    """Hourly ticks from mid-June to mid-June: 8,760 ticks over every month end and a New Year, each one checked
    (the items a tick left alone were checked when they last changed; their dates are checked at every tick)."""
    generation = dg.new_generation(counts=COUNTS, interval=3600, now=START, seed=SEED)
    world = dg.World(generation)
    start = generation.tick_at(START)
    snapshot = dg.compute_snapshot(generation, start, world)
    check_snapshot(snapshot)
    while snapshot.tick < start + 365 * 24:
        previous, snapshot = snapshot, dg.advance(snapshot, world)
        check_snapshot(snapshot, previous=previous)
    assert snapshot.time.date() == date(2027, 6, 15)
    assert dg.compute_snapshot(generation, snapshot.tick).items == snapshot.items


@pytest.mark.slow
@pytest.mark.parametrize(("factor", "samples"), [(100, 6), (1000, 2)])
def test_every_invariant_holds_at_sampled_ticks_of_a_much_larger_world(factor: int, samples: int) -> None:
    """13,100 and 131,000 items, at a month end, a year end and random ticks over two years; and a tick there
    gives what computing its snapshot directly gives."""
    generation = dg.new_generation(counts=scaled(factor), interval=30, now=START, seed=SEED + factor)
    world = dg.World(generation)
    pick = random.Random(factor)
    ticks = [first_tick_of(generation, date(2026, 12, 1)) - 1, first_tick_of(generation, date(2027, 1, 1))]
    ticks += [generation.tick_at(START) + pick.randrange(2 * 365 * 2880) for _ in range(samples - 2)]
    for tick in ticks:
        snapshot = dg.compute_snapshot(generation, tick, world)
        assert snapshot.counts == scaled(factor)
        check_snapshot(snapshot)
    following = dg.advance(snapshot, world)
    check_snapshot(following, previous=snapshot)
    assert following.items == dg.compute_snapshot(generation, snapshot.tick + 1, world).items
