"""The change feed (`/api/events`): the `data` of each event, and the events as a client parses them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from prism.schemas.entities import EntityCounts


class EntityIds(BaseModel):
    """Per entity, the ids of the items concerned."""

    clients: list[str]
    licenses: list[str]
    leads: list[str]
    technicians: list[str]
    departments: list[str]
    vendors: list[str]
    contracts: list[str]


class RemovedIds(BaseModel):
    """The ids that left their list: churned clients and closed leads (their successors are among `changed`)."""

    clients: list[str]
    leads: list[str]


class TickEventData(BaseModel):
    """The `data` of a `tick` event."""

    tick: int = Field(description="The new tick.")
    time: str = Field(description="ISO 8601 UTC time of the tick.", examples=["2025-01-15T10:30:00Z"])
    changed: EntityIds = Field(description="Per entity, the ids whose item changed (a field other than lastUpdated).")
    removed: RemovedIds = Field(description="Per replaced entity, the ids that left the list.")


class GenerationEventData(BaseModel):
    """The `data` of a `regenerate` event (a new generation) and of a `scenario` event (a scenario started)."""

    seed: int = Field(description="Seed of the generation.")
    epoch: str = Field(description="Time of tick 0 of the generation.")
    tick: int = Field(description="The tick being served.")
    time: str = Field(description="ISO 8601 UTC time of that tick.")
    counts: EntityCounts
    scenarios: list[str] = Field(description="Names of the generation's scenario runs, oldest first.")


class ResyncEventData(BaseModel):
    """The `data` of a `resync` event: what was missed is not known, refetch everything."""

    reason: str = Field(examples=["you fell behind the change feed"])


class TickEvent(BaseModel):
    """A tick: refetch the ids in `data.changed`, drop those in `data.removed`."""

    event: Literal["tick"]
    id: str = Field(description="`{seed}-{tick}`: send it as `Last-Event-ID` on reconnect.")
    data: TickEventData


class RegenerateEvent(BaseModel):
    """A new generation: refetch everything."""

    event: Literal["regenerate"]
    id: str = Field(description="`{seed}-{tick}`: send it as `Last-Event-ID` on reconnect.")
    data: GenerationEventData


class ScenarioEvent(BaseModel):
    """A scenario started in the current generation."""

    event: Literal["scenario"]
    id: str = Field(description="`{seed}-{tick}-s{runs}`: send it as `Last-Event-ID` on reconnect.")
    data: GenerationEventData


class ResyncEvent(BaseModel):
    """The feed cannot say what was missed: refetch everything (no `id`)."""

    event: Literal["resync"]
    data: ResyncEventData


ChangeFeedEvent = Annotated[TickEvent | RegenerateEvent | ScenarioEvent | ResyncEvent, Field(discriminator="event")]
"""One event of `/api/events` as a client parses it: `event:` and `id:` lines, and the JSON of `data:`."""
