"""The middleware stack (`add_middlewares` says its order and why) and the 413 of a body over 1 MB, never
held in memory. The plain-list shortcut itself is in fastpath.py, with the bytes it serves.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config import Settings
from fastpath import PlainListShortcut
from models import (
    ENTITY_MODELS,
)
from prism.api.asgi import HttpMiddleware
from prism.services import services_of
from telemetry import RequestMetrics

# Headers a browser client may read across origins.
EXPOSED_HEADERS = ["X-Total-Count", "X-Tick", "ETag", "Content-Disposition"]

MAX_BODY_BYTES = 1024 * 1024


class BodySizeLimit(HttpMiddleware):
    """Answer 413 to a request body over `limit` bytes, never holding more than that in memory."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        super().__init__(app)
        self.limit = limit

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
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


def add_middlewares(app: FastAPI, settings: Settings) -> None:
    """The stack around the routes, outermost first (Starlette's error middleware is outside them all):

    1. request metrics (`telemetry.RequestMetrics`), so every answer is counted and timed;
    2. CORS (Starlette's), so every answer, the shortcut's too, has the same CORS headers;
    3. the body-size limit, before anything reads a body;
    4. the plain-list shortcut (`fastpath.PlainListShortcut`), answering `GET /api/{entity}` with no query
       from the tick's bytes, without routing; with SIMULATED_LATENCY_MS it steps aside, so that the
       rehearsed delay applies.
    """
    services = services_of(app)
    app.add_middleware(
        PlainListShortcut,
        kinds=ENTITY_MODELS,
        simulator=lambda: services.simulator,
        enabled=lambda: settings.simulated_latency_ms == 0,
    )
    app.add_middleware(BodySizeLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
    app.add_middleware(RequestMetrics, metrics=services.metrics)
