"""Time over arrays: ticks to days and months and back, scenario intensities, and each item's change schedule.

Every function takes arrays of ticks (and of item indexes) and answers for all of them at once; each mirrors
one scalar method of `data_generator` (named in its docstring), and the tests hold the two to the same values.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt

import prism.simulation.generation as gen
from prism.simulation.builders import World
from prism.simulation.randomness import draws
from rules import EntityKind

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

# Stands for "no such tick" (an item whose dates never change it again).
NEVER = np.iinfo(np.int64).max
_UNIX_ORDINAL = 719_163  # date(1970, 1, 1).toordinal()
_ROUNDING_SLACK = 1e-7


def py_round(values: F64, digits: int) -> F64:
    """Python's `round(x, digits)` over an array (numpy's rounding differs only next to a half, redone in Python)."""
    rounded: F64 = np.round(values, digits)
    scaled = values * 10.0**digits
    near_half = np.abs(scaled - np.floor(scaled) - 0.5) < _ROUNDING_SLACK
    if near_half.any():
        rounded[near_half] = [round(v, digits) for v in values[near_half].tolist()]
    return rounded


def py_exp(values: F64) -> F64:
    """`math.exp` over an array: the same bits as the scalar builders, whatever numpy's vector exp does."""
    return np.array([math.exp(v) for v in values.tolist()], dtype=np.float64)


class Calendar:
    """The days and months of a generation's ticks."""

    def __init__(self, generation: gen.Generation) -> None:
        self.generation = generation
        epoch = generation.epoch
        self._epoch_day = epoch.toordinal()
        midnight = datetime(epoch.year, epoch.month, epoch.day, tzinfo=UTC)
        self._epoch_second = (epoch - midnight).total_seconds()
        self._exact = float(generation.interval).is_integer() and epoch.microsecond == 0
        self._whole = int(generation.interval) if self._exact else 0
        self._interval = float(generation.interval)

    def day(self, ticks: I64) -> I64:
        """The date (as an ordinal) of each tick: `time_of(tick).date()`."""
        if self._exact:
            seconds = ticks * self._whole + int(self._epoch_second)
            days: I64 = self._epoch_day + seconds // 86_400
            return days
        return self._epoch_day + np.floor((ticks * self._interval + self._epoch_second) / 86_400).astype(np.int64)

    def first_tick_of_day(self, days: I64) -> I64:
        """The first tick at or after the start of each day: `first_tick_from(day_start(day))`."""
        if self._exact:
            seconds = (days - self._epoch_day) * 86_400 - int(self._epoch_second)
            result: I64 = -(-seconds // self._whole)
            return result
        unique, where = np.unique(days, return_inverse=True)
        first = [
            self.generation.first_tick_from(datetime.combine(date.fromordinal(d), datetime.min.time(), UTC))
            for d in unique.tolist()
        ]
        return np.asarray(first, dtype=np.int64)[where]

    @staticmethod
    def month(days: I64) -> I64:
        """The month key (year × 12 + month − 1) of each day."""
        months = (days - _UNIX_ORDINAL).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        result: I64 = months + 1970 * 12
        return result

    @staticmethod
    def month_start(months: I64) -> I64:
        """The first day (as an ordinal) of each month key."""
        days = (months - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
        result: I64 = days + _UNIX_ORDINAL
        return result

    def next_after(self, ticks: I64, *days: I64) -> I64:
        """The first tick after each tick at which one of the days begins: `World._date_change`."""
        result = np.full(ticks.shape, NEVER, dtype=np.int64)
        for day in days:
            first = self.first_tick_of_day(day)
            result = np.where((first > ticks) & (first < result), first, result)
        return result


def scenario_intensity(generation: gen.Generation, name: str, ticks: I64, targets: I64 | None = None) -> F64:
    """`Generation.scenario_intensity` for each tick (and target)."""
    level = np.zeros(ticks.shape, dtype=np.float64)
    for run in generation.scenarios:
        if run.name != name:
            continue
        inside = (ticks >= run.start_tick) & (ticks < run.end_tick)
        if targets is not None:
            inside &= targets == run.target
        if not inside.any():
            continue
        ramp = max(1, min((run.end_tick - run.start_tick) // 4, 20))
        rising = (ticks - run.start_tick + 1) / ramp
        falling = (run.end_tick - ticks) / ramp
        intensity = np.minimum(np.minimum(1.0, rising), falling)
        level = np.where(inside, np.maximum(level, intensity), level)
    return level


def with_parity(values: I64, parity: I64, low: int | I64, high: int | I64) -> I64:
    """`data_generator._with_parity` over arrays."""
    result = values - values % 2 + parity
    result = np.where(result > high, result - 2, result)
    result = np.where(result < low, result + 2, result)
    return result


def pct(part: npt.NDArray[np.int64] | F64, whole: npt.NDArray[np.int64] | F64) -> F64:
    """`generation.pct` over arrays: a share in percent to two places, 0.0 where the whole is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = py_round(part / np.where(whole != 0, whole, 1) * 100, 2)
    result: F64 = np.where(whole != 0, share, 0.0)
    return result


def pull_forward(today: I64, day: I64, pull: F64) -> I64:
    """`data_generator._pull_forward` over arrays of ordinals."""
    pulled = today + np.maximum(1, np.rint((day - today) * (1 - 0.7 * pull)).astype(np.int64))
    return np.where((pull <= 0) | (day <= today), day, pulled)


class Schedule:
    """When each item changes by chance: `World.last_chance_change` and `World.change_parity` over arrays."""

    def __init__(self, world: World) -> None:
        self.world = world
        counts = world.generation.counts
        self.bases = {kind: np.asarray(world._bases[kind], dtype=np.uint64).reshape(-1) for kind in gen.ENTITY_KINDS}
        self.phases = {kind: np.asarray(world._phases[kind], dtype=np.int64).reshape(-1) for kind in gen.ENTITY_KINDS}
        self.counts = {kind: counts.get(kind, 0) for kind in gen.ENTITY_KINDS}

    def latest(self, kind: EntityKind, index: I64, ticks: I64) -> tuple[I64, I64]:
        """The last chance-change tick at or before each tick, and the item's change parity there."""
        moment: I64 = ticks + self.phases[kind][index]
        block, offset = moment // gen.CHANGE_BLOCK, moment % gen.CHANGE_BLOCK
        bits = draws(self.bases[kind][index], gen.Ch.CHANGE, block)
        drawn = [
            ((bits >> np.uint64(12 * j)) % np.uint64(gen.CHANGE_BLOCK)).astype(np.int64)
            for j in range(gen.CHANGES_PER_BLOCK)
        ]
        # The block's offsets are 0 and the distinct drawn ones; an odd number of them drops the largest, and
        # 0 alone becomes 0 and half a block. Kept offsets at or before this tick's offset are counted.
        distinct = []
        for j, value in enumerate(drawn):
            fresh = value != 0
            for earlier in drawn[:j]:
                fresh &= value != earlier
            distinct.append(fresh)
        count = 1 + sum(d.astype(np.int64) for d in distinct)
        largest = np.maximum.reduce(drawn)
        drop = (count % 2 == 1) & (count > 1)
        passed = np.ones(offset.shape, dtype=np.int64)
        latest = np.zeros(offset.shape, dtype=np.int64)
        for value, fresh in zip(drawn, distinct, strict=True):
            kept = fresh & ~(drop & (value == largest)) & (value <= offset)
            passed += kept
            latest = np.where(kept & (value > latest), value, latest)
        alone = count == 1
        half = alone & (offset >= gen.CHANGE_BLOCK // 2)
        passed += half
        latest = np.where(half, gen.CHANGE_BLOCK // 2, latest)
        rank: I64 = passed - 1
        last: I64 = ticks - (offset - latest)
        return last, rank % 2
