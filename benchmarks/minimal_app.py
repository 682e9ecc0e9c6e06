"""The smallest ASGI app worth comparing with: one Starlette route returning fixed bytes."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = Path(os.environ["MINIMAL_BODY_FILE"]).read_bytes()


async def clients(request: Request) -> Response:
    """The same JSON the service answers, from memory."""
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/api/clients", clients)])
