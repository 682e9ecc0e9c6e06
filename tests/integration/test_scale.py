"""Serving many processes with no coordinator: identical bytes per tick, serverless, cached bytes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

import data_generator as dg
import main
from config import Settings
from fastpath import encode_all, encode_list
from models import ENTITY_MODELS
from rules import EntityKind
from simulator import Simulator
from tests.support import SEED, make_settings
from tests.support.servers import running_service

FROZEN_NOW = datetime(2026, 3, 4, 12, 0, 7, tzinfo=UTC)


def frozen_simulator(settings: Settings) -> Simulator:
    return Simulator(settings, clock=lambda: FROZEN_NOW)


def test_fixed_seed_without_epoch_uses_the_fixed_epoch() -> None:
    simulator = Simulator(make_settings(), clock=lambda: FROZEN_NOW)
    assert simulator.generation.epoch == dg.FIXED_EPOCH
    assert simulator.snapshot.tick == int((FROZEN_NOW - dg.FIXED_EPOCH).total_seconds() // 30)


def test_explicit_epoch_is_used() -> None:
    epoch = datetime(2026, 3, 1, tzinfo=UTC)
    simulator = Simulator(make_settings(simulator_epoch="2026-03-01T00:00:00Z"), clock=lambda: FROZEN_NOW)
    assert simulator.generation.epoch == epoch
    assert simulator.snapshot.time <= FROZEN_NOW < simulator.snapshot.time + timedelta(seconds=30)


def test_two_app_instances_with_the_same_seed_serve_identical_bytes() -> None:
    apps = [main.create_app(make_settings(), simulator_factory=frozen_simulator) for _ in range(2)]
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        for kind in ENTITY_MODELS:
            a, b = first.get(f"/api/{kind}"), second.get(f"/api/{kind}")
            assert a.status_code == b.status_code == 200
            assert a.headers["x-tick"] == b.headers["x-tick"]
            assert a.headers["etag"] == b.headers["etag"]
            assert a.content == b.content


def test_two_server_processes_with_the_same_seed_serve_identical_bytes() -> None:
    env = {"SIMULATOR_SEED": str(SEED), "UPDATE_INTERVAL_SECONDS": "30"}
    with running_service(env) as first_url, running_service(env) as second_url:
        for kind in ENTITY_MODELS:
            for _attempt in range(3):  # a tick may fall between the two requests
                a = httpx.get(f"{first_url}/api/{kind}")
                b = httpx.get(f"{second_url}/api/{kind}")
                if a.headers["x-tick"] == b.headers["x-tick"]:
                    break
            assert a.headers["x-tick"] == b.headers["x-tick"]
            assert a.content == b.content


def _function_url_event(path: str, query: str = "") -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "prism.lambda-url.us-east-2.on.aws", "accept": "application/json"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "prism",
            "domainName": "prism.lambda-url.us-east-2.on.aws",
            "requestId": "request-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "04/Mar/2026:12:00:07 +0000",
            "timeEpoch": 0,
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "t",
            },
        },
        "isBase64Encoded": False,
    }


@pytest.fixture
def lambda_loop() -> Iterator[None]:
    """Mangum sets an event loop on the thread for the Lambda process's lifetime; a test closes it afterwards."""
    yield
    loop = asyncio.get_event_loop_policy().get_event_loop()
    if not loop.is_running():
        loop.close()
    asyncio.set_event_loop(None)


@pytest.mark.usefixtures("lambda_loop")
def test_lambda_handler_answers_with_the_current_tick_without_a_lifespan(monkeypatch: pytest.MonkeyPatch) -> None:
    app = main.create_app(make_settings(), simulator_factory=frozen_simulator)
    monkeypatch.setattr(main, "_default_app", app)
    monkeypatch.setattr(main, "_lambda_adapter", None)
    response = main.handler(_function_url_event("/api/clients"), None)
    assert response["statusCode"] == 200
    generation = dg.new_generation(counts=make_settings().entity_counts, interval=30, now=FROZEN_NOW, seed=SEED)
    tick = generation.tick_at(FROZEN_NOW)
    assert int(response["headers"]["x-tick"]) == tick
    expected = dg.compute_snapshot(generation, tick)
    assert json.loads(response["body"]) == list(expected.items["clients"])


@pytest.mark.usefixtures("lambda_loop")
def test_lambda_handler_moves_on_with_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [FROZEN_NOW]
    app = main.create_app(make_settings(), simulator_factory=lambda s: Simulator(s, clock=lambda: now[0]))
    monkeypatch.setattr(main, "_default_app", app)
    monkeypatch.setattr(main, "_lambda_adapter", None)
    first = main.handler(_function_url_event("/api/stats"), None)
    now[0] += timedelta(seconds=95)
    second = main.handler(_function_url_event("/api/stats"), None)
    assert json.loads(second["body"])["tick"] == json.loads(first["body"])["tick"] + 3
    filtered = main.handler(_function_url_event("/api/leads", "limit=3&sort=value&order=desc"), None)
    assert filtered["statusCode"] == 200
    assert len(json.loads(filtered["body"])) == 3


@pytest.mark.parametrize("kind", list(ENTITY_MODELS))
def test_cached_bytes_equal_the_models_json_at_every_tick(kind: EntityKind) -> None:
    model = ENTITY_MODELS[kind]
    adapter: TypeAdapter[list[Any]] = TypeAdapter(list[model])  # type: ignore[valid-type]
    generation = dg.new_generation(counts=make_settings().entity_counts, interval=30, now=FROZEN_NOW, seed=SEED)
    snapshot, previous = dg.compute_snapshot(generation, generation.tick_at(FROZEN_NOW)), None
    for _ in range(150):
        encode_all(snapshot, previous)  # as a tick does: the items it did not change are not encoded again
        body = encode_list(snapshot, kind).body
        assert body == adapter.dump_json(adapter.validate_python(snapshot.items[kind]))
        assert orjson.loads(body) == list(snapshot.items[kind])
        previous, snapshot = snapshot, dg.advance(snapshot)


def _wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_regenerate_and_a_scenario_reach_the_other_process_through_dynamodb(aws: None) -> None:
    shared = make_settings(dynamodb_enabled="true", update_interval_seconds=0.25)
    first_app, second_app = main.create_app(shared), main.create_app(shared)
    with TestClient(first_app) as first, TestClient(second_app) as second:
        _wait_for(lambda: first.get("/api/stats").json()["dynamodb"].get("last_sync_result") == "ok")
        regenerated = first.post("/api/regenerate").json()
        _wait_for(lambda: second.get("/api/stats").json()["seed"] == regenerated["seed"])
        assert first.get("/api/stats").json()["seed"] == regenerated["seed"]
        started = second.post("/api/scenarios", json={"name": "budget-freeze", "durationTicks": 40}).json()
        _wait_for(
            lambda: [run["startTick"] for run in first.get("/api/scenarios").json()["runs"]] == [started["startTick"]]
        )
        # Same world: the same bytes for the same tick (asked by time, as each may be a tick ahead of the other).
        moment = first.get("/api/stats").json()["last_tick_at"]
        a, b = (
            first.get("/api/departments", params={"at": moment}),
            second.get("/api/departments", params={"at": moment}),
        )
        assert a.status_code == b.status_code == 200
        assert a.headers["x-tick"] == b.headers["x-tick"]
        assert a.content == b.content


def test_a_new_process_joins_the_generation_kept_in_dynamodb(aws: None) -> None:
    with TestClient(main.create_app(make_settings(dynamodb_enabled="true", update_interval_seconds=0.25))) as first:
        _wait_for(lambda: first.get("/api/stats").json()["dynamodb"].get("last_sync_result") == "ok")
        seed = first.post("/api/regenerate").json()["seed"]
        _wait_for(lambda: first.get("/api/stats").json()["tick"] >= 2)
        # Another process starts later with a different seed of its own: it serves the cluster's world.
        late = main.create_app(make_settings(dynamodb_enabled="true", update_interval_seconds=0.25, simulator_seed=5))
        with TestClient(late) as second:
            _wait_for(lambda: second.get("/api/stats").json()["seed"] == seed)
