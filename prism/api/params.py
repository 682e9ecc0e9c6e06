"""What the data routes share: the `at`/`from`/`to`/`step` parameters and their checks against the
generation, the 422 of a bad parameter, and JSON answers with `ETag`, `X-Tick`, `X-Total-Count` and gzip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import HTTPException, Query, Request, Response

import data_generator as dg
from fastpath import make_etag, response_parts
from history import parse_step, plan_ticks
from models import (
    ErrorBody,
)
from rules import SINGULAR, EntityKind
from simulator import Simulator

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or wrong `X-API-Key`."},
}


def _header(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "schema": schema}


TICK_HEADER = _header("The tick the answer is from.", {"type": "integer", "minimum": 0})
ETAG_HEADER = _header("Version of the body: send it back as `If-None-Match` to get a 304.", {"type": "string"})
TOTAL_HEADER = _header("Number of matches before `limit`/`offset` paging.", {"type": "integer", "minimum": 0})
VARY_HEADER = _header("`Accept-Encoding`: the body may be gzip-compressed.", {"type": "string"})


def data_responses(*, total: bool = False, description: str = "Successful Response") -> dict[int | str, Any]:
    """The responses of a data route: its caching (and, on lists, paging) headers, and the 304."""
    headers = {"ETag": ETAG_HEADER, "X-Tick": TICK_HEADER, "Vary": VARY_HEADER}
    if total:
        headers["X-Total-Count"] = TOTAL_HEADER
    return {
        200: {"description": description, "headers": headers},
        304: {"description": "The client's copy (`If-None-Match`) is current.", "headers": headers},
    }


DATA_RESPONSES: dict[int | str, dict[str, Any]] = data_responses()


AtQuery = Annotated[
    datetime | None,
    Query(description="Serve the data as it was at this ISO 8601 time (within the generation's history)."),
]


FromQuery = Annotated[
    datetime | None,
    Query(alias="from", description="Start of the range, ISO 8601 (default: an hour before `to`)."),
]


ToQuery = Annotated[datetime | None, Query(alias="to", description="End of the range, ISO 8601 (default: now).")]


StepQuery = Annotated[
    str | None,
    Query(
        description="Time between points: seconds, or with a unit (`30s`, `5m`, `1h`, `1d`). "
        "Default: the smallest whole number of ticks that fits the range in the point limit.",
        max_length=32,
    ),
]


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted past the calendar's end: outside any generation anyway
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)


def unprocessable(parameter: str, message: str, where: str = "query") -> HTTPException:
    return HTTPException(422, [{"loc": [where, parameter], "msg": message, "type": "value_error"}])


def tick_at(simulator: Simulator, at: datetime | None, parameter: str = "at") -> int:
    """The tick whose data was current at a moment of the generation's history."""
    if at is None:
        return simulator.snapshot.tick
    moment = _as_utc(at)
    start, end = simulator.window()
    if not start <= moment <= end:
        raise unprocessable(
            parameter, f"{parameter} must lie within the generation, from {dg.iso_time(start)} to {dg.iso_time(end)}"
        )
    return min(simulator.snapshot.tick, simulator.generation.tick_at(moment))


# `?at=` computes the asked entity's items at that tick from the engine's columns: about 6 us an item, and as
# much again to encode the list. Past this many items of the entity it is refused up front rather than
# outlive the shutdown window (1,000x the default counts has 30,000 licenses).
MAX_AT_ITEMS = 100_000


async def snapshot_for(
    simulator: Simulator, at: datetime | None, kind: EntityKind, prepare: Callable[[dg.Snapshot], object]
) -> dg.Snapshot:
    """The served snapshot, or with `at` the one of that tick, with what the route will read of it (`prepare`:
    the entity's items, an index by id, a list's JSON and gzip; each kept with the snapshot) computed off the
    event loop."""
    tick = tick_at(simulator, at)
    current = simulator.snapshot
    if tick == current.tick:
        return current
    items = current.generation.counts.get(kind, 0)
    if items > MAX_AT_ITEMS:
        raise unprocessable("at", f"at is served for entities of at most {MAX_AT_ITEMS:,} items; {kind} has {items:,}")

    def prepared() -> dg.Snapshot:
        snapshot = simulator.snapshot_at(tick)
        prepare(snapshot)
        return snapshot

    return await asyncio.to_thread(prepared)


def history_ticks(simulator: Simulator, start: datetime | None, end: datetime | None, step: str | None) -> range:
    """The ticks a history request covers, checked against the generation and the point limit."""
    end_tick = tick_at(simulator, end, "to")
    generation = simulator.generation
    if start is None:
        start_tick = max(generation.first_tick, end_tick - round(3600 / generation.interval))
    else:
        start_tick = tick_at(simulator, start, "from")
    if start_tick > end_tick:
        raise unprocessable("from", "from must not be after to")
    try:
        step_delta = parse_step(step) if step is not None else None
    except ValueError as exc:
        raise unprocessable("step", str(exc)) from None
    try:
        return plan_ticks(generation, generation.time_of(start_tick), generation.time_of(end_tick), step_delta)
    except ValueError as exc:
        raise unprocessable("step", str(exc)) from None


def json_response(request: Request, body: bytes, tick: int, total: int | None = None) -> Response:
    status_code, headers, payload = response_parts(
        body,
        etag=make_etag(body),
        tick=tick,
        if_none_match=request.headers.get("if-none-match"),
        accept_encoding=request.headers.get("accept-encoding"),
        total=total,
    )
    return Response(payload, status_code=status_code, headers=dict(headers))


def whole_or_fraction(seconds: float) -> int | float:
    """`30` for a whole number of seconds, `0.5` for a fraction."""
    return int(seconds) if float(seconds).is_integer() else seconds


def lifetime_of(kind: EntityKind, item_id: str, world: dg.World, now: int) -> tuple[int, range]:
    """The slot of an item and the ticks it exists at; 404 when the id names no item of the generation so far."""
    located = world.locate(kind, item_id)
    life = None if located is None else world.lifetime(kind, *located)
    first = world.generation.first_tick
    if located is None or (life is not None and (life[1] <= first or life[0] > now)):
        raise HTTPException(404, f"no {SINGULAR[kind]} with id {item_id!r}")
    return located[0], range(first, now + 1) if life is None else range(max(first, life[0]), min(now + 1, life[1]))
