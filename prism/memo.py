"""What is derived from one snapshot (encoded lists, their gzip, ETags, KPIs, report content, id indexes),
computed at most once and kept exactly as long as the snapshot.

Each kind of derived value has one `MemoKey`, declared beside the code that computes it and typed with
what it holds, so a reader finds every use of a key by its name and mypy checks what is put and got:

    KPIS: MemoKey[KPIs] = MemoKey("kpis")
    values = snapshot.cache.get_or_build(KPIS, lambda: compute(snapshot))

A value that depends on more than the snapshot (an entity kind, a request's shape) is kept per `part`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


class MemoKey(Generic[T]):
    """The name of one kind of derived value; compared by identity, so two modules can't collide."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"MemoKey({self.name!r})"


class Memo:
    """Derived values of one snapshot. Safe to share between threads: a value built twice by a race is
    the same value (a snapshot never changes), and the last one stored wins."""

    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: dict[tuple[MemoKey[Any], Hashable], Any] = {}

    def get(self, key: MemoKey[T], part: Hashable = None) -> T | None:
        """The value kept under `key` (and `part`), or None."""
        return cast("T | None", self._values.get((key, part)))

    def put(self, key: MemoKey[T], value: T, part: Hashable = None) -> T:
        """Keep `value` under `key` (and `part`) and give it back."""
        self._values[(key, part)] = value
        return value

    def get_or_build(self, key: MemoKey[T], build: Callable[[], T], part: Hashable = None) -> T:
        """The value kept under `key` (and `part`), built and kept first if there is none."""
        value = self._values.get((key, part))
        if value is None:
            value = self._values[(key, part)] = build()
        return cast("T", value)

    def copy(self) -> Memo:
        """A new memo with the same values: for a snapshot equal to this one (a generation that only
        gained a scenario starting later)."""
        copied = Memo()
        copied._values = dict(self._values)
        return copied

    def __len__(self) -> int:
        return len(self._values)
