"""The app factory and its lifespan: one simulator, its DynamoDB mirror and the listeners that tie them
(tick metrics, generation sharing between processes), the middleware stack and the routers.

The stack, outermost first: request metrics, CORS, the body-size limit, the plain-list shortcut (each
explained in `api/middleware.add_middlewares`), then FastAPI's routing with its error handlers (`api/errors`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline

import data_generator as dg
from config import Settings, load_settings
from dynamodb_client import ClientFactory, disabled_reason, make_client
from dynamodb_sync import DynamoDBSync
from models import (
    ErrorBody,
)
from prism.api.deps import rehearse, require_whole_numbers
from prism.api.errors import install_error_handlers
from prism.api.middleware import add_middlewares
from prism.api.openapi import install_openapi, operation_id
from prism.api.routes import api_router
from prism.api.routes.reports import reports_module
from prism.services import Services
from simulator import Simulator
from telemetry import ServiceMetrics, StateGauge

logger = logging.getLogger("prism")


# Importing matplotlib and ReportLab costs about a second: done in the background, after start-up.
REPORT_WARM_UP_DELAY_SECONDS = 2.0


def create_app(
    settings: Settings | None = None,
    *,
    simulator_factory: Callable[[Settings], Simulator] = Simulator,
    dynamodb_factory: ClientFactory = make_client,
) -> FastAPI:
    """Build the app; nothing heavy happens until its lifespan starts. Tests pass their own DynamoDB client."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        simulator = services.started = simulator_factory(settings)
        simulator.add_listener(_observe_tick(services.metrics, simulator))
        dynamodb = services.dynamodb = DynamoDBSync.open(settings, dynamodb_factory)
        simulator.add_listener(dynamodb.on_tick)
        share_generation = _generation_sharing(simulator, dynamodb)
        simulator.add_listener(share_generation)
        dynamodb.start(simulator.snapshot)
        simulator.start()
        await share_generation(simulator.snapshot, None)
        logger.info(
            "serving generation seed=%d from tick %d every %s",
            simulator.generation.seed,
            simulator.snapshot.tick,
            settings.interval_label,
        )
        warm_up = asyncio.get_running_loop().create_task(_warm_up_reports(), name="prism-report-warm-up")
        try:
            yield
        finally:
            warm_up.cancel()
            await simulator.stop()
            await dynamodb.close(simulator.snapshot)

    app = FastAPIOffline(
        title="Prism Data Simulator",
        generate_unique_id_function=operation_id,
        # The service's metrics are Prometheus' (/metrics). FastAPI's own OpenTelemetry hooks, with no
        # provider configured, would still look in the environment on every request: about 12 us of the
        # ~30 a plain list costs in-process.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        version="1.0.0",
        summary="Live, realistic business data of a managed-service provider.",
        description=(
            "Simulated clients, software licenses, sales leads, technicians, departments, vendors "
            "and contracts. The data moves every tick like a real business; every value is "
            "deterministic for the generation's seed and the tick.\n\n"
            "Watch the world move and drive it in the browser: the live console at [/console](/console) "
            "(the tick clock, KPI tiles and charts, the lists, scenarios, sync and reports; it reads this API)."
        ),
        lifespan=lifespan,
        responses={
            422: {"model": ErrorBody, "description": "Invalid request: the reason names each bad field."},
            "4XX": {"model": ErrorBody, "description": "Client error, or one asked for with `?fail=`."},
            "5XX": {"model": ErrorBody, "description": "Server error, or one asked for with `?fail=`."},
        },
        dependencies=[Depends(require_whole_numbers), Depends(rehearse)],
    )
    services = app.state.services = Services(
        settings,
        simulator_factory,
        DynamoDBSync.off(disabled_reason(settings) or "DynamoDB sync runs only in the server"),
        metrics := ServiceMetrics(),
    )
    metrics.add_state(lambda: _state_gauges(services))
    add_middlewares(app, settings)
    install_error_handlers(app)
    app.include_router(api_router)
    install_openapi(app)
    return app


def _generation_sharing(simulator: Simulator, dynamodb: DynamoDBSync) -> Callable[..., Awaitable[None]]:
    """A tick listener keeping every process on one generation through DynamoDB (never blocking the tick)."""
    exchanging: asyncio.Task[None] | None = None
    failing = False

    async def exchange() -> None:
        nonlocal failing
        try:
            remote = await dynamodb.exchange_generation(simulator.generation)
        except Exception as exc:
            # Once per outage: the mirror's own status and logs tell the rest.
            (logger.debug if failing else logger.warning)("could not compare the generation with DynamoDB: %s", exc)
            failing = True
            return
        failing = False
        current = simulator.generation
        # Checked again: a regenerate here while DynamoDB answered makes ours the newer one.
        if remote is not None and remote.revision >= current.revision and not remote.same_world(current):
            logger.info("adopting generation seed=%d (revision %d) from DynamoDB", remote.seed, remote.revision)
            await simulator.replace_generation(remote)

    async def listener(snapshot: dg.Snapshot, previous: dg.Snapshot | None) -> None:
        nonlocal exchanging
        if dynamodb.enabled and (exchanging is None or exchanging.done()):
            exchanging = asyncio.get_running_loop().create_task(exchange(), name="prism-generation-exchange")

    return listener


async def _warm_up_reports() -> None:
    """Set up the PDF layout soon after start-up (not during it), so the first report waits less."""
    await asyncio.sleep(REPORT_WARM_UP_DELAY_SECONDS)
    await asyncio.to_thread(lambda: reports_module().warm_up())


def _observe_tick(metrics: ServiceMetrics, simulator: Simulator) -> Callable[..., Awaitable[None]]:
    async def observe(snapshot: dg.Snapshot, previous: dg.Snapshot | None) -> None:
        metrics.tick_duration.observe(simulator.last_tick_duration_ms / 1000)

    return observe


def _state_gauges(services: Services) -> dict[str, StateGauge]:
    """Values read from the service's state each time Prometheus scrapes."""
    simulator = services.started
    if simulator is None:
        return {}
    return {
        "prism_tick": ("Number of the tick being served", simulator.snapshot.tick),
        "prism_ticks_computed": ("Ticks computed by the background task", simulator.ticks_computed),
        "prism_ticks_failed": ("Ticks that raised; the loop carried on", simulator.ticks_failed),
        "prism_last_tick_duration_seconds": ("Time the last tick took", simulator.last_tick_duration_ms / 1000),
        "prism_sse_subscribers": ("Clients following /api/events", simulator.events.subscribers),
        "prism_history_ticks_kept": ("Ticks whose KPIs are kept for /api/history", len(simulator.kpi_series)),
        **_dynamodb_gauges(services.dynamodb),
    }


def _dynamodb_gauges(dynamodb: DynamoDBSync) -> dict[str, StateGauge]:
    status = dynamodb.status()
    if not status.enabled:
        return {}
    gauges: dict[str, StateGauge] = {
        "prism_dynamodb_items_pending": ("Items not yet written to or deleted from DynamoDB", status.items_pending),
        "prism_dynamodb_consecutive_failures": ("DynamoDB syncs failed in a row", status.consecutive_failures),
        "prism_dynamodb_syncs": ("DynamoDB syncs run", status.syncs),
        "prism_dynamodb_syncs_failed": ("DynamoDB syncs that failed", status.syncs_failed),
    }
    if status.role is not None:
        expires = status.lease_expires_at
        gauges |= {
            "prism_dynamodb_writer": (
                "1 when this process holds the writer's lease and writes DynamoDB",
                status.role == "writer",
            ),
            "prism_dynamodb_lease_token": ("Fencing token of the writer's lease as last seen", status.lease_token or 0),
            "prism_dynamodb_lease_expires_at_seconds": (
                "When the writer's lease runs out unrenewed (Unix time; 0 when unknown)",
                datetime.fromisoformat(expires).timestamp() if expires else 0,
            ),
            "prism_dynamodb_lease_holder": (
                "The process holding the writer's lease (label holder), and this process's own id (label self)",
                1,
                {"holder": status.lease_holder or "", "self": status.process_id or ""},
            ),
        }
    return gauges
