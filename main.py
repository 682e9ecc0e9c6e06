"""The service's door, as the design card names it: `python main.py` serves on HOST:PORT, `uvicorn main:app`
imports the app, `main.handler` is the AWS Lambda entry point.

The code lives in the `prism` package: the app factory and lifespan in `prism/app.py`, the HTTP edge in
`prism/api/` (one router per concern in `prism/api/routes/`), the reports in `prism/reporting/`. Beside this
module: `config.py` (settings), `models.py` (the API's models), `data_generator.py` (the simulation),
`dynamodb_client.py` (the mirror).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from config import Settings, SettingsError, load_settings
from prism.app import create_app
from prism.services import services_of
from telemetry import configure_logging

# The doors the design card names; `main.app` is made on first use (see __getattr__).
__all__ = ["create_app", "default_app", "handler", "main"]

logger = logging.getLogger("prism")


# Requests in flight get this long to finish after SIGTERM (Docker waits 10 s before SIGKILL).
GRACEFUL_SHUTDOWN_SECONDS = 5


def _build_default_app() -> FastAPI:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"prism: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)


_default_app: FastAPI | None = None
_DEFAULT_APP_LOCK = threading.Lock()


def default_app() -> FastAPI:
    """The app of `uvicorn main:app`, built from the environment on first use: importing this module builds nothing."""
    global _default_app
    with _DEFAULT_APP_LOCK:
        if _default_app is None:
            _default_app = _build_default_app()
    return _default_app


def __getattr__(name: str) -> Any:
    """`main.app` (what uvicorn imports) is built, with its settings read and logging set up, when first asked for."""
    if name == "app":
        return default_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """`python main.py`: serve on HOST:PORT without auto-reload, on uvicorn's fast stack."""
    import uvicorn

    app = default_app()

    class PrismServer(uvicorn.Server):
        """uvicorn's server, telling the app when a stop signal arrives so that live streams end at once."""

        def handle_exit(self, sig: int, frame: Any) -> None:
            simulator = services_of(app).started
            if simulator is not None:
                simulator.begin_shutdown()
            super().handle_exit(sig, frame)

    settings = services_of(app).settings
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        reload=False,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http="httptools",
        access_log=settings.access_log,
        log_level=settings.log_level.lower(),
        log_config=None,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    _warn_if_open(settings)
    # uvicorn re-raises the stop signal once it has shut down; a drained SIGTERM is a clean exit.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    PrismServer(config).run()


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def _warn_if_open(settings: Settings) -> None:
    """Say loudly when the service listens beyond this machine with every POST open to anyone."""
    if settings.host not in LOOPBACK_HOSTS and settings.api_key is None:
        logger.warning(
            "listening on %s without API_KEY: anyone who reaches port %d can regenerate the world, start "
            "scenarios, sync DynamoDB and render reports (every POST is open); set API_KEY to require X-API-Key",
            settings.host,
            settings.port,
        )


def _exit_cleanly(signum: int, frame: Any) -> None:
    raise SystemExit(0)


_lambda_adapter: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda entry point (API Gateway or a function URL): each request computes the current tick."""
    global _lambda_adapter
    if _lambda_adapter is None:
        from mangum import Mangum

        _lambda_adapter = Mangum(default_app(), lifespan="off")
    return _lambda_adapter(event, context)


if __name__ == "__main__":
    main()
