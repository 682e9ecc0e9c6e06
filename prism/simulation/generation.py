"""A generation of the world: its seed, clock and scenarios; the entities, channels of randomness and the small
formulas (money, months, names) the item builders share."""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

import catalogue as cat
import rules
from prism.simulation.randomness import Rng
from rules import EntityKind

Item = dict[str, Any]

ENTITY_KINDS = rules.ENTITY_KINDS
# Items are named `{prefix}-{n}`.
ID_PREFIX: dict[str, str] = {
    "clients": "client",
    "licenses": "license",
    "leads": "lead",
    "technicians": "tech",
    "departments": "dept",
    "vendors": "vendor",
    "contracts": "contract",
}

# Kinds whose items end and are succeeded by a new item under a new id (a lead closes, a client churns).
REPLACED_KINDS: frozenset[EntityKind] = frozenset({"clients", "leads"})
# How long a client stays, in ticks (two to ten years of 30-second ticks, as at a real MSP); over its last
# weeks (at most CLIENT_SOURING_TICKS, about two months of ticks) the account sours before the client leaves.
CLIENT_TENURE_TICKS = (2_102_400, 10_512_000)
CLIENT_SOURING_SHARE = 0.08
CLIENT_SOURING_TICKS = 172_800

KIND_CODE: dict[EntityKind, int] = {kind: code for code, kind in enumerate(ENTITY_KINDS, start=1)}


def item_key(kind: EntityKind, index: int) -> int:
    """The key of an entity's item N (its slot, for the kinds whose items are replaced)."""
    return KIND_CODE[kind] << 40 | index


def item_keys(kind: EntityKind, count: int) -> npt.NDArray[np.uint64]:
    """The keys of an entity's first `count` items."""
    return np.arange(count, dtype=np.uint64) | np.uint64(KIND_CODE[kind] << 40)


# Monthly histories (a department's spend, a vendor's scores) cover this many months, ending with this one.
HISTORY_MONTHS = 6

# When SIMULATOR_SEED is set without an epoch, every process agrees on this tick 0.
FIXED_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
# How far before its epoch a generation's history reaches.
HISTORY_BEFORE_EPOCH = timedelta(days=7)

# Each item's chance changes are drawn per block of ticks: the block's first tick and up to
# CHANGES_PER_BLOCK more, so about 10% of items change per tick and none waits a whole block.
CHANGE_BLOCK = 48
CHANGES_PER_BLOCK = 4


# Channels of randomness: each drawn quantity has its own, so adding one changes no other.
class Ch:
    """Channel numbers of the quantities drawn for an item."""

    CHANGE, PHASE = 1, 2
    NAME_A, NAME_B, NAME_C, INDUSTRY, SIZE, TIER, RATE, MARGIN_BASE = 10, 11, 12, 13, 14, 15, 16, 17
    REVENUE, MARGIN, HEADCOUNT, TERM, TERM_PHASE, TENURE, TENURE_PHASE = 20, 22, 24, 26, 27, 28, 29
    PRODUCT, SEATS_BASE, SEATS_STEP, USAGE_BASE, USAGE, RENEWAL_PHASE = 30, 31, 32, 33, 34, 36
    WINDOW, OUTCOME, FURTHEST, CONTACT_FIRST, CONTACT_LAST, PHONE, SOURCE, VALUE, CLOSE, LAST_CONTACT = (
        40,
        41,
        42,
        43,
        44,
        45,
        46,
        47,
        48,
        49,
    )
    ROLE, SKILL, CERTS, UTIL_BASE, UTIL, HOURS, EFFICIENCY, PROJECTS, LEAVE, LEAVE_START, LEAVE_LENGTH = (
        50,
        51,
        52,
        53,
        54,
        56,
        58,
        60,
        61,
        62,
        63,
    )
    KIND, BUDGET, PACE_MONTH, PACE, WEIGHT, MANAGER_FIRST, MANAGER_LAST = 70, 71, 72, 73, 75, 76, 77
    VENDOR, SPEND, PERF_BASE, PERF_MONTH, PERF, GAP, SERVICE, SATISFACTION, AGREEMENT, TERMS_PAY = (
        80,
        81,
        83,
        84,
        85,
        87,
        88,
        89,
        90,
        91,
    )
    AUTO_RENEW, NOTICE, SLA, SLA_BASE, CLAUSES, CONTRACT_TYPE, VALUE_BASE = 100, 101, 102, 104, 105, 106, 107


SCENARIOS = rules.SCENARIOS


@dataclass(frozen=True, slots=True)
class ScenarioRun:
    """A business scenario active on the ticks [start_tick, end_tick)."""

    name: str
    start_tick: int
    end_tick: int
    target: int = 0

    def intensity(self, tick: int) -> float:
        """0 outside the window; inside it rises to 1 and falls back to 0 at the end."""
        if not self.start_tick <= tick < self.end_tick:
            return 0.0
        length = self.end_tick - self.start_tick
        ramp = max(1, min(length // 4, 20))
        return min(1.0, (tick - self.start_tick + 1) / ramp, (self.end_tick - tick) / ramp)


@dataclass(frozen=True, slots=True)
class Generation:
    """One simulated world: its seed, the time of tick 0, the tick length and the entity counts."""

    seed: int
    epoch: datetime
    interval: float
    counts: Mapping[EntityKind, int]
    created_at: datetime
    scenarios: tuple[ScenarioRun, ...] = ()
    # 0 for a world a process made up on its own at start-up; otherwise when a person last changed it
    # (a regenerate or a scenario), in milliseconds. Among processes sharing DynamoDB the highest wins.
    revision: int = 0

    def time_of(self, tick: int) -> datetime:
        """Simulated wall-clock time of a tick."""
        return self.epoch + timedelta(seconds=tick * self.interval)

    def tick_at(self, moment: datetime) -> int:
        """The last tick at or before a moment."""
        tick = math.floor((moment - self.epoch).total_seconds() / self.interval)
        # With sub-second ticks the count runs into the hundreds of millions and the division can land one
        # tick off (time_of(k) read back as k - 1): the ticks' own times decide.
        while self.time_of(tick + 1) <= moment:
            tick += 1
        while self.time_of(tick) > moment:
            tick -= 1
        return tick

    def first_tick_from(self, moment: datetime) -> int:
        """The first tick at or after a moment."""
        tick = self.tick_at(moment)
        return tick if self.time_of(tick) == moment else tick + 1

    @property
    def first_tick(self) -> int:
        """Earliest tick of this generation's history."""
        return self.first_tick_from(self.epoch - HISTORY_BEFORE_EPOCH)

    def scenario_intensity(self, name: str, tick: int, target: int | None = None) -> float:
        """How strongly a named scenario acts at a tick (0 when none is running)."""
        level = 0.0
        for run in self.scenarios:
            if run.name == name and (target is None or run.target == target):
                level = max(level, run.intensity(tick))
        return level

    def with_scenario(self, run: ScenarioRun, revision: int | None = None) -> Generation:
        """The same world with one more scenario."""
        revision = self.revision + 1 if revision is None else max(revision, self.revision + 1)
        return replace(self, scenarios=(*self.scenarios, run), revision=revision)

    def same_world(self, other: Generation) -> bool:
        """Whether two generations describe the same world (seed, epoch, tick length and scenarios)."""
        return (self.seed, self.epoch, self.interval, self.scenarios) == (
            other.seed,
            other.epoch,
            other.interval,
            other.scenarios,
        )


def new_generation(
    *,
    counts: Mapping[EntityKind, int],
    interval: float,
    now: datetime,
    seed: int | None = None,
    epoch: datetime | None = None,
    revision: int = 0,
) -> Generation:
    """A generation: the seed given or a random one, the epoch given or a default for that seed."""
    if epoch is None:
        epoch = FIXED_EPOCH if seed is not None else now.replace(microsecond=0)
    if seed is None:
        seed = secrets.randbits(63)
    return Generation(seed=seed, epoch=epoch, interval=interval, counts=dict(counts), created_at=now, revision=revision)


def iso_time(moment: datetime, milliseconds: bool = False) -> str:
    """ISO 8601 UTC with a `Z`; milliseconds when asked for or when the moment has them."""
    text = moment.isoformat(timespec="milliseconds" if milliseconds or moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def with_parity(value: int, parity: int, low: int, high: int) -> int:
    """The nearest integer to `value` in [low, high] (high > low) whose last bit is `parity`."""
    result = value - value % 2 + parity
    if result > high:
        result -= 2
    if result < low:
        result += 2
    return result


def cents(value: float) -> int:
    return round(value * 100)


def money(cents: int) -> float:
    return cents / 100


def pct(part: float, whole: float) -> float:
    return round(part / whole * 100, 2) if whole else 0.0


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def month_key(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_label(month_key: int) -> str:
    return f"{month_key // 12:04d}-{month_key % 12 + 1:02d}"


def month_start(month_key: int) -> date:
    return date(month_key // 12, month_key % 12 + 1, 1)


def days_in_month(month_key: int) -> int:
    return (month_start(month_key + 1) - month_start(month_key)).days


def pull_forward(today: date, day: date, pull: float) -> date:
    """A future date brought closer to today by `pull` (0: unchanged, 1: 70% closer)."""
    if pull <= 0 or day <= today:
        return day
    return today + timedelta(days=max(1, round((day - today).days * (1 - 0.7 * pull))))


def domain_of(company: str, tld: str) -> str:
    words = [w for w in company.replace("&", " ").replace(".", " ").split() if w.isalpha()]
    core = "".join(words[:2]).lower() or "company"
    return core + tld


def email_local(first: str, last: str) -> str:
    return f"{first}.{last}".lower().replace("'", "")


def phone(rng: Rng, channel: int, moment: int = 0) -> str:
    area = rng.choice(cat.AREA_CODES, channel, moment)
    return f"+1-{area}-555-{rng.integer(100, 9999, channel + 1000, moment):04d}"


def person(rng: Rng, first_channel: int, last_channel: int, moment: int = 0) -> tuple[str, str]:
    return rng.choice(cat.FIRST_NAMES, first_channel, moment), rng.choice(cat.LAST_NAMES, last_channel, moment)


def company_name(index: int, salt: int) -> str:
    """A company name unique per index (up to 40,000 x 10 combinations) for a salt."""
    stems, nouns, suffixes = cat.COMPANY_STEMS, cat.COMPANY_NOUNS, cat.COMPANY_SUFFIXES
    # An odd multiplier modulo the product spreads neighbouring indexes across all words.
    space = len(stems) * len(nouns)
    spread = (index * 7919 + salt) % space
    stem, noun = stems[spread % len(stems)], nouns[spread // len(stems)]
    suffix = suffixes[(spread * 31 + index // space) % len(suffixes)]
    name = f"{stem} {noun}{suffix}"
    return name if index < space * len(suffixes) else f"{name} {index // (space * len(suffixes)) + 1}"


def department_name(index: int) -> str:
    """A department name, unique for every index."""
    kinds, regions = cat.DEPARTMENTS, cat.REGIONS
    base = kinds[index % len(kinds)].name
    round_ = index // len(kinds)
    if round_ == 0:
        return base
    region = regions[(round_ - 1) % len(regions)]
    cycle = (round_ - 1) // len(regions)
    return f"{base} ({region})" if cycle == 0 else f"{base} ({region} {cycle + 1})"
