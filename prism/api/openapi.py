"""The OpenAPI document as a client generator wants it: what FastAPI cannot say from the routes alone.

- every 4xx/5xx answer is JSON (`ErrorBody`), also on the routes whose success is a PDF or an event stream;
- the change feed's events have a schema: `ChangeFeedEvent`, one of `TickEvent`, `RegenerateEvent`,
  `ScenarioEvent` and `ResyncEvent`, each with the schema of its `data` (OpenAPI 3.1 has no `itemSchema`).

Only the document changes; what is sent does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from models import ChangeFeedEvent

REF_TEMPLATE = "#/components/schemas/{model}"
EVENTS_PATH = "/api/events"
API_KEY_SCHEME = "ApiKey"
API_KEY_HEADER = "X-API-Key"


def operation_id(route: APIRoute) -> str:
    """A route's operation id, the name a generated client gives its function: the endpoint's name in
    camelCase (`get_stats` -> `getStats`), unless the route names one itself (the per-entity routes)."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def change_feed_schemas() -> dict[str, Any]:
    """`ChangeFeedEvent` and the schemas it refers to, as components."""
    schema = TypeAdapter(ChangeFeedEvent).json_schema(ref_template=REF_TEMPLATE)
    components: dict[str, Any] = schema.pop("$defs", {})
    schema["description"] = (
        "One event of `/api/events` as a client parses it: the `event:` and `id:` lines, and the JSON of `data:`."
    )
    components["ChangeFeedEvent"] = schema
    return components


def _is_error(status: str) -> bool:
    return status[:1] in {"4", "5"}


def _guarded(operation: dict[str, Any]) -> bool:
    return any(
        parameter.get("in") == "header" and parameter.get("name", "").lower() == API_KEY_HEADER.lower()
        for parameter in operation.get("parameters", [])
    )


def refine(document: dict[str, Any]) -> dict[str, Any]:
    """Complete FastAPI's document in place (and return it)."""
    document.setdefault("servers", [{"url": "/", "description": "The service serving this document."}])
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    components.setdefault("securitySchemes", {})[API_KEY_SCHEME] = {
        "type": "apiKey",
        "in": "header",
        "name": API_KEY_HEADER,
        "description": "Required on the POSTs when the service runs with API_KEY set; not needed otherwise.",
    }
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            # The key guards the POSTs only when API_KEY is set: the key, or nothing.
            operation.setdefault("security", [{API_KEY_SCHEME: []}, {}] if _guarded(operation) else [])
            for status, response in operation.get("responses", {}).items():
                content = response.get("content")
                if not _is_error(status) or not content or "application/json" in content:
                    continue
                # The error handlers answer JSON whatever the route's own media type.
                response["content"] = {"application/json": next(iter(content.values()))}
    events = document.get("paths", {}).get(EVENTS_PATH, {}).get("get")
    if events is not None:
        schemas.update(change_feed_schemas())
        events["responses"]["200"]["content"] = {
            "text/event-stream": {"schema": {"$ref": REF_TEMPLATE.format(model="ChangeFeedEvent")}}
        }
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` (and `/openapi.json`) serve the refined document."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = refine(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
