"""The HTTP service: app factory, lifespan and routes."""

from __future__ import annotations

import hmac
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

import data_generator as dg
from config import Settings, SettingsError, load_settings, now_utc
from models import ENTITY_MODELS, ErrorBody, Health, RegenerateResult, RootInfo, Stats
from simulator import Simulator, encode_list

logger = logging.getLogger("prism")

EXPOSED_HEADERS = ["X-Total-Count", "X-Tick", "ETag"]
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


def get_simulator(request: Request) -> Simulator:
    """The app's simulator."""
    simulator: Simulator = request.app.state.simulator
    return simulator


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


SimulatorDep = Annotated[Simulator, Depends(get_simulator)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def require_api_key(settings: SettingsDep, x_api_key: Annotated[str | None, Header()] = None) -> None:
    """Reject the request unless API_KEY is unset or the `X-API-Key` header matches it."""
    expected = settings.api_key
    if expected is None:
        return
    if x_api_key is None or not hmac.compare_digest(x_api_key.encode(), expected.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or invalid X-API-Key header")


ApiKeyGuard = [Depends(require_api_key)]


def configure_logging(settings: Settings) -> None:
    """Log to stderr at the configured level."""
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("prism").setLevel(settings.log_level)


def create_app(
    settings: Settings | None = None, *, simulator_factory: Callable[[Settings], Simulator] = Simulator
) -> FastAPI:
    """Build the app; nothing heavy happens until its lifespan starts."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        simulator = simulator_factory(settings)
        app.state.simulator = simulator
        simulator.start()
        logger.info(
            "serving generation seed=%d from tick %d every %s",
            simulator.generation.seed,
            simulator.snapshot.tick,
            settings.interval_label,
        )
        try:
            yield
        finally:
            await simulator.stop()

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
        responses={422: {"model": ErrorBody, "description": "Invalid request."}},
    )
    app.state.settings = settings
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
    _install_error_handlers(app)
    _add_service_routes(app)
    _add_entity_routes(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and exc.detail == "Not Found":
            detail: Any = f"no such path: {request.url.path}"
        else:
            detail = exc.detail
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

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
    async def stats(simulator: SimulatorDep, settings: SettingsDep) -> Stats:
        """Counts, the generation and its clock, tick timings and failures, and the DynamoDB mirror's state."""
        snapshot = simulator.snapshot
        generation = snapshot.generation
        return Stats(
            timestamp=dg.iso_time(now_utc()),
            counts=snapshot.counts,
            update_interval=settings.update_interval_seconds,
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
            dynamodb={"enabled": False, "reason": "DynamoDB sync is not configured"},
        )

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


def _add_entity_routes(app: FastAPI) -> None:
    for kind, model in ENTITY_MODELS.items():
        app.add_api_route(
            f"/api/{kind}",
            _list_endpoint(kind),
            methods=["GET"],
            response_model=list[model],  # type: ignore[valid-type]
            tags=["data"],
            summary=ENTITY_SUMMARIES[kind],
            description=f"Every {kind[:-1]} of the served tick, as a JSON array. {model.__doc__}",
            name=f"list_{kind}",
        )


def _list_endpoint(kind: str) -> Callable[..., Any]:
    async def list_items(simulator: SimulatorDep) -> Response:
        snapshot = simulator.snapshot
        encoded = encode_list(snapshot, kind)
        return Response(
            encoded.body,
            media_type="application/json",
            headers={
                "ETag": encoded.etag,
                "X-Tick": str(snapshot.tick),
                "X-Total-Count": str(len(snapshot.items[kind])),
            },
        )

    return list_items


def _build_default_app() -> FastAPI:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"prism: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings)
    return create_app(settings)


app = _build_default_app()


def main() -> None:
    """`python main.py`: serve on HOST:PORT without auto-reload."""
    import uvicorn

    settings: Settings = app.state.settings
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        reload=False,
        access_log=settings.access_log,
        log_level=settings.log_level.lower(),
    )


if __name__ == "__main__":
    main()
