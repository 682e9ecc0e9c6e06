"""`GET /console`: the live console page and its assets, served as files from `prism/console/`.

The page is a client of the public API like any other; it adds no endpoint of its own. These routes are plain
Starlette routes, so they are not in the OpenAPI document and the app-wide rehearsal of bad days (`?delay=`,
`?fail=`, SIMULATED_LATENCY_MS) leaves them alone. A file is read and compressed once, on first request: with
nobody on the page, the console costs the server nothing.
"""

from __future__ import annotations

import functools
import gzip
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fastpath import GZIP_MIN_BYTES, accepts_gzip, etag_matches, make_etag

CONSOLE_DIR = Path(__file__).resolve().parent.parent.parent / "console"
PAGE = "index.html"

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}

# The page loads nothing from another host and runs no inline script: the browser enforces both.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

router = APIRouter()


@dataclass(frozen=True)
class ConsoleFile:
    """One file of the console as sent: its bytes, their gzip, its type and version."""

    body: bytes
    compressed: bytes
    media_type: str
    etag: str


@functools.cache
def console_files() -> frozenset[str]:
    """The names of the files the console serves (its folder's html, js, css and svg files, nothing else)."""
    return frozenset(path.name for path in CONSOLE_DIR.iterdir() if path.suffix in MEDIA_TYPES)


@functools.cache
def load(name: str) -> ConsoleFile:
    """A console file, read and compressed once per process."""
    path = CONSOLE_DIR / name
    body = path.read_bytes()
    return ConsoleFile(body, gzip.compress(body, mtime=0), MEDIA_TYPES[path.suffix], make_etag(body))


def file_response(request: Request, name: str) -> Response:
    """A console file with its validator: a 304 when the browser has it, gzip when it pays."""
    file = load(name)
    # `no-cache` means "check first": an upgraded service never runs with yesterday's script.
    headers = {"ETag": file.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    headers["X-Content-Type-Options"] = "nosniff"
    if name == PAGE:
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["Referrer-Policy"] = "no-referrer"
    if etag_matches(request.headers.get("if-none-match"), file.etag):
        return Response(status_code=304, headers=headers)
    body = file.body
    if len(body) >= GZIP_MIN_BYTES and accepts_gzip(request.headers.get("accept-encoding")):
        body = file.compressed
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=file.media_type, headers=headers)


async def console_page(request: Request) -> Response:
    """The console: one page showing the world move, and the controls to drive it."""
    return file_response(request, PAGE)


async def console_asset(request: Request) -> Response:
    """A script, style sheet or icon of the console; 404 for any other name."""
    name = request.path_params["name"]
    if name not in console_files():
        return JSONResponse({"detail": f"the console has no file {name!r}"}, status_code=404)
    return file_response(request, name)


router.add_route("/console", console_page, methods=["GET", "HEAD"], include_in_schema=False)
router.add_route("/console/{name}", console_asset, methods=["GET", "HEAD"], include_in_schema=False)
