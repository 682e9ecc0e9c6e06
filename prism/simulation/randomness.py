"""Counter-based randomness: a draw is a pure function of (item, channel, moment), for one value or for arrays.

An item's randomness starts from a 64-bit *base* mixed from the seed and the item's key; a draw mixes the
base with a channel and a moment (splitmix64's finaliser over `base + channel·C + moment·γ`, all modulo 2⁶⁴).
The same arithmetic is written twice, over Python ints for one item (`Rng`, what the item builders use) and
over numpy uint64 arrays (the functions below, what the columns use); tests check that both give the very
same bits. Nothing depends on the process (no hash salt) or on the platform (fixed-width wrap-around).
"""

from __future__ import annotations

import math
from typing import NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T")
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15
_CHANNEL = 0xD1B54A32D192ED03
_SEED = 0xA24BAED4963EE407
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_UNIT = 2.0**-53
# The channel of the draw that keys an item's successor (a new company in a slot) from the slot's base.
SUCCESSOR_CHANNEL = 0x5EED


def mix(z: int) -> int:
    """splitmix64's finaliser: a bijection of 64-bit integers that spreads every input bit over the output."""
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def item_base(seed: int, key: int) -> int:
    """The base of an item's randomness in a generation."""
    return mix(((mix(seed & _MASK) * _SEED & _MASK) + key) & _MASK)


def draw(base: int, channel: int, moment: int) -> int:
    """64 random bits of an item for one channel at one moment (`mix` written out: this is the hot path)."""
    z = (base + channel * _CHANNEL + moment * _GAMMA) & _MASK
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


class Rng(NamedTuple):
    """Randomness of one item: its base, with a channel and a moment per call."""

    base: int

    @classmethod
    def of(cls, seed: int, key: int) -> Rng:
        """The randomness of the item with this key in the generation of this seed."""
        return cls(item_base(seed, key))

    def successor(self, serial: int) -> Rng:
        """The randomness of the item numbered `serial` that holds this item's slot for a while."""
        return Rng(draw(self.base, SUCCESSOR_CHANNEL, serial))

    def bits(self, channel: int, moment: int = 0) -> int:
        """64 random bits."""
        return draw(self.base, channel, moment)

    def unit(self, channel: int, moment: int = 0) -> float:
        """Uniform in [0, 1)."""
        return (draw(self.base, channel, moment) >> 11) * _UNIT

    def between(self, low: float, high: float, channel: int, moment: int = 0) -> float:
        """Uniform in [low, high)."""
        return low + (high - low) * self.unit(channel, moment)

    def integer(self, low: int, high: int, channel: int, moment: int = 0) -> int:
        """Uniform integer in [low, high]."""
        return low + draw(self.base, channel, moment) % (high - low + 1)

    def choice(self, options: tuple[T, ...], channel: int, moment: int = 0) -> T:
        """One of the options."""
        return options[draw(self.base, channel, moment) % len(options)]

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


# --- the same over arrays ------------------------------------------------------------------------------


def _u64(values: npt.ArrayLike) -> U64:
    # Arrays of at least one dimension: numpy warns on wrap-around of 0-d scalars, never of arrays.
    array = np.atleast_1d(np.asarray(values))
    return array.astype(np.uint64) if array.dtype != np.uint64 else array


# numpy's own scalars of the constants (made once: the array functions run on small arrays too).
_S27, _S30, _S31 = np.uint64(27), np.uint64(30), np.uint64(31)
_M1_U64, _M2_U64, _GAMMA_U64 = np.uint64(_M1), np.uint64(_M2), np.uint64(_GAMMA)


def mix_array(z: U64) -> U64:
    """`mix` over an array (in place: the array given is the one returned)."""
    z ^= z >> _S30
    z *= _M1_U64
    z ^= z >> _S27
    z *= _M2_U64
    z ^= z >> _S31
    return z


def item_bases(seed: int, keys: npt.ArrayLike) -> U64:
    """`item_base` of many keys."""
    return mix_array(_u64(keys) + np.uint64((mix(seed & _MASK) * _SEED) & _MASK))


def draws(bases: U64, channel: int, moments: npt.ArrayLike) -> U64:
    """`draw` for arrays of bases and moments (broadcast together)."""
    z = _u64(moments) * _GAMMA_U64
    z = np.add(z, bases, out=z) if z.shape == bases.shape else z + bases
    z += np.uint64((channel * _CHANNEL) & _MASK)
    return mix_array(z)


def successors(bases: U64, serials: npt.ArrayLike) -> U64:
    """`Rng.successor` of many slots."""
    return draws(bases, SUCCESSOR_CHANNEL, serials)


def units(bases: U64, channel: int, moments: npt.ArrayLike = 0) -> F64:
    """`Rng.unit` over arrays."""
    result = (draws(bases, channel, moments) >> np.uint64(11)).astype(np.float64)
    result *= _UNIT
    return result


def integers(bases: U64, low: int, high: int, channel: int, moments: npt.ArrayLike = 0) -> I64:
    """`Rng.integer` over arrays (one range for all)."""
    return (draws(bases, channel, moments) % np.uint64(high - low + 1)).astype(np.int64) + low


def waves(bases: U64, channel: int, positions: I64, period: float) -> F64:
    """`Rng.wave` over arrays of bases and integer positions."""
    x = positions / period
    knots = np.floor(x)
    f = x - knots
    f = f * f * (3.0 - 2.0 * f)
    knot = knots.astype(np.int64)
    a = units(bases, channel, knot)
    b = units(bases, channel, knot + 1)
    result: F64 = 2.0 * (a + (b - a) * f) - 1.0
    return result


def drifts(bases: U64, channel: int, ticks: I64) -> F64:
    """`Rng.drift` over arrays."""
    result: F64 = 0.7 * waves(bases, channel, ticks, 2880.0) + 0.3 * waves(bases, channel + 1, ticks, 120.0)
    return result
