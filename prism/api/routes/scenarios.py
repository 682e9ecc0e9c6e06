"""Business scenarios: the catalogue with this generation's runs, and starting one at the next tick."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

import data_generator as dg
from models import (
    ScenarioCatalogue,
    ScenarioRequest,
    ScenarioRunInfo,
)
from prism.api.deps import ApiKeyGuard, SimulatorDep
from prism.api.params import ERROR_RESPONSES, unprocessable

router = APIRouter(tags=["scenarios"])


@router.get(
    "/api/scenarios",
    response_model=ScenarioCatalogue,
    summary="Business scenarios",
)
async def list_scenarios(simulator: SimulatorDep) -> ScenarioCatalogue:
    """The scenarios that can be started, and the runs of the current generation."""
    snapshot = simulator.snapshot
    return ScenarioCatalogue(
        available=dict(dg.SCENARIOS), runs=[run_info(run, snapshot) for run in snapshot.generation.scenarios]
    )


@router.post(
    "/api/scenarios",
    response_model=ScenarioRunInfo,
    status_code=201,
    summary="Start a business scenario",
    dependencies=ApiKeyGuard,
    responses=ERROR_RESPONSES,
)
async def start_scenario(request_body: ScenarioRequest, simulator: SimulatorDep) -> ScenarioRunInfo:
    """Rehearse a bad day: the scenario starts at the next tick, moves its figures and ends by itself."""
    vendors = simulator.snapshot.counts["vendors"]
    target = 0
    if request_body.name == "vendor-outage":
        if vendors == 0:
            raise unprocessable("name", "a vendor outage needs at least one vendor", "body")
        if request_body.vendorId is None:
            # Chosen by the simulation, so every process with this generation picks the same vendor.
            target = simulator.world.rng("vendors", 0).integer(0, vendors - 1, 99, simulator.snapshot.tick)
        else:
            target = int(request_body.vendorId.removeprefix("vendor-")) - 1
            if target >= vendors:
                raise unprocessable("vendorId", f"there is no {request_body.vendorId}", "body")
    try:
        run = await simulator.start_scenario(request_body.name, request_body.durationTicks, target)
    except RuntimeError as exc:
        raise HTTPException(409, str(exc)) from None
    return run_info(run, simulator.snapshot)


def run_info(run: dg.ScenarioRun, snapshot: dg.Snapshot) -> ScenarioRunInfo:
    generation = snapshot.generation
    return ScenarioRunInfo(
        name=run.name,
        startTick=run.start_tick,
        endTick=run.end_tick,
        startsAt=dg.iso_time(generation.time_of(run.start_tick)),
        endsAt=dg.iso_time(generation.time_of(run.end_tick)),
        target=f"vendor-{run.target + 1}" if run.name == "vendor-outage" else None,
        active=run.start_tick <= snapshot.tick < run.end_tick,
    )
