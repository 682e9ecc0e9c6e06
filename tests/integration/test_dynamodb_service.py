"""The service's DynamoDB mirror from the outside: stats, outages, shutdown, on or off, over in-process moto."""

from __future__ import annotations

import asyncio
import json
import threading
from decimal import Decimal
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import data_generator as dg
import dynamodb_sync
from config import Settings
from dynamodb_client import METRICS, DynamoDBClient, DynamoMirror, make_client
from main import create_app
from prism.services import services_of
from simulator import Simulator
from tests.support import make_settings, wait_for
from tests.support.dynamodb import PREFIX, REGION, TABLES, assert_tables_equal, snapshot_of, table_items
from tests.support.faults import Faults
from tests.support.servers import free_port

# --- in the service ---------------------------------------------------------------------------


def service(settings: Settings, faults: Faults) -> TestClient:
    """The app with its mirror's client built by the real factory, plus fault hooks."""
    return TestClient(create_app(settings, dynamodb_factory=lambda given: faults.attach(make_client(given))))


def started_simulator(app: FastAPI) -> Simulator:
    """The simulator the lifespan ran, as it stopped (asking the app for one would catch it up to now)."""
    simulator = services_of(app).started
    assert simulator is not None
    return simulator


def dynamodb_status(client: TestClient) -> dict[str, Any]:
    status: dict[str, Any] = client.get("/api/stats").json()["dynamodb"]
    return status


@pytest.mark.slow
def test_tables_equal_the_api_json_as_decimal(aws: None, dynamodb_settings: Settings, reader: DynamoDBClient) -> None:
    with TestClient(create_app(dynamodb_settings)) as client:
        response = client.post("/api/sync")
        assert response.status_code == 200, response.text
        for kind in dg.ENTITY_KINDS:
            api = json.loads(client.get(f"/api/{kind}").text, parse_float=Decimal)
            stored = {item["id"]: item for item in table_items(reader, f"{PREFIX}{kind}")}
            assert stored == {item["id"]: item for item in api}, kind


@pytest.mark.slow
def test_sync_route_reports_what_it_did_and_always_reaches_dynamodb(
    aws: None, dynamodb_settings: Settings, faults: Faults
) -> None:
    with service(dynamodb_settings, faults) as client:
        wait_for(lambda: dynamodb_status(client)["last_sync_result"] == "ok")
        faults.calls.clear()
        response = client.post("/api/sync")
        body = response.json()
        assert response.status_code == 200
        assert body["status"] == "ok"
        assert body["items_pending"] == 0
        assert set(body["tables"]) == {*dg.ENTITY_KINDS, METRICS}
        assert body["tables"]["clients"] == {"written": 0, "deleted": 0}
        assert faults.calls["DescribeTable"] == len(TABLES)
        regenerated = client.post("/api/regenerate").json()
        body = client.post("/api/sync").json()
        assert body["status"] == "ok"
        assert body["tick"] == regenerated["tick"]
        status = dynamodb_status(client)
        assert status["synced_tick"] == regenerated["tick"]
        assert status["items_pending"] == 0
        faults.calls.clear()
        assert client.post("/api/sync", params={"deep": "true"}).json()["status"] == "ok"
        assert faults.calls["Scan"] == len(dg.ENTITY_KINDS)


@pytest.mark.slow
def test_outage_shows_in_stats_answers_503_leaves_the_api_alone_and_heals(
    aws: None, dynamodb_settings: Settings, faults: Faults, reader: DynamoDBClient
) -> None:
    faults.down = True
    with service(dynamodb_settings, faults) as client:
        wait_for(lambda: dynamodb_status(client)["consecutive_failures"] >= 1)
        response = client.get("/api/clients")
        assert response.status_code == 200
        assert len(response.json()) == 20
        response = client.post("/api/sync")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "failed"
        assert "Could not connect" in body["error"]
        total = sum(client.get("/health").json()["data_counts"].values())
        assert body["items_pending"] == total
        status = dynamodb_status(client)
        assert status["enabled"] is True
        assert status["last_sync_result"] == "failed"
        assert status["last_success_at"] is None
        assert "Could not connect" in status["last_error"]
        assert status["items_pending"] == total
        assert status["consecutive_failures"] >= 2
        faults.down = False
        response = client.post("/api/sync")
        assert response.status_code == 200
        assert sum(table["written"] for kind, table in response.json()["tables"].items() if kind != METRICS) == total
        status = dynamodb_status(client)
        assert status["last_sync_result"] == "ok"
        assert status["consecutive_failures"] == 0
        assert status["items_pending"] == 0
        assert "Could not connect" in status["last_error"]  # kept, with its time, for the operator
        assert_tables_equal(reader, services_of(cast(FastAPI, client.app)).simulator.snapshot)


@pytest.mark.slow
def test_slow_dynamodb_delays_neither_ticks_nor_requests(aws: None, tmp_path: Any, faults: Faults) -> None:
    settings = make_settings(dynamodb_enabled="true", update_interval_seconds=0.2, reports_dir=tmp_path)
    faults.gate = threading.Event()  # the start-up sync gets stuck in its first BatchWriteItem
    try:
        with service(settings, faults) as client:
            assert faults.holding.wait(10)
            stuck = client.get("/api/stats").json()
            assert stuck["dynamodb"]["syncing"] is True
            # While that sync is inside DynamoDB, the world ticks on and requests are answered from it.
            wait_for(lambda: client.get("/api/stats").json()["tick"] >= stuck["tick"] + 5)
            answered = client.get("/api/clients")
            assert answered.status_code == 200
            assert int(answered.headers["x-tick"]) >= stuck["tick"] + 5
            during = client.get("/api/stats").json()
            assert during["dynamodb"]["syncing"] is True
            assert during["dynamodb"]["syncs"] == stuck["dynamodb"]["syncs"] == 0  # still the first sync
            assert faults.held == 1  # the syncs the ticks asked for wait for it, none runs beside it
            faults.gate.set()
            assert client.post("/api/sync").json()["status"] == "ok"  # waits for the running sync, then its own
            stats = client.get("/api/stats").json()
    finally:
        faults.gate.set()
    assert stats["ticks_failed"] == 0
    assert faults.max_active == 1
    assert stats["dynamodb"]["syncs"] < stats["tick"] - stuck["tick"]  # syncs asked for during one were folded


@pytest.mark.slow
def test_shutdown_writes_the_final_snapshot(
    aws: None, dynamodb_settings: Settings, faults: Faults, reader: DynamoDBClient
) -> None:
    faults.delay = 0.1
    app = create_app(dynamodb_settings, dynamodb_factory=lambda given: faults.attach(make_client(given)))
    with TestClient(app) as client:
        wait_for(lambda: dynamodb_status(client)["last_sync_result"] == "ok")
        client.post("/api/regenerate")
    assert_tables_equal(reader, started_simulator(app).snapshot)


@pytest.mark.slow
def test_shutdown_gives_up_after_its_grace_period(
    aws: None, dynamodb_settings: Settings, faults: Faults, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    monkeypatch.setattr(dynamodb_sync, "SHUTDOWN_SYNC_SECONDS", 0.3)
    app = create_app(dynamodb_settings, dynamodb_factory=lambda given: faults.attach(make_client(given)))
    gate = threading.Event()
    try:
        with TestClient(app) as client:
            wait_for(lambda: dynamodb_status(client)["last_sync_result"] == "ok")
            faults.gate = gate
            before = services_of(app).simulator.snapshot
            client.post("/api/regenerate")  # every item changes: the sync of the new world gets stuck in DynamoDB
            assert faults.holding.wait(10)
        # The lifespan ended while DynamoDB still held the sync: the last sync was given up, not waited for.
        assert not gate.is_set()
        assert faults.held == 1
        mirror = services_of(app).dynamodb.mirror
        assert mirror is not None
        after = started_simulator(app).snapshot
        # Every item of the new world to put, and every id of the old world that it no longer has to delete.
        total = sum(after.counts.values()) + sum(
            len(set(before.by_id(kind)) - set(after.by_id(kind))) for kind in dg.ENTITY_KINDS
        )
        assert mirror.items_pending == total
        gave_up = [record.getMessage() for record in caplog.records if "did not finish" in record.getMessage()]
        assert gave_up == [f"last DynamoDB sync did not finish in 0.3 s; {total} items and 10 KPI points not written"]
    finally:
        gate.set()
    # Let go, the abandoned sync stops at its next request instead of writing on after shutdown.
    wait_for(lambda: not mirror.syncing)
    assert mirror.last_outcome is not None
    assert mirror.last_outcome.error == "sync stopped: the service is shutting down"
    assert faults.held == 1


@pytest.mark.parametrize(("fenced", "operation"), [(True, "TransactWriteItems"), (False, "BatchWriteItem")])
def test_a_denied_operation_tells_the_user_what_the_role_needs(
    aws: None, tmp_path: Any, faults: Faults, fenced: bool, operation: str
) -> None:
    faults.denied = {operation}
    settings = make_settings(
        dynamodb_enabled="true", dynamodb_fenced_writes=fenced, update_interval_seconds=3600, reports_dir=tmp_path
    )
    with service(settings, faults) as client:
        response = client.post("/api/sync")
        assert response.status_code == 503
        error = response.json()["error"]
        assert "AccessDeniedException" in error
        assert "not authorized" in error
        assert "the role needs dynamodb:DescribeTable, CreateTable, UpdateTimeToLive, Scan, GetItem, PutItem" in error
        assert "ConditionCheckItem and BatchWriteItem" in error
        assert dynamodb_status(client)["last_error"] == error


def test_missing_credentials_say_where_credentials_come_from(
    monkeypatch: pytest.MonkeyPatch, dynamodb_settings: Settings
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with TestClient(create_app(dynamodb_settings)) as client:
        response = client.post("/api/sync")
    assert response.status_code == 503
    assert (
        response.json()["error"]
        == "Unable to locate credentials (set AWS credentials, AWS_PROFILE or an instance role)"
    )


def test_an_existing_table_with_another_key_is_a_clear_error(mirror: DynamoMirror, reader: DynamoDBClient) -> None:
    reader.create_table(
        TableName="prism-clients",
        KeySchema=[{"AttributeName": "clientId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "clientId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    outcome = mirror.sync(snapshot_of())
    assert not outcome.ok
    assert outcome.error == (
        "DynamoDB table prism-clients has key [('clientId', 'HASH')]; expected [('id', 'HASH', 'S')]"
    )
    assert outcome.pending == sum(snapshot_of().counts.values())
    assert reader.describe_table(TableName="prism-clients")["Table"]["KeySchema"][0]["AttributeName"] == "clientId"


@pytest.mark.slow
def test_a_table_another_process_creates_first_is_used(
    mirror: DynamoMirror, ddb: DynamoDBClient, reader: DynamoDBClient, faults: Faults
) -> None:
    def another_process_first(params: dict[str, Any], **kwargs: Any) -> None:
        if params["TableName"] == "prism-leads":
            reader.create_table(**params)  # the same table, made a moment earlier: ours gets ResourceInUse

    ddb.meta.events.register("before-parameter-build.dynamodb.CreateTable", another_process_first)
    snapshot = snapshot_of()
    outcome = mirror.sync(snapshot)
    assert outcome.ok, outcome.error
    assert faults.calls["CreateTable"] == len(TABLES)
    assert_tables_equal(reader, snapshot)


def test_a_sync_asked_for_after_shutdown_says_so(aws: None, dynamodb_settings: Settings) -> None:
    app = create_app(dynamodb_settings)
    with TestClient(app) as client:
        client.post("/api/sync")
    dynamodb = services_of(app).dynamodb
    assert dynamodb.mirror is not None
    result = asyncio.run(dynamodb.sync_now(started_simulator(app).snapshot))
    assert result.status == "failed"
    assert result.error == "the service is shutting down; its last sync is running"
    syncs = dynamodb.mirror.syncs
    dynamodb.request(started_simulator(app).snapshot)  # a tick after close: nothing starts
    assert dynamodb.mirror.syncs == syncs


@pytest.mark.slow
def test_background_syncs_back_off_while_dynamodb_is_down(aws: None, tmp_path: Any, faults: Faults) -> None:
    settings = make_settings(dynamodb_enabled="true", update_interval_seconds=0.05, reports_dir=tmp_path)
    faults.down = True
    with service(settings, faults) as client:
        first = client.get("/api/stats").json()
        wait_for(lambda: client.get("/api/stats").json()["tick"] >= first["tick"] + 40)
        stats = client.get("/api/stats").json()
    ticks = stats["tick"] - first["tick"]
    failed = stats["dynamodb"]["syncs_failed"]
    # Every tick asks for a sync; after each failure the next waits twice as long as the one before.
    assert stats["dynamodb"]["consecutive_failures"] == failed >= 1
    assert failed <= ticks // 5, (failed, ticks)


def test_a_failing_generation_exchange_is_logged_once_and_the_service_carries_on(
    aws: None, tmp_path: Any, faults: Faults, caplog: pytest.LogCaptureFixture
) -> None:
    # A lease of 4 s: a CPU-starved run must not lose it between two 0.1 s ticks (and wait on the retake).
    settings = make_settings(
        dynamodb_enabled="true", update_interval_seconds=0.1, dynamodb_lease_ticks=40, reports_dir=tmp_path
    )
    # Writing the generation record is refused (the writer's lease uses other calls, so the mirror works on).
    faults.denied = {"PutItem"}
    with service(settings, faults) as client:
        wait_for(lambda: faults.calls["PutItem"] >= 3)
        assert client.get("/api/clients").status_code == 200
        wait_for(lambda: client.get("/api/stats").json()["dynamodb"]["last_sync_result"] == "ok")
        assert client.get("/api/stats").json()["ticks_failed"] == 0  # the mirror itself is fine
        refused = faults.calls["PutItem"]
        faults.denied = set()
        # Back: this process's generation is kept for the others.
        wait_for(lambda: faults.calls["PutItem"] > refused)
    warnings = [r.getMessage() for r in caplog.records if r.getMessage().startswith("could not compare the generation")]
    assert len(warnings) == 1
    assert "AccessDeniedException" in warnings[0]


# --- on or off --------------------------------------------------------------------------------


def test_disabled_sync_says_so_and_why(client: TestClient) -> None:
    assert client.get("/api/stats").json()["dynamodb"] == {"enabled": False, "reason": "DYNAMODB_ENABLED is false"}
    response = client.post("/api/sync")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "disabled"
    assert "DYNAMODB_ENABLED is false" in body["message"]


def test_auto_without_credentials_or_endpoint_is_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    settings = make_settings(dynamodb_enabled="auto", reports_dir=tmp_path)
    with TestClient(create_app(settings)) as client:
        status = client.get("/api/stats").json()["dynamodb"]
        assert status["enabled"] is False
        assert "auto" in status["reason"]
        assert client.post("/api/sync").json()["status"] == "disabled"


def test_auto_with_credentials_is_on(aws: None, tmp_path: Any, reader: DynamoDBClient) -> None:
    settings = make_settings(dynamodb_enabled="auto", update_interval_seconds=3600, reports_dir=tmp_path)
    with TestClient(create_app(settings)) as client:
        assert client.post("/api/sync").json()["status"] == "ok"
        status = client.get("/api/stats").json()["dynamodb"]
    assert status["enabled"] is True
    assert status["region"] == REGION
    assert status["endpoint"] == f"https://dynamodb.{REGION}.amazonaws.com"
    assert len(table_items(reader, "prism-clients")) == 20


def test_auto_with_only_an_endpoint_is_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    endpoint = f"http://127.0.0.1:{free_port()}"  # nobody listens: the sync fails, the service carries on
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings = make_settings(dynamodb_enabled="auto", update_interval_seconds=3600, reports_dir=tmp_path)
    with TestClient(create_app(settings)) as client:
        status = client.get("/api/stats").json()["dynamodb"]
        assert status["enabled"] is True
        assert status["endpoint"] == endpoint
        assert client.post("/api/sync").status_code == 503
        assert client.get("/api/clients").status_code == 200
