"""The ten KPIs against an oracle written from their meaning: /api/history and the DynamoDB metrics table.

The expected figures come from the items themselves (the HTTP lists at `?at=`, or a snapshot's items) through
`tests.support.oracles.expected_kpis`, never from `kpis.compute_kpis`. Worlds: default counts, an empty world and
100 times the default counts (at two ticks and the current one, to stay quick). `/metrics` exports no KPI
(only service gauges), so there is nothing of them to compare there.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from fastapi.testclient import TestClient

import data_generator as dg
import main
from dynamodb_client import DynamoMirror, make_client
from kpis import compute_kpis
from prism.services import services_of
from rules import KPI_NAMES, SINGULAR, EntityKind
from simulator import Simulator
from tests.support import SEED, make_settings
from tests.support.oracles import expected_kpis

DEFAULT_COUNTS = make_settings().entity_counts
WORLDS: dict[str, dict[EntityKind, int]] = {
    "default": dict(DEFAULT_COUNTS),
    "empty": {kind: 0 for kind in DEFAULT_COUNTS},
    "100x": {kind: count * 100 for kind, count in DEFAULT_COUNTS.items()},
}
# Ticks of each world: the first tick of its history (a week before the epoch), the epoch, and later ones.
TICKS: dict[str, tuple[int, ...]] = {
    "default": (-20_160, 0, 1, 1234, 500_000),
    "empty": (0, 1000),
    "100x": (0, 4321),
}
COUNTS = ("atRiskClients", "activeContracts")
_deserializer = TypeDeserializer()


def settings_for(world: str, **overrides: Any) -> Any:
    counts = {f"{SINGULAR[kind]}_count": count for kind, count in WORLDS[world].items()}
    return make_settings(**counts, **overrides)


@pytest.fixture(scope="module", params=list(WORLDS))
def world(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def served(world: str) -> Iterator[tuple[TestClient, dg.Generation]]:
    app = main.create_app(settings_for(world))
    with TestClient(app) as client:
        simulator: Simulator = services_of(app).simulator
        yield client, simulator.generation


def lists_at(client: TestClient, moment: str) -> dict[EntityKind, list[dict[str, Any]]]:
    """Every entity's list as it was at a moment, over HTTP."""
    lists: dict[EntityKind, list[dict[str, Any]]] = {}
    for kind in dg.ENTITY_KINDS:
        response = client.get(f"/api/{kind}", params={"at": moment})
        assert response.status_code == 200, f"at={moment}: {response.text}"
        lists[kind] = response.json()
    return lists


def assert_kpis(actual: dict[str, Any], expected: dict[str, float]) -> None:
    assert set(expected) == set(KPI_NAMES)
    for name in KPI_NAMES:
        assert actual[name] == expected[name], f"{name}: served {actual[name]!r}, expected {expected[name]!r}"
    for name in COUNTS:
        # Counts are JSON integers everywhere, history included (DESIGN.md); 2.0 is not a count.
        assert type(actual[name]) is int, f"{name}: served {actual[name]!r}"


@pytest.mark.slow
def test_history_kpis_are_those_of_the_items_at_each_tick(served: tuple[TestClient, dg.Generation], world: str) -> None:
    client, generation = served
    current = int(client.get("/api/clients").headers["x-tick"])
    ticks = [tick for tick in TICKS[world] if generation.first_tick <= tick <= current]
    ticks.append(current)
    for tick in ticks:
        moment = dg.iso_time(generation.time_of(tick))
        lists = lists_at(client, moment)
        assert {kind: len(items) for kind, items in lists.items()} == WORLDS[world]
        expected = expected_kpis(lists)
        response = client.get("/api/history", params={"from": moment, "to": moment})
        assert response.status_code == 200, response.text
        [point] = response.json()["points"]
        assert point["tick"] == tick
        assert_kpis(point, expected)
        assert_believable(expected, world)


def assert_believable(kpis: dict[str, float], world: str) -> None:
    """The oracle's figures are real ones: all zero in an empty world, none zero by accident otherwise."""
    if world == "empty":
        assert kpis == dict.fromkeys(KPI_NAMES, 0)
        return
    # At-risk clients may be none at a tick; every other figure of a populated world is positive.
    assert all(kpis[name] > 0 for name in KPI_NAMES if name != "atRiskClients"), kpis
    assert kpis["licenseUtilization"] < 100
    assert kpis["technicianUtilization"] < 100
    assert kpis["weightedPipelineValue"] < kpis["pipelineValue"]
    assert kpis["atRiskClients"] < WORLDS[world]["clients"]
    assert kpis["activeContracts"] <= WORLDS[world]["contracts"]


@pytest.mark.parametrize("world_name", list(WORLDS))
def test_compute_kpis_is_the_oracle_at_many_ticks(world_name: str) -> None:
    """Without HTTP, over more ticks (and a 5x world for the scaled one, to stay quick)."""
    counts = WORLDS[world_name] if world_name != "100x" else {kind: n * 5 for kind, n in DEFAULT_COUNTS.items()}
    generation = dg.new_generation(counts=counts, interval=30, now=dg.FIXED_EPOCH, seed=SEED + 1)
    world = dg.World(generation)
    for tick in (generation.first_tick, 0, 7, 2_880, 90_000, 1_000_000):
        snapshot = dg.compute_snapshot(generation, tick, world)
        expected = expected_kpis(snapshot.items)
        assert_kpis(compute_kpis(snapshot), expected)
        assert_kpis(compute_kpis(snapshot), expected)  # again, from the snapshot's memo
        assert_believable(expected, world_name)


def metric_points(reader: Any) -> dict[tuple[str, Decimal], dict[str, Any]]:
    """The KPI points of the metrics table, keyed by (KPI name, timestamp), numbers as Decimal."""
    points = {}
    for page in reader.get_paginator("scan").paginate(TableName="prism-metrics"):
        for raw in page["Items"]:
            item = {key: _deserializer.deserialize(value) for key, value in raw.items()}
            if item["metricType"] in KPI_NAMES:  # not the generation record nor the writer's lease
                points[(item["metricType"], item["timestamp"])] = item
    return points


# 100x is left to the history test: its KPIs are those of the same code, and writing its 15,000 items to moto
# takes longer than everything else here.
@pytest.mark.parametrize("world_name", ["default", "empty"])
def test_the_dynamodb_metrics_table_holds_the_kpis_of_the_items(aws: None, world_name: str) -> None:
    settings = settings_for(world_name, dynamodb_enabled="true")
    generation = dg.new_generation(
        counts=WORLDS[world_name], interval=30, now=datetime.now(UTC), seed=SEED, epoch=dg.FIXED_EPOCH
    )
    mirror = DynamoMirror(make_client(settings), prefix="prism-", create_tables=True)
    world = dg.World(generation)
    snapshots = [dg.compute_snapshot(generation, tick, world) for tick in TICKS[world_name]]
    for snapshot in snapshots:
        mirror.record_metrics(snapshot)
    outcome = mirror.sync(snapshots[-1])
    assert outcome.ok, outcome.error
    points = metric_points(boto3.client("dynamodb", region_name="us-east-2"))
    assert len(points) == len(KPI_NAMES) * len(snapshots)
    for snapshot in snapshots:
        timestamp = Decimal(int(snapshot.time.timestamp()))
        expected = expected_kpis(snapshot.items)
        stored = {name: points[(name, timestamp)]["value"] for name in KPI_NAMES}
        assert stored == {name: Decimal(repr(value)) for name, value in expected.items()}, snapshot.tick


@pytest.mark.slow
def test_a_sync_over_http_writes_the_kpis_of_the_served_tick(aws: None, tmp_path: Any) -> None:
    app = main.create_app(settings_for("default", dynamodb_enabled="true", reports_dir=tmp_path))
    with TestClient(app) as client:
        answer = client.post("/api/sync")
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "ok"
        generation: dg.Generation = services_of(app).simulator.generation
        points = metric_points(boto3.client("dynamodb", region_name="us-east-2"))
        timestamps = {timestamp for _, timestamp in points}
        assert timestamps
        for timestamp in timestamps:
            moment = datetime.fromtimestamp(int(timestamp), UTC)
            expected = expected_kpis(lists_at(client, dg.iso_time(moment)))
            stored = {name: points[(name, timestamp)]["value"] for name in KPI_NAMES}
            assert generation.time_of(generation.tick_at(moment)) == moment
            assert stored == {name: Decimal(repr(value)) for name, value in expected.items()}, moment
