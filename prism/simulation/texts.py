"""The text of items over arrays: ids, dates, months, time stamps, people's names, e-mails, phones and companies,
each as the scalar formulas of `generation.py` write it, from lookup tables or once per distinct value."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import numpy.typing as npt

import catalogue as cat
import prism.simulation.generation as gen
from prism.simulation.randomness import I64, U64, draws, integers
from prism.simulation.world import WorldCore

Texts = npt.NDArray[np.object_]
_UNIX_ORDINAL = 719_163  # date(1970, 1, 1).toordinal()


def table(values: tuple[Any, ...] | list[Any]) -> Texts:
    """A catalogue's vocabulary as an array to index with drawn positions."""
    result = np.empty(len(values), dtype=object)
    result[:] = values
    return result


_FIRST = table(cat.FIRST_NAMES)
_LAST = table(cat.LAST_NAMES)
# `email_local` of a first and a last name is the two lowered, apostrophes dropped, joined by a dot.
_FIRST_LOCAL = table([gen.email_local(name, "")[:-1] for name in cat.FIRST_NAMES])
_LAST_LOCAL = table([gen.email_local("", name)[1:] for name in cat.LAST_NAMES])
_AREA = table([f"+1-{area}-555-" for area in cat.AREA_CODES])


def choices(options: Texts, bases: U64, channel: int, moments: npt.ArrayLike = 0) -> Texts:
    """`Rng.choice` over arrays, for a vocabulary given as a table."""
    position = (draws(bases, channel, moments) % np.uint64(len(options))).astype(np.int64)
    result: Texts = options[position]
    return result


def numbered(prefix: str, numbers: I64) -> list[str]:
    """Ids `{prefix}-{n}`."""
    return [f"{prefix}-{n}" for n in numbers.tolist()]


def iso_days(days: I64) -> list[str]:
    """`date.fromordinal(day).isoformat()` of each ordinal (formatted once per distinct day)."""
    unique, where = np.unique(days, return_inverse=True)
    texts = table(np.datetime_as_string((unique - _UNIX_ORDINAL).astype("datetime64[D]"), unit="D").tolist())
    result: list[str] = texts[where.reshape(-1)].tolist()
    return result


def month_labels(months: I64) -> list[Any]:
    """`month_label` of each month key, nested as the array is (formatted once per distinct month)."""
    unique, where = np.unique(months, return_inverse=True)
    labels = table(np.datetime_as_string((unique - 1970 * 12).astype("datetime64[M]"), unit="M").tolist())
    result: list[Any] = labels[where.reshape(months.shape)].tolist()
    return result


def stamps(world: WorldCore, ticks: I64) -> list[str]:
    """`lastUpdated` of a build at each tick (formatted once per distinct tick)."""
    unique, where = np.unique(ticks, return_inverse=True)
    texts = table([world._stamp(tick)[1] for tick in unique.tolist()])
    result: list[str] = texts[where.reshape(-1)].tolist()
    return result


def people(bases: U64, first_channel: int, last_channel: int) -> tuple[I64, I64]:
    """Positions in FIRST_NAMES and LAST_NAMES of `person`'s draws."""
    first = (draws(bases, first_channel, 0) % np.uint64(len(_FIRST))).astype(np.int64)
    last = (draws(bases, last_channel, 0) % np.uint64(len(_LAST))).astype(np.int64)
    return first, last


def full_names(first: I64, last: I64) -> Texts:
    """`f"{first} {last}"` of people's positions."""
    result: Texts = _FIRST[first] + " " + _LAST[last]
    return result


def email_locals(first: I64, last: I64) -> Texts:
    """`email_local(first, last)` of people's positions."""
    result: Texts = _FIRST_LOCAL[first] + "." + _LAST_LOCAL[last]
    return result


@functools.cache
def _four_digits() -> Texts:
    return table([f"{n:04d}" for n in range(10_000)])


def phones(bases: U64, channel: int) -> Texts:
    """`phone(rng, channel)` over arrays."""
    result: Texts = choices(_AREA, bases, channel) + _four_digits()[integers(bases, 100, 9999, channel + 1000)]
    return result


_STEMS = table(cat.COMPANY_STEMS)
_NOUNS = table(cat.COMPANY_NOUNS)
_SUFFIXES = table(cat.COMPANY_SUFFIXES)
_NAME_SPACE = len(cat.COMPANY_STEMS) * len(cat.COMPANY_NOUNS)
# Industry and domain (without its top-level part) of each (stem, noun, suffix): they depend on nothing else
# (a name's trailing number is no word of either). Filled in as names are first met.
_INDUSTRY = np.full(_NAME_SPACE * len(cat.COMPANY_SUFFIXES), None, dtype=object)
_DOMAIN = np.full(_NAME_SPACE * len(cat.COMPANY_SUFFIXES), None, dtype=object)


def _learn(codes: I64, names: Texts) -> None:
    for code, name in zip(codes.tolist(), names.tolist(), strict=True):
        noun = next((n for n in cat.COMPANY_NOUNS if f" {n}" in name), "Solutions")
        _INDUSTRY[code], _DOMAIN[code] = cat.INDUSTRY_OF_NOUN[noun], gen.domain_of(name, "")


def companies(serials: I64, salt: int) -> tuple[Texts, Texts, Texts]:
    """Name (`company_name(serial - 1, salt)`), industry and domain without its top-level part of each company."""
    index = serials - 1
    spread = (index * 7919 + salt) % _NAME_SPACE
    suffix = (spread * 31 + index // _NAME_SPACE) % len(_SUFFIXES)
    names: Texts = _STEMS[spread % len(_STEMS)] + " " + _NOUNS[spread // len(_STEMS)] + _SUFFIXES[suffix]
    code = spread * len(_SUFFIXES) + suffix
    unknown = np.flatnonzero(_INDUSTRY[code] == None)  # noqa: E711 (elementwise)
    if unknown.size:
        first = np.unique(code[unknown], return_index=True)[1]
        _learn(code[unknown][first], names[unknown][first])
    later = np.flatnonzero(index >= _NAME_SPACE * len(_SUFFIXES))
    if later.size:
        names[later] = names[later] + table([f" {n}" for n in (index[later] // (_NAME_SPACE * len(_SUFFIXES)) + 1)])
    return names, _INDUSTRY[code], _DOMAIN[code]
