"""The DynamoDB mirror against moto's in-process DynamoDB, with faults injected into the real client."""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import boto3
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import data_generator as dg
import dynamodb_client
import dynamodb_sync
import dynamodb_writes
from config import Settings
from dynamodb_client import METRICS, DynamoDBClient, DynamoMirror, make_client, number_text
from main import create_app
from prism.services import services_of
from simulator import Simulator
from tests.support import make_settings
from tests.support.dynamodb import PREFIX, as_api_json, assert_tables_equal, snapshot_of, table_items
from tests.support.oracles import expected_kpis
from tests.support.servers import free_port

REGION = "us-east-2"
TABLES = [f"{PREFIX}{kind}" for kind in (*dg.ENTITY_KINDS, METRICS)]
# The requests that write items: batches unfenced, transactions behind the writer's lease when fenced.
ITEM_WRITES = ("BatchWriteItem", "TransactWriteItems")


# --- helpers ----------------------------------------------------------------------------------


def changed_count(snapshot: dg.Snapshot) -> int:
    assert snapshot.changed is not None
    return sum(len(ids) for ids in snapshot.changed.values())


class Faults:
    """Faults injected into a real boto3 client through botocore's event hooks, and what the client sent."""

    def __init__(self, fake_dynamodb: str | None = None) -> None:
        self.fake_dynamodb = fake_dynamodb
        self.down = False
        self.throttles = 0
        self.unprocessed_forever = False
        self.denied: set[str] = set()  # operations answered AccessDeniedException, as IAM would
        self.unprocessed_calls = 0
        self.unprocessed_per_call = 5
        self.delay = 0.0
        # While `gate` is an unset Event, every item write waits inside DynamoDB until the test sets it.
        self.gate: threading.Event | None = None
        self.holding = threading.Event()
        self.held = 0
        self.calls: Counter[str] = Counter()
        self.items_sent = 0
        self.attempts = 0
        self.active = 0
        self.max_active = 0
        self._held_back: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def attach(self, client: DynamoDBClient) -> DynamoDBClient:
        events = client.meta.events
        events.register("before-parameter-build.dynamodb", self._count)
        events.register("after-call.dynamodb.BatchWriteItem", self._report_unprocessed)
        events.register_first("before-send.dynamodb", self._send)
        return client

    def _count(self, params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        self.calls[model.name] += 1
        if model.name == "TransactWriteItems":
            self.items_sent += sum("ConditionCheck" not in action for action in params["TransactItems"])
        if model.name != "BatchWriteItem":
            return
        requests = params["RequestItems"]
        self.items_sent += sum(len(entries) for entries in requests.values())
        if self.unprocessed_calls > 0:
            self.unprocessed_calls -= 1
            self._hold_back(requests)

    def _hold_back(self, requests: dict[str, list[dict[str, Any]]]) -> None:
        """Keep some requests from reaching DynamoDB; after the call they are reported unprocessed."""
        for _ in range(self.unprocessed_per_call):
            table = max(requests, key=lambda name: len(requests[name]))
            if sum(len(entries) for entries in requests.values()) <= 1:
                return
            self._held_back.append((table, requests[table].pop()))
            if not requests[table]:
                del requests[table]

    def _report_unprocessed(self, parsed: dict[str, Any], **kwargs: Any) -> None:
        unprocessed = parsed.setdefault("UnprocessedItems", {})
        for table, request in self._held_back:
            unprocessed.setdefault(table, []).append(request)
        self._held_back.clear()

    def _send(self, request: Any, **kwargs: Any) -> None:
        self.attempts += 1
        if kwargs["event_name"].rsplit(".", 1)[-1] in self.denied:
            assert self.fake_dynamodb is not None
            request.url = f"{self.fake_dynamodb}/denied"
            return
        if self.down:
            request.url = "http://127.0.0.1:9/"  # nothing listens there: a real connection failure
            return
        operation = kwargs["event_name"].rsplit(".", 1)[-1]
        unprocessed = self.unprocessed_forever and operation == "BatchWriteItem"  # transactions have no such answer
        if operation in ITEM_WRITES and (self.throttles > 0 or unprocessed):
            assert self.fake_dynamodb is not None
            if self.throttles > 0:
                self.throttles -= 1
                request.url = f"{self.fake_dynamodb}/throttle"
            else:
                request.url = f"{self.fake_dynamodb}/unprocessed"
            return
        gate = self.gate
        if (self.delay or gate is not None) and operation in ITEM_WRITES:
            with self._lock:
                self.active += 1
                self.max_active = max(self.max_active, self.active)
                self.held += gate is not None
            if gate is not None:
                self.holding.set()
                gate.wait(30)  # bounded, so that a failing test cannot hang the run
            else:
                time.sleep(self.delay)
            with self._lock:
                self.active -= 1


class _FakeDynamoDB(BaseHTTPRequestHandler):
    """Answers BatchWriteItem over HTTP as a struggling DynamoDB: throttled, or every item unprocessed."""

    def do_POST(self) -> None:
        sent = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        if self.path == "/unprocessed":
            status, answer = 200, {"UnprocessedItems": sent["RequestItems"]}
        elif self.path == "/denied":
            status, answer = (
                400,
                {
                    "__type": "com.amazon.coral.service#AccessDeniedException",
                    "message": "User: arn:aws:iam::123456789012:user/prism is not authorized to perform this action",
                },
            )
        else:
            status, answer = (
                400,
                {
                    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                    "message": "The level of configured provisioned throughput for the table was exceeded.",
                },
            )
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def dynamodb_settings(tmp_path: Any) -> Settings:
    """Settings with DynamoDB sync on and no ticks during a test."""
    return make_settings(dynamodb_enabled="true", update_interval_seconds=3600, reports_dir=tmp_path / "reports")


@pytest.fixture
def fake_dynamodb() -> Iterator[str]:
    """A local HTTP server answering like a struggling DynamoDB; faults send requests there."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeDynamoDB)
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
    assert outcome.written == {**snapshot.counts, METRICS: 10}
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


# --- in the service ---------------------------------------------------------------------------


def service(settings: Settings, faults: Faults) -> TestClient:
    """The app with its mirror's client built by the real factory, plus fault hooks."""
    return TestClient(create_app(settings, dynamodb_factory=lambda given: faults.attach(make_client(given))))


def started_simulator(app: FastAPI) -> Simulator:
    """The simulator the lifespan ran, as it stopped (asking the app for one would catch it up to now)."""
    simulator = services_of(app).started
    assert simulator is not None
    return simulator


def wait_for(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not met in {timeout} s: {inspect.getsource(predicate).strip()}"
        time.sleep(0.02)


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
