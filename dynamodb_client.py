"""The DynamoDB mirror: keeps one table per entity equal to the served snapshot and appends the KPIs over time.

`DynamoMirror` does the work, one sync at a time, in a worker thread: it remembers what the last successful
write of every item was, so a sync sends only what changed and what could not be written stays pending.
Its lifetime on the event loop, and which process writes, are `dynamodb_sync.py`'s; how the writes travel
(batches, or transactions fenced by the writer's lease) is `dynamodb_writes.py`'s.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

import data_generator as dg
from config import Settings, now_utc
from dynamodb_writes import METRICS as METRICS
from dynamodb_writes import ItemWriter, MirrorError, TableKind, Write
from kpis import compute_kpis
from lease import LeaseLost, WriterLease
from rules import EntityKind

logger = logging.getLogger("prism.dynamodb")

# A boto3 low-level DynamoDB client (boto3 ships no type stubs).
DynamoDBClient = Any
ClientFactory = Callable[[Settings], DynamoDBClient]
Attribute = dict[str, Any]

# A dead endpoint must fail a sync in seconds: short timeouts, few attempts (DynamoDB's own backoff is 25 ms).
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 3
# Tables are checked (exist, same table as before) on the first sync, after a failure, on every manual
# sync and at least this often; a table that was re-created is scanned and refilled.
CHECK_EVERY_SECONDS = 300.0
TABLE_WAIT = {"Delay": 1, "MaxAttempts": 120}
METRIC_TTL = timedelta(days=7)
# KPI points waiting for DynamoDB are kept up to this many; beyond it the oldest are dropped and counted.
MAX_PENDING_METRICS = 50_000
_IAM_HINT = (
    "the role needs dynamodb:DescribeTable, CreateTable, UpdateTimeToLive, Scan, GetItem, PutItem, UpdateItem, "
    "DeleteItem, ConditionCheckItem and BatchWriteItem"
)


def disabled_reason(settings: Settings) -> str | None:
    """Why DynamoDB sync is off for these settings, or None when it is on."""
    if settings.dynamodb_active:
        return None
    if settings.dynamodb_enabled == "false":
        return "DYNAMODB_ENABLED is false"
    return (
        "DYNAMODB_ENABLED is auto and the environment configures neither AWS credentials nor AWS_ENDPOINT_URL_DYNAMODB"
    )


def make_client(settings: Settings) -> DynamoDBClient:
    """A DynamoDB client from boto3's normal configuration, with short timeouts and standard retries."""
    # Imported here: a process that never syncs does not pay for boto3's import.
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        max_pool_connections=2,
        # Items are built by `to_attribute` and DynamoDB validates them again; botocore's client-side check of
        # every nested attribute was half the CPU of a large sync.
        parameter_validation=False,
    )
    # Credentials come from boto3's default chain. Unset, the endpoint is boto3's own resolution (which reads
    # AWS_ENDPOINT_URL_DYNAMODB itself); a value from `.env` is passed on because boto3 does not read that file.
    return boto3.session.Session().client(
        "dynamodb", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url_dynamodb, config=config
    )


# --- items as DynamoDB attributes ------------------------------------------------------------


def number_text(value: float) -> str:
    """A float as the API's JSON shows it, which is the text of its Decimal in DynamoDB."""
    if not math.isfinite(value):
        raise ValueError(f"DynamoDB cannot store {value!r}")
    return orjson.dumps(value).decode()


def to_attribute(value: Any) -> Attribute:
    """A JSON value as a DynamoDB attribute value; numbers keep the text the API shows."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, float):
        return {"N": number_text(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(element) for element in value]}
    if isinstance(value, dict):
        return {"M": {key: to_attribute(element) for key, element in value.items()}}
    raise TypeError(f"no DynamoDB type for {type(value).__name__}")


def to_item(item: Mapping[str, Any]) -> dict[str, Attribute]:
    """An API object as a DynamoDB item."""
    return {key: to_attribute(value) for key, value in item.items()}


def from_attribute(attribute: Attribute) -> Any:
    """A DynamoDB attribute value as plain data, numbers as Decimal."""
    (kind, value), *_ = attribute.items()
    if kind == "N":
        return Decimal(value)
    if kind == "L":
        return [from_attribute(element) for element in value]
    if kind == "M":
        return {key: from_attribute(element) for key, element in value.items()}
    if kind == "NULL":
        return None
    return value


def from_item(item: Mapping[str, Attribute]) -> dict[str, Any]:
    """A DynamoDB item as plain data, numbers as Decimal."""
    return {key: from_attribute(value) for key, value in item.items()}


def fingerprint(item: Mapping[str, Any]) -> bytes:
    """A short digest of an item's JSON, to tell whether it changed since it was written."""
    return hashlib.blake2b(orjson.dumps(item), digest_size=16).digest()


def epoch_seconds(moment: datetime) -> str:
    """A moment as epoch seconds, the way the metrics table keys it (milliseconds only when it has them)."""
    seconds = round(moment.timestamp(), 3)
    return str(int(seconds)) if seconds.is_integer() else repr(seconds)


def describe_error(exc: BaseException) -> str:
    """One line saying why a DynamoDB call failed."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        hint = f" ({_IAM_HINT})" if code in {"AccessDeniedException", "UnrecognizedClientException"} else ""
        return f"{exc}{hint}"
    if isinstance(exc, NoCredentialsError):
        return f"{exc} (set AWS credentials, AWS_PROFILE or an instance role)"
    if isinstance(exc, BotoCoreError | MirrorError | LeaseLost):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


# --- the mirror (worker thread) ---------------------------------------------------------------


@dataclass
class SyncOutcome:
    """What one sync did."""

    tick: int
    started_at: datetime
    written: dict[TableKind, int] = field(default_factory=dict)
    deleted: dict[TableKind, int] = field(default_factory=dict)
    retries: int = 0
    duration_ms: float = 0.0
    pending: int = 0
    error: str | None = None
    # The sync stopped because this process is no longer the writer: not an outage of DynamoDB.
    lease_lost: bool = False

    @property
    def ok(self) -> bool:
        """Whether the sync finished and the tables equal its snapshot."""
        return self.error is None


class DynamoMirror:
    """Makes the entity tables equal to a snapshot and appends KPI points; one sync at a time."""

    def __init__(
        self,
        client: DynamoDBClient,
        *,
        prefix: str,
        create_tables: bool,
        sleep: Callable[[float], object] | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.create_tables = create_tables
        self.tables: dict[TableKind, str] = {kind: f"{prefix}{kind}" for kind in (*dg.ENTITY_KINDS, METRICS)}
        self._kind_of_table = {table: kind for kind, table in self.tables.items()}
        self._stop = threading.Event()
        self._writer = ItemWriter(
            client,
            self.tables,
            unprocessed_keys=self._keys,
            stop=self._stop,
            sleep=sleep or self._stop.wait,
            jitter=jitter,
        )
        self._sync_lock = threading.Lock()
        # Per entity: item id -> fingerprint of its last successful write (b"" when its content is unknown).
        self._written: dict[str, dict[str, bytes]] = {kind: {} for kind in dg.ENTITY_KINDS}
        self._seen: dict[str, dict[str, tuple[dg.Item, bytes]]] = {kind: {} for kind in dg.ENTITY_KINDS}
        self._table_ids: dict[str, str] = {}
        self._metrics_lock = threading.Lock()
        self._metrics: dict[str, dict[str, Attribute]] = {}
        self._last_metric_tick: tuple[int, int] | None = None
        self._checked_at: float | None = None
        # While a sync runs for the lease's holder: raises LeaseLost unless the lease still allows a write.
        self._gate: Callable[[], None] | None = None
        for operation in ("BatchWriteItem", "TransactWriteItems"):
            client.meta.events.register(f"before-send.dynamodb.{operation}", self._before_send)
        self.syncing = False
        self.items_pending = 0
        self.metrics_dropped = 0
        self.syncs = 0
        self.syncs_failed = 0
        self.items_written = 0
        self.items_deleted = 0
        self.consecutive_failures = 0
        self.last_outcome: SyncOutcome | None = None
        self.last_success: SyncOutcome | None = None
        self.last_failure: SyncOutcome | None = None
        self.last_failure_at = 0.0

    @property
    def metrics_pending(self) -> int:
        """KPI points recorded but not yet written."""
        return len(self._metrics)

    def stop(self) -> None:
        """Make a running sync give up at its next request or backoff (shutdown)."""
        self._stop.set()

    def record_metrics(self, snapshot: dg.Snapshot) -> None:
        """Queue the KPIs of a tick for the metrics table (once per tick; thread-safe)."""
        key = (snapshot.generation.seed, snapshot.tick)
        if key == self._last_metric_tick:
            return
        self._last_metric_tick = key
        timestamp = epoch_seconds(snapshot.time)
        ttl = str(int(snapshot.time.timestamp() + METRIC_TTL.total_seconds()))
        points = {
            f"{name}@{timestamp}": {
                "metricType": {"S": name},
                "timestamp": {"N": timestamp},
                "value": to_attribute(value),
                "ttl": {"N": ttl},
            }
            for name, value in compute_kpis(snapshot).items()
        }
        with self._metrics_lock:
            self._metrics.update(points)
            while len(self._metrics) > MAX_PENDING_METRICS:
                del self._metrics[next(iter(self._metrics))]
                self.metrics_dropped += 1

    def sync(
        self,
        snapshot: dg.Snapshot,
        *,
        check: bool = False,
        deep: bool = False,
        deadline: float | None = None,
        gate: Callable[[], None] | None = None,
        fence: WriterLease | None = None,
    ) -> SyncOutcome:
        """Make the tables equal to the snapshot; never raises, the outcome says what happened.

        `check` looks at the tables first (they exist and are the ones written before); `deep` also reads every
        item back, so that items changed or deleted behind the mirror's back are written again. `gate` is asked
        before the sync and right before every write request leaves; it raises to stop the sync there. With a
        `fence` the writes are transactions DynamoDB applies only while that lease is held (`dynamodb_writes.py`).
        """
        with self._sync_lock:
            self.syncing = True
            outcome = SyncOutcome(tick=snapshot.tick, started_at=now_utc())
            started = time.perf_counter()
            self._gate = gate
            try:
                writes = self._plan(snapshot)  # before any network call, so that the pending count is right
                if gate is not None:
                    gate()
                if check or deep or self._check_due():
                    self._check_tables(snapshot, deep=deep)
                    writes = self._plan(snapshot)
                self._writer.write(
                    writes,
                    landed=functools.partial(self._landed, outcome=outcome),
                    progress=outcome,
                    deadline=deadline,
                    fence=fence,
                )
            except Exception as exc:
                outcome.error = describe_error(exc)
                outcome.lease_lost = isinstance(exc, LeaseLost)
                if not isinstance(exc, BotoCoreError | ClientError | MirrorError | LeaseLost):
                    logger.exception("DynamoDB sync of tick %d failed", snapshot.tick)
            finally:
                self._gate = None
                outcome.duration_ms = (time.perf_counter() - started) * 1000
                outcome.pending = self.items_pending
                self._account(outcome)
                self.syncing = False
            return outcome

    def _before_send(self, **_: Any) -> None:
        gate = self._gate
        if gate is not None:
            gate()

    def keep_recent_metrics(self, since: float) -> None:
        """Forget queued KPI points older than `since` (epoch seconds): a reader keeps only what a successor needs."""
        with self._metrics_lock:
            for key in [key for key, point in self._metrics.items() if float(point["timestamp"]["N"]) < since]:
                del self._metrics[key]

    def ensure_metrics_table(self) -> None:
        """Create the metrics table when it is missing (the lease lives there); MirrorError when not allowed."""
        if self._describe(self.tables[METRICS]) is not None:
            return
        if not self.create_tables:
            raise MirrorError(
                f"DynamoDB table {self.tables[METRICS]} does not exist and DYNAMODB_CREATE_TABLES is false"
            )
        self._create(METRICS)
        self._await_created(METRICS)

    def _account(self, outcome: SyncOutcome) -> None:
        self.syncs += 1
        self.items_written += sum(count for kind, count in outcome.written.items() if kind != METRICS)
        self.items_deleted += sum(outcome.deleted.values())
        self.last_outcome = outcome
        if outcome.lease_lost:
            # This process stopped being the writer (the lease logs it): no outage, so neither counted nor backed
            # off from, though /api/stats says why the sync stopped. What it did not write waits for the holder's
            # next sync, which reads the tables back first; so does its own next sync as writer.
            self.last_failure = outcome
            self._checked_at = None
            return
        if outcome.ok:
            if self.consecutive_failures:
                logger.info("DynamoDB sync recovered after %d failed syncs", self.consecutive_failures)
            self.consecutive_failures = 0
            self.last_success = outcome
            return
        self.syncs_failed += 1
        self.consecutive_failures += 1
        self.last_failure = outcome
        self.last_failure_at = time.monotonic()
        self._checked_at = None  # after a failure, look at the tables again before trusting them
        log = logger.warning if self.consecutive_failures == 1 else logger.debug
        log("DynamoDB sync of tick %d failed: %s (%d items pending)", outcome.tick, outcome.error, outcome.pending)

    # --- the generation shared by every process --------------------------------------------

    def exchange_generation(self, local: dg.Generation) -> dg.Generation | None:
        """Compare our generation with the one kept in DynamoDB: write ours when it is newer, or return theirs."""
        try:
            found = self.client.get_item(TableName=self.tables[METRICS], Key=GENERATION_KEY, ConsistentRead=True).get(
                "Item"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None  # the first sync creates the table; the record follows on the next tick
            raise
        remote = generation_from_record(found, local) if found is not None else None
        if remote is not None and remote.revision >= local.revision:
            # Equal revisions and different worlds: two processes made theirs up at start-up; the record wins.
            return None if remote.same_world(local) else remote
        self.client.put_item(TableName=self.tables[METRICS], Item=generation_record(local))
        logger.info(
            "kept generation seed=%d (revision %d) in DynamoDB for the other processes", local.seed, local.revision
        )
        return None

    # --- tables ---------------------------------------------------------------------------

    def _check_due(self) -> bool:
        return self._checked_at is None or time.monotonic() - self._checked_at > CHECK_EVERY_SECONDS

    def _check_tables(self, snapshot: dg.Snapshot, *, deep: bool = False) -> None:
        """Make sure every table exists and is the one written before; refill one that is not."""
        descriptions = {kind: self._describe(table) for kind, table in self.tables.items()}
        missing = [kind for kind, description in descriptions.items() if description is None]
        if missing and not self.create_tables:
            names = ", ".join(self.tables[kind] for kind in missing)
            raise MirrorError(f"DynamoDB table(s) {names} do not exist and DYNAMODB_CREATE_TABLES is false")
        for kind in missing:
            self._create(kind)
        for kind in missing:
            descriptions[kind] = self._await_created(kind)
        for kind in dg.ENTITY_KINDS:
            identity = _table_identity(descriptions[kind] or {})
            if deep or identity != self._table_ids.get(kind):
                # A table this process has not written (start-up, or re-created behind its back): learn its content.
                self._written[kind] = {} if kind in missing else self._scan(kind, snapshot)
                self._table_ids[kind] = identity
        self._checked_at = time.monotonic()

    def _describe(self, table: str) -> dict[str, Any] | None:
        try:
            description: dict[str, Any] = self.client.describe_table(TableName=table)["Table"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise
        expected = _key_schema(self._kind_of_table[table])
        found = {(key["AttributeName"], key["KeyType"]) for key in description.get("KeySchema", [])}
        if found != {(name, role) for name, role, _ in expected}:
            raise MirrorError(f"DynamoDB table {table} has key {sorted(found)}; expected {expected}")
        if description.get("TableStatus") not in {"ACTIVE", "UPDATING"}:
            self.client.get_waiter("table_exists").wait(TableName=table, WaiterConfig=TABLE_WAIT)
        return description

    def _create(self, kind: TableKind) -> None:
        schema = _key_schema(kind)
        try:
            self.client.create_table(
                TableName=self.tables[kind],
                KeySchema=[{"AttributeName": name, "KeyType": role} for name, role, _ in schema],
                AttributeDefinitions=[{"AttributeName": name, "AttributeType": type_} for name, _, type_ in schema],
                BillingMode="PAY_PER_REQUEST",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":  # another process made it
                raise

    def _await_created(self, kind: TableKind) -> dict[str, Any]:
        """Wait until a new table is active (and its items expire by `ttl`, for the metrics table)."""
        table = self.tables[kind]
        self.client.get_waiter("table_exists").wait(TableName=table, WaiterConfig=TABLE_WAIT)
        if kind == METRICS:
            self.client.update_time_to_live(
                TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
            )
        logger.info("created DynamoDB table %s", table)
        description = self._describe(table)
        if description is None:
            raise MirrorError(f"DynamoDB table {table} vanished right after it was created")
        return description

    def _scan(self, kind: EntityKind, snapshot: dg.Snapshot) -> dict[str, bytes]:
        """What a table holds, as bookkeeping: the fingerprint of items equal to the snapshot's, b"" otherwise."""
        current = snapshot.by_id(kind)
        known: dict[str, bytes] = {}
        for page in self.client.get_paginator("scan").paginate(TableName=self.tables[kind]):
            for stored in page.get("Items", []):
                item_id = stored["id"]["S"]
                item = current.get(item_id)
                same = item is not None and from_item(stored) == from_item(to_item(item))
                known[item_id] = fingerprint(item) if item is not None and same else b""
        return known

    # --- writes ---------------------------------------------------------------------------

    def _fingerprint(self, kind: EntityKind, item: dg.Item, seen: dict[str, tuple[dg.Item, bytes]]) -> bytes:
        """The item's fingerprint, reused while the snapshot still holds the very same item object."""
        previous = self._seen[kind].get(item["id"])
        digest = previous[1] if previous is not None and previous[0] is item else fingerprint(item)
        seen[item["id"]] = (item, digest)
        return digest

    def _plan(self, snapshot: dg.Snapshot) -> list[Write]:
        """Puts for items new or changed since their last successful write, deletes for items gone."""
        writes: list[Write] = []
        for kind in dg.ENTITY_KINDS:
            written = self._written[kind]
            seen: dict[str, tuple[dg.Item, bytes]] = {}
            for item in snapshot.items[kind]:
                digest = self._fingerprint(kind, item, seen)
                if written.get(item["id"]) != digest:
                    put = functools.partial(_put_request, item)
                    writes.append(Write(kind, item["id"], put, digest))
            self._seen[kind] = seen
            for gone in written.keys() - seen.keys():
                writes.append(Write(kind, gone, functools.partial(_delete_request, gone)))
        self.items_pending = len(writes)
        with self._metrics_lock:
            points = list(self._metrics.items())
        writes.extend(Write(METRICS, key, functools.partial(_put_point, point)) for key, point in points)
        return writes

    def _keys(self, unprocessed: Mapping[str, Iterable[Mapping[str, Any]]]) -> Iterable[tuple[str, str]]:
        for table, requests in unprocessed.items():
            kind = self._kind_of_table[table]
            for request in requests:
                if "PutRequest" in request:
                    attributes = request["PutRequest"]["Item"]
                else:
                    attributes = request["DeleteRequest"]["Key"]
                if kind == METRICS:
                    yield kind, f"{attributes['metricType']['S']}@{attributes['timestamp']['N']}"
                else:
                    yield kind, attributes["id"]["S"]

    def _landed(self, writes: list[Write], outcome: SyncOutcome) -> None:
        """Remember what DynamoDB accepted: the bookkeeping behind 'changed since the last write'."""
        for write in writes:
            if write.kind == METRICS:
                with self._metrics_lock:
                    self._metrics.pop(write.key, None)
                outcome.written[METRICS] = outcome.written.get(METRICS, 0) + 1
                continue
            if write.digest is None:
                self._written[write.kind].pop(write.key, None)
                outcome.deleted[write.kind] = outcome.deleted.get(write.kind, 0) + 1
            else:
                self._written[write.kind][write.key] = write.digest
                outcome.written[write.kind] = outcome.written.get(write.kind, 0) + 1
            self.items_pending -= 1


GENERATION_KEY: dict[str, Attribute] = {"metricType": {"S": "generation"}, "timestamp": {"N": "0"}}


def generation_record(generation: dg.Generation) -> dict[str, Attribute]:
    """The item of the metrics table that tells every process which world to serve."""
    scenarios = [[run.name, run.start_tick, run.end_tick, run.target] for run in generation.scenarios]
    return {
        **GENERATION_KEY,
        "seed": {"N": str(generation.seed)},
        "epoch": {"S": generation.epoch.isoformat()},
        "interval": {"N": number_text(generation.interval)},
        "createdAt": {"S": generation.created_at.isoformat()},
        "revision": {"N": str(generation.revision)},
        "scenarios": {"S": json.dumps(scenarios)},
    }


def generation_from_record(item: Mapping[str, Attribute], local: dg.Generation) -> dg.Generation:
    """The generation a record describes, with this process's entity counts."""
    runs = tuple(
        dg.ScenarioRun(str(name), int(start), int(end), int(target))
        for name, start, end, target in json.loads(item["scenarios"]["S"])
    )
    return dg.Generation(
        seed=int(item["seed"]["N"]),
        epoch=datetime.fromisoformat(item["epoch"]["S"]),
        interval=float(item["interval"]["N"]),
        counts=local.counts,
        created_at=datetime.fromisoformat(item["createdAt"]["S"]),
        scenarios=runs,
        revision=int(item["revision"]["N"]),
    )


def _key_schema(kind: TableKind) -> list[tuple[str, str, str]]:
    """(attribute, HASH/RANGE, type) of a table's key."""
    if kind == METRICS:
        return [("metricType", "HASH", "S"), ("timestamp", "RANGE", "N")]
    return [("id", "HASH", "S")]


def _table_identity(description: Mapping[str, Any]) -> str:
    """What tells a table from one of the same name created later."""
    return str(description.get("TableId") or description.get("CreationDateTime"))


def _put_request(item: dg.Item) -> dict[str, Any]:
    return {"PutRequest": {"Item": to_item(item)}}


def _delete_request(item_id: str) -> dict[str, Any]:
    return {"DeleteRequest": {"Key": {"id": {"S": item_id}}}}


def _put_point(point: dict[str, Attribute]) -> dict[str, Any]:
    return {"PutRequest": {"Item": point}}
