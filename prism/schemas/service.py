"""The service's own answers: `/`, `/health`, `/api/stats`, regenerate, scenarios, history, errors."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from prism.schemas.entities import ENTITY_MODELS, EntityCounts
from rules import KPI_COUNTS, KPI_DESCRIPTIONS, EntityKind, ScenarioName


class RootInfo(BaseModel):
    """What `/` says about the service."""

    message: str = Field(examples=["MSP Data Simulator API"])
    status: Literal["running", "stopped"] = Field(description="Whether the tick task is running.")
    update_interval: str = Field(description="Tick interval.", examples=["30s"])
    last_update: str = Field(description="Time of the tick being served.", examples=["2025-01-15T10:30:00Z"])


class Health(BaseModel):
    """Liveness answer with item counts."""

    status: Literal["healthy"] = "healthy"
    timestamp: str = Field(description="Time of the answer.", examples=["2025-01-15T10:30:00Z"])
    data_counts: EntityCounts


class Stats(BaseModel):
    """Counters of the simulation and its integrations."""

    timestamp: str = Field(description="Time of the answer.")
    counts: EntityCounts
    update_interval: int | float = Field(
        description="Seconds between ticks: an integer when the interval is whole, as in `30`.", examples=[30]
    )
    is_running: bool = Field(description="Whether the tick task is running.")
    seed: int = Field(description="Seed of the current generation.")
    epoch: str = Field(description="Time of tick 0 of the current generation.")
    tick: int = Field(description="Number of the tick being served.")
    last_tick_at: str = Field(description="Simulated time of the tick being served.")
    next_tick_at: str = Field(description="When the next tick is due.")
    last_tick_duration_ms: float = Field(description="How long computing the last tick took.")
    ticks_computed: int = Field(description="Ticks computed by the background task since start.")
    ticks_failed: int = Field(description="Ticks that raised; the loop carried on.")
    generation_started_at: str = Field(description="When the current generation was created.")
    dynamodb: dict[str, Any] = Field(
        default_factory=dict, description="State of the DynamoDB mirror (enabled, last sync, pending items)."
    )
    scenarios: list[str] = Field(default_factory=list, description="Scenarios acting on the served tick.")
    sse_subscribers: int = Field(0, description="Clients following /api/events.")


class RegenerateResult(BaseModel):
    """Answer of `POST /api/regenerate`."""

    message: str = Field(examples=["Data regenerated"])
    seed: int
    epoch: str
    tick: int
    timestamp: str
    counts: EntityCounts


class ScenarioRunInfo(BaseModel):
    """A scenario scheduled in the current generation."""

    name: str = Field(examples=["churn-wave"])
    startTick: int = Field(description="First tick the scenario acts on.")
    endTick: int = Field(description="First tick after the scenario has ended.")
    startsAt: str = Field(description="Time of startTick.")
    endsAt: str = Field(description="Time of endTick.")
    target: str | None = Field(None, description="The vendor a vendor outage hits.", examples=["vendor-3"])
    active: bool = Field(description="Whether the scenario acts on the served tick.")


class ScenarioCatalogue(BaseModel):
    """The scenarios a frontend can start, and those of the current generation."""

    available: dict[str, str] = Field(description="Scenario name to what it does.")
    runs: list[ScenarioRunInfo] = Field(description="Scenarios of the current generation, oldest first.")


class ScenarioRequest(BaseModel):
    """Start a scenario at the next tick, for a number of ticks."""

    model_config = ConfigDict(extra="forbid")

    name: ScenarioName = Field(description="Which scenario.", examples=["churn-wave"])
    durationTicks: int = Field(120, ge=1, le=100_000, description="How many ticks it lasts.")
    vendorId: str | None = Field(
        None,
        pattern=r"^vendor-[1-9][0-9]{0,5}$",
        description="The vendor a vendor outage hits; a vendor chosen by the simulation when omitted.",
    )


# One field per dashboard KPI, named, typed and described as rules.py has them.
_KPI_FIELDS: dict[str, Any] = {
    name: (int if name in KPI_COUNTS else float, Field(description=description))
    for name, description in KPI_DESCRIPTIONS.items()
}
HistoryPoint = create_model(
    "HistoryPoint", __doc__="The dashboard KPIs at one tick.", tick=int, time=str, **_KPI_FIELDS
)
HistoryResult = create_model(
    "HistoryResult",
    __doc__="A KPI time series.",
    start=(str, Field(description="Time of the first point.")),
    end=(str, Field(description="Time of the last point.")),
    stepSeconds=(float, Field(description="Seconds between points.")),
    points=list[HistoryPoint],
)


def _item_history_models() -> dict[EntityKind, type[BaseModel]]:
    """Per entity, the answer of `/api/{kind}/{id}/history` with the item typed as in its list
    (`ClientHistoryResult` of `ClientHistoryPoint`s, ...): what a generated client gets."""
    models: dict[EntityKind, type[BaseModel]] = {}
    for kind, entity in ENTITY_MODELS.items():
        name = entity.__name__
        point = create_model(
            f"{name}HistoryPoint",
            __doc__=f"One {name.lower()} as it was at one tick.",
            tick=(int, Field(description="The tick.")),
            time=(str, Field(description="ISO 8601 UTC time of the tick.")),
            item=(entity, Field(description="The item, with the same fields as in its list.")),
        )
        models[kind] = create_model(
            f"{name}HistoryResult",
            __doc__=f"One {name.lower()} over time.",
            id=(str, Field(description="The item's id.")),
            entity=(Literal[kind], Field(description="The entity, as in the path.")),  # type: ignore[arg-type]
            stepSeconds=(float, Field(description="Seconds between points.")),
            points=(list[point], Field(description="The item at each step, oldest first.")),
        )
    return models


ITEM_HISTORY_MODELS = _item_history_models()


class ErrorBody(BaseModel):
    """Every error answer: what went wrong, in a sentence."""

    detail: Any = Field(description="Reason; for validation errors, a list naming each bad field.")
