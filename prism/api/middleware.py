"""ASGI middlewares: the 413 of a body over 1 MB (never held in memory), and the plain-list shortcut put in
front of the whole stack, where an unfiltered list costs least (see fastpath.py for what it answers).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config import Settings
from fastpath import PlainListShortcut
from models import (
    ENTITY_MODELS,
)
from prism.services import services_of

# Headers a browser client may read across origins.
EXPOSED_HEADERS = ["X-Total-Count", "X-Tick", "ETag", "Content-Disposition"]

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


def serve_plain_lists_first(app: FastAPI, settings: Settings) -> None:
    """Put the plain-list shortcut outside the whole middleware stack, where it costs least."""
    build_stack = app.build_middleware_stack

    def build_with_shortcut() -> ASGIApp:
        return PlainListShortcut(
            build_stack(),
            kinds=ENTITY_MODELS,
            simulator=lambda: services_of(app).simulator,
            allowed_origins=settings.cors_origins,
            exposed_headers=EXPOSED_HEADERS,
            enabled=lambda: settings.simulated_latency_ms == 0,
            count=services_of(app).metrics.count_shortcut,
        )

    app.build_middleware_stack = build_with_shortcut  # type: ignore[method-assign]
