"""The HTTP service: app factory, lifespan and routes."""

from __future__ import annotations

import asyncio
import hmac
import logging
import signal
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from types import ModuleType
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
import orjson
from fastapi import Body, Depends, FastAPI, Header, HTTPException, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.routing import Route as StarletteRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import data_generator as dg
from config import Settings, SettingsError, load_settings, now_utc
from dynamodb_client import ClientFactory, DynamoDBSync, disabled_reason, make_client
from fastpath import PlainListShortcut, list_parts, make_etag, response_parts
from history import MAX_POINTS, parse_step, plan_ticks
from kpis import KPI_NAMES
from models import (
    ENTITY_MODELS,
    ErrorBody,
    Health,
    HistoryResult,
    ItemHistoryResult,
    RegenerateResult,
    ReportRequest,
    RootInfo,
    ScenarioCatalogue,
    ScenarioRequest,
    ScenarioRunInfo,
    Stats,
    SyncResult,
)
from queries import QueryError, parse_list_query, select
from simulator import Simulator
from telemetry import PROMETHEUS_CONTENT_TYPE, RequestMetrics, ServiceMetrics, configure_logging

logger = logging.getLogger("prism")

EXPOSED_HEADERS = ["X-Total-Count", "X-Tick", "ETag", "Content-Disposition"]
# Importing matplotlib and ReportLab costs about a second: done in the background, after start-up.
REPORT_WARM_UP_DELAY_SECONDS = 2.0
# Requests in flight get this long to finish after SIGTERM (Docker waits 10 s before SIGKILL).
GRACEFUL_SHUTDOWN_SECONDS = 5
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or wrong `X-API-Key`."},
}

ENTITY_SUMMARIES = {
    "clients": "Clients and their profitability",
    "licenses": "Software licenses and seat usage",
    "leads": "Sales pipeline opportunities",
    "technicians": "Technicians and their utilisation",
    "departments": "Departments and their spending",
    "vendors": "Vendors and their agreements",
    "contracts": "Contracts with vendors",
}


_SERVERLESS_LOCK = threading.Lock()


def current_simulator(app: FastAPI) -> Simulator:
    """The app's simulator; without a lifespan (AWS Lambda), one made on first use that ticks on demand."""
    simulator: Simulator | None = getattr(app.state, "simulator", None)
    if simulator is None:
        with _SERVERLESS_LOCK:
            simulator = getattr(app.state, "simulator", None)
            if simulator is None:
                simulator = app.state.simulator = app.state.simulator_factory(app.state.settings)
    if not simulator.is_running:
        simulator.catch_up()
    return simulator


def get_simulator(request: Request) -> Simulator:
    """The app's simulator."""
    return current_simulator(request.app)


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_dynamodb(request: Request) -> DynamoDBSync:
    """The app's DynamoDB mirror (off, with its reason, when sync is not configured)."""
    dynamodb: DynamoDBSync = request.app.state.dynamodb
    return dynamodb


SimulatorDep = Annotated[Simulator, Depends(get_simulator)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
DynamoDBDep = Annotated[DynamoDBSync, Depends(get_dynamodb)]


def require_api_key(settings: SettingsDep, x_api_key: Annotated[str | None, Header()] = None) -> None:
    """Reject the request unless API_KEY is unset or the `X-API-Key` header matches it."""
    expected = settings.api_key
    if expected is None:
        return
    if x_api_key is None or not hmac.compare_digest(x_api_key.encode(), expected.get_secret_value().encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or invalid X-API-Key header")


ApiKeyGuard = [Depends(require_api_key)]


MAX_BODY_BYTES = 1024 * 1024


class BodySizeLimit:
    """Answer 413 to a request body over `limit` bytes, never holding more than that in memory."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"").strip()
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        if b"transfer-encoding" not in headers:  # no body, or a declared length within the limit
            await self.app(scope, receive, send)
            return
        # A chunked body: read it up to the limit before the app sees any of it.
        messages: list[Message] = []
        size, more = 0, True
        while more:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            more = message["type"] == "http.request" and message.get("more_body", False)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        megabytes = self.limit / (1024 * 1024)
        response = JSONResponse({"detail": f"request body larger than {megabytes:g} MB"}, status_code=413)
        await response(scope, receive, send)


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
        simulator = simulator_factory(settings)
        app.state.simulator = simulator
        simulator.add_listener(_observe_tick(app.state.metrics, simulator))
        dynamodb = app.state.dynamodb = DynamoDBSync.open(settings, dynamodb_factory)
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
        version="1.0.0",
        summary="Live, realistic business data of a managed-service provider.",
        description=(
            "Simulated clients, software licenses, sales leads, technicians, departments, vendors "
            "and contracts. The data moves every tick like a real business; every value is "
            "deterministic for the generation's seed and the tick."
        ),
        lifespan=lifespan,
        responses={
            422: {"model": ErrorBody, "description": "Invalid request: the reason names each bad field."},
            "4XX": {"model": ErrorBody, "description": "Client error, or one asked for with `?fail=`."},
        },
        dependencies=[Depends(rehearse)],
    )
    app.state.settings = settings
    app.state.simulator_factory = simulator_factory
    # Without a lifespan (AWS Lambda) nothing syncs; the lifespan replaces this with the real mirror.
    app.state.dynamodb = DynamoDBSync.off(disabled_reason(settings) or "DynamoDB sync runs only in the server")
    app.state.metrics = metrics = ServiceMetrics()
    metrics.add_state(lambda: _state_gauges(app))
    app.add_middleware(BodySizeLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
    app.add_middleware(RequestMetrics, metrics=metrics)
    _install_error_handlers(app)
    _add_service_routes(app)
    _add_entity_routes(app)
    _add_live_routes(app)
    _add_report_routes(app)
    _serve_plain_lists_first(app, settings)
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
    """Load the drawing libraries soon after start-up (not during it), so the first report is fast too."""
    await asyncio.sleep(REPORT_WARM_UP_DELAY_SECONDS)
    await asyncio.to_thread(lambda: _reports().warm_up())


def _serve_plain_lists_first(app: FastAPI, settings: Settings) -> None:
    """Put the plain-list shortcut outside the whole middleware stack, where it costs least."""
    build_stack = app.build_middleware_stack

    def build_with_shortcut() -> ASGIApp:
        return PlainListShortcut(
            build_stack(),
            kinds=ENTITY_MODELS,
            simulator=lambda: current_simulator(app),
            allowed_origins=settings.cors_origins,
            exposed_headers=EXPOSED_HEADERS,
            enabled=lambda: settings.simulated_latency_ms == 0,
            count=app.state.metrics.count_shortcut,
        )

    app.build_middleware_stack = build_with_shortcut  # type: ignore[method-assign]


def _observe_tick(metrics: ServiceMetrics, simulator: Simulator) -> Callable[..., Awaitable[None]]:
    async def observe(snapshot: dg.Snapshot, previous: dg.Snapshot | None) -> None:
        metrics.tick_duration.observe(simulator.last_tick_duration_ms / 1000)

    return observe


def _state_gauges(app: FastAPI) -> dict[str, tuple[str, float]]:
    """Values read from the service's state each time Prometheus scrapes."""
    simulator: Simulator | None = getattr(app.state, "simulator", None)
    if simulator is None:
        return {}
    return {
        "prism_tick": ("Number of the tick being served", simulator.snapshot.tick),
        "prism_ticks_computed": ("Ticks computed by the background task", simulator.ticks_computed),
        "prism_ticks_failed": ("Ticks that raised; the loop carried on", simulator.ticks_failed),
        "prism_last_tick_duration_seconds": ("Time the last tick took", simulator.last_tick_duration_ms / 1000),
        "prism_sse_subscribers": ("Clients following /api/events", simulator.events.subscribers),
        "prism_history_ticks_kept": ("Ticks whose KPIs are kept for /api/history", len(simulator.kpi_series)),
        **_dynamodb_gauges(app.state.dynamodb),
    }


def _dynamodb_gauges(dynamodb: DynamoDBSync) -> dict[str, tuple[str, float]]:
    status = dynamodb.status()
    if not status.enabled:
        return {}
    return {
        "prism_dynamodb_items_pending": ("Items not yet written to or deleted from DynamoDB", status.items_pending),
        "prism_dynamodb_consecutive_failures": ("DynamoDB syncs failed in a row", status.consecutive_failures),
        "prism_dynamodb_syncs": ("DynamoDB syncs run", status.syncs),
        "prism_dynamodb_syncs_failed": ("DynamoDB syncs that failed", status.syncs_failed),
    }


def _methods_of(request: Request) -> list[str]:
    """Every method some route serves at the request's path (Starlette's 405 names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, StarletteRoute) and route.methods:
            probe = {**request.scope, "method": next(iter(route.methods))}
            if route.matches(probe)[0] == Match.FULL:
                methods |= route.methods
    return sorted(methods)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 404 and exc.detail == "Not Found":
            detail: Any = f"no such path: {request.url.path}"
        elif exc.status_code == 405:
            allowed = _methods_of(request)
            detail = f"{request.method} is not allowed here; use {', '.join(allowed)}"
            headers["Allow"] = ", ".join(allowed)
        else:
            detail = exc.detail
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type", "")}
            for error in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; see the service log"}, status_code=500)


def _add_service_routes(app: FastAPI) -> None:
    @app.get("/", response_model=RootInfo, tags=["service"], summary="What is running")
    async def root(simulator: SimulatorDep, settings: SettingsDep) -> RootInfo:
        """Name of the service, whether it ticks, its interval and the time of the served tick."""
        return RootInfo(
            message="MSP Data Simulator API",
            status="running" if simulator.is_running else "stopped",
            update_interval=settings.interval_label,
            last_update=dg.iso_time(simulator.snapshot.time),
        )

    @app.get("/health", response_model=Health, tags=["service"], summary="Liveness and item counts")
    async def health(simulator: SimulatorDep) -> Health:
        """Healthy whenever the service answers; the counts are those of the served snapshot."""
        return Health(timestamp=dg.iso_time(now_utc()), data_counts=simulator.snapshot.counts)

    @app.get("/api/stats", response_model=Stats, tags=["service"], summary="Simulation statistics")
    async def stats(simulator: SimulatorDep, settings: SettingsDep, dynamodb: DynamoDBDep) -> Stats:
        """Counts, the generation and its clock, tick timings and failures, and the DynamoDB mirror's state."""
        snapshot = simulator.snapshot
        generation = snapshot.generation
        return Stats(
            timestamp=dg.iso_time(now_utc()),
            counts=snapshot.counts,
            update_interval=_whole_or_fraction(settings.update_interval_seconds),
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

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        tags=["service"],
        summary="Prometheus metrics",
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format."}},
    )
    async def prometheus_metrics(request: Request) -> Response:
        """Requests and latency per route, ticks, sync results, items pending, reports, SSE subscribers."""
        metrics: ServiceMetrics = request.app.state.metrics
        return Response(metrics.exposition(), media_type=PROMETHEUS_CONTENT_TYPE)

    @app.post(
        "/api/regenerate",
        response_model=RegenerateResult,
        tags=["management"],
        summary="Start a new generation",
        dependencies=ApiKeyGuard,
        responses=ERROR_RESPONSES,
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

    @app.post(
        "/api/sync",
        response_model=SyncResult,
        tags=["management"],
        summary="Sync DynamoDB now",
        dependencies=ApiKeyGuard,
        responses={
            **ERROR_RESPONSES,
            503: {"model": SyncResult, "description": "DynamoDB failed; `error` says why, nothing is lost."},
        },
    )
    async def sync(
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


def _add_entity_routes(app: FastAPI) -> None:
    for kind, model in ENTITY_MODELS.items():
        singular = kind[:-1]
        app.add_api_route(
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
            responses=DATA_RESPONSES,
        )
        app.add_api_route(
            f"/api/{kind}/{{item_id}}",
            _item_endpoint(kind),
            methods=["GET"],
            response_model=model,
            tags=["data"],
            summary=f"One {singular}",
            description=f"The {singular} with this id at the served tick, or at `at`. 404 when there is none.",
            name=f"get_{singular}",
            responses={**DATA_RESPONSES, 404: {"model": ErrorBody, "description": "No item with that id."}},
        )
        app.add_api_route(
            f"/api/{kind}/{{item_id}}/history",
            _item_history_endpoint(kind),
            methods=["GET"],
            response_model=ItemHistoryResult,
            tags=["history"],
            summary=f"One {singular} over time",
            description=f"The {singular} at each step from `from` to `to` (at most {MAX_POINTS} points).",
            name=f"history_of_{singular}",
            responses={**DATA_RESPONSES, 404: {"model": ErrorBody, "description": "No item with that id."}},
        )


_FILTER_EXAMPLES = {
    "clients": "?status=At%20Risk&industry=Healthcare",
    "licenses": "?vendor=Microsoft&complianceStatus=At%20Risk",
    "leads": "?stage=Proposal&source=Referral",
    "technicians": "?status=Available&skillLevel=Senior",
    "departments": "?trend=up",
    "vendors": "?status=expiring-soon",
    "contracts": "?status=Expiring%20Soon&autoRenew=false",
}

DATA_RESPONSES: dict[int | str, dict[str, Any]] = {
    304: {"description": "The client's copy (`If-None-Match`) is current."},
}

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


def _unprocessable(parameter: str, message: str, where: str = "query") -> HTTPException:
    return HTTPException(422, [{"loc": [where, parameter], "msg": message, "type": "value_error"}])


def _tick_at(simulator: Simulator, at: datetime | None, parameter: str = "at") -> int:
    """The tick whose data was current at a moment of the generation's history."""
    if at is None:
        return simulator.snapshot.tick
    moment = _as_utc(at)
    start, end = simulator.window()
    if not start <= moment <= end:
        raise _unprocessable(
            parameter, f"{parameter} must lie within the generation, from {dg.iso_time(start)} to {dg.iso_time(end)}"
        )
    return min(simulator.snapshot.tick, simulator.generation.tick_at(moment))


def _snapshot_for(simulator: Simulator, at: datetime | None) -> dg.Snapshot:
    tick = _tick_at(simulator, at)
    return simulator.snapshot_at(tick)


def _range(simulator: Simulator, start: datetime | None, end: datetime | None, step: str | None) -> range:
    """The ticks a history request covers, checked against the generation and the point limit."""
    end_tick = _tick_at(simulator, end, "to")
    generation = simulator.generation
    if start is None:
        start_tick = max(generation.first_tick, end_tick - round(3600 / generation.interval))
    else:
        start_tick = _tick_at(simulator, start, "from")
    if start_tick > end_tick:
        raise _unprocessable("from", "from must not be after to")
    try:
        step_delta = parse_step(step) if step is not None else None
    except ValueError as exc:
        raise _unprocessable("step", str(exc)) from None
    try:
        return plan_ticks(generation, generation.time_of(start_tick), generation.time_of(end_tick), step_delta)
    except ValueError as exc:
        raise _unprocessable("step", str(exc)) from None


def _json_response(request: Request, body: bytes, tick: int, total: int | None = None) -> Response:
    status_code, headers, payload = response_parts(
        body,
        etag=make_etag(body),
        tick=tick,
        if_none_match=request.headers.get("if-none-match"),
        accept_encoding=request.headers.get("accept-encoding"),
        total=total,
    )
    return Response(payload, status_code=status_code, headers=dict(headers))


def _list_endpoint(kind: str) -> Callable[..., Any]:
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
            raise _unprocessable(exc.parameter, exc.message) from None
        snapshot = _snapshot_for(simulator, at)
        if query.is_plain:
            status_code, headers, body = list_parts(snapshot, kind, request.headers)
            return Response(body, status_code=status_code, headers=dict(headers))
        page, total = select(snapshot.items[kind], query)
        return _json_response(request, orjson.dumps(page), snapshot.tick, total)

    return list_items


def _item_endpoint(kind: str) -> Callable[..., Any]:
    async def get_item(
        request: Request,
        simulator: SimulatorDep,
        item_id: Annotated[str, Path(max_length=64, description="The item's id.")],
        at: AtQuery = None,
    ) -> Response:
        snapshot = _snapshot_for(simulator, at)
        item = snapshot.by_id(kind).get(item_id)
        if item is None:
            raise HTTPException(404, f"no {kind[:-1]} with id {item_id!r}")
        return _json_response(request, orjson.dumps(item), snapshot.tick)

    return get_item


def _item_history_endpoint(kind: str) -> Callable[..., Any]:
    async def item_history(
        request: Request,
        simulator: SimulatorDep,
        item_id: Annotated[str, Path(max_length=64, description="The item's id.")],
        start: FromQuery = None,
        end: ToQuery = None,
        step: StepQuery = None,
    ) -> Response:
        ticks = _range(simulator, start, end, step)
        snapshot = simulator.snapshot
        world = simulator.world
        index, alive = _lifetime_of(kind, item_id, world, snapshot.tick)
        generation = snapshot.generation

        def points() -> list[dict[str, Any]]:
            # An item that was replaced (a closed lead, a churned client) has points only while it existed.
            return [
                {"tick": t, "time": dg.iso_time(generation.time_of(t)), "item": world.item_at(kind, index, t).item}
                for t in ticks
                if t in alive
            ]

        body = orjson.dumps(
            {
                "id": item_id,
                "entity": kind,
                "stepSeconds": ticks.step * generation.interval,
                "points": await asyncio.to_thread(points),
            }
        )
        return _json_response(request, body, snapshot.tick)

    return item_history


def _whole_or_fraction(seconds: float) -> int | float:
    """`30` for a whole number of seconds, `0.5` for a fraction."""
    return int(seconds) if float(seconds).is_integer() else seconds


def _lifetime_of(kind: str, item_id: str, world: dg.World, now: int) -> tuple[int, range]:
    """The slot of an item and the ticks it exists at; 404 when the id names no item of the generation so far."""
    located = world.locate(kind, item_id)
    life = None if located is None else world.lifetime(kind, *located)
    first = world.generation.first_tick
    if located is None or (life is not None and (life[1] <= first or life[0] > now)):
        raise HTTPException(404, f"no {kind[:-1]} with id {item_id!r}")
    return located[0], range(first, now + 1) if life is None else range(max(first, life[0]), min(now + 1, life[1]))


def _add_live_routes(app: FastAPI) -> None:
    @app.get(
        "/api/history",
        response_model=HistoryResult,
        tags=["history"],
        summary="Dashboard KPIs over time",
        responses=DATA_RESPONSES,
    )
    async def history(
        request: Request, simulator: SimulatorDep, start: FromQuery = None, end: ToQuery = None, step: StepQuery = None
    ) -> Response:
        """The KPIs of the DynamoDB metrics table as a time series over any range of the generation."""
        ticks = _range(simulator, start, end, step)
        generation = simulator.generation
        rows = await asyncio.to_thread(simulator.kpi_series.rows, generation, ticks, simulator.world)
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
        return _json_response(request, body, simulator.snapshot.tick)

    @app.get(
        "/api/events",
        response_class=EventSourceResponse,
        tags=["live"],
        summary="Live change feed (server-sent events)",
        responses={200: {"description": "A `text/event-stream`.", "content": {"text/event-stream": {}}}},
    )
    async def events(
        simulator: SimulatorDep,
        last_event_id: Annotated[str | None, Header(max_length=128)] = None,
    ) -> AsyncIterator[ServerSentEvent]:
        """One `tick` event per tick with the ids that changed per entity; `regenerate` and `scenario` events
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

    @app.get("/api/scenarios", response_model=ScenarioCatalogue, tags=["scenarios"], summary="Business scenarios")
    async def scenarios(simulator: SimulatorDep) -> ScenarioCatalogue:
        """The scenarios that can be started, and the runs of the current generation."""
        snapshot = simulator.snapshot
        return ScenarioCatalogue(
            available=dict(dg.SCENARIOS), runs=[_run_info(run, snapshot) for run in snapshot.generation.scenarios]
        )

    @app.post(
        "/api/scenarios",
        response_model=ScenarioRunInfo,
        status_code=201,
        tags=["scenarios"],
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
                raise _unprocessable("name", "a vendor outage needs at least one vendor", "body")
            if request_body.vendorId is None:
                # Chosen by the simulation, so every process with this generation picks the same vendor.
                target = simulator.world.rng("vendors", 0).integer(0, vendors - 1, 99, simulator.snapshot.tick)
            else:
                target = int(request_body.vendorId.removeprefix("vendor-")) - 1
                if target >= vendors:
                    raise _unprocessable("vendorId", f"there is no {request_body.vendorId}", "body")
        try:
            run = await simulator.start_scenario(request_body.name, request_body.durationTicks, target)
        except RuntimeError as exc:
            raise HTTPException(409, str(exc)) from None
        return _run_info(run, simulator.snapshot)


def _reports() -> ModuleType:
    """The report generator, imported on first use: start-up does not pay for it."""
    import report_generator

    return report_generator


def _report_limiter(app: FastAPI) -> anyio.CapacityLimiter:
    """The app's bound on reports rendering at once (made on first use, inside the event loop)."""
    limiter: anyio.CapacityLimiter | None = getattr(app.state, "report_limiter", None)
    if limiter is None:
        limiter = app.state.report_limiter = anyio.CapacityLimiter(_reports().MAX_CONCURRENT_RENDERS)
    return limiter


def _add_report_routes(app: FastAPI) -> None:
    @app.post(
        "/api/generate-report",
        tags=["reports"],
        summary="Download a dashboard's report as a PDF",
        dependencies=ApiKeyGuard,
        response_class=Response,
        responses={
            200: {
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
                "description": "The report, as a download; a copy is kept in REPORTS_DIR.",
            },
            **ERROR_RESPONSES,
            413: {"model": ErrorBody, "description": "Body larger than 1 MB."},
            500: {"model": ErrorBody, "description": "Rendering failed: a short reason here, the details in the log."},
            507: {"model": ErrorBody, "description": "No space left to keep a copy of the report."},
        },
    )
    async def generate_report(
        request: Request,
        simulator: SimulatorDep,
        settings: SettingsDep,
        body: Annotated[ReportRequest | None, Body()] = None,
    ) -> Response:
        """Render a dashboard's report from the served tick: text the body sends is printed as sent, the rest
        (metrics with their change over the last hour, charts, summary, findings, risks, actions) is computed.
        An empty body asks for the client-profitability report with everything computed."""
        wanted = body or ReportRequest()
        reports = _reports()
        work = partial(
            reports.create_report,
            wanted,
            snapshot=simulator.snapshot,
            snapshot_at=simulator.snapshot_at,
            reports_dir=settings.reports_dir,
            keep=settings.reports_keep,
        )
        counted = request.app.state.metrics.reports
        try:
            # In a worker thread, a bounded number at once: the event loop and the ticks never wait on a PDF.
            report = await anyio.to_thread.run_sync(work, limiter=_report_limiter(request.app))
        except reports.ReportError as exc:
            counted.labels(wanted.pageType, "failed").inc()
            return JSONResponse({"detail": exc.reason}, status_code=exc.status_code)
        counted.labels(wanted.pageType, "rendered").inc()
        return Response(
            report.pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{report.name}"',
                "X-Tick": str(report.tick),
                "Cache-Control": "no-store",
            },
        )


def _run_info(run: dg.ScenarioRun, snapshot: dg.Snapshot) -> ScenarioRunInfo:
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


async def rehearse(
    request: Request,
    settings: SettingsDep,
    delay: Annotated[
        int | None, Query(ge=0, le=10_000, description="GET only: wait this many milliseconds before answering.")
    ] = None,
    fail: Annotated[
        int | None, Query(ge=400, le=599, description="GET only: answer this error status with a JSON body.")
    ] = None,
) -> None:
    """Slow answers down or fail them on purpose, so frontends can build loading and error states."""
    if request.method != "GET":
        return
    wait_ms = settings.simulated_latency_ms + (delay or 0)
    if wait_ms:
        await asyncio.sleep(wait_ms / 1000)
    if fail is not None:
        raise HTTPException(fail, f"failure requested with ?fail={fail}")


def _build_default_app() -> FastAPI:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"prism: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)


app = _build_default_app()


def main() -> None:
    """`python main.py`: serve on HOST:PORT without auto-reload, on uvicorn's fast stack."""
    import uvicorn

    class PrismServer(uvicorn.Server):
        """uvicorn's server, telling the app when a stop signal arrives so that live streams end at once."""

        def handle_exit(self, sig: int, frame: Any) -> None:
            simulator: Simulator | None = getattr(app.state, "simulator", None)
            if simulator is not None:
                simulator.begin_shutdown()
            super().handle_exit(sig, frame)

    settings: Settings = app.state.settings
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        reload=False,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http="httptools",
        access_log=settings.access_log,
        log_level=settings.log_level.lower(),
        log_config=None,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    # uvicorn re-raises the stop signal once it has shut down; a drained SIGTERM is a clean exit.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    PrismServer(config).run()


def _exit_cleanly(signum: int, frame: Any) -> None:
    raise SystemExit(0)


_lambda_adapter: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda entry point (API Gateway or a function URL): each request computes the current tick."""
    global _lambda_adapter
    if _lambda_adapter is None:
        from mangum import Mangum

        _lambda_adapter = Mangum(app, lifespan="off")
    return _lambda_adapter(event, context)


if __name__ == "__main__":
    main()
