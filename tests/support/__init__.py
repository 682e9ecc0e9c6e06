"""What the tests share: settings for a test, the app's OpenAPI document, and (in the modules beside this)
servers in subprocesses, the DynamoDB helpers, the KPI oracle and the invariants of the entity table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from config import Settings, load_settings

PROJECT = Path(__file__).resolve().parent.parent.parent
DATA = PROJECT / "tests" / "data"
SEED = 20250115


def make_settings(**overrides: Any) -> Settings:
    """Settings for a test: a fixed seed, DynamoDB off, nothing read from a `.env`."""
    values: dict[str, Any] = {"simulator_seed": SEED, "dynamodb_enabled": "false", "_env_file": None}
    values.update(overrides)
    return load_settings(**values)


def current_document() -> dict[str, Any]:
    """The app's OpenAPI document, as a client downloads it."""
    from main import create_app

    document: dict[str, Any] = create_app(make_settings()).openapi()
    return document
