"""Live change feed: a bounded log of tick and generation events that subscribers read from."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import data_generator as dg


@dataclass(frozen=True, slots=True)
class Event:
    """One event of the feed; `id` is `{seed}-{tick}`, unique and meaningful to every process."""

    sequence: int
    id: str
    kind: str
    data: dict[str, Any]
    # The `data:` line as FastAPI would write it (json.dumps), encoded once rather than once per subscriber.
    encoded: str


def event_id(snapshot: dg.Snapshot) -> str:
    """The id of the event that announced a snapshot."""
    return f"{snapshot.generation.seed}-{snapshot.tick}"


def tick_payload(snapshot: dg.Snapshot, previous: dg.Snapshot) -> dict[str, Any]:
    """What a `tick` event says: the tick, its time, per entity the ids that changed, and the ids that left.

    A closed lead or a churned client leaves the list and its successor appears under a new id: the new
    id is among `changed`, the old one in `removed`.
    """
    if snapshot.changed is not None and snapshot.tick == previous.tick + 1:
        changed = {kind: list(ids) for kind, ids in snapshot.changed.items()}
    else:
        changed = dg.diff_ids(previous, snapshot)
    removed = {
        kind: [item["id"] for item in previous.items[kind] if item["id"] not in snapshot.by_id(kind)]
        for kind in dg.ENTITY_KINDS
        if kind in dg.REPLACED_KINDS
    }
    return {"tick": snapshot.tick, "time": dg.iso_time(snapshot.time), "changed": changed, "removed": removed}


def generation_payload(snapshot: dg.Snapshot) -> dict[str, Any]:
    """What a `regenerate` event says: the new generation and its first tick."""
    generation = snapshot.generation
    return {
        "seed": generation.seed,
        "epoch": dg.iso_time(generation.epoch),
        "tick": snapshot.tick,
        "time": dg.iso_time(snapshot.time),
        "counts": snapshot.counts,
        "scenarios": [run.name for run in generation.scenarios],
    }


class EventLog:
    """The last `capacity` events, and a wake-up for everyone waiting on the next one.

    Subscribers hold no queue of their own: each remembers the sequence number it has
    sent, so a slow or vanished client costs nothing but its own connection.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._events: deque[Event] = deque(maxlen=self.capacity)
        self._sequence = 0
        self._arrived = asyncio.Event()
        self.subscribers = 0
        self.closed = False

    def publish(self, kind: str, event_id_: str, data: dict[str, Any]) -> Event:
        """Append an event and wake every subscriber."""
        self._sequence += 1
        event = Event(self._sequence, event_id_, kind, data, json.dumps(data))
        self._events.append(event)
        arrived, self._arrived = self._arrived, asyncio.Event()
        arrived.set()
        return event

    def close(self) -> None:
        """End every subscription (the server is shutting down)."""
        self.closed = True
        self._arrived.set()

    @property
    def last_sequence(self) -> int:
        """Sequence number of the newest event (0 before the first)."""
        return self._sequence

    def position_after(self, last_event_id: str | None) -> int | None:
        """Sequence to resume after a client's `Last-Event-ID`; None when that event is no longer known."""
        if last_event_id is None:
            return self._sequence
        for event in reversed(self._events):
            if event.id == last_event_id:
                return event.sequence
        return None

    def since(self, sequence: int) -> list[Event]:
        """Events newer than a sequence number, oldest first."""
        # Sequences run without gaps, so the newer events are the last ones: every subscriber reads this on
        # every tick, and walking the whole log (up to an hour of ticks) would cost more than the fan-out.
        newer = min(len(self._events), max(0, self._sequence - sequence))
        return list(itertools.islice(reversed(self._events), newer))[::-1]

    def oldest_sequence(self) -> int:
        """Sequence of the oldest event still kept."""
        return self._events[0].sequence if self._events else self._sequence + 1

    async def follow(self, sequence: int) -> AsyncIterator[Event | None]:
        """Events after `sequence` until the log closes; None means the reader fell behind the log."""
        self.subscribers += 1
        try:
            while not self.closed:
                # Taken before reading, so an event published while we yield still wakes us.
                arrived = self._arrived
                if sequence < self.oldest_sequence() - 1:
                    # Taken before yielding: whatever is published while the resync is on its way still follows.
                    sequence = self._sequence
                    yield None
                for event in self.since(sequence):
                    sequence = event.sequence
                    yield event
                await arrived.wait()
        finally:
            self.subscribers -= 1
