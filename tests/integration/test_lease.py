"""The writer's lease against moto's in-process DynamoDB, on clocks the tests move by hand."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from fastapi.testclient import TestClient

import data_generator as dg
from config import Settings
from dynamodb_client import METRICS, DynamoDBClient, DynamoMirror, make_client
from dynamodb_writes import TRANSACTION_SIZE
from lease import LEASE_KEY, LeaseLost, WriterLease
from main import create_app
from prism.services import services_of
from rules import KPI_NAMES
from tests.support import make_settings
from tests.support.dynamodb import assert_tables_equal, snapshot_of, table_items

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


# --- fenced writes ----------------------------------------------------------------------------


def writer_of(owner: str, clock: Clock, *, delays: list[float] | None = None) -> tuple[DynamoMirror, WriterLease]:
    """A process of its own: a client, a mirror and a lease (the same tables as every other)."""
    client = boto3.client("dynamodb", region_name="us-east-2")
    sleep = delays.append if delays is not None else None
    mirror = DynamoMirror(client, prefix=PREFIX, create_tables=True, sleep=sleep)
    return mirror, lease_of(mirror, owner, clock)


def sent(client: DynamoDBClient) -> Counter[str]:
    """Counts the operations a client sends from now on."""
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    client.meta.events.register("before-parameter-build.dynamodb", count)
    return calls


def on_first(client: DynamoDBClient, operation: str, action: Callable[[], object]) -> None:
    """Run `action` once, when the first `operation` request is about to leave (its lease check passed)."""
    done: list[bool] = []

    def hook(**_: Any) -> None:
        if not done:
            done.append(True)
            action()

    client.meta.events.register(f"before-send.dynamodb.{operation}", hook)


def entity_tables(ddb: DynamoDBClient) -> dict[str, list[dict[str, Any]]]:
    """Everything the mirror writes: entity items and KPI points (not the lease, which moves on its own)."""
    tables: dict[str, list[dict[str, Any]]] = {kind: table_items(ddb, f"{PREFIX}{kind}") for kind in dg.ENTITY_KINDS}
    tables[METRICS] = [point for point in table_items(ddb, TABLE) if point["timestamp"] != 0]
    return tables


def test_transactions_follow_botocores_limit() -> None:
    model = boto3.client("dynamodb", region_name="us-east-2").meta.service_model
    shape = model.operation_model("TransactWriteItems").input_shape.members["TransactItems"]
    assert shape.metadata["max"] == TRANSACTION_SIZE


def test_fenced_writes_are_transactions_led_by_the_lease_check(aws: None, ddb: DynamoDBClient) -> None:
    mirror, lease = writer_of("a", Clock())
    calls = sent(mirror.client)
    transactions: list[list[dict[str, Any]]] = []
    mirror.client.meta.events.register(
        "provide-client-params.dynamodb.TransactWriteItems",
        lambda params, **_: transactions.append(params["TransactItems"]),
    )
    lease.step()
    snapshot = snapshot_of()
    mirror.record_metrics(snapshot)
    outcome = mirror.sync(snapshot, gate=lease.guard, fence=lease)
    assert outcome.ok, outcome.error
    assert calls["BatchWriteItem"] == 0
    total = sum(snapshot.counts.values()) + len(KPI_NAMES)
    assert calls["TransactWriteItems"] == len(transactions) == -(-total // (TRANSACTION_SIZE - 1))
    for actions in transactions:
        assert len(actions) <= TRANSACTION_SIZE
        check = actions[0]["ConditionCheck"]
        assert check["Key"] == LEASE_KEY
        assert check["ExpressionAttributeValues"] == {":me": {"S": "a"}, ":token": {"N": "1"}}
        assert not any("ConditionCheck" in action for action in actions[1:])
    assert sum(len(actions) - 1 for actions in transactions) == total
    assert_tables_equal(ddb, snapshot)


def test_a_write_in_flight_when_the_lease_moves_is_refused_whole_and_the_successor_writes_it(
    aws: None, ddb: DynamoDBClient, caplog: pytest.LogCaptureFixture
) -> None:
    clock_a, clock_b = Clock(), Clock()
    mirror_a, a = writer_of("a", clock_a)
    mirror_b, b = writer_of("b", clock_b)
    a.step()
    first = snapshot_of()
    mirror_a.record_metrics(first)
    assert mirror_a.sync(first, gate=a.guard, fence=a).ok
    b.step()
    before = entity_tables(ddb)
    following = dg.advance(first)

    def paused_past_the_lease() -> None:
        # a's request passed its last check and is on its way; a stops here while b sees the lease unrenewed
        # for a whole lease on its own clock and takes it. a's clock is stopped too, as a paused process's is.
        clock_b.now += DURATION
        b.step()
        assert b.role == "writer"

    on_first(mirror_a.client, "TransactWriteItems", paused_past_the_lease)
    caplog.set_level(logging.INFO, "prism.lease")
    mirror_a.record_metrics(following)
    late = mirror_a.sync(following, gate=a.guard, fence=a)
    assert not late.ok
    assert late.lease_lost
    assert "another process took the writer's lease" in (late.error or "")
    assert late.written == {}
    assert late.deleted == {}
    assert entity_tables(ddb) == before  # nothing of the refused transaction was written
    assert a.role == "reader"
    assert mirror_a.consecutive_failures == 0  # losing the lease is no outage of DynamoDB
    assert mirror_a.syncs_failed == 0
    assert mirror_a.last_failure is late  # /api/stats says why the sync stopped
    assert mirror_a.items_pending == late.pending > 0
    stepped_down = [r.getMessage() for r in caplog.records if "(a) is now a DynamoDB reader" in r.getMessage()]
    assert len(stepped_down) == 1
    with pytest.raises(LeaseLost, match="does not hold the writer's lease"):
        a.condition_check()
    # The new holder's first sync reads the tables back and writes what the refused one would have.
    assert b.take_check_request()
    mirror_b.record_metrics(following)
    healed = mirror_b.sync(following, check=True, deep=True, gate=b.guard, fence=b)
    assert healed.ok, healed.error
    assert_tables_equal(ddb, following)
    points = {(point["metricType"], point["timestamp"]) for point in entity_tables(ddb)[METRICS]}
    assert len(points) == 2 * len(KPI_NAMES)  # both ticks' KPI points, the refused tick's written by b


def test_a_writer_refused_on_an_old_token_keeps_a_lease_it_took_again(aws: None) -> None:
    clock = Clock()
    _, lease = writer_of("a", clock)
    lease.step()
    stale = lease.condition_check()
    lease.release()
    lease.step()  # taken again, under token 2
    lease.refused(stale)  # a late refusal of a transaction sent under token 1
    assert lease.role == "writer"
    assert lease.token == 2


def cancelled(*codes: str) -> AWSResponse:
    """DynamoDB's answer to a transaction it cancelled, one reason per action."""
    body = {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{','.join(codes)}]",
        "CancellationReasons": [{"Code": code} for code in codes],
    }
    return AWSResponse(
        "https://dynamodb.invalid/", 400, {"Content-Type": "application/x-amz-json-1.0"}, RawBody(json.dumps(body))
    )


class RawBody:
    """A response body botocore can read."""

    def __init__(self, text: str) -> None:
        self._data = text.encode()

    def stream(self, **_: Any) -> Any:
        yield self._data

    def read(self, *_: Any) -> bytes:
        return self._data


def cancel_transactions(client: DynamoDBClient, answers: list[AWSResponse]) -> None:
    """The next transactions are answered with these cancellations, without reaching DynamoDB."""

    def answer(**_: Any) -> AWSResponse | None:
        return answers.pop(0) if answers else None

    client.meta.events.register_first("before-send.dynamodb.TransactWriteItems", answer)


def test_a_transaction_cancelled_by_contention_is_sent_again_and_lands(aws: None, ddb: DynamoDBClient) -> None:
    delays: list[float] = []
    mirror, lease = writer_of("a", Clock(), delays=delays)
    lease.step()
    snapshot = snapshot_of(scale=0.5)
    cancel_transactions(
        mirror.client, [cancelled("None", "TransactionConflict"), cancelled("None", "None", "ThrottlingError")]
    )
    outcome = mirror.sync(snapshot, gate=lease.guard, fence=lease)
    assert outcome.ok, outcome.error
    assert outcome.retries >= 2
    assert len(delays) == 2
    assert lease.role == "writer"
    assert_tables_equal(ddb, snapshot)


def test_a_transaction_cancelled_for_good_fails_the_sync_and_a_later_one_writes_it(
    aws: None, ddb: DynamoDBClient
) -> None:
    mirror, lease = writer_of("a", Clock(), delays=[])
    lease.step()
    snapshot = snapshot_of(scale=0.5)
    cancel_transactions(mirror.client, [cancelled("None", "ValidationError")])
    outcome = mirror.sync(snapshot, gate=lease.guard, fence=lease)
    assert not outcome.ok
    assert not outcome.lease_lost
    assert "cancelled a transaction" in (outcome.error or "")
    assert "ValidationError" in (outcome.error or "")
    assert mirror.consecutive_failures == 1  # a failure of DynamoDB, counted as one
    assert lease.role == "writer"
    assert outcome.pending == sum(snapshot.counts.values())
    healed = mirror.sync(snapshot, gate=lease.guard, fence=lease)
    assert healed.ok, healed.error
    assert_tables_equal(ddb, snapshot)


def test_unfenced_writes_are_batches_and_a_late_one_still_lands(aws: None, ddb: DynamoDBClient) -> None:
    clock_a, clock_b = Clock(), Clock()
    mirror_a, a = writer_of("a", clock_a)
    _, b = writer_of("b", clock_b)
    calls = sent(mirror_a.client)
    a.step()
    b.step()

    def paused_past_the_lease() -> None:
        clock_b.now += DURATION
        b.step()

    on_first(mirror_a.client, "BatchWriteItem", paused_past_the_lease)
    snapshot = snapshot_of()
    outcome = mirror_a.sync(snapshot, gate=a.guard)
    # Why fenced writes are the default: a batch carries no condition, so what passed its check lands although b
    # holds the lease by then (a's own clock, stopped with it, cannot tell).
    assert calls["TransactWriteItems"] == 0
    assert calls["BatchWriteItem"] >= 1
    assert stored_lease(ddb)["holder"] == {"S": "b"}
    assert outcome.ok
    assert_tables_equal(ddb, snapshot)


@pytest.mark.parametrize(("fenced", "operation"), [(True, "TransactWriteItems"), (False, "BatchWriteItem")])
def test_the_service_writes_in_the_mode_its_setting_asks_for(
    aws: None, tmp_path: Any, ddb: DynamoDBClient, fenced: bool, operation: str
) -> None:
    settings = make_settings(
        dynamodb_enabled="true",
        dynamodb_fenced_writes=fenced,
        update_interval_seconds=3600,
        reports_dir=tmp_path / "reports",
    )
    calls: Counter[str] = Counter()

    def factory(given: Settings) -> DynamoDBClient:
        client = make_client(given)
        client.meta.events.register("before-parameter-build.dynamodb", lambda model, **_: calls.update([model.name]))
        return client

    app = create_app(settings, dynamodb_factory=factory)
    with TestClient(app) as client:
        assert client.post("/api/sync").json()["status"] == "ok"
        assert_tables_equal(ddb, services_of(app).simulator.snapshot)
    other = "BatchWriteItem" if fenced else "TransactWriteItems"
    assert calls[operation] >= 1
    assert calls[other] == 0
