"""What is running: `/`, `/health`, `/api/stats` and Prometheus' `/metrics`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

import data_generator as dg
from config import now_utc
from models import (
    Health,
    RootInfo,
    Stats,
)
from prism.api.deps import DynamoDBDep, SettingsDep, SimulatorDep
from prism.api.params import whole_or_fraction
from prism.services import services_of
from telemetry import PROMETHEUS_CONTENT_TYPE

router = APIRouter(tags=["service"])


@router.get("/", response_model=RootInfo, summary="What is running")
async def get_root(simulator: SimulatorDep, settings: SettingsDep) -> RootInfo:
    """Name of the service, whether it ticks, its interval and the time of the served tick."""
    return RootInfo(
        message="MSP Data Simulator API",
        status="running" if simulator.is_running else "stopped",
        update_interval=settings.interval_label,
        last_update=dg.iso_time(simulator.snapshot.time),
    )


@router.get("/health", response_model=Health, summary="Liveness and item counts")
async def get_health(simulator: SimulatorDep) -> Health:
    """Healthy whenever the service answers; the counts are those of the served snapshot."""
    return Health(timestamp=dg.iso_time(now_utc()), data_counts=simulator.snapshot.counts)


@router.get("/api/stats", response_model=Stats, summary="Simulation statistics")
async def get_stats(simulator: SimulatorDep, settings: SettingsDep, dynamodb: DynamoDBDep) -> Stats:
    """Counts, the generation and its clock, tick timings and failures, and the DynamoDB mirror's state."""
    snapshot = simulator.snapshot
    generation = snapshot.generation
    return Stats(
        timestamp=dg.iso_time(now_utc()),
        counts=snapshot.counts,
        update_interval=whole_or_fraction(settings.update_interval_seconds),
        is_running=simulator.is_running,
        seed=generation.seed,
        epoch=dg.iso_time(generation.epoch),
        tick=snapshot.tick,
        last_tick_at=dg.iso_time(snapshot.time),
        next_tick_at=dg.iso_time(simulator.next_tick_at),
        last_tick_duration_ms=round(simulator.last_tick_duration_ms, 3),
        ticks_computed=simulator.ticks_computed,
        ticks_failed=simulator.ticks_failed,
        generation_started_at=dg.iso_time(generation.created_at),
        scenarios=[run.name for run in generation.scenarios if run.start_tick <= snapshot.tick < run.end_tick],
        sse_subscribers=simulator.events.subscribers,
        dynamodb=dynamodb.status().model_dump(exclude_unset=True),
    )


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    summary="Prometheus metrics",
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format."}},
)
async def get_metrics(request: Request) -> Response:
    """Requests and latency per route, ticks, sync results, items pending, reports, SSE subscribers."""
    return Response(services_of(request.app).metrics.exposition(), media_type=PROMETHEUS_CONTENT_TYPE)
