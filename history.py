"""KPI time series over a generation: kept per tick as the world ticks, backfilled, computed on demand."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta

import data_generator as dg
from kpis import KPI_NAMES, compute_kpis

logger = logging.getLogger("prism.history")

MAX_POINTS = 1000
# Consecutive ticks closer than this are reached by advancing, not by computing afresh.
ADVANCE_LIMIT = 12
# Ticks of KPIs kept in memory (a tuple of ten numbers each).
CAPACITY = 25_000

Row = tuple[float, ...]


class KpiSeries:
    """KPIs per (seed, tick), computed once and kept in a bounded store shared by all requests."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._rows: OrderedDict[tuple[int, int], Row] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._rows)

    def record(self, snapshot: dg.Snapshot) -> None:
        """Keep the KPIs of a snapshot."""
        kpis = compute_kpis(snapshot)
        row = tuple(kpis[name] for name in KPI_NAMES)  # counts stay ints: the API serves them as integers
        key = (snapshot.generation.seed, snapshot.tick)
        with self._lock:
            self._rows[key] = row
            self._rows.move_to_end(key)
            while len(self._rows) > self.capacity:
                self._rows.popitem(last=False)

    def lookup(self, seed: int, tick: int) -> Row | None:
        """The kept KPIs of a tick, if any."""
        return self._rows.get((seed, tick))

    def fill(
        self,
        generation: dg.Generation,
        ticks: Iterable[int],
        world: dg.World | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """Make sure the KPIs of these ticks are kept, advancing through close ticks rather than recomputing."""
        world = world or dg.World(generation)
        missing = sorted(t for t in set(ticks) if (generation.seed, t) not in self._rows)
        current: dg.Snapshot | None = None
        for tick in missing:
            if stop is not None and stop.is_set():
                return
            if current is not None and 0 < tick - current.tick <= ADVANCE_LIMIT:
                while current.tick < tick:
                    current = dg.advance(current, world)
                    self.record(current)
            else:
                current = dg.compute_snapshot(generation, tick, world)
                self.record(current)

    def rows(self, generation: dg.Generation, ticks: range, world: dg.World | None = None) -> list[Row]:
        """KPIs of each tick, computing those not kept yet."""
        seed = generation.seed
        found = [self.lookup(seed, tick) for tick in ticks]
        if any(row is None for row in found):
            self.fill(generation, (tick for tick, row in zip(ticks, found, strict=True) if row is None), world)
            found = [self.lookup(seed, tick) for tick in ticks]
        return [
            row if row is not None else self._compute(generation, tick, world)
            for row, tick in zip(found, ticks, strict=True)
        ]

    def _compute(self, generation: dg.Generation, tick: int, world: dg.World | None) -> Row:
        # Only reached when the store is smaller than one request; correct, merely slower.
        kpis = compute_kpis(dg.compute_snapshot(generation, tick, world))
        return tuple(kpis[name] for name in KPI_NAMES)

    def backfill(
        self,
        generation: dg.Generation,
        until_tick: int,
        *,
        span: timedelta,
        budget_seconds: float,
        stop: threading.Event,
        chunk: int = 30,
    ) -> int:
        """Fill the ticks of `span` before `until_tick`, newest first, within a CPU budget; returns ticks filled."""
        world = dg.World(generation)
        first = max(generation.first_tick, until_tick - int(span.total_seconds() / generation.interval))
        started = time.perf_counter()
        filled = 0
        end = until_tick
        while end > first and not stop.is_set():
            start = max(first, end - chunk)
            self.fill(generation, range(start, end), world, stop)
            filled += end - start
            end = start
            if time.perf_counter() - started > budget_seconds:
                logger.info("history backfill stopped at its budget after %d ticks", filled)
                break
            time.sleep(0.002)  # let requests and the tick run between chunks
        return filled


def parse_step(text: str) -> timedelta:
    """A step such as `30`, `30s`, `5m`, `1h` or `1d` (seconds when no unit)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
    text = text.strip().lower()
    factor = units.get(text[-1:]) if text else None
    number = text[:-1] if factor is not None else text
    try:
        seconds = float(number) * (factor or 1)
        step = timedelta(seconds=seconds) if 0 < seconds < float("inf") else None
    except (ValueError, OverflowError):  # not a number, or more days than a timedelta holds
        step = None
    if step is None:
        raise ValueError(f"step must be a positive duration such as 30s, 5m, 1h, not {text!r}")
    return step


def plan_ticks(
    generation: dg.Generation,
    start: datetime,
    end: datetime,
    step: timedelta | None,
    max_points: int = MAX_POINTS,
) -> range:
    """The ticks between start and end on the grid of `step` (a whole number of ticks); at most `max_points`.

    The grid is fixed (multiples of the step), not anchored at `start`: a chart that asks for
    "the last hour" every few seconds asks for the same ticks each time, which are then kept.
    """
    first, last = generation.tick_at(start), generation.tick_at(end)
    if step is None:
        stride = max(1, -(-(last - first + 1) // max_points))
    else:
        stride = max(1, round(step.total_seconds() / generation.interval))
    aligned = -(-first // stride) * stride
    ticks = range(aligned, last + 1, stride) if aligned <= last else range(last, last + 1, stride)
    if len(ticks) > max_points:
        raise ValueError(
            f"that range and step give {len(ticks)} points; at most {max_points} are served, use a larger step"
        )
    return ticks
