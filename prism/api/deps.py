"""Typed dependencies of the routes (`SimulatorDep`, `SettingsDep`, `DynamoDBDep`, `SleepDep`), the
`X-API-Key` guard of every POST, and the rehearsal of bad days (`?delay=`, `?fail=`, SIMULATED_LATENCY_MS).
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, get_args

from fastapi import Depends, Header, HTTPException, Query, Request, status
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from config import Settings
from dynamodb_sync import DynamoDBSync
from prism.services import Services, services_of
from simulator import Simulator

# Every dependency here is a coroutine function although none awaits anything: FastAPI runs a plain function
# dependency in its threadpool, a thread hop per dependency per request that costs milliseconds once other
# threads (a report, a sync, a history) hold the GIL.


async def get_services(request: Request) -> Services:
    """The app's parts."""
    return services_of(request.app)


async def get_simulator(request: Request) -> Simulator:
    """The app's simulator (without a lifespan, as on AWS Lambda, one made on first use that ticks on demand:
    making it and catching it up are computations, done off the event loop)."""
    services = services_of(request.app)
    started = services.started
    if started is not None and started.is_running:
        return started
    return await asyncio.to_thread(lambda: services.simulator)


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    return services_of(request.app).settings


async def get_dynamodb(request: Request) -> DynamoDBSync:
    """The app's DynamoDB mirror (off, with its reason, when sync is not configured)."""
    return services_of(request.app).dynamodb


Sleep = Callable[[float], Awaitable[None]]


async def get_sleep() -> Sleep:
    """How a rehearsed delay waits (a test records the waits instead of timing them)."""
    return asyncio.sleep


ServicesDep = Annotated[Services, Depends(get_services)]


SimulatorDep = Annotated[Simulator, Depends(get_simulator)]


SettingsDep = Annotated[Settings, Depends(get_settings)]


DynamoDBDep = Annotated[DynamoDBSync, Depends(get_dynamodb)]


SleepDep = Annotated[Sleep, Depends(get_sleep)]


async def require_api_key(settings: SettingsDep, x_api_key: Annotated[str | None, Header()] = None) -> None:
    """Reject the request unless API_KEY is unset or the `X-API-Key` header matches it."""
    expected = settings.api_key
    if expected is None:
        return
    if x_api_key is None or not hmac.compare_digest(x_api_key.encode(), expected.get_secret_value().encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or invalid X-API-Key header")


ApiKeyGuard = [Depends(require_api_key)]


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def _integer_queries(dependant: Dependant) -> Iterator[str]:
    """The query parameters of a route or dependency (its own dependencies' too) that are integers."""
    for field in dependant.query_params:
        annotation = field.field_info.annotation
        if annotation is int or int in get_args(annotation):
            yield field.alias
    for dependency in dependant.dependencies:
        yield from _integer_queries(dependency)


@functools.cache
def _app_wide_integers() -> frozenset[str]:
    """The integer query parameters every route takes (`?delay=`, `?fail=`): the app's dependencies are not
    part of a route's own dependency tree."""
    return frozenset(_integer_queries(get_dependant(path="/", call=rehearse)))


async def require_whole_numbers(request: Request) -> None:
    """Refuse an integer query parameter not written in digits: pydantic's lax mode would read `0.0` as 0.

    A validator in the parameter's type would do it too, but would move its `ge`/`le` out of the OpenAPI
    schema; this check leaves the document as it is and answers the same 422 as `?limit=x`.
    """
    route = request.scope.get("route")
    if not request.query_params or not isinstance(route, APIRoute):
        return
    integers = _app_wide_integers().union(_integer_queries(route.dependant))
    errors = [
        {"loc": ("query", name), "msg": _NOT_AN_INTEGER, "type": "int_parsing", "input": text}
        for name, text in request.query_params.multi_items()
        if name in integers and not _WHOLE_NUMBER.fullmatch(text)
    ]
    if errors:
        raise RequestValidationError(errors)


_NOT_AN_INTEGER = "Input should be a valid integer, unable to parse string as an integer"  # pydantic's words


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
