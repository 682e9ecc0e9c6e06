"""The live side: the dashboard KPIs over any range (`/api/history`) and the change feed (`/api/events`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Request, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

import data_generator as dg
from history import check_work
from models import (
    HistoryResult,
)
from prism.api.deps import SimulatorDep
from prism.api.params import (
    DATA_RESPONSES,
    FromQuery,
    StepQuery,
    ToQuery,
    history_ticks,
    json_response,
    unprocessable,
)
from rules import KPI_NAMES

router = APIRouter()


@router.get(
    "/api/history",
    response_model=HistoryResult,
    tags=["history"],
    summary="Dashboard KPIs over time",
    responses=DATA_RESPONSES,
)
async def get_history(
    request: Request, simulator: SimulatorDep, start: FromQuery = None, end: ToQuery = None, step: StepQuery = None
) -> Response:
    """The KPIs of the DynamoDB metrics table as a time series over any range of the generation."""
    ticks = history_ticks(simulator, start, end, step)
    generation = simulator.generation
    try:
        check_work(generation, ticks)
    except ValueError as exc:
        raise unprocessable("step", str(exc)) from None
    rows = await simulator.kpi_series.rows_in_thread(generation, ticks, simulator.world)
    points = [
        {"tick": t, "time": dg.iso_time(generation.time_of(t)), **dict(zip(KPI_NAMES, row, strict=True))}
        for t, row in zip(ticks, rows, strict=True)
    ]
    body = orjson.dumps(
        {
            "start": dg.iso_time(generation.time_of(ticks.start)),
            "end": dg.iso_time(generation.time_of(ticks[-1])),
            "stepSeconds": ticks.step * generation.interval,
            "points": points,
        }
    )
    return json_response(request, body, simulator.snapshot.tick)


@router.get(
    "/api/events",
    response_class=EventSourceResponse,
    tags=["live"],
    summary="Live change feed (server-sent events)",
    responses={
        200: {
            "description": "A `text/event-stream`: each event as `ChangeFeedEvent` describes it, its `data:` line "
            "the JSON of the event's `data` schema.",
            "content": {"text/event-stream": {}},
        }
    },
)
async def stream_events(
    simulator: SimulatorDep,
    last_event_id: Annotated[str | None, Header(max_length=128)] = None,
) -> AsyncIterator[ServerSentEvent]:
    """One `tick` event per tick with the ids that changed per entity (a field other than `lastUpdated`
    moved) and, for clients and leads, the ids that left the list (`removed`: a churned client, a closed
    lead; the successor is among `changed` under a new id); `regenerate` and `scenario` events
    when the generation changes; a keep-alive comment every 15 s. Send `Last-Event-ID` on reconnect to get
    what was missed in the last hour of ticks; when that is no longer known, a `resync` event says to
    refetch everything."""
    log = simulator.events
    position = log.position_after(last_event_id)
    if position is None:
        yield ServerSentEvent(event="resync", data={"reason": "the last event you saw is no longer known"})
        position = log.last_sequence
    async for event in log.follow(position):
        if event is None:
            yield ServerSentEvent(event="resync", data={"reason": "you fell behind the change feed"})
            continue
        yield ServerSentEvent(event=event.kind, id=event.id, raw_data=event.encoded)
