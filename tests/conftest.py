"""Shared fixtures: settings, an app with its lifespan running, an HTTP client to it, and moto.

The tests are grouped by kind: `unit/` (pure functions and objects), `api/` (the real app over httpx),
`integration/` (moto, other processes, a browser, Node), `property/` (hypothesis and schemathesis).
What they share lives in `support/`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis.database import DirectoryBasedExampleDatabase
from moto import mock_aws

import prism.app
from config import Settings
from main import create_app
from tests.support import PROJECT, make_settings

# Property tests draw fresh examples on every run; a failure is kept in .hypothesis/ and replayed first next
# time, and its report prints the `@reproduce_failure` blob (and `@seed`) to replay it anywhere.
hypothesis_settings.register_profile(
    "prism",
    database=DirectoryBasedExampleDatabase(PROJECT / ".hypothesis" / "examples"),
    derandomize=False,
    print_blob=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "prism"))

# In-process apps would otherwise import the drawing libraries in a background thread two seconds after
# start-up, racing the tests' own imports; the tests that render reports load them when they need them.
prism.app.REPORT_WARM_UP_DELAY_SECONDS = 24 * 3600


INTEGRATION = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Integration tests (moto, other processes, a browser, Node) are slow by their kind: the quick loop,
    `-m "not slow"`, is the unit, API and quick property tests."""
    for item in items:
        if item.path.is_relative_to(INTEGRATION):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    """Default settings with the reports folder in a temporary directory."""
    return make_settings(reports_dir=tmp_path / "reports")


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """The app, built by the factory as uvicorn would."""
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An httpx-based client talking to the app with its lifespan running."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dummy credentials and moto's DynamoDB in this process."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-2")
    with mock_aws():
        yield
