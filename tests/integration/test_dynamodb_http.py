"""The service in its own process, syncing to moto's DynamoDB server over real HTTP, through an outage and back."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

import data_generator as dg
from dynamodb_client import DynamoDBClient
from rules import KPI_NAMES, EntityKind
from tests.support import SEED
from tests.support.dynamodb import scan_entities, stats, table_items
from tests.support.servers import free_port, running_service

AWS_TEST_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-2"}


class MotoServer:
    """moto's DynamoDB on a loopback port that can go down and come back on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server: ThreadedMotoServer | None = None

    def start(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()

    def stop(self, *, lose_state: bool = False) -> None:
        """Stop serving; with `lose_state`, come back empty as a restarted moto server does."""
        if lose_state:
            # The threaded server keeps moto's state in this process; a real restart would lose it.
            httpx.post(f"{self.endpoint}/moto-api/reset", timeout=5).raise_for_status()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def client(self) -> DynamoDBClient:
        return boto3.client("dynamodb", endpoint_url=self.endpoint, region_name="us-east-2", **_keys())


def _keys() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture
def moto() -> Iterator[MotoServer]:
    server = MotoServer()
    server.start()
    yield server
    server.stop()


def service_env(moto: MotoServer, tmp_path: Any, interval: float) -> dict[str, str]:
    """The service pointed at moto by boto3's own endpoint variable; `auto` turns sync on."""
    return {
        **AWS_TEST_ENV,
        "AWS_ENDPOINT_URL_DYNAMODB": moto.endpoint,
        "DYNAMODB_ENABLED": "auto",
        "SIMULATOR_SEED": str(SEED),
        "UPDATE_INTERVAL_SECONDS": str(interval),
        "REPORTS_DIR": str(tmp_path / "reports"),
    }


def wait_for_dynamodb(base: str, condition: Any, timeout: float) -> dict[str, Any]:
    """Poll the stats' dynamodb block until the condition holds; return it."""
    deadline = time.monotonic() + timeout
    while True:
        status: dict[str, Any] = stats(base)["dynamodb"]
        if condition(status):
            return status
        assert time.monotonic() < deadline, f"DynamoDB state not reached in {timeout} s: {status}"
        time.sleep(0.1)


def api_items(base: str, kind: EntityKind, at: str | None = None) -> dict[str, Any]:
    """The API's items of one entity (at a moment of the generation), numbers as Decimal."""
    response = httpx.get(f"{base}/api/{kind}", params={"at": at} if at else None, timeout=5)
    assert response.status_code == 200, response.text
    return {item["id"]: item for item in json.loads(response.text, parse_float=Decimal)}


def tick_time(service_stats: dict[str, Any], tick: int) -> str:
    epoch = datetime.fromisoformat(service_stats["epoch"].replace("Z", "+00:00"))
    return dg.iso_time(epoch + timedelta(seconds=tick * service_stats["update_interval"]))


def scan_between_ticks(base: str, reader: DynamoDBClient) -> tuple[range, dict[str, dict[str, Any]]]:
    """A scan of every table, and the ticks whose syncs may have written it: from the last synced one before
    the scan to the one served after it (syncs go on meanwhile, however long the scan takes)."""
    before = stats(base)["dynamodb"]["synced_tick"]
    tables = scan_entities(reader)
    return range(before, stats(base)["tick"] + 1), tables


def test_sync_over_http_makes_every_table_equal_the_api(moto: MotoServer, tmp_path: Any) -> None:
    with running_service(service_env(moto, tmp_path, interval=3600)) as base:
        response = httpx.post(f"{base}/api/sync", timeout=30)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "ok"
        assert body["items_pending"] == 0
        reader = moto.client()
        tables = scan_entities(reader)
        for kind in dg.ENTITY_KINDS:
            assert tables[kind] == api_items(base, kind), kind
        points = [point for point in table_items(reader, "prism-metrics") if point["timestamp"] != 0]  # not the lease
        assert {point["metricType"] for point in points} == set(KPI_NAMES)
        status = stats(base)
        assert status["dynamodb"]["endpoint"] == moto.endpoint
        assert status["dynamodb"]["synced_tick"] == status["tick"] == body["tick"]


def test_service_heals_by_itself_after_dynamodb_comes_back_empty(moto: MotoServer, tmp_path: Any) -> None:
    # Ticks far enough apart that a scan of every table (about half a second on moto) fits between two syncs.
    with running_service(service_env(moto, tmp_path, interval=2)) as base:
        wait_for_dynamodb(base, lambda status: status["last_sync_result"] == "ok", timeout=15)

        moto.stop(lose_state=True)
        down = wait_for_dynamodb(base, lambda status: status["consecutive_failures"] >= 1, timeout=10)
        assert down["last_sync_result"] == "failed"
        assert down["last_error"]
        assert down["last_success_at"] is not None
        served = httpx.get(f"{base}/api/clients", timeout=5)
        assert served.status_code == 200
        assert len(served.json()) == 20
        response = httpx.post(f"{base}/api/sync", timeout=30)
        assert response.status_code == 503
        assert "Could not connect" in response.json()["error"]
        ticks_while_down = stats(base)["tick"]

        moto.start()
        wait_for_dynamodb(
            base, lambda status: status["consecutive_failures"] == 0 and status["items_pending"] == 0, timeout=20
        )
        assert stats(base)["tick"] > ticks_while_down  # the service kept ticking throughout

        reader = moto.client()
        ticks, tables = scan_between_ticks(base, reader)
        service_stats = stats(base)
        for kind in dg.ENTITY_KINDS:
            versions = [api_items(base, kind, tick_time(service_stats, tick)) for tick in ticks]
            assert set(tables[kind]) == set(versions[-1]), kind  # every item is back, and no stale one is left
            for item_id, item in tables[kind].items():
                assert any(item == version.get(item_id) for version in versions), (kind, item_id)
