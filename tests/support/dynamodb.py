"""Reading DynamoDB back in the tests: tables as plain items, compared with what the API shows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson
from boto3.dynamodb.types import TypeDeserializer

import data_generator as dg
from dynamodb_client import METRICS, DynamoDBClient
from tests.support import SEED, make_settings

PREFIX = "prism-"
REGION = "us-east-2"
TABLES = [f"{PREFIX}{kind}" for kind in (*dg.ENTITY_KINDS, METRICS)]
# The requests that write items: batches unfenced, transactions behind the writer's lease when fenced.
ITEM_WRITES = ("BatchWriteItem", "TransactWriteItems")

_deserializer = TypeDeserializer()


def snapshot_of(tick: int = 1000, *, seed: int = SEED, scale: float = 1.0) -> dg.Snapshot:
    """A snapshot at default counts (or a multiple of them), independent of any app."""
    counts = {kind: max(1, round(count * scale)) for kind, count in make_settings().entity_counts.items()}
    generation = dg.new_generation(counts=counts, interval=30, now=datetime.now(UTC), seed=seed)
    return dg.compute_snapshot(generation, tick)


def as_api_json(item: dg.Item) -> dict[str, Any]:
    """An item as a JSON client reads the API's answer, numbers as Decimal."""
    return dict(json.loads(orjson.dumps(item), parse_float=Decimal))


def table_items(reader: DynamoDBClient, table: str) -> list[dict[str, Any]]:
    """Every item of a table, numbers as Decimal (boto3's own deserializer, not the mirror's)."""
    items = []
    for page in reader.get_paginator("scan").paginate(TableName=table):
        items += [{key: _deserializer.deserialize(value) for key, value in item.items()} for item in page["Items"]]
    return items


def assert_tables_equal(reader: DynamoDBClient, snapshot: dg.Snapshot) -> None:
    """Every entity table holds exactly the snapshot's items, with the values the API shows."""
    for kind in dg.ENTITY_KINDS:
        stored = {item["id"]: item for item in table_items(reader, f"{PREFIX}{kind}")}
        assert stored == {item["id"]: as_api_json(item) for item in snapshot.items[kind]}, kind


def scan_entities(reader: DynamoDBClient) -> dict[str, dict[str, Any]]:
    return {kind: {item["id"]: item for item in table_items(reader, f"prism-{kind}")} for kind in dg.ENTITY_KINDS}


def stats(base: str) -> dict[str, Any]:
    """`/api/stats` of a service in another process."""
    answer: dict[str, Any] = httpx.get(f"{base}/api/stats", timeout=5).json()
    return answer
