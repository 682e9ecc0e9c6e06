"""The smallest ASGI app worth comparing with: one Starlette route answering the service's recorded bytes.

`MINIMAL_ANSWERS` names a JSON file mapping `"<path>?<query> <gzip|identity>"` to the body file and
headers the service answered to that request, so both servers send the very same bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

RECORDED = json.loads(Path(os.environ["MINIMAL_ANSWERS"]).read_text())
ANSWERS = {key: (Path(answer["body"]).read_bytes(), answer["headers"]) for key, answer in RECORDED.items()}


async def clients(request: Request) -> Response:
    """The bytes and headers the service answered to this request, from memory."""
    coding = "gzip" if "gzip" in request.headers.get("accept-encoding", "") else "identity"
    body, headers = ANSWERS[f"{request.url.path}?{request.url.query} {coding}"]
    return Response(body, headers=headers)


app = Starlette(routes=[Route("/api/clients", clients)])
