"""The simulation: the MSP's world as a pure function of (seed, epoch, tick).

Every value is drawn from counter-based randomness keyed by the seed, the item and a
moment in time, so the snapshot of any tick can be computed directly, without
replaying the ticks before it. An item changes only at its own *change ticks* (a
sparse random subset of ticks, plus the ticks where one of its dates crosses a
threshold); between two change ticks it is the very same object.
"""

from __future__ import annotations

import bisect
import math
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, TypeVar

import catalogue as cat
import rules
from prism.memo import Memo, MemoKey

Item = dict[str, Any]
T = TypeVar("T")

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
REPLACED_KINDS = frozenset({"clients", "leads"})
# How long a client stays, in ticks (two to ten years of 30-second ticks, as at a real MSP); over its last
# weeks (at most CLIENT_SOURING_TICKS, about two months of ticks) the account sours before the client leaves.
CLIENT_TENURE_TICKS = (2_102_400, 10_512_000)
CLIENT_SOURING_SHARE = 0.08
CLIENT_SOURING_TICKS = 172_800

_KIND_CODE: dict[str, int] = {kind: code for code, kind in enumerate(ENTITY_KINDS, start=1)}

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

_MASK = (1 << 64) - 1
_TWO_64 = float(1 << 64)


def _hash(seed: int, key: int, channel: int, moment: int) -> int:
    """A well-mixed 64-bit integer from four integers.

    CPython's hash of a tuple of ints is deterministic (no per-process salt for ints) and
    computed in C; two multiply-xorshift rounds then spread it over all 64 bits.
    """
    x = hash((seed, key, channel, moment)) & _MASK
    x = ((x ^ (x >> 32)) * 0xD6E8FEB86659FD93) & _MASK
    x = ((x ^ (x >> 32)) * 0xD6E8FEB86659FD93) & _MASK
    return x ^ (x >> 32)


class Rng(NamedTuple):
    """Randomness of one item in one generation: seed and item key, channel and moment per call."""

    seed: int
    key: int

    def unit(self, channel: int, moment: int = 0) -> float:
        """Uniform in [0, 1)."""
        return _hash(self.seed, self.key, channel, moment) / _TWO_64

    def between(self, low: float, high: float, channel: int, moment: int = 0) -> float:
        """Uniform in [low, high)."""
        return low + (high - low) * self.unit(channel, moment)

    def integer(self, low: int, high: int, channel: int, moment: int = 0) -> int:
        """Uniform integer in [low, high]."""
        return low + _hash(self.seed, self.key, channel, moment) % (high - low + 1)

    def choice(self, options: tuple[T, ...], channel: int, moment: int = 0) -> T:
        """One of the options."""
        return options[_hash(self.seed, self.key, channel, moment) % len(options)]

    def wave(self, channel: int, position: float, period: float) -> float:
        """Smooth bounded noise in [-1, 1]: smoothstep between random knots `period` apart."""
        x = position / period
        knot = math.floor(x)
        f = x - knot
        f = f * f * (3.0 - 2.0 * f)
        a = self.unit(channel, knot)
        b = self.unit(channel, knot + 1)
        return 2.0 * (a + (b - a) * f) - 1.0

    def drift(self, channel: int, tick: int) -> float:
        """Two octaves of smooth noise in [-1, 1]: a slow swell over ~a day plus hourly wiggles."""
        return 0.7 * self.wave(channel, tick, 2880.0) + 0.3 * self.wave(channel + 1, tick, 120.0)


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
    counts: Mapping[str, int]
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
    counts: Mapping[str, int],
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


def _same_but_stamp(before: Item, after: Item) -> bool:
    """Whether two builds of an item differ in nothing but `lastUpdated`."""
    return before == {**after, "lastUpdated": before["lastUpdated"]}


def _with_parity(value: int, parity: int, low: int, high: int) -> int:
    """The nearest integer to `value` in [low, high] (high > low) whose last bit is `parity`."""
    result = value - value % 2 + parity
    if result > high:
        result -= 2
    if result < low:
        result += 2
    return result


def _cents(value: float) -> int:
    return round(value * 100)


def _money(cents: int) -> float:
    return cents / 100


def _pct(part: float, whole: float) -> float:
    return round(part / whole * 100, 2) if whole else 0.0


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _month_key(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_label(month_key: int) -> str:
    return f"{month_key // 12:04d}-{month_key % 12 + 1:02d}"


def _month_start(month_key: int) -> date:
    return date(month_key // 12, month_key % 12 + 1, 1)


def _days_in_month(month_key: int) -> int:
    return (_month_start(month_key + 1) - _month_start(month_key)).days


def _pull_forward(today: date, day: date, pull: float) -> date:
    """A future date brought closer to today by `pull` (0: unchanged, 1: 70% closer)."""
    if pull <= 0 or day <= today:
        return day
    return today + timedelta(days=max(1, round((day - today).days * (1 - 0.7 * pull))))


def _domain_of(company: str, tld: str) -> str:
    words = [w for w in company.replace("&", " ").replace(".", " ").split() if w.isalpha()]
    core = "".join(words[:2]).lower() or "company"
    return core + tld


def _email_local(first: str, last: str) -> str:
    return f"{first}.{last}".lower().replace("'", "")


def _phone(rng: Rng, channel: int, moment: int = 0) -> str:
    area = rng.choice(cat.AREA_CODES, channel, moment)
    return f"+1-{area}-555-{rng.integer(100, 9999, channel + 1000, moment):04d}"


def _person(rng: Rng, first_channel: int, last_channel: int, moment: int = 0) -> tuple[str, str]:
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


@dataclass(frozen=True, slots=True)
class Built:
    """An item as of a change tick, and the next tick at which its dates alone would change it."""

    item: Item
    next_change: int | None


class World:
    """Builders of every entity for one generation, with per-item constants memoised."""

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        self.seed = generation.seed
        # With ticks between whole seconds every stamp carries milliseconds, so that stamps sort as text
        # (`...:05Z` would sort after `...:05.200Z`).
        self._stamp_milliseconds = generation.interval % 1 != 0 or generation.epoch.microsecond != 0
        self._builders: dict[str, Callable[[int, int], Built]] = {
            "clients": self._client,
            "licenses": self._license,
            "leads": self._lead,
            "technicians": self._technician,
            "departments": self._department,
            "vendors": self._vendor,
            "contracts": self._contract,
        }
        # Drawn up front (not lazily) so that threads sharing this world never race on them.
        self._phases: dict[str, tuple[int, ...]] = {
            kind: tuple(self._draw_phase(kind, index) for index in range(generation.counts.get(kind, 0)))
            for kind in ENTITY_KINDS
        }
        # The last block's offsets of each item: consecutive ticks mostly fall in the same block.
        self._offsets: dict[tuple[str, int], tuple[int, tuple[int, ...]]] = {}

    def rng(self, kind: str, index: int) -> Rng:
        """Randomness of one item."""
        return Rng(self.seed, _KIND_CODE[kind] << 40 | index)

    # --- change schedule -------------------------------------------------------------

    def _phase(self, kind: str, index: int) -> int:
        phases = self._phases.get(kind, ())
        if index < len(phases):
            return phases[index]
        return self._draw_phase(kind, index)

    def _draw_phase(self, kind: str, index: int) -> int:
        return self.rng(kind, index).integer(0, CHANGE_BLOCK - 1, Ch.PHASE)

    def _block(self, kind: str, index: int, tick: int) -> tuple[int, int]:
        """The item's change block holding a tick, and the tick's offset in it."""
        return divmod(tick + self._phase(kind, index), CHANGE_BLOCK)

    def _block_offsets(self, kind: str, index: int, block: int) -> tuple[int, ...]:
        """Offsets of the chance-change ticks within one block, ascending, always 0 first and an even count.

        An even count lets every chance change flip a parity (see `change_parity`), which is what makes
        each chance change a real change of the item without looking at the change before it.
        """
        key = (kind, index)
        cached = self._offsets.get(key)
        if cached is not None and cached[0] == block:
            return cached[1]
        draw = _hash(self.seed, _KIND_CODE[kind] << 40 | index, Ch.CHANGE, block)
        offsets = sorted({0, *((draw >> (12 * j)) % CHANGE_BLOCK for j in range(CHANGES_PER_BLOCK))})
        if len(offsets) % 2:
            offsets = offsets[:-1] if len(offsets) > 1 else [0, CHANGE_BLOCK // 2]
        result = tuple(offsets)
        self._offsets[key] = (block, result)
        return result

    def changes_at(self, kind: str, index: int, tick: int) -> bool:
        """Whether an item changes at a tick by chance."""
        block, offset = self._block(kind, index, tick)
        return offset == 0 or offset in self._block_offsets(kind, index, block)

    def _latest_offset(self, kind: str, index: int, tick: int) -> tuple[int, int]:
        """The offset of the last chance change at or before `tick` in its block, and its rank there."""
        block, offset = self._block(kind, index, tick)
        offsets = self._block_offsets(kind, index, block)
        rank = bisect.bisect_right(offsets, offset) - 1
        return offset - offsets[rank], rank

    def last_chance_change(self, kind: str, index: int, tick: int) -> int:
        """The last tick at or before `tick` where the item changed by chance (one hash, no replay)."""
        return tick - self._latest_offset(kind, index, tick)[0]

    def change_parity(self, kind: str, index: int, tick: int) -> int:
        """0 or 1, flipping at every chance change of the item.

        Builders fold it into the last digit of one moving figure, so two successive chance changes
        never give the very same item: `lastUpdated` then moves only with a real change.
        """
        return self._latest_offset(kind, index, tick)[1] % 2

    def build(self, kind: str, index: int, tick: int) -> Built:
        """The item as it is right after a change at `tick`."""
        return self._builders[kind](index, tick)

    def item_at(self, kind: str, index: int, tick: int) -> Built:
        """The item as it is at any tick, computed directly."""
        built = self.build(kind, index, self.last_chance_change(kind, index, tick))
        while built.next_change is not None and built.next_change <= tick:
            built = self.step(kind, index, built, built.next_change)
        return built

    def step(self, kind: str, index: int, before: Built, tick: int) -> Built:
        """The item after a change tick: the very same object when no field but `lastUpdated` would move."""
        after = self.build(kind, index, tick)
        if _same_but_stamp(before.item, after.item):
            return Built(before.item, after.next_change)
        return after

    # --- ids of items that are replaced ----------------------------------------------

    def serial(self, kind: str, index: int, cycle: int) -> int:
        """The N of `kind-N` for the item in a slot during one of its cycles (cycle 0 holds tick 0).

        Cycles are numbered 0, -1, 1, -2, 2, … so that the items of tick 0 are `kind-1` … `kind-count`
        and every successor (or predecessor, in history before the epoch) gets a new, unused N.
        """
        return index + 1 + self.generation.counts.get(kind, 0) * (2 * cycle if cycle >= 0 else -2 * cycle - 1)

    def locate(self, kind: str, item_id: str) -> tuple[int, int] | None:
        """The slot and cycle of an id, or None when the id cannot name an item of this generation."""
        prefix, _, number = item_id.rpartition("-")
        count = self.generation.counts.get(kind, 0)
        if prefix != ID_PREFIX[kind] or not number.isdigit() or number.startswith("0") or not count:
            return None
        index, turn = divmod(int(number) - 1, count)[::-1]
        if kind not in REPLACED_KINDS:
            return (index, 0) if turn == 0 else None
        return index, (turn // 2 if turn % 2 == 0 else -(turn + 1) // 2)

    def lifetime(self, kind: str, index: int, cycle: int) -> tuple[int, int] | None:
        """The ticks [first, end) during which a slot holds the item of one cycle; None when it never ends."""
        if kind == "leads":
            window, offset = self._lead_window(index)
        elif kind == "clients":
            window, offset = self._tenure_window(index)
        else:
            return None
        start = cycle * window - offset
        return start, start + window

    def _cycle(self, kind: str, index: int, tick: int) -> tuple[int, int, int]:
        """The cycle of a replaced item's slot at a tick, with its first tick and its end."""
        window, offset = self._lead_window(index) if kind == "leads" else self._tenure_window(index)
        cycle = (tick + offset) // window
        start = cycle * window - offset
        return cycle, start, start + window

    def _lead_window(self, index: int) -> tuple[int, int]:
        window = self.rng("leads", index).integer(480, 2880, Ch.WINDOW)
        return window, self._phase("leads", index) * 61 % window

    def _tenure_window(self, index: int) -> tuple[int, int]:
        slot = self.rng("clients", index)
        window = slot.integer(*CLIENT_TENURE_TICKS, Ch.TENURE)
        return window, slot.integer(0, window - 1, Ch.TENURE_PHASE)

    def _date_change(self, tick: int, *days: date) -> int | None:
        """The first tick after `tick` at which one of the days begins."""
        upcoming = [self.generation.first_tick_from(_day_start(day)) for day in days]
        later = [t for t in upcoming if t > tick]
        return min(later) if later else None

    def _stamp(self, tick: int) -> tuple[datetime, str]:
        moment = self.generation.time_of(tick)
        return moment, iso_time(moment, self._stamp_milliseconds)

    # --- clients ---------------------------------------------------------------------

    def _client(self, index: int, tick: int) -> Built:
        cycle, signed, leaves = self._cycle("clients", index, tick)
        serial = self.serial("clients", index, cycle)
        # Each tenure is a different company: its constants are drawn for the slot and the cycle.
        rng = Rng(self.seed, (self.rng("clients", index).key << 32) + serial)
        moment, stamp = self._stamp(tick)
        name = company_name(serial - 1, self.seed % 9973)
        noun = next((n for n in cat.COMPANY_NOUNS if f" {n}" in name), "Solutions")
        base_employees = int(10 * 200 ** rng.unit(Ch.SIZE))
        employees = max(5, round(base_employees * (1 + 0.03 * rng.drift(Ch.HEADCOUNT, tick))))
        # Bigger clients buy richer tiers; some small ones buy up a tier.
        tier_rank = (base_employees >= 60) + (base_employees >= 350) + (rng.unit(Ch.TIER) < 0.15)
        tier = ("Standard", "Premium", "Enterprise")[min(2, tier_rank)]
        low, high = {"Standard": (850, 1150), "Premium": (1150, 1550), "Enterprise": (1500, 2100)}[tier]
        per_seat_year = rng.between(low, high, Ch.RATE)
        monthly_revenue = _cents(employees * per_seat_year / 12 * (1 + 0.04 * rng.drift(Ch.REVENUE, tick)))
        monthly_revenue = _with_parity(
            max(monthly_revenue, 50_000), self.change_parity("clients", index, tick), 0, 1 << 62
        )
        margin = self._client_margin(rng, tick, signed, leaves)
        monthly_costs = _cents(monthly_revenue / 100 * (1 - margin))
        margin_pct = _pct(monthly_revenue - monthly_costs, monthly_revenue)
        term_days = rng.choice((365, 730, 1095), Ch.TERM)
        end = self._cycle_end(rng, moment.date(), term_days, Ch.TERM_PHASE)
        item = {
            "id": f"client-{serial}",
            "name": name,
            "industry": cat.INDUSTRY_OF_NOUN[noun],
            "employeeCount": employees,
            "annualRevenue": _money(monthly_revenue * 12),
            "annualCosts": _money(monthly_costs * 12),
            "contractValue": _money(monthly_revenue * 12),
            "contractType": tier,
            "status": rules.client_status(margin_pct),
            "monthlyRecurring": _money(monthly_revenue),
            "churnRisk": rules.churn_risk(margin_pct),
            "lastUpdated": stamp,
            "marginPercentage": margin_pct,
            "monthlyRevenue": _money(monthly_revenue),
            "monthlyCosts": _money(monthly_costs),
            "contractEndDate": end.isoformat(),
        }
        date_change = self._date_change(tick, end)
        return Built(item, leaves if date_change is None else min(date_change, leaves))

    def _client_margin(self, rng: Rng, tick: int, signed: int, leaves: int) -> float:
        """A client's margin as a fraction: its own level, a slow drift, a churn wave, and souring before it leaves."""
        base = 0.11 + 0.30 * rng.unit(Ch.MARGIN_BASE) ** 0.55
        squeeze = 0.13 * self.generation.scenario_intensity("churn-wave", tick)
        souring_ticks = max(1, min(CLIENT_SOURING_TICKS, int((leaves - signed) * CLIENT_SOURING_SHARE)))
        souring = 0.10 * min(1.0, max(0.0, (tick - (leaves - souring_ticks)) / souring_ticks))
        margin = base + 0.05 * rng.drift(Ch.MARGIN, tick) - squeeze - souring
        # Deep squeezes bend smoothly towards zero instead of resting on a floor.
        return margin if margin >= 0.06 else 0.06 * math.exp((margin - 0.06) / 0.06)

    @staticmethod
    def _cycle_end(rng: Rng, today: date, length_days: int, channel: int) -> date:
        """End of the current term of a cycle repeating every `length_days` days (always after today)."""
        phase = rng.integer(0, length_days - 1, channel)
        day = today.toordinal() + phase
        return date.fromordinal(day - day % length_days - phase + length_days)

    # --- licenses --------------------------------------------------------------------

    def _license(self, index: int, tick: int) -> Built:
        rng = self.rng("licenses", index)
        moment, stamp = self._stamp(tick)
        products = cat.SOFTWARE_PRODUCTS
        product = (
            products[(index * 13 + self.seed) % len(products)]
            if index < len(products) * 3
            else rng.choice(products, Ch.PRODUCT)
        )
        seat_unit = 5 if product.license_type != "Concurrent" else 1
        high = {"User": 400, "Device": 300, "Concurrent": 40}[product.license_type]
        base_seats = max(seat_unit, int(high * rng.unit(Ch.SEATS_BASE) ** 1.6 / seat_unit) * seat_unit + seat_unit * 2)
        block = (tick + self._phase("licenses", index) * 37) // 720
        step = rng.integer(-2, 2, Ch.SEATS_STEP, block) * seat_unit
        total = max(seat_unit, base_seats + step)
        base_usage = 0.5 + 0.47 * rng.unit(Ch.USAGE_BASE) ** 0.7
        usage = min(1.0, max(0.2, base_usage + 0.05 * rng.drift(Ch.USAGE, tick)))
        used = _with_parity(min(total, round(total * usage)), self.change_parity("licenses", index, tick), 0, total)
        available = total - used
        price = _cents(product.annual_price)
        annual = total * price
        utilization = _pct(used, total)
        compliance = (
            "Over-allocated" if used >= total else "At Risk" if utilization >= rules.SEAT_PRESSURE else "Compliant"
        )
        renewal = _pull_forward(
            moment.date(),
            self._cycle_end(rng, moment.date(), 365, Ch.RENEWAL_PHASE),
            self.generation.scenario_intensity("renewal-season", tick),
        )
        item = {
            "id": f"license-{index + 1}",
            "vendor": product.vendor,
            "product": product.product,
            "licenseType": product.license_type,
            "totalLicenses": total,
            "usedLicenses": used,
            "availableLicenses": available,
            "costPerLicense": _money(price),
            "totalCost": _money(annual),
            "renewalDate": renewal.isoformat(),
            "complianceStatus": compliance,
            "utilizationRate": utilization,
            "lastUpdated": stamp,
            "monthlyCost": round(annual / 1200, 2),
            "annualCost": _money(annual),
            "potentialSavings": round(available * price / 1200, 2),
        }
        return Built(item, self._date_change(tick, renewal))

    # --- leads -----------------------------------------------------------------------

    def _lead(self, index: int, tick: int) -> Built:
        cycle, start_tick, ends = self._cycle("leads", index, tick)
        window = ends - start_tick
        serial = self.serial("leads", index, cycle)
        rng = Rng(self.seed, (self.rng("leads", index).key << 32) + serial)
        won = rng.unit(Ch.OUTCOME) < 0.3
        furthest = 4 if won else rng.integer(1, 4, Ch.FURTHEST)
        closed: rules.LeadStage = "Closed Won" if won else "Closed Lost"
        stages = (*rules.OPEN_STAGES[:furthest], closed)
        open_span = int(window * 0.85)
        segment = max(1, open_span // furthest)
        boundaries = [start_tick + segment * s for s in range(1, furthest)] + [start_tick + open_span, ends]
        stage_index = sum(1 for b in boundaries[:-1] if b <= tick)
        stage = stages[stage_index]
        next_change = next((b for b in boundaries if b > tick), None)

        moment, stamp = self._stamp(tick)
        started = self.generation.time_of(start_tick).date()
        company = company_name(serial - 1, (self.seed >> 7) % 9973 + 1)
        noun = next((n for n in cat.COMPANY_NOUNS if f" {n}" in company), "Solutions")
        first, last = _person(rng, Ch.CONTACT_FIRST, Ch.CONTACT_LAST)
        domain = _domain_of(company, rng.choice(cat.TOP_LEVEL_DOMAINS, Ch.PHONE + 1))
        employees = int(12 * 100 ** rng.unit(Ch.SIZE))
        value = _cents(employees * rng.between(900, 1900, Ch.VALUE) * (1 + 0.03 * rng.drift(Ch.VALUE + 1, tick)))
        value = _with_parity(max(value, 500_000), self.change_parity("leads", index, tick), 500_000, 1 << 62)
        low, high = rules.STAGE_PROBABILITY[stage]
        probability = rng.integer(low, high, Ch.CLOSE + 100, stage_index)
        close = started + timedelta(days=rng.integer(21, 120, Ch.CLOSE))
        last_contact = moment.date() - timedelta(days=rng.integer(0, 6, Ch.LAST_CONTACT, tick))
        item = {
            "id": f"lead-{serial}",
            "companyName": company,
            "contactName": f"{first} {last}",
            "email": f"{_email_local(first, last)}@{domain}",
            "phone": _phone(rng, Ch.PHONE),
            "stage": stage,
            "value": _money(value),
            "probability": probability,
            "expectedCloseDate": close.isoformat(),
            "source": rng.choice(cat.LEAD_SOURCES, Ch.SOURCE),
            "industry": cat.INDUSTRY_OF_NOUN[noun],
            "employeeCount": employees,
            "lastContact": last_contact.isoformat(),
            "lastUpdated": stamp,
        }
        return Built(item, next_change)

    # --- technicians -----------------------------------------------------------------

    def _technician(self, index: int, tick: int) -> Built:
        rng = self.rng("technicians", index)
        moment, stamp = self._stamp(tick)
        band = cat.TECHNICIAN_ROLES[(index * 7 + self.seed) % len(cat.TECHNICIAN_ROLES)]
        levels = tuple(band.rates)
        skill = rng.choice(levels, Ch.SKILL)
        low, high = band.rates[skill]
        rate = round(rng.between(low, high, Ch.RATE) * 4) / 4
        extra = cat.SKILL_ORDER.index(skill)
        count = min(len(band.certifications), 1 + extra + rng.integer(0, 1, Ch.CERTS))
        start = rng.integer(0, len(band.certifications) - 1, Ch.CERTS + 1)
        certs = [band.certifications[(start + i) % len(band.certifications)] for i in range(count)]
        today = moment.date()
        leave_start, leave_end = self._leave(rng, today)
        on_leave = leave_start <= today < leave_end
        total_hours = round(160 * (1 + 0.06 * rng.drift(Ch.HOURS, tick)), 1)
        if on_leave:
            total_hours = round(total_hours * 0.6, 1)
        utilization_target = 0.55 + 0.35 * rng.unit(Ch.UTIL_BASE)
        share = min(0.98, max(0.3, utilization_target + 0.08 * rng.drift(Ch.UTIL, tick)))
        tenths = _with_parity(
            round(total_hours * share * 10), self.change_parity("technicians", index, tick), 0, 1 << 62
        )
        billable = min(tenths, round(total_hours * 10)) / 10
        utilization = _pct(billable, total_hours)
        projects = max(0, min(8, round(1 + 4 * share + 1.5 * rng.drift(Ch.PROJECTS, tick))))
        status = "On Leave" if on_leave else "Busy" if utilization >= 85 or projects >= 5 else "Available"
        first, last = _person(rng, Ch.NAME_A, Ch.NAME_B)
        item = {
            "id": f"tech-{index + 1}",
            "name": f"{first} {last}",
            "role": band.role,
            "hourlyRate": rate,
            "utilization": utilization,
            "billableHours": billable,
            "totalHours": total_hours,
            "efficiency": round(min(99.5, max(60.0, 78 + 6 * extra + 5 * rng.drift(Ch.EFFICIENCY, tick))), 2),
            "certifications": certs,
            "status": status,
            "lastUpdated": stamp,
            "utilizationRate": utilization,
            "skillLevel": skill,
            "activeProjects": 0 if on_leave else projects,
        }
        return Built(item, self._date_change(tick, leave_start, leave_end, self._leave(rng, leave_end)[0]))

    @staticmethod
    def _leave(rng: Rng, today: date) -> tuple[date, date]:
        """The leave (first day, day after the last) of the 45-day block holding today, or the next one."""
        block = today.toordinal() // 45
        for candidate in (block, block + 1, block + 2, block + 3):
            if rng.unit(Ch.LEAVE, candidate) < 0.25:
                first = candidate * 45 + rng.integer(0, 30, Ch.LEAVE_START, candidate)
                end = first + rng.integer(2, 10, Ch.LEAVE_LENGTH, candidate)
                if end > today.toordinal():
                    return date.fromordinal(first), date.fromordinal(end)
        far = date.fromordinal((block + 4) * 45)
        return far, far

    # --- departments -----------------------------------------------------------------

    def _department(self, index: int, tick: int) -> Built:
        rng = self.rng("departments", index)
        moment, stamp = self._stamp(tick)
        kind = cat.DEPARTMENTS[index % len(cat.DEPARTMENTS)]
        employees = rng.integer(*kind.employees, Ch.SIZE)
        monthly_budget = max(
            50_000, _cents(employees * rng.between(*kind.monthly_cost_per_employee, Ch.BUDGET)) // 50_000 * 50_000
        )
        today = moment.date()
        month = _month_key(today)
        freeze = self.generation.scenario_intensity("budget-freeze", tick)

        def pace(month_key: int) -> float:
            return 0.86 + 0.22 * rng.unit(Ch.PACE_MONTH, month_key)

        now_pace = (pace(month) + 0.03 * rng.drift(Ch.PACE, tick)) * (1 - 0.25 * freeze)
        actual = _cents(monthly_budget / 100 * now_pace)
        actual = _with_parity(actual, self.change_parity("departments", index, tick), 0, 1 << 62)
        # Eleven closed months feed the year to date; the item shows the last HISTORY_MONTHS of them.
        history = [(m, _cents(monthly_budget / 100 * pace(m))) for m in range(month - 11, month)]
        history.append((month, actual))
        elapsed = (moment - _day_start(_month_start(month))).total_seconds() / (86_400 * _days_in_month(month))
        year_start = today.year * 12
        spent = sum(amount for m, amount in history[:-1] if m >= year_start) + round(actual * elapsed)
        budget = monthly_budget * 12
        categories = self._split(rng, actual, kind.categories, month)
        variance = monthly_budget - actual
        previous = history[-2][1]
        trend = "up" if actual > previous * 1.05 else "down" if actual < previous * 0.95 else "stable"
        first, last = _person(rng, Ch.MANAGER_FIRST, Ch.MANAGER_LAST)
        item = {
            "id": f"dept-{index + 1}",
            "name": department_name(index),
            "budget": _money(budget),
            "spent": _money(spent),
            "remaining": _money(budget - spent),
            "employeeCount": employees,
            "avgCostPerEmployee": round(spent / 100 / employees, 2),
            "topExpenseCategory": max(categories, key=lambda c: c["spend"])["name"],
            "lastUpdated": stamp,
            "monthlyBudget": _money(monthly_budget),
            "actualSpend": _money(actual),
            "variance": _money(variance),
            "variancePercentage": _pct(variance, monthly_budget),
            "trend": trend,
            "manager": f"{first} {last}",
            "categories": categories,
            "historicalSpend": [{"month": _month_label(m), "amount": _money(a)} for m, a in history[-HISTORY_MONTHS:]],
        }
        return Built(item, self._date_change(tick, _month_start(month + 1)))

    @staticmethod
    def _split(rng: Rng, total_cents: int, names: tuple[str, ...], month: int) -> list[Item]:
        """Share a month's spend among categories, in cents that add up exactly."""
        weights = [(len(names) - i) * (0.75 + 0.5 * rng.unit(Ch.WEIGHT + i, month)) for i in range(len(names))]
        scale = total_cents / sum(weights)
        shares = [int(w * scale) for w in weights]
        shares[0] += total_cents - sum(shares)
        return [{"name": n, "spend": _money(s)} for n, s in zip(names, shares, strict=True)]

    # --- vendors ---------------------------------------------------------------------

    def _agreement(self, rng: Rng, today: date, term_days: int) -> tuple[date, date, date]:
        """Start and end of the current agreement, and when the cycle after it begins."""
        # Most agreements renew on the day; some lapse for a while before a new term starts.
        gap = 0 if rng.unit(Ch.GAP) < 0.6 else rng.integer(20, 90, Ch.GAP + 1)
        cycle = term_days + gap
        phase = rng.integer(0, cycle - 1, Ch.TERM_PHASE)
        day = today.toordinal() + phase
        start = day - day % cycle - phase
        return date.fromordinal(start), date.fromordinal(start + term_days), date.fromordinal(start + cycle)

    def vendor_kind(self, index: int) -> cat.VendorKind:
        """What vendor-N is (stable for the generation)."""
        return cat.VENDORS[(index + self.seed) % len(cat.VENDORS)]

    def vendor_name(self, index: int) -> str:
        """Name of vendor-N, unique among vendors."""
        kind = self.vendor_kind(index)
        round_ = index // len(cat.VENDORS)
        return (
            kind.name
            if round_ == 0
            else f"{kind.name} ({cat.REGIONS[(round_ - 1) % len(cat.REGIONS)]})"
            + (f" {round_ // len(cat.REGIONS) + 1}" if round_ > len(cat.REGIONS) else "")
        )

    def _vendor(self, index: int, tick: int) -> Built:
        rng = self.rng("vendors", index)
        moment, stamp = self._stamp(tick)
        kind = self.vendor_kind(index)
        today = moment.date()
        month = _month_key(today)
        term_years = rng.integer(1, 3, Ch.TERM)
        start, end, next_cycle = self._agreement(rng, today, term_years * 365)
        annual = _cents(rng.between(*kind.annual_value, Ch.VALUE_BASE)) // 100 * 100
        outage = self.generation.scenario_intensity("vendor-outage", tick, target=index)
        base_perf = 68 + 28 * rng.unit(Ch.PERF_BASE) ** 0.6

        def score(month_key: int, live: float = 0.0) -> float:
            raw = base_perf + 6 * (2 * rng.unit(Ch.PERF_MONTH, month_key) - 1) + live
            return float(round(min(100.0, max(0.0, raw)), 1))

        current = score(month, 3 * rng.drift(Ch.PERF, tick) - 35 * outage)
        metrics = [{"month": _month_label(m), "score": score(m)} for m in range(month - HISTORY_MONTHS + 1, month)]
        metrics.append({"month": _month_label(month), "score": current})
        days_left = (end - today).days
        if days_left <= 0:
            status = "expired"
        elif days_left <= rules.EXPIRING_WITHIN_DAYS:
            status = "expiring-soon"
        else:
            status = "under-review" if current < rules.UNDER_REVIEW_BELOW else "active"
        first, last = _person(rng, Ch.NAME_A, Ch.NAME_B)
        item = {
            "id": f"vendor-{index + 1}",
            "name": self.vendor_name(index),
            "category": kind.category,
            "totalSpend": _money(
                _with_parity(
                    round(annual * (0.88 + 0.1 * rng.unit(Ch.SPEND) + 0.02 * rng.drift(Ch.SPEND + 1, tick))),
                    self.change_parity("vendors", index, tick),
                    0,
                    1 << 62,
                )
            ),
            "contractValue": _money(annual * term_years),
            "contractStart": start.isoformat(),
            "contractEnd": end.isoformat(),
            "paymentTerms": rng.choice(cat.PAYMENT_TERMS, Ch.TERMS_PAY),
            "status": status,
            "performanceScore": current,
            "lastUpdated": stamp,
            "annualValue": _money(annual),
            "contractType": rng.choice(cat.VENDOR_AGREEMENT_TYPES, Ch.AGREEMENT),
            "renewalDate": end.isoformat(),
            "contactPerson": f"{first} {last}",
            "email": f"{_email_local(first, last)}@{kind.domain}",
            "phone": _phone(rng, Ch.PHONE),
            "performanceMetrics": metrics,
            "serviceHistory": self._service_history(rng, kind, today, base_perf),
        }
        change = self._date_change(tick, end - timedelta(days=90), end, next_cycle, _month_start(month + 1))
        return Built(item, change)

    @staticmethod
    def _service_history(rng: Rng, kind: cat.VendorKind, today: date, base_perf: float) -> list[Item]:
        """The last four services, one per fortnight, newest first."""
        fortnight = today.toordinal() // 14
        records = []
        for back in range(4):
            period = fortnight - back
            day = min(today.toordinal(), period * 14 + rng.integer(0, 13, Ch.SERVICE, period))
            # A percentage, as the dashboard prints it: near the vendor's level, a little under on average.
            satisfaction = round(min(100.0, max(0.0, base_perf + rng.between(-14, 10, Ch.SATISFACTION, period))), 1)
            records.append(
                {
                    "date": date.fromordinal(day).isoformat(),
                    "service": rng.choice(kind.services, Ch.SERVICE + 1, period),
                    "satisfaction": satisfaction,
                }
            )
        return records

    # --- contracts -------------------------------------------------------------------

    def contract_vendor(self, index: int) -> int:
        """Index of the vendor a contract belongs to."""
        vendors = self.generation.counts.get("vendors", 0)
        return self.rng("contracts", index).integer(0, max(vendors, 1) - 1, Ch.VENDOR) if vendors else 0

    def _contract(self, index: int, tick: int) -> Built:
        rng = self.rng("contracts", index)
        moment, stamp = self._stamp(tick)
        vendor = self.contract_vendor(index)
        kind = self.vendor_kind(vendor)
        today = moment.date()
        auto_renew = rng.unit(Ch.AUTO_RENEW) < 0.55
        term_days = rng.choice((365, 730, 1095), Ch.TERM)
        start, end, next_cycle = self._agreement(rng, today, term_days)
        end = _pull_forward(today, end, self.generation.scenario_intensity("renewal-season", tick))
        days_left = (end - today).days
        status = (
            "Expired" if days_left <= 0 else "Expiring Soon" if days_left <= rules.EXPIRING_WITHIN_DAYS else "Active"
        )
        renewal = "auto-renew" if auto_renew else "expiring" if status != "Active" else "manual"
        contract_type = rng.choice(cat.CONTRACT_TYPES_BY_CATEGORY[kind.category], Ch.CONTRACT_TYPE)
        annual = _cents(rng.between(*kind.annual_value, Ch.VALUE_BASE) * rng.between(0.15, 0.6, Ch.VALUE)) // 100 * 100
        outage = self.generation.scenario_intensity("vendor-outage", tick, target=vendor)
        compliance = min(100.0, max(0.0, 86 + 12 * rng.unit(Ch.SLA_BASE) + 2 * rng.drift(Ch.SLA, tick) - 30 * outage))
        clause_start = rng.integer(0, len(cat.CONTRACT_CLAUSES) - 1, Ch.CLAUSES)
        clauses = [cat.CONTRACT_CLAUSES[(clause_start + i * 5) % len(cat.CONTRACT_CLAUSES)] for i in range(3)]
        item = {
            "id": f"contract-{index + 1}",
            "vendorId": f"vendor-{vendor + 1}",
            "vendorName": self.vendor_name(vendor),
            "type": contract_type,
            "value": _money(annual * term_days // 365),
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "autoRenew": auto_renew,
            "noticePeriod": rng.choice((30, 60, 90), Ch.NOTICE),
            "status": status,
            "lastUpdated": stamp,
            "serviceType": contract_type,
            "slaCompliance": _with_parity(
                round(compliance * 100), self.change_parity("contracts", index, tick), 0, 10_000
            )
            / 100,
            "renewalStatus": renewal,
            "paymentTerms": rng.choice(cat.PAYMENT_TERMS, Ch.TERMS_PAY),
            "slaMetrics": self._sla_metrics(rng, tick, compliance),
            "terms": clauses,
        }
        boundaries = (end - timedelta(days=90), end, next_cycle)
        change = self._date_change(tick, *boundaries)
        return Built(item, change)

    @staticmethod
    def _sla_metrics(rng: Rng, tick: int, compliance: float) -> list[Item]:
        """Three service-level objectives and this month's measurements."""
        first = rng.integer(0, len(cat.SLA_OBJECTIVES) - 1, Ch.SLA + 10)
        metrics = []
        for i in range(3):
            objective = cat.SLA_OBJECTIVES[(first + i * 2) % len(cat.SLA_OBJECTIVES)]
            # compliance 100 -> comfortably inside the target; 70 -> clearly missing it.
            slack = (compliance - 90) / 100 + 0.02 * rng.drift(Ch.SLA + 20 + i, tick)
            if objective.unit == "%":
                actual = min(100.0, objective.target + slack * (100 - objective.target + 5) * 2)
            else:
                actual = max(0.1, objective.target * (1 - slack * 2))
            metrics.append(
                {
                    "metric": objective.metric,
                    "target": objective.target,
                    "actual": round(actual, 2),
                    "unit": objective.unit,
                }
            )
        return metrics


BY_ID: MemoKey[Mapping[str, Item]] = MemoKey("items by id")


@dataclass(frozen=True, slots=True, eq=False)
class Snapshot:
    """The whole world at one tick. Never mutated once built; a tick makes a new one."""

    generation: Generation
    tick: int
    items: Mapping[str, tuple[Item, ...]]
    next_changes: Mapping[str, tuple[int | None, ...]] = field(repr=False)
    changed: Mapping[str, tuple[str, ...]] | None = field(default=None, repr=False)
    cache: Memo = field(default_factory=Memo, repr=False, compare=False)

    @property
    def time(self) -> datetime:
        """Simulated time of this tick."""
        return self.generation.time_of(self.tick)

    @property
    def counts(self) -> dict[str, int]:
        """Number of items per entity."""
        return {kind: len(items) for kind, items in self.items.items()}

    def by_id(self, kind: str) -> Mapping[str, Item]:
        """The items of an entity keyed by id (built once per snapshot)."""
        return self.cache.get_or_build(BY_ID, lambda: {item["id"]: item for item in self.items[kind]}, kind)


def compute_snapshot(generation: Generation, tick: int, world: World | None = None) -> Snapshot:
    """The snapshot of any tick, computed directly from the generation."""
    world = world or World(generation)
    items: dict[str, tuple[Item, ...]] = {}
    next_changes: dict[str, tuple[int | None, ...]] = {}
    for kind in ENTITY_KINDS:
        built = [world.item_at(kind, index, tick) for index in range(generation.counts.get(kind, 0))]
        items[kind] = tuple(b.item for b in built)
        next_changes[kind] = tuple(b.next_change for b in built)
    return Snapshot(generation, tick, items, next_changes)


def advance(previous: Snapshot, world: World | None = None) -> Snapshot:
    """The snapshot of the tick after `previous`, rebuilding only the items that change."""
    generation = previous.generation
    world = world or World(generation)
    tick = previous.tick + 1
    items: dict[str, tuple[Item, ...]] = {}
    next_changes: dict[str, tuple[int | None, ...]] = {}
    changed: dict[str, tuple[str, ...]] = {}
    for kind in ENTITY_KINDS:
        old_items, old_next = previous.items[kind], previous.next_changes[kind]
        new_items, new_next, ids = list(old_items), list(old_next), []
        for index in range(len(old_items)):
            due = old_next[index]
            chance = world.changes_at(kind, index, tick)
            if chance or (due is not None and due <= tick):
                # A chance change always changes the item (its parity flips); only a date may change nothing.
                built = (
                    world.build(kind, index, tick)
                    if chance
                    else world.step(kind, index, Built(old_items[index], due), tick)
                )
                new_items[index], new_next[index] = built.item, built.next_change
                if built.item is not old_items[index]:
                    ids.append(built.item["id"])
        items[kind], next_changes[kind], changed[kind] = tuple(new_items), tuple(new_next), tuple(ids)
    return Snapshot(generation, tick, items, next_changes, changed)


def diff_ids(older: Snapshot, newer: Snapshot) -> dict[str, list[str]]:
    """Per entity, the ids whose item differs between two snapshots."""
    result: dict[str, list[str]] = {}
    for kind in ENTITY_KINDS:
        before = older.by_id(kind)
        result[kind] = [item["id"] for item in newer.items[kind] if before.get(item["id"]) != item]
    return result


def iter_items(snapshot: Snapshot) -> Iterable[tuple[str, Item]]:
    """Every (entity, item) pair of a snapshot."""
    for kind in ENTITY_KINDS:
        for item in snapshot.items[kind]:
            yield kind, item
