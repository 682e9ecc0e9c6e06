"""Stateful property test: any sequence of ticks, jumps in time, scenarios and regenerates keeps the world sound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import data_generator as dg
from rules import EntityKind
from tests.support.invariants import check_snapshot

COUNTS: dict[EntityKind, int] = {
    "clients": 6,
    "licenses": 6,
    "leads": 6,
    "technicians": 5,
    "departments": 4,
    "vendors": 4,
    "contracts": 6,
}
START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class WorldMachine(RuleBasedStateMachine):
    """Drives one generation as the service would, and checks it against direct computation."""

    def __init__(self) -> None:
        super().__init__()
        self.generation = dg.new_generation(counts=COUNTS, interval=30, now=START, seed=1)
        self.snapshot = dg.compute_snapshot(self.generation, self.generation.tick_at(START))

    @rule(steps=st.integers(min_value=1, max_value=12))
    def tick(self, steps: int) -> None:
        self.snapshot = replay(self.snapshot, steps)

    @rule(ticks=st.integers(min_value=-20_000, max_value=1_200_000), lead=st.integers(min_value=1, max_value=3))
    def jump(self, ticks: int, lead: int) -> None:
        # Land by ticking from a few ticks before the target, so that the invariant compares two paths.
        target = self.snapshot.tick + ticks
        self.snapshot = replay(dg.compute_snapshot(self.snapshot.generation, target - lead), lead)

    @rule(
        seed=st.integers(min_value=0, max_value=2**63 - 1),
        days=st.integers(min_value=0, max_value=400),
        lead=st.integers(min_value=1, max_value=3),
    )
    def regenerate(self, seed: int, days: int, lead: int) -> None:
        now = START + timedelta(days=days)
        self.generation = dg.new_generation(counts=COUNTS, interval=30, now=now, seed=seed, epoch=now)
        # Tick 0 reached from the generation's history before its epoch, not computed directly.
        self.snapshot = replay(dg.compute_snapshot(self.generation, -lead), lead)
        assert self.snapshot.tick == 0

    @rule(name=st.sampled_from(sorted(dg.SCENARIOS)), duration=st.integers(min_value=1, max_value=200))
    def scenario(self, name: str, duration: int) -> None:
        tick = self.snapshot.tick
        run = dg.ScenarioRun(name, tick + 1, tick + 1 + duration, target=tick % COUNTS["vendors"])
        generation = self.snapshot.generation.with_scenario(run)
        s = self.snapshot
        self.snapshot = dg.Snapshot(generation, s.tick, s.items, s.next_changes, s.changed)

    @invariant()
    def relations_hold(self) -> None:
        check_snapshot(self.snapshot)

    @invariant()
    def random_access_agrees(self) -> None:
        # Every rule reaches its snapshot through at least one `advance` (or keeps the items of one): a
        # snapshot computed directly at that tick must be the same world.
        direct = dg.compute_snapshot(self.snapshot.generation, self.snapshot.tick)
        assert direct.items == self.snapshot.items


def replay(snapshot: dg.Snapshot, steps: int) -> dg.Snapshot:
    """The snapshot `steps` ticks later, reached tick by tick as the service's loop does."""
    world = dg.World(snapshot.generation)
    for _ in range(steps):
        snapshot = dg.advance(snapshot, world)
    return snapshot


# Fresh examples every run, failures kept and printed for replay: the profile in conftest.py.
WorldMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=15)
TestWorld = pytest.mark.slow(WorldMachine.TestCase)
