"""What the tests share: settings for a test, the app's OpenAPI document, and (in the modules beside this)
servers in subprocesses, the DynamoDB helpers, the KPI oracle and the invariants of the entity table.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from config import Settings, load_settings
from rules import EntityKind

PROJECT = Path(__file__).resolve().parent.parent.parent
DATA = PROJECT / "tests" / "data"
SEED = 20250115
# The default number of items of each entity, as the design card gives them.
DESIGN_COUNTS: dict[EntityKind, int] = {
    "clients": 20,
    "licenses": 30,
    "leads": 25,
    "technicians": 15,
    "departments": 6,
    "vendors": 15,
    "contracts": 20,
}


def make_settings(**overrides: Any) -> Settings:
    """Settings for a test: a fixed seed, DynamoDB off, nothing read from a `.env`."""
    values: dict[str, Any] = {"simulator_seed": SEED, "dynamodb_enabled": "false", "_env_file": None}
    values.update(overrides)
    return load_settings(**values)


def wait_for(predicate: Callable[[], object], timeout: float = 20.0) -> None:
    """Poll a condition until it holds; fail, saying which, after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not met in {timeout} s: {inspect.getsource(predicate).strip()}"
        time.sleep(0.02)


def current_document() -> dict[str, Any]:
    """The app's OpenAPI document, as a client downloads it."""
    from main import create_app

    document: dict[str, Any] = create_app(make_settings()).openapi()
    return document


def module_app_and_client(**overrides: Any) -> tuple[Callable[..., FastAPI], Callable[..., Iterator[TestClient]]]:
    """Fixtures `app` and `client` shared by a whole test module (the conftest's are made anew for each
    test): `app, client = module_app_and_client()` at the top of a module whose tests only read."""

    @pytest.fixture(scope="module", name="app")
    def module_app() -> FastAPI:
        from main import create_app

        return create_app(make_settings(**overrides))

    @pytest.fixture(scope="module", name="client")
    def module_client(app: FastAPI) -> Iterator[TestClient]:
        with TestClient(app) as test_client:
            yield test_client

    return module_app, module_client
