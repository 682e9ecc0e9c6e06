"""Changing the world and its mirror: `POST /api/regenerate` and `POST /api/sync` (guarded by API_KEY)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

import data_generator as dg
from models import (
    RegenerateResult,
    SyncResult,
)
from prism.api.deps import ApiKeyGuard, DynamoDBDep, SimulatorDep
from prism.api.params import ERROR_RESPONSES

# Both change what every client sees: guarded by API_KEY.
router = APIRouter(tags=["management"], dependencies=ApiKeyGuard, responses=ERROR_RESPONSES)


@router.post(
    "/api/regenerate",
    response_model=RegenerateResult,
    summary="Start a new generation",
)
async def regenerate(simulator: SimulatorDep) -> RegenerateResult:
    """Throw the current world away and serve a fresh one: new seed, epoch now."""
    snapshot = await simulator.regenerate()
    return RegenerateResult(
        message="Data regenerated",
        seed=snapshot.generation.seed,
        epoch=dg.iso_time(snapshot.generation.epoch),
        tick=snapshot.tick,
        timestamp=dg.iso_time(snapshot.time),
        counts=snapshot.counts,
    )


@router.post(
    "/api/sync",
    response_model=SyncResult,
    summary="Sync DynamoDB now",
    responses={
        503: {"model": SyncResult, "description": "DynamoDB failed; `error` says why, nothing is lost."},
    },
)
async def sync_now(
    simulator: SimulatorDep,
    dynamodb: DynamoDBDep,
    deep: Annotated[
        bool, Query(description="Also read every item back and rewrite those changed or deleted by others.")
    ] = False,
) -> Response | SyncResult:
    """Check the DynamoDB tables and write what differs from the served tick; `disabled` when sync is off."""
    result = await dynamodb.sync_now(simulator.snapshot, deep=deep)
    if result.status == "failed":
        return JSONResponse(result.model_dump(), status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    return result
