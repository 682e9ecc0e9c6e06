"""Fixtures of the DynamoDB tests: settings with sync on, the client the service builds (with fault hooks),
a separate reader, and a mirror whose backoff sleeps are recorded."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import boto3
import pytest

import data_generator as dg
from config import Settings
from dynamodb_client import DynamoDBClient, DynamoMirror, make_client
from tests.support import make_settings
from tests.support.dynamodb import PREFIX, REGION, snapshot_of
from tests.support.faults import FakeDynamoDB, Faults


@pytest.fixture
def dynamodb_settings(tmp_path: Any) -> Settings:
    """Settings with DynamoDB sync on and no ticks during a test."""
    return make_settings(dynamodb_enabled="true", update_interval_seconds=3600, reports_dir=tmp_path / "reports")


@pytest.fixture
def fake_dynamodb() -> Iterator[str]:
    """A local HTTP server answering like a struggling DynamoDB; faults send requests there."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeDynamoDB)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def faults(fake_dynamodb: str) -> Faults:
    return Faults(fake_dynamodb)


@pytest.fixture
def ddb(aws: None, dynamodb_settings: Settings, faults: Faults) -> DynamoDBClient:
    """The client the service would build, with fault hooks attached."""
    return faults.attach(make_client(dynamodb_settings))


@pytest.fixture
def reader(aws: None) -> DynamoDBClient:
    """A separate client to look at the tables, uncounted."""
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def delays() -> list[float]:
    return []


@pytest.fixture
def mirror(ddb: DynamoDBClient, delays: list[float]) -> DynamoMirror:
    """A mirror whose backoff sleeps are recorded instead of slept."""
    return DynamoMirror(ddb, prefix=PREFIX, create_tables=True, sleep=delays.append)


@pytest.fixture
def snapshot(mirror: DynamoMirror) -> dg.Snapshot:
    """A snapshot at default counts, already synced whole to the tables."""
    synced = snapshot_of()
    assert mirror.sync(synced).ok
    return synced
