"""The writer's lease against moto's in-process DynamoDB, on clocks the tests move by hand."""

from __future__ import annotations

import logging
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from config import Settings
from dynamodb_client import METRICS, DynamoDBClient, DynamoMirror
from kpis import KPI_NAMES
from lease import LEASE_KEY, LeaseLost, WriterLease
from main import create_app
from tests.support import make_settings
from tests.support.dynamodb import snapshot_of, table_items

PREFIX = "prism-"
TABLE = f"{PREFIX}{METRICS}"
DURATION = 10.0


class Clock:
    """A monotonic clock of one process, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ddb(aws: None) -> DynamoDBClient:
    return boto3.client("dynamodb", region_name="us-east-2")


@pytest.fixture
def mirror(ddb: DynamoDBClient) -> DynamoMirror:
    return DynamoMirror(ddb, prefix=PREFIX, create_tables=True)


def lease_of(mirror: DynamoMirror, owner: str, clock: Clock) -> WriterLease:
    return WriterLease(
        mirror.client,
        table=TABLE,
        duration=DURATION,
        poll_every=DURATION / 8,
        ensure_table=mirror.ensure_metrics_table,
        owner=owner,
        clock=clock,
    )


def stored_lease(ddb: DynamoDBClient) -> dict[str, Any]:
    item: dict[str, Any] = ddb.get_item(TableName=TABLE, Key=LEASE_KEY, ConsistentRead=True)["Item"]
    return item


def test_a_lone_process_creates_the_table_and_takes_the_lease_at_once(
    mirror: DynamoMirror, ddb: DynamoDBClient
) -> None:
    clock = Clock()
    lease = lease_of(mirror, "a", clock)
    assert lease.confirm()
    assert lease.role == "writer"
    assert lease.take_check_request()  # its first sync reads the tables back
    assert not lease.take_check_request()
    item = stored_lease(ddb)
    assert item["holder"] == {"S": "a"}
    assert item["token"] == {"N": "1"}
    lease.guard()


def test_a_second_process_waits_while_the_holder_renews(mirror: DynamoMirror) -> None:
    clock_a, clock_b = Clock(), Clock()
    a, b = lease_of(mirror, "a", clock_a), lease_of(mirror, "b", clock_b)
    assert a.confirm(force=True)
    for _ in range(20):  # five lease durations
        clock_a.now += DURATION / 4
        clock_b.now += DURATION / 4
        a.step()
        b.step()
        assert a.role == "writer"
        assert b.role == "reader"
        assert b.holder == "a"
    with pytest.raises(LeaseLost, match="does not hold the writer's lease"):
        b.guard()


def test_a_dead_holder_is_replaced_only_after_a_whole_lease_unchanged(
    mirror: DynamoMirror, ddb: DynamoDBClient
) -> None:
    clock_a, clock_b = Clock(), Clock()
    a, b = lease_of(mirror, "a", clock_a), lease_of(mirror, "b", clock_b)
    a.step()
    clock_b.now += 123_456.0  # another machine's clock says anything at all: only elapsed time counts
    b.step()  # first sight of a's beat
    clock_b.now += DURATION * 0.99
    b.step()
    assert b.role == "reader"
    clock_b.now += DURATION * 0.02
    b.step()
    assert b.role == "writer"
    assert stored_lease(ddb)["token"] == {"N": "2"}  # the fencing token grew
    assert b.token == 2


def test_a_paused_holder_stops_writing_before_a_successor_can_start(mirror: DynamoMirror, ddb: DynamoDBClient) -> None:
    clock_a, clock_b = Clock(), Clock()
    a, b = lease_of(mirror, "a", clock_a), lease_of(mirror, "b", clock_b)
    a.step()
    b.step()
    # a is paused: its clock runs on, it renews no more. It stops writing a margin before b may take over.
    clock_a.now += DURATION - a.margin
    with pytest.raises(LeaseLost, match="does not hold the writer's lease"):
        a.guard()
    clock_b.now += DURATION
    b.step()
    assert b.role == "writer"
    # a wakes up: its renewal fails on the token, it becomes a reader and never writes on the old lease.
    a.step()
    assert a.role == "reader"
    assert a.holder == "b"
    with pytest.raises(LeaseLost, match="does not hold the writer's lease"):
        a.guard()
    assert stored_lease(ddb)["holder"] == {"S": "b"}


def test_a_handed_back_lease_is_taken_at_once_and_the_token_only_grows(mirror: DynamoMirror) -> None:
    clock_a, clock_b = Clock(), Clock()
    a, b = lease_of(mirror, "a", clock_a), lease_of(mirror, "b", clock_b)
    a.step()
    b.step()
    a.release()
    assert a.role == "reader"
    b.step()
    assert b.role == "writer"
    b.release()
    a.step()
    assert a.role == "writer"
    assert a.token == 3


@pytest.mark.slow
def test_a_renewal_that_fails_keeps_the_lease_only_until_its_margin(mirror: DynamoMirror) -> None:
    clock = Clock()
    lease = lease_of(mirror, "a", clock)
    lease.step()
    real_update = mirror.client.update_item

    def unreachable(**kwargs: Any) -> Any:
        raise ConnectionError("network down")

    mirror.client.update_item = unreachable
    try:
        clock.now += DURATION / 2
        with pytest.raises(ConnectionError, match="network down"):
            lease.step()
        assert lease.role == "writer"  # the lease it renewed last still has more than the margin left
        clock.now += DURATION / 4
        assert lease.role == "reader"
    finally:
        mirror.client.update_item = real_update
    lease.step()  # nobody took it meanwhile: the renewal succeeds on the same token
    assert lease.role == "writer"
    assert lease.token == 1


def test_the_lease_item_is_no_kpi_point(mirror: DynamoMirror, ddb: DynamoDBClient) -> None:
    lease = lease_of(mirror, "a", Clock())
    lease.step()
    snapshot = snapshot_of()
    mirror.record_metrics(snapshot)
    assert mirror.sync(snapshot, gate=lease.guard).ok
    points = [point for point in table_items(ddb, TABLE) if point["timestamp"] != 0]
    assert {point["metricType"] for point in points} == set(KPI_NAMES)
    assert all("ttl" in point for point in points)


def test_a_sync_without_the_lease_writes_nothing(mirror: DynamoMirror, ddb: DynamoDBClient) -> None:
    clock_a, clock_b = Clock(), Clock()
    a, b = lease_of(mirror, "a", clock_a), lease_of(mirror, "b", clock_b)
    a.step()
    b.step()
    outcome = mirror.sync(snapshot_of(), gate=b.guard)
    assert not outcome.ok
    assert "does not hold the writer's lease" in (outcome.error or "")
    assert table_items(ddb, TABLE) == [stored_lease_plain(ddb)]


def stored_lease_plain(ddb: DynamoDBClient) -> dict[str, Any]:
    (item,) = table_items(ddb, TABLE)
    return item


# --- in the service ---------------------------------------------------------------------------


@pytest.fixture
def dynamodb_settings(tmp_path: Any) -> Settings:
    return make_settings(dynamodb_enabled="true", update_interval_seconds=3600, reports_dir=tmp_path / "reports")


def test_a_lone_service_is_the_writer_and_says_so(
    aws: None, dynamodb_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "prism.lease")
    with TestClient(create_app(dynamodb_settings)) as client:
        assert client.post("/api/sync").json()["status"] == "ok"
        status = client.get("/api/stats").json()["dynamodb"]
        assert status["role"] == "writer"
        assert status["lease_holder"] == status["process_id"]
        assert status["lease_token"] == 1
        assert status["lease_expires_at"].endswith("Z")
        metrics = client.get("/metrics").text
        assert "prism_dynamodb_writer 1.0" in metrics
        assert f'prism_dynamodb_lease_holder{{holder="{status["process_id"]}",self="{status["process_id"]}"}} 1.0' in (
            metrics
        )
        assert "prism_dynamodb_lease_token 1.0" in metrics
    assert any("is now the DynamoDB writer" in record.message for record in caplog.records)
    assert any("handed the DynamoDB writer's lease" in record.message for record in caplog.records)


def test_a_reader_writes_nothing_by_itself_but_a_manual_sync_writes_and_asks_for_a_check(
    aws: None, dynamodb_settings: Settings, ddb: DynamoDBClient
) -> None:
    holder_mirror = DynamoMirror(ddb, prefix=PREFIX, create_tables=True)
    holder = lease_of(holder_mirror, "elsewhere", Clock())
    holder.step()
    assert holder.take_check_request()  # it has just taken the lease
    with TestClient(create_app(dynamodb_settings)) as client:
        status = client.get("/api/stats").json()["dynamodb"]
        assert status["role"] == "reader"
        assert status["lease_holder"] == "elsewhere"
        assert "prism_dynamodb_writer 0.0" in client.get("/metrics").text
        assert ddb.list_tables()["TableNames"] == [TABLE]  # a reader does not even create the tables
        body = client.post("/api/sync").json()
        assert body["status"] == "ok"
        assert body["tables"]["clients"]["written"] == 20
    assert stored_lease(ddb)["checks"] == {"N": "1"}
    holder.step()
    assert holder.take_check_request()  # asked by the reader's manual sync
    holder.step()
    assert not holder.take_check_request()
    assert stored_lease(ddb)["holder"] == {"S": "elsewhere"}  # the reader's shutdown left the lease alone
