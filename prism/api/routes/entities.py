"""The seven lists (paging, sorting, filters, `?at=`), one item, and one item over time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

import data_generator as dg
from fastpath import list_parts
from history import MAX_POINTS
from models import (
    ENTITY_MODELS,
    ITEM_HISTORY_MODELS,
    ErrorBody,
)
from prism.api.deps import SimulatorDep
from prism.api.params import (
    DATA_RESPONSES,
    AtQuery,
    FromQuery,
    StepQuery,
    ToQuery,
    data_responses,
    history_ticks,
    json_response,
    lifetime_of,
    snapshot_for,
    unprocessable,
)
from queries import QueryError, parse_list_query, select
from rules import SINGULAR, EntityKind

router = APIRouter()


ENTITY_SUMMARIES: dict[EntityKind, str] = {
    "clients": "Clients and their profitability",
    "licenses": "Software licenses and seat usage",
    "leads": "Sales pipeline opportunities",
    "technicians": "Technicians and their utilisation",
    "departments": "Departments and their spending",
    "vendors": "Vendors and their agreements",
    "contracts": "Contracts with vendors",
}


_FILTER_EXAMPLES: dict[EntityKind, str] = {
    "clients": "?status=At%20Risk&industry=Healthcare",
    "licenses": "?vendor=Microsoft&complianceStatus=At%20Risk",
    "leads": "?stage=Proposal&source=Referral",
    "technicians": "?status=Available&skillLevel=Senior",
    "departments": "?trend=up",
    "vendors": "?status=expiring-soon",
    "contracts": "?status=Expiring%20Soon&autoRenew=false",
}


def _list_endpoint(kind: EntityKind) -> Callable[..., Any]:
    async def list_items(
        request: Request,
        simulator: SimulatorDep,
        at: AtQuery = None,
        limit: Annotated[int | None, Query(ge=0, le=100_000, description="Items per page.")] = None,
        offset: Annotated[int, Query(ge=0, description="Items to skip.")] = 0,
        sort: Annotated[str | None, Query(description="Field to sort on.", max_length=64)] = None,
        order: Annotated[Literal["asc", "desc"], Query(description="Sort direction.")] = "asc",
    ) -> Response:
        try:
            query = parse_list_query(
                kind, list(request.query_params.multi_items()), sort=sort, order=order, offset=offset, limit=limit
            )
        except QueryError as exc:
            raise unprocessable(exc.parameter, exc.message) from None
        if query.is_plain:  # the list's JSON and gzip are made in the thread too, and kept with the snapshot
            snapshot = await snapshot_for(simulator, at, kind, lambda s: list_parts(s, kind, request.headers))
            status_code, headers, body = list_parts(snapshot, kind, request.headers)
            return Response(body, status_code=status_code, headers=dict(headers))
        snapshot = await snapshot_for(simulator, at, kind, lambda s: s.items[kind])
        page, total = select(snapshot.items[kind], query)
        return json_response(request, orjson.dumps(page), snapshot.tick, total)

    return list_items


ItemIdPath = Annotated[str, Path(max_length=64, description="The item's id.")]


def _item_endpoint(kind: EntityKind) -> Callable[..., Any]:
    async def get_item(request: Request, simulator: SimulatorDep, item_id: ItemIdPath, at: AtQuery = None) -> Response:
        snapshot = await snapshot_for(simulator, at, kind, lambda s: s.by_id(kind))
        item = snapshot.by_id(kind).get(item_id)
        if item is None:
            raise HTTPException(404, f"no {SINGULAR[kind]} with id {item_id!r}")
        return json_response(request, orjson.dumps(item), snapshot.tick)

    return get_item


def _item_history_endpoint(kind: EntityKind) -> Callable[..., Any]:
    async def item_history(
        request: Request,
        simulator: SimulatorDep,
        item_id: ItemIdPath,
        start: FromQuery = None,
        end: ToQuery = None,
        step: StepQuery = None,
    ) -> Response:
        ticks = history_ticks(simulator, start, end, step)
        snapshot = simulator.snapshot
        world = simulator.world
        index, alive = lifetime_of(kind, item_id, world, snapshot.tick)
        generation = snapshot.generation

        def points() -> list[dict[str, Any]]:
            # An item that was replaced (a closed lead, a churned client) has points only while it existed.
            shown = [t for t in ticks if t in alive]
            items = dg.item_history(world, kind, index, shown)
            return [
                {"tick": t, "time": dg.iso_time(generation.time_of(t)), "item": item}
                for t, item in zip(shown, items, strict=True)
            ]

        body = orjson.dumps(
            {
                "id": item_id,
                "entity": kind,
                "stepSeconds": ticks.step * generation.interval,
                "points": await asyncio.to_thread(points),
            }
        )
        return json_response(request, body, snapshot.tick)

    return item_history


_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "No item with that id."}}


for kind, model in ENTITY_MODELS.items():
    singular = SINGULAR[kind]
    # The names give the operation ids a generated client names its functions after (api/openapi.py):
    # listClients, getClient, getClientHistory.
    router.add_api_route(
        f"/api/{kind}",
        _list_endpoint(kind),
        methods=["GET"],
        response_model=list[model],  # type: ignore[valid-type]
        tags=["data"],
        summary=ENTITY_SUMMARIES[kind],
        description=(
            f"Every {singular} of the served tick, as a JSON array. {model.__doc__}\n\n"
            "Optional: `at` (the data as it was then), `limit`/`offset` paging, `sort` on a field with "
            "`order=asc|desc`, and equality filters on any single-valued field, e.g. "
            f"`{_FILTER_EXAMPLES[kind]}` (repeat a field for any of several values). `X-Total-Count` "
            "gives the number of matches before paging, `X-Tick` the tick, `ETag` the version."
        ),
        name=f"list_{kind}",
        responses=data_responses(total=True, description=f"A page of {kind}, as a JSON array."),
    )
    router.add_api_route(
        f"/api/{kind}/{{item_id}}",
        _item_endpoint(kind),
        methods=["GET"],
        response_model=model,
        tags=["data"],
        summary=f"One {singular}",
        description=f"The {singular} with this id at the served tick, or at `at`. 404 when there is none.",
        name=f"get_{singular}",
        responses={**DATA_RESPONSES, **_NOT_FOUND},
    )
    router.add_api_route(
        f"/api/{kind}/{{item_id}}/history",
        _item_history_endpoint(kind),
        methods=["GET"],
        response_model=ITEM_HISTORY_MODELS[kind],
        tags=["history"],
        summary=f"One {singular} over time",
        description=f"The {singular} at each step from `from` to `to` (at most {MAX_POINTS} points).",
        name=f"get_{singular}_history",
        responses={**DATA_RESPONSES, **_NOT_FOUND},
    )
