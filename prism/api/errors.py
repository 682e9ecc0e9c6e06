"""Every error as JSON with a reason: 404 naming the path, 405 with the whole `Allow` list, 422 naming each
bad field, and a 500 that says to look at the log (which has the traceback) and leaks nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

logger = logging.getLogger("prism")


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _methods_of(request: Request) -> list[str]:
    """Every method some route serves at the request's path (Starlette's 405 names only the first route's).

    Each method is tried against the routes as they are, included routers too, so nothing here depends on
    how the routes are assembled.
    """
    methods = set()
    for method in HTTP_METHODS:
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in request.app.router.routes):
            methods.add(method)
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
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
