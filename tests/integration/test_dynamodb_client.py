"""The DynamoDB mirror against moto's in-process DynamoDB, with faults injected into the real client."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

import data_generator as dg
import dynamodb_client
import dynamodb_writes
from dynamodb_client import METRICS, DynamoDBClient, DynamoMirror, make_client, number_text
from tests.support import make_settings
from tests.support.dynamodb import (
    PREFIX,
    TABLES,
    as_api_json,
    assert_tables_equal,
    snapshot_of,
    table_items,
)
from tests.support.faults import Faults, changed_count
from tests.support.oracles import expected_kpis

# --- the client -------------------------------------------------------------------------------


def test_client_has_short_timeouts_standard_retries_and_the_configured_region(aws: None) -> None:
    client = make_client(make_settings(aws_region="eu-west-1"))
    config = client.meta.config
    assert config.retries["mode"] in {"standard", "adaptive"}
    assert config.connect_timeout <= 3
    assert config.read_timeout <= 10
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.endpoint_url == "https://dynamodb.eu-west-1.amazonaws.com"


def test_client_takes_the_endpoint_from_boto3s_own_environment_variable(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8001")
    assert make_client(make_settings()).meta.endpoint_url == "http://127.0.0.1:8001"


def test_numbers_keep_the_text_the_api_json_shows() -> None:
    # The shortest text that reads back as the same float, as JSON.parse and the API's answers print it.
    expected = {
        0.1: "0.1",
        12.34: "12.34",
        180000.0: "180000.0",
        1234567.89: "1234567.89",
        99.99: "99.99",
        1e-7: "1e-7",
        2.5e16: "2.5e+16",
        0.30000000000000004: "0.30000000000000004",
    }
    for value, text in expected.items():
        assert number_text(value) == text
        assert Decimal(text) == Decimal(repr(value))
    with pytest.raises(ValueError, match="cannot store"):
        number_text(math.inf)


def test_nested_values_become_dynamodb_attributes() -> None:
    item = {"id": "x", "ok": True, "n": 3, "f": 0.5, "none": None, "rows": [{"month": "2025-01", "amount": 1.25}]}
    attributes = dynamodb_client.to_item(item)
    assert attributes["rows"] == {"L": [{"M": {"month": {"S": "2025-01"}, "amount": {"N": "1.25"}}}]}
    assert attributes["ok"] == {"BOOL": True}
    assert attributes["none"] == {"NULL": True}
    assert dynamodb_client.from_item(attributes) == as_api_json(item)


# --- syncing ----------------------------------------------------------------------------------


def test_first_sync_creates_the_tables_and_writes_every_item(
    mirror: DynamoMirror, reader: DynamoDBClient, faults: Faults
) -> None:
    snapshot = snapshot_of()
    mirror.record_metrics(snapshot)
    outcome = mirror.sync(snapshot)
    assert outcome.ok, outcome.error
    assert outcome.written == snapshot.counts | {METRICS: 10}
    assert outcome.pending == 0
    assert sorted(reader.list_tables()["TableNames"]) == sorted(TABLES)
    clients = reader.describe_table(TableName="prism-clients")["Table"]
    assert clients["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert clients["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    metrics = reader.describe_table(TableName="prism-metrics")["Table"]
    assert {(key["AttributeName"], key["KeyType"]) for key in metrics["KeySchema"]} == {
        ("metricType", "HASH"),
        ("timestamp", "RANGE"),
    }
    ttl = reader.describe_time_to_live(TableName="prism-metrics")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
    assert_tables_equal(reader, snapshot)
    total = sum(snapshot.counts.values()) + 10
    assert faults.items_sent == total
    assert faults.calls["BatchWriteItem"] == math.ceil(total / 25)


@pytest.mark.slow
def test_next_sync_writes_only_the_changed_items(
    mirror: DynamoMirror, reader: DynamoDBClient, faults: Faults, snapshot: dg.Snapshot
) -> None:
    for _ in range(3):
        snapshot = dg.advance(snapshot)
        faults.calls.clear()
        faults.items_sent = 0
        outcome = mirror.sync(snapshot)
        assert outcome.ok, outcome.error
        changed = changed_count(snapshot)
        assert 0 < changed < sum(snapshot.counts.values()) / 3
        assert faults.items_sent == changed
        assert sum(outcome.written.values()) == changed
        assert faults.calls["BatchWriteItem"] == math.ceil(changed / 25)
        assert_tables_equal(reader, snapshot)


def test_sync_with_nothing_changed_sends_no_write(mirror: DynamoMirror, faults: Faults, snapshot: dg.Snapshot) -> None:
    faults.calls.clear()
    outcome = mirror.sync(snapshot)
    assert outcome.ok
    assert faults.calls["BatchWriteItem"] == 0
    assert outcome.written == {}


def test_a_checking_sync_reaches_dynamodb_even_with_nothing_pending(
    mirror: DynamoMirror, faults: Faults, snapshot: dg.Snapshot
) -> None:
    faults.calls.clear()
    assert mirror.sync(snapshot, check=True).ok
    assert faults.calls["DescribeTable"] == len(TABLES)
    assert faults.calls["BatchWriteItem"] == 0


def test_regenerate_leaves_no_stale_item(mirror: DynamoMirror, reader: DynamoDBClient) -> None:
    assert mirror.sync(snapshot_of(seed=1)).ok
    fresh = snapshot_of(tick=5, seed=2)
    outcome = mirror.sync(fresh)
    assert outcome.ok
    assert_tables_equal(reader, fresh)


def test_smaller_count_deletes_the_extra_items(mirror: DynamoMirror, reader: DynamoDBClient) -> None:
    bigger = snapshot_of(scale=2)
    assert mirror.sync(bigger).ok
    smaller = snapshot_of()
    outcome = mirror.sync(smaller)
    assert outcome.ok
    assert outcome.deleted == gone(bigger, smaller)
    assert_tables_equal(reader, smaller)


def gone(older: dg.Snapshot, newer: dg.Snapshot) -> dict[str, int]:
    """Per entity, how many ids of the older snapshot the newer one no longer holds."""
    return {kind: len(set(older.by_id(kind)) - set(newer.by_id(kind))) for kind in dg.ENTITY_KINDS}


@pytest.mark.slow
def test_a_restarted_mirror_learns_the_tables_and_writes_nothing_twice(
    mirror: DynamoMirror, ddb: DynamoDBClient, reader: DynamoDBClient, faults: Faults
) -> None:
    bigger = snapshot_of(scale=2)
    assert mirror.sync(bigger).ok
    restarted = DynamoMirror(ddb, prefix=PREFIX, create_tables=True)
    smaller = snapshot_of(scale=1)
    outcome = restarted.sync(smaller)
    assert outcome.ok
    # Items equal to what the table holds are not written again; the extra half is deleted.
    differing = {
        kind: sum(item != bigger.by_id(kind).get(item["id"]) for item in smaller.items[kind])
        for kind in dg.ENTITY_KINDS
    }
    assert sum(differing.values()) < sum(smaller.counts.values()) / 2
    assert outcome.written == {kind: count for kind, count in differing.items() if count}
    assert outcome.deleted == gone(bigger, smaller)
    assert_tables_equal(reader, smaller)


def test_a_table_recreated_behind_the_mirrors_back_is_refilled(
    mirror: DynamoMirror, reader: DynamoDBClient, snapshot: dg.Snapshot
) -> None:
    reader.delete_table(TableName="prism-vendors")
    outcome = mirror.sync(snapshot, check=True)
    assert outcome.ok, outcome.error
    assert outcome.written == {"vendors": snapshot.counts["vendors"]}
    assert_tables_equal(reader, snapshot)


@pytest.mark.slow
def test_a_deep_sync_rewrites_items_changed_or_deleted_behind_the_mirrors_back(
    mirror: DynamoMirror, reader: DynamoDBClient, snapshot: dg.Snapshot
) -> None:
    reader.delete_item(TableName="prism-clients", Key={"id": {"S": "client-3"}})
    reader.update_item(
        TableName="prism-leads",
        Key={"id": {"S": "lead-1"}},
        UpdateExpression="SET companyName = :name",
        ExpressionAttributeValues={":name": {"S": "tampered with"}},
    )
    reader.put_item(TableName="prism-vendors", Item={"id": {"S": "vendor-999"}, "name": {"S": "stray"}})
    assert mirror.sync(snapshot, check=True).written == {}  # the tables themselves are the same ones
    outcome = mirror.sync(snapshot, deep=True)
    assert outcome.ok, outcome.error
    assert outcome.written == {"clients": 1, "leads": 1}
    assert outcome.deleted == {"vendors": 1}
    assert_tables_equal(reader, snapshot)


def test_missing_tables_without_create_tables_is_a_clear_error(ddb: DynamoDBClient) -> None:
    mirror = DynamoMirror(ddb, prefix=PREFIX, create_tables=False)
    outcome = mirror.sync(snapshot_of())
    assert not outcome.ok
    assert outcome.error is not None
    assert "prism-clients" in outcome.error
    assert "DYNAMODB_CREATE_TABLES is false" in outcome.error
    assert outcome.pending == sum(snapshot_of().counts.values())


def test_each_tick_appends_one_point_per_kpi(mirror: DynamoMirror, reader: DynamoDBClient) -> None:
    first = snapshot_of()
    second = dg.advance(first)
    for snapshot in (first, second, second):  # the same tick twice is recorded once
        mirror.record_metrics(snapshot)
    assert mirror.sync(second).ok
    points = table_items(reader, "prism-metrics")
    assert len(points) == 20
    for snapshot in (first, second):
        timestamp = Decimal(int(snapshot.time.timestamp()))
        kpis = expected_kpis(snapshot.items)
        at_tick = {point["metricType"]: point for point in points if point["timestamp"] == timestamp}
        assert set(at_tick) == set(kpis)
        for name, value in kpis.items():
            assert at_tick[name]["value"] == Decimal(repr(value))
            assert at_tick[name]["ttl"] == timestamp + 7 * 24 * 3600


# --- faults -----------------------------------------------------------------------------------


def test_unprocessed_items_are_retried_with_backoff_and_land(
    mirror: DynamoMirror, reader: DynamoDBClient, faults: Faults, delays: list[float]
) -> None:
    faults.unprocessed_calls = 3
    snapshot = snapshot_of()
    outcome = mirror.sync(snapshot)
    assert outcome.ok, outcome.error
    assert outcome.retries >= 1
    assert outcome.written == snapshot.counts
    assert_tables_equal(reader, snapshot)
    assert delays
    assert all(0 <= delay <= dynamodb_writes.UNPROCESSED_MAX_DELAY for delay in delays)


def test_backoff_grows_exponentially_up_to_a_cap(ddb: DynamoDBClient) -> None:
    mirror = DynamoMirror(ddb, prefix=PREFIX, create_tables=True, jitter=lambda: 1.0)
    bounds = [mirror._writer.backoff(attempt) for attempt in range(1, 10)]
    assert bounds[:3] == [0.1, 0.2, 0.4]
    assert bounds == sorted(bounds)
    assert bounds[-1] == dynamodb_writes.UNPROCESSED_MAX_DELAY


def test_items_left_unprocessed_past_the_bound_stay_pending(
    mirror: DynamoMirror, reader: DynamoDBClient, faults: Faults, delays: list[float], snapshot: dg.Snapshot
) -> None:
    following = dg.advance(snapshot)
    faults.unprocessed_forever = True
    outcome = mirror.sync(following)
    assert not outcome.ok
    assert outcome.error is not None
    assert "unprocessed" in outcome.error
    assert outcome.pending == changed_count(following) < 25
    assert len(delays) == dynamodb_writes.UNPROCESSED_ATTEMPTS - 1
    faults.unprocessed_forever = False
    faults.items_sent = 0
    healed = mirror.sync(following)
    assert healed.ok
    assert faults.items_sent == changed_count(following)  # only what waited
    assert_tables_equal(reader, following)


@pytest.mark.slow
def test_throttled_requests_are_retried(mirror: DynamoMirror, reader: DynamoDBClient, faults: Faults) -> None:
    faults.throttles = 1
    snapshot = snapshot_of()
    outcome = mirror.sync(snapshot)
    assert outcome.ok, outcome.error
    assert outcome.retries >= 1
    assert_tables_equal(reader, snapshot)


@pytest.mark.slow
def test_persistent_throttling_fails_the_sync_and_keeps_items_pending(
    mirror: DynamoMirror, reader: DynamoDBClient, faults: Faults, snapshot: dg.Snapshot
) -> None:
    following = dg.advance(snapshot)
    faults.throttles = 1_000
    outcome = mirror.sync(following)
    assert not outcome.ok
    assert outcome.error is not None
    assert "ProvisionedThroughputExceededException" in outcome.error
    assert outcome.pending == changed_count(following)
    faults.throttles = 0
    assert mirror.sync(following).ok
    assert_tables_equal(reader, following)


@pytest.mark.slow
def test_endpoint_down_fails_fast_then_everything_lands(
    mirror: DynamoMirror, reader: DynamoDBClient, faults: Faults, snapshot: dg.Snapshot
) -> None:
    faults.down = True
    later = snapshot
    for _ in range(3):
        later = dg.advance(later)
        mirror.record_metrics(later)
        calls, attempts = sum(faults.calls.values()), faults.attempts
        outcome = mirror.sync(later)
        # Fails fast: the first call is sent and retried three times (botocore's max_attempts counts retries),
        # then the sync gives up on it rather than trying the other calls.
        assert (sum(faults.calls.values()) - calls, faults.attempts - attempts) == (1, 4)
        assert not outcome.ok
        assert outcome.error is not None
        assert "Could not connect to the endpoint URL" in outcome.error
    waiting = {
        (kind, item["id"])
        for kind in dg.ENTITY_KINDS
        for item, before in zip(later.items[kind], snapshot.items[kind], strict=True)
        if item != before
    }
    assert outcome.pending == len(waiting) > 0
    assert mirror.consecutive_failures == 3
    assert mirror.metrics_pending == 30
    faults.down = False
    faults.items_sent = 0
    healed = mirror.sync(later)
    assert healed.ok, healed.error
    assert faults.items_sent == len(waiting) + 30  # what waited, and nothing else
    assert mirror.consecutive_failures == 0
    assert_tables_equal(reader, later)
    assert len(table_items(reader, "prism-metrics")) == 30
