"""Typed dependencies of the routes (`SimulatorDep`, `SettingsDep`, `DynamoDBDep`, `SleepDep`), the
`X-API-Key` guard of every POST, and the rehearsal of bad days (`?delay=`, `?fail=`, SIMULATED_LATENCY_MS).
"""

from __future__ import annotations

import asyncio
import hmac
import threading
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, status

from config import Settings
from dynamodb_sync import DynamoDBSync
from simulator import Simulator

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


Sleep = Callable[[float], Awaitable[None]]


def get_sleep() -> Sleep:
    """How a rehearsed delay waits (a test records the waits instead of timing them)."""
    return asyncio.sleep


SimulatorDep = Annotated[Simulator, Depends(get_simulator)]


SettingsDep = Annotated[Settings, Depends(get_settings)]


DynamoDBDep = Annotated[DynamoDBSync, Depends(get_dynamodb)]


SleepDep = Annotated[Sleep, Depends(get_sleep)]


def require_api_key(settings: SettingsDep, x_api_key: Annotated[str | None, Header()] = None) -> None:
    """Reject the request unless API_KEY is unset or the `X-API-Key` header matches it."""
    expected = settings.api_key
    if expected is None:
        return
    if x_api_key is None or not hmac.compare_digest(x_api_key.encode(), expected.get_secret_value().encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or invalid X-API-Key header")


ApiKeyGuard = [Depends(require_api_key)]


async def rehearse(
    request: Request,
    settings: SettingsDep,
    sleep: SleepDep,
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
        await sleep(wait_ms / 1000)
    if fail is not None:
        raise HTTPException(fail, f"failure requested with ?fail={fail}")
