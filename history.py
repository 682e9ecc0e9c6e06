"""KPI time series over any range of a generation, computed from the engine's columns on demand."""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from datetime import datetime, timedelta

import data_generator as dg
from prism.simulation.series import Cancelled, KpiColumns, Row

MAX_POINTS = 1000
# Points × items one request may ask for: a history answers well inside the graceful-shutdown window.
MAX_WORK = 3_000_000
# KPI rows kept from earlier requests (about 200 bytes each): a chart polling "the last hour" on the fixed
# grid of its step asks again for all but its newest points, which are then all that is computed.
ROWS_KEPT = 20_000

__all__ = ["MAX_POINTS", "MAX_WORK", "Cancelled", "KpiSeries", "Row", "check_work", "parse_step", "plan_ticks"]


class KpiSeries:
    """The KPIs of any ticks of the served world: the ticks a request lacks computed at once, and the most
    recently asked `ROWS_KEPT` rows kept for the next request (a new world forgets them)."""

    def __init__(self, kept: int = ROWS_KEPT) -> None:
        self._lock = threading.Lock()
        self._world: dg.World | None = None
        self._columns: KpiColumns | None = None
        self._kept: OrderedDict[int, Row] = OrderedDict()
        self._capacity = kept

    def __len__(self) -> int:
        """Ticks whose KPIs are kept."""
        return len(self._kept)

    def _columns_of(self, world: dg.World) -> KpiColumns:
        with self._lock:
            if self._world is not world or self._columns is None:
                self._world, self._columns = world, KpiColumns(world)
                self._kept.clear()
            return self._columns

    def _known(self, columns: KpiColumns, ticks: range) -> dict[int, Row]:
        with self._lock:
            if self._columns is not columns:
                return {}
            known = {tick: row for tick in ticks if (row := self._kept.get(tick)) is not None}
            for tick in known:
                self._kept.move_to_end(tick)
            return known

    def _keep(self, columns: KpiColumns, rows: dict[int, Row]) -> None:
        with self._lock:
            if self._columns is not columns:  # the world changed meanwhile: these rows are of the old one
                return
            self._kept.update(rows)
            while len(self._kept) > self._capacity:
                self._kept.popitem(last=False)

    def rows(
        self,
        generation: dg.Generation,
        ticks: range,
        world: dg.World | None = None,
        stop: threading.Event | None = None,
    ) -> list[Row]:
        """KPIs of each tick, in `rules.KPI_NAMES` order (`Cancelled` once `stop` is set)."""
        if world is None or world.generation is not generation:
            world = dg.World(generation)
        columns = self._columns_of(world)
        known = self._known(columns, ticks)
        missing = [tick for tick in ticks if tick not in known]
        if missing:
            computed = dict(zip(missing, columns.rows(missing, stop), strict=True))
            self._keep(columns, computed)
            known.update(computed)
        return [known[tick] for tick in ticks]

    async def rows_in_thread(self, generation: dg.Generation, ticks: range, world: dg.World | None = None) -> list[Row]:
        """`rows` in a worker thread, called off when the awaiting request is cancelled (a shutdown past its
        grace period), so that no computation outlives its request and holds up the process's exit."""
        stop = threading.Event()
        try:
            return await asyncio.to_thread(self.rows, generation, ticks, world, stop)
        except asyncio.CancelledError:
            stop.set()
            raise


def check_work(generation: dg.Generation, ticks: range) -> None:
    """Refuse (ValueError) a KPI history whose points × items exceed what one request may compute."""
    items = max(1, sum(generation.counts.values()))
    if len(ticks) * items > MAX_WORK:
        raise ValueError(
            f"that range and step give {len(ticks)} points x {items} items; at most {MAX_WORK:,} "
            f"(points x items, {max(1, MAX_WORK // items)} points at these counts) are served, use a larger step"
        )


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
