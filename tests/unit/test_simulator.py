"""The background task: it ticks on the generation's clock, survives a failing tick and stops cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from datetime import UTC, datetime, timedelta

import orjson
import pytest

import data_generator as dg
from config import now_utc
from fastpath import ITEM_JSON, encode_all, encode_list
from prism.services import services_of
from simulator import Simulator
from tests.support import make_settings
from tests.support.invariants import parse_time


async def _wait_for_tick(simulator: Simulator, tick: int) -> None:
    reached = asyncio.Event()

    async def listener(snapshot: dg.Snapshot, previous: dg.Snapshot | None) -> None:
        if snapshot.tick >= tick:
            reached.set()

    simulator.add_listener(listener)
    if simulator.snapshot.tick < tick:
        async with asyncio.timeout(5):
            await reached.wait()


@pytest.mark.slow
def test_a_sub_second_interval_advances_the_served_snapshot_on_the_clock() -> None:
    async def scenario() -> None:
        simulator = Simulator(make_settings(update_interval_seconds=0.2, simulator_seed=None))
        first = simulator.snapshot
        simulator.start()
        try:
            await _wait_for_tick(simulator, first.tick + 5)
            current = simulator.snapshot
            assert current.generation is first.generation
            assert current.items != first.items
            assert current.time <= now_utc()  # never a tick ahead of the clock
            assert simulator.generation.tick_at(now_utc()) >= current.tick >= first.tick + 5
            assert simulator.ticks_computed >= 1  # a loaded machine may jump several ticks at once
            assert simulator.is_running
        finally:
            await simulator.stop()
        assert not simulator.is_running
        stopped_at = simulator.snapshot.tick
        await asyncio.sleep(0.5)
        assert simulator.snapshot.tick == stopped_at

    asyncio.run(scenario())


def test_ticks_stay_on_the_generation_grid_even_when_computing_them_is_slow() -> None:
    """Each tick is served just after epoch + k x interval; the tick's own duration does not add up."""
    cost = timedelta(seconds=7)  # of a 30 s tick, on a clock the test moves: computing a tick, or sleeping
    now = [datetime(2026, 6, 1, 12, 0, 1, tzinfo=UTC)]
    served: list[tuple[int, datetime]] = []
    slept: list[float] = []

    def slow_advance(snapshot: dg.Snapshot, world: dg.World) -> dg.Snapshot:
        now[0] += cost
        return dg.advance(snapshot, world)

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += timedelta(seconds=seconds)
        await asyncio.sleep(0)

    async def scenario() -> dg.Generation:
        simulator = Simulator(make_settings(), clock=lambda: now[0], advance=slow_advance, sleep=sleep)
        enough = asyncio.Event()

        async def record(snapshot: dg.Snapshot, previous: dg.Snapshot | None) -> None:
            served.append((snapshot.tick, now[0]))
            if len(served) == 8:
                enough.set()

        simulator.add_listener(record)
        loop_task = asyncio.get_running_loop().create_task(simulator.run())
        async with asyncio.timeout(10):
            await enough.wait()
        loop_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop_task
        return simulator.generation

    generation = asyncio.run(scenario())
    ticks = [tick for tick, _ in served[:8]]
    # A loop that slept a whole interval after each tick would fall behind and skip ticks.
    assert ticks == list(range(ticks[0], ticks[0] + 8)), f"ticks skipped or repeated: {ticks}"
    lateness = [moment - generation.time_of(tick) for tick, moment in served[:8]]
    assert lateness == [cost] * 8, lateness  # each tick served right after its own time plus its own cost
    assert slept[1:8] == [23.0] * 7  # after each tick, only what is left of the interval


def test_a_tick_that_raises_is_counted_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    failures = [1]

    def flaky_advance(snapshot: dg.Snapshot, world: dg.World) -> dg.Snapshot:
        if failures:
            failures.pop()
            raise RuntimeError("disk on fire")
        return dg.advance(snapshot, world)

    async def scenario() -> None:
        simulator = Simulator(make_settings(update_interval_seconds=0.1), advance=flaky_advance)
        start = simulator.snapshot.tick
        simulator.start()
        try:
            await _wait_for_tick(simulator, start + 4)
        finally:
            await simulator.stop()
        assert simulator.ticks_failed == 1
        assert simulator.last_error == "RuntimeError: disk on fire"
        assert simulator.ticks_computed >= 2

    asyncio.run(scenario())
    assert any("failed" in record.message and record.exc_info for record in caplog.records)


@pytest.mark.slow
def test_a_long_pause_jumps_to_the_tick_due_instead_of_replaying() -> None:
    now = [now_utc()]
    advanced: list[int] = []

    def counted_advance(snapshot: dg.Snapshot, world: dg.World) -> dg.Snapshot:
        advanced.append(snapshot.tick + 1)
        return dg.advance(snapshot, world)

    simulator = Simulator(make_settings(), clock=lambda: now[0], advance=counted_advance)
    start = simulator.snapshot
    now[0] += timedelta(hours=6)
    snapshot = simulator.step()
    assert snapshot.tick == start.tick + 6 * 3600 // 30
    assert advanced == []  # jumped: not one tick of the gap was replayed
    # The world the jump lands in is the one 720 ticks of the loop reach, tick by tick.
    replayed = start
    for _ in range(720):
        replayed = dg.advance(replayed)
    assert snapshot.items == replayed.items
    now[0] += timedelta(seconds=60)
    assert simulator.step().tick == snapshot.tick + 2
    assert advanced == [snapshot.tick + 1, snapshot.tick + 2]  # a short gap is replayed


def test_stats_show_failed_ticks_over_http() -> None:
    from fastapi.testclient import TestClient

    import main

    def always_failing(snapshot: dg.Snapshot, world: dg.World) -> dg.Snapshot:
        raise ValueError("bad tick")

    app = main.create_app(
        make_settings(update_interval_seconds=0.1),
        simulator_factory=lambda settings: Simulator(settings, advance=always_failing),
    )
    with TestClient(app) as client:
        for _ in range(100):
            stats = client.get("/api/stats").json()
            if stats["ticks_failed"] >= 2:
                break
            time.sleep(0.05)
        assert stats["ticks_failed"] >= 2
        assert stats["is_running"] is True
        assert client.get("/health").status_code == 200


def test_the_lifespan_starts_the_task_and_shutdown_ends_it() -> None:
    from fastapi.testclient import TestClient

    import main

    app = main.create_app(make_settings(update_interval_seconds=0.1))
    with TestClient(app) as client:
        simulator: Simulator = services_of(app).simulator
        task = simulator._task
        assert task is not None
        assert not task.done()
        assert client.get("/").json()["status"] == "running"
    assert task.done()
    assert not simulator.is_running
    stopped_at = simulator.snapshot.tick
    time.sleep(0.3)
    assert simulator.snapshot.tick == stopped_at


def test_a_regenerate_during_a_tick_is_announced_once() -> None:
    """The tick that loses the race to a regenerate must not announce the new generation a second time."""
    entered, gate = threading.Event(), threading.Event()

    def blocking_advance(snapshot: dg.Snapshot, world: dg.World) -> dg.Snapshot:
        entered.set()
        gate.wait(5)
        return dg.advance(snapshot, world)

    announced: list[tuple[int, int]] = []

    async def scenario() -> None:
        simulator = Simulator(make_settings(update_interval_seconds=0.1), advance=blocking_advance)

        async def record(snapshot: dg.Snapshot, previous: dg.Snapshot | None) -> None:
            if previous is not None and previous.generation.seed != snapshot.generation.seed:
                announced.append((previous.generation.seed, snapshot.generation.seed))

        simulator.add_listener(record)
        simulator.start()
        try:
            assert await asyncio.to_thread(entered.wait, 5)
            await simulator.regenerate()
            gate.set()
            await asyncio.sleep(0.4)
        finally:
            gate.set()
            await simulator.stop()
        regenerates = [event for event in simulator.events.since(0) if event.kind == "regenerate"]
        assert len(regenerates) == 1, regenerates

    asyncio.run(scenario())
    assert len(announced) == 1, announced


@pytest.mark.slow
def test_the_served_lists_move_with_a_sub_second_interval_over_http() -> None:
    from fastapi.testclient import TestClient

    import main

    with TestClient(main.create_app(make_settings(update_interval_seconds=0.2))) as client:
        first = client.get("/api/clients")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            time.sleep(0.1)
            later = client.get("/api/clients")
            if int(later.headers["x-tick"]) >= int(first.headers["x-tick"]) + 3 and later.json() != first.json():
                break
        assert int(later.headers["x-tick"]) >= int(first.headers["x-tick"]) + 3
        assert later.json() != first.json()
        stats = client.get("/api/stats").json()
        assert stats["ticks_computed"] >= 3
        assert stats["ticks_failed"] == 0
        assert max(parse_time(c["lastUpdated"]) for c in later.json()) > max(
            parse_time(c["lastUpdated"]) for c in first.json()
        )
        newest_first = [c["lastUpdated"] for c in client.get("/api/clients?sort=lastUpdated&order=desc").json()]
        assert [parse_time(stamp) for stamp in newest_first] == sorted(map(parse_time, newest_first), reverse=True)
        assert all(stamp.endswith("00Z") and len(stamp) == len("2025-01-15T10:30:00.200Z") for stamp in newest_first)


def test_a_tick_encodes_only_the_items_it_changed_and_serves_the_same_bytes() -> None:
    counts = make_settings().entity_counts
    generation = dg.new_generation(counts=counts, interval=30, now=datetime(2026, 3, 1, tzinfo=UTC), seed=11)
    world = dg.World(generation)
    start = encode_all(dg.compute_snapshot(generation, 50_000, world))
    previous = encode_all(dg.advance(start, world), start)  # the first tick after start-up encodes every item
    reused = encoded_again = 0
    for _ in range(40):
        snapshot = encode_all(dg.advance(previous, world), previous)
        for kind in dg.ENTITY_KINDS:
            items, parts = snapshot.items[kind], snapshot.cache.get(ITEM_JSON, kind)
            assert encode_list(snapshot, kind).body == orjson.dumps(list(items))
            earlier_parts = previous.cache.get(ITEM_JSON, kind)
            assert parts is not None
            assert earlier_parts is not None
            for item, was, json, earlier in zip(items, previous.items[kind], parts, earlier_parts, strict=True):
                if item is was:
                    assert json is earlier
                    reused += 1
                else:
                    assert json == orjson.dumps(item)
                    encoded_again += 1
        previous = snapshot
    assert reused > 5 * encoded_again > 0
