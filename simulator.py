"""The simulator: owns the current generation and snapshot, and the task that ticks it."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

import data_generator as dg
from config import Settings, now_utc
from events import EventLog, event_id, generation_payload, tick_payload
from fastpath import encode_all
from history import KpiSeries
from prism.tasks import cancel_and_wait

logger = logging.getLogger("prism.simulator")

Clock = Callable[[], datetime]
Advance = Callable[[dg.Snapshot, dg.World], dg.Snapshot]
TickListener = Callable[[dg.Snapshot, dg.Snapshot | None], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]

# A gap of more ticks than this (a laptop waking from sleep) is jumped, not replayed.
MAX_REPLAY_TICKS = 64
# Snapshots of other ticks (reports' hour-earlier view, ?at=) kept for reuse: ~0.5 MB each at default counts.
HISTORY_CACHE_SIZE = 16
# The change feed replays the last hour of ticks to a reconnecting client (bounded for tiny intervals).
EVENT_LOG_SPAN_SECONDS = 3600
EVENT_LOG_MAX = 20_000


class Simulator:
    """The current snapshot (swapped whole on each tick) and the background task that ticks it."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = now_utc,
        advance: Advance = dg.advance,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._sleep = sleep
        self._advance = advance
        self._lock = threading.Lock()
        self._catch_up_lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[TickListener] = []
        self._history: OrderedDict[tuple[int, int], dg.Snapshot] = OrderedDict()
        self.ticks_computed = 0
        self.ticks_failed = 0
        self.last_tick_duration_ms = 0.0
        self.last_error: str | None = None
        capacity = min(EVENT_LOG_MAX, max(120, int(EVENT_LOG_SPAN_SECONDS / settings.update_interval_seconds)))
        self.events = EventLog(capacity)
        self.kpi_series = KpiSeries()
        self._loop: asyncio.AbstractEventLoop | None = None
        generation = dg.new_generation(
            counts=settings.entity_counts,
            interval=settings.update_interval_seconds,
            now=clock(),
            seed=settings.simulator_seed,
            epoch=settings.simulator_epoch,
        )
        self._install(generation)

    # --- state ----------------------------------------------------------------------

    def _install(self, generation: dg.Generation, tick: int | None = None) -> dg.Snapshot:
        """Compute the snapshot of the current (or a given) tick of a generation and make it current."""
        world = dg.World(generation)
        started = time.perf_counter()
        snapshot = encode_all(
            dg.compute_snapshot(generation, generation.tick_at(self.clock()) if tick is None else tick, world)
        )
        self.last_tick_duration_ms = (time.perf_counter() - started) * 1000
        with self._lock:
            self.world = world
            self.generation = generation
            self.snapshot = snapshot
            self._history.clear()
        return snapshot

    @property
    def is_running(self) -> bool:
        """Whether the tick task is alive."""
        return self._task is not None and not self._task.done()

    @property
    def next_tick_at(self) -> datetime:
        """When the tick after the current one is due."""
        return self.generation.time_of(self.snapshot.tick + 1)

    def add_listener(self, listener: TickListener) -> None:
        """Call `listener(new, previous)` after every swap (tick or regenerate)."""
        self._listeners.append(listener)

    def snapshot_at(self, tick: int) -> dg.Snapshot:
        """The snapshot of any tick of the current generation (recent ones are kept)."""
        current = self.snapshot
        if tick == current.tick:
            return current
        key = (current.generation.seed, tick)
        with self._lock:
            cached = self._history.get(key)
            if cached is not None:
                self._history.move_to_end(key)
                return cached
        snapshot = dg.compute_snapshot(current.generation, tick, self.world)
        with self._lock:
            self._history[key] = snapshot
            while len(self._history) > HISTORY_CACHE_SIZE:
                self._history.popitem(last=False)
        return snapshot

    # --- ticking --------------------------------------------------------------------

    def step(self) -> dg.Snapshot:
        """Compute the snapshot due now (the next tick, or a jump after a long pause) and swap it in."""
        previous = self.snapshot
        target = max(previous.tick + 1, self.generation.tick_at(self.clock()))
        started = time.perf_counter()
        if target - previous.tick > MAX_REPLAY_TICKS:
            snapshot = dg.compute_snapshot(previous.generation, target, self.world)
        else:
            snapshot = previous
            while snapshot.tick < target:
                snapshot = self._advance(snapshot, self.world)
        encode_all(snapshot, previous)
        with self._lock:
            if self.snapshot is not previous:  # a regenerate won the race; keep its world
                return self.snapshot
            self.snapshot = snapshot
        self.last_tick_duration_ms = (time.perf_counter() - started) * 1000
        self.ticks_computed += 1
        return snapshot

    def catch_up(self) -> dg.Snapshot:
        """Without a tick task (serverless), compute the tick due now on demand."""
        with self._catch_up_lock:
            if self.generation.tick_at(self.clock()) > self.snapshot.tick:
                self.step()
        return self.snapshot

    async def regenerate(self) -> dg.Snapshot:
        """Start a new generation (new seed, epoch now) and serve its first tick."""
        previous = self.snapshot
        now = self.clock()
        generation = dg.new_generation(
            counts=self.settings.entity_counts,
            interval=self.settings.update_interval_seconds,
            now=now,
            revision=revision_at(now),
        )
        snapshot = await asyncio.to_thread(self._install, generation)
        await self._notify(snapshot, previous)
        return snapshot

    async def replace_generation(self, generation: dg.Generation) -> dg.Snapshot:
        """Serve another generation, adopted from a peer, at its tick due now."""
        previous = self.snapshot
        generation = replace(generation, counts=previous.generation.counts)
        snapshot = await asyncio.to_thread(self._install, generation)
        await self._notify(snapshot, previous)
        return snapshot

    async def _notify(self, snapshot: dg.Snapshot, previous: dg.Snapshot | None) -> None:
        if previous is None or previous.generation.seed != snapshot.generation.seed:
            self.events.publish("regenerate", event_id(snapshot), generation_payload(snapshot))
        elif previous.generation is not snapshot.generation and previous.tick == snapshot.tick:
            self.events.publish(
                "scenario", f"{event_id(snapshot)}-s{len(snapshot.generation.scenarios)}", generation_payload(snapshot)
            )
        else:
            self.events.publish("tick", event_id(snapshot), tick_payload(snapshot, previous))
        for listener in self._listeners:
            try:
                await listener(snapshot, previous)
            except Exception:
                logger.exception("tick listener failed")

    async def run(self) -> None:
        """Tick on the generation's clock until cancelled; a failing tick is counted and skipped."""
        while True:
            delay = (self.next_tick_at - self.clock()).total_seconds()
            await self._sleep(max(0.0, delay))
            previous = self.snapshot
            try:
                snapshot = await asyncio.to_thread(self.step)
            except Exception as exc:
                self.ticks_failed += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                logger.exception("tick %d failed", previous.tick + 1)
                await self._wait_past_failed_tick(previous)
                continue
            # Another generation means a regenerate or scenario won the race with this tick and has told
            # the listeners itself; telling them again would repeat its event.
            if snapshot is not previous and snapshot.generation is previous.generation:
                await self._notify(snapshot, previous)

    async def _wait_past_failed_tick(self, previous: dg.Snapshot) -> None:
        """After a failure, wait for the following tick's time rather than retrying in a hot loop."""
        due = previous.generation.time_of(previous.tick + 2)
        await self._sleep(max(0.0, (due - self.clock()).total_seconds()))

    def begin_shutdown(self) -> None:
        """From any thread or a signal handler: end the change feed's streams so the server can drain."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.events.close)

    def start(self) -> None:
        """Start the tick task on the running loop."""
        self._loop = asyncio.get_running_loop()
        if not self.is_running:
            self._task = asyncio.get_running_loop().create_task(self.run(), name="prism-ticks")

    async def stop(self) -> None:
        """Stop the tick task and wait for it to end."""
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def start_scenario(self, name: str, duration_ticks: int, target: int = 0) -> dg.ScenarioRun:
        """Add a scenario to the generation, starting at the next tick and ending by itself."""
        current = self.snapshot
        run = dg.ScenarioRun(name, current.tick + 1, current.tick + 1 + duration_ticks, target)
        generation = current.generation.with_scenario(run, revision_at(self.clock()))
        adopted = dg.Snapshot(
            generation, current.tick, current.items, current.next_changes, current.changed, current.cache.copy()
        )
        with self._lock:
            if self.snapshot is not current:
                raise RuntimeError("the world moved on while the scenario was being started; try again")
            self.world = dg.World(generation)
            self.generation = generation
            self.snapshot = adopted
            self._history.clear()
        await self._notify(adopted, current)
        return run

    def window(self) -> tuple[datetime, datetime]:
        """The span of time whose data this generation can show: its history up to now."""
        generation = self.generation
        return generation.time_of(generation.first_tick), max(self.clock(), self.snapshot.time)


def revision_at(moment: datetime) -> int:
    """The revision of a generation a person changed at this moment."""
    return int(moment.timestamp() * 1000)
