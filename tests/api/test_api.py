"""Every endpoint of the read API over HTTP against the real app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter

import data_generator as dg
import main
from config import Settings
from models import ENTITY_MODELS
from prism.services import services_of
from rules import KPI_NAMES, EntityKind
from simulator import Simulator
from tests.support import DESIGN_COUNTS, SEED, make_settings
from tests.support.invariants import check_items, parse_time

DEFAULT_COUNTS = DESIGN_COUNTS
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")
# Mid-tick, so that every list of a test is read from the same tick.
FROZEN_NOW = datetime(2026, 11, 28, 9, 30, 12, tzinfo=UTC)


def simulator_of(app: FastAPI) -> Simulator:
    simulator: Simulator = services_of(app).simulator
    return simulator


@pytest.fixture
def frozen(settings: Settings) -> Iterator[tuple[TestClient, FastAPI]]:
    """A client of an app whose clock stands still, so no tick happens during the test."""
    app = main.create_app(settings, simulator_factory=lambda s: Simulator(s, clock=lambda: FROZEN_NOW))
    with TestClient(app) as client:
        yield client, app


def served_lists(client: TestClient) -> tuple[dict[EntityKind, list[dict[str, Any]]], int]:
    """Every entity list as served, and the tick they show (all the same)."""
    lists: dict[EntityKind, list[dict[str, Any]]] = {}
    ticks = set()
    for kind in ENTITY_MODELS:
        response = client.get(f"/api/{kind}")
        assert response.status_code == 200, kind
        assert response.headers["content-type"] == "application/json"
        lists[kind] = response.json()
        ticks.add(int(response.headers["x-tick"]))
    assert len(ticks) == 1, ticks
    return lists, ticks.pop()


# --- service endpoints ---------------------------------------------------------------------


def test_root_says_what_runs(client: TestClient) -> None:
    body = client.get("/").json()
    assert body == {
        "message": "MSP Data Simulator API",
        "status": "running",
        "update_interval": "30s",
        "last_update": body["last_update"],
    }
    assert ISO_Z.match(body["last_update"])
    assert body["last_update"] == client.get("/api/stats").json()["last_tick_at"]


def test_health_gives_the_default_counts(client: TestClient) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    response = client.get("/health")
    after = datetime.now(UTC) + timedelta(seconds=1)  # the stamp may be rounded up to the next second
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert before <= parse_time(body["timestamp"]) <= after  # the time of the answer
    assert body["data_counts"] == DEFAULT_COUNTS


def test_stats_has_the_original_fields_and_the_simulations_clock(frozen: tuple[TestClient, FastAPI]) -> None:
    client, app = frozen
    body = client.get("/api/stats").json()
    assert body["counts"] == DEFAULT_COUNTS
    assert body["update_interval"] == 30
    assert body["is_running"] is True
    assert body["seed"] == SEED
    assert body["tick"] == simulator_of(app).snapshot.tick
    epoch, last, following = (parse_time(body[name]) for name in ("epoch", "last_tick_at", "next_tick_at"))
    assert epoch == dg.FIXED_EPOCH
    assert last == epoch + timedelta(seconds=30 * body["tick"])
    assert last <= FROZEN_NOW < following == last + timedelta(seconds=30)
    assert ISO_Z.match(body["timestamp"])
    assert isinstance(body["last_tick_duration_ms"], float)
    assert body["last_tick_duration_ms"] == round(simulator_of(app).last_tick_duration_ms, 3) > 0  # as measured
    assert (body["ticks_failed"], body["ticks_computed"]) == (0, 0)
    assert body["dynamodb"]["enabled"] is False
    assert "DYNAMODB_ENABLED" in body["dynamodb"]["reason"]


# --- the seven lists -------------------------------------------------------------------------


def test_every_list_has_its_count_its_fields_and_the_invariants(frozen: tuple[TestClient, FastAPI]) -> None:
    client, app = frozen
    lists, tick = served_lists(client)
    for kind, model in ENTITY_MODELS.items():
        items = lists[kind]
        assert len(items) == DEFAULT_COUNTS[kind]
        TypeAdapter(list[model]).validate_python(items, strict=True)  # type: ignore[valid-type]
        for item in items:
            assert list(item) == list(model.model_fields), "every field, in the documented order"
    snapshot = simulator_of(app).snapshot
    assert tick == snapshot.tick
    check_items(lists, snapshot.time)
    assert lists == {kind: list(items) for kind, items in snapshot.items.items()}


def test_relations_between_lists_hold_over_http(frozen: tuple[TestClient, FastAPI]) -> None:
    client, _ = frozen
    lists, _ = served_lists(client)
    vendors = {v["id"]: v["name"] for v in lists["vendors"]}
    assert all(vendors[c["vendorId"]] == c["vendorName"] for c in lists["contracts"])
    assert len({d["name"] for d in lists["departments"]}) == DEFAULT_COUNTS["departments"]
    for kind, items in lists.items():
        one = client.get(f"/api/{kind}/{items[-1]['id']}")
        assert one.status_code == 200
        assert one.json() == items[-1]
    assert client.get("/api/contracts?limit=5").headers["x-total-count"] == "20"


def test_each_list_is_served_from_the_latest_tick_as_the_clock_moves() -> None:
    moments = [FROZEN_NOW]
    app = main.create_app(make_settings(), simulator_factory=lambda s: Simulator(s, clock=lambda: moments[-1]))
    with TestClient(app) as client:
        before = client.get("/api/clients")
        simulator = simulator_of(app)
        # The background task sleeps until the next tick by the old clock (18 s away); this step is the test's.
        moments.append(FROZEN_NOW + timedelta(seconds=90))
        simulator.step()
        after = client.get("/api/clients")
        assert int(after.headers["x-tick"]) == int(before.headers["x-tick"]) + 3
        check_items({"clients": after.json()}, simulator.snapshot.time)


# --- management ---------------------------------------------------------------------------------


def test_regenerate_starts_a_new_world_with_the_same_counts(frozen: tuple[TestClient, FastAPI]) -> None:
    client, app = frozen
    before, _ = served_lists(client)
    response = client.post("/api/regenerate")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Data regenerated"
    assert body["seed"] != SEED
    assert body["counts"] == DEFAULT_COUNTS
    assert (body["tick"], parse_time(body["epoch"])) == (0, FROZEN_NOW.replace(microsecond=0))
    stats = client.get("/api/stats").json()
    assert (stats["seed"], stats["tick"], stats["counts"]) == (body["seed"], 0, DEFAULT_COUNTS)
    after, tick = served_lists(client)
    assert tick == 0
    assert {kind: len(items) for kind, items in after.items()} == DEFAULT_COUNTS
    for kind in ENTITY_MODELS:
        assert after[kind] != before[kind], kind
    assert [c["name"] for c in after["clients"]] != [c["name"] for c in before["clients"]]
    check_items(after, simulator_of(app).snapshot.time)


# --- HTTP edges ---------------------------------------------------------------------------------


def test_cors_preflight_passes_for_the_dashboards_get_from_any_origin(client: TestClient) -> None:
    for origin in ("https://dashboard.example.com", "http://localhost:3000", "null"):
        response = client.options(
            "/api/clients",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert response.status_code == 200, origin
        assert response.headers["access-control-allow-origin"] == "*"
        assert "GET" in response.headers["access-control-allow-methods"]
        assert "content-type" in response.headers["access-control-allow-headers"].lower()
        simple = client.get("/api/clients", headers={"Origin": origin, "Content-Type": "application/json"})
        assert simple.status_code == 200
        assert simple.headers["access-control-allow-origin"] == "*"
        assert "x-total-count" in simple.headers["access-control-expose-headers"].lower()


def test_cors_origins_come_from_the_settings() -> None:
    app = main.create_app(make_settings(cors_origins="https://prism.example.com"))
    with TestClient(app) as client:
        allowed = client.get("/api/leads", headers={"Origin": "https://prism.example.com"})
        assert allowed.headers["access-control-allow-origin"] == "https://prism.example.com"
        other = client.get("/api/leads", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers
        refused = client.options(
            "/api/leads", headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "GET"}
        )
        assert refused.status_code == 400


def post_paths(app: FastAPI) -> list[str]:
    return sorted(path for path, operations in app.openapi()["paths"].items() if "post" in operations)


@pytest.mark.slow
def test_api_key_guards_every_post() -> None:
    app = main.create_app(make_settings(api_key="s3cret"))
    paths = post_paths(app)
    assert {"/api/regenerate", "/api/sync", "/api/generate-report"} <= set(paths)
    with TestClient(app) as client:
        for path in paths:
            for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}, {"X-API-Key": "S3CRET"}):
                refused = client.post(path, json={}, headers=headers)
                assert refused.status_code == 401, (path, headers)
                assert refused.headers["content-type"] == "application/json"
                assert "X-API-Key" in refused.json()["detail"]
        key = {"X-API-Key": "s3cret"}
        assert client.post("/api/regenerate", headers=key).status_code == 200
        assert client.post("/api/sync", headers=key).status_code == 200
        assert client.post("/api/scenarios", json={"name": "churn-wave"}, headers=key).status_code in (200, 201)
        assert client.get("/api/clients").status_code == 200  # reading needs no key
        assert "s3cret" not in client.get("/api/stats").text
        assert "s3cret" not in client.get("/openapi.json").text


def test_without_an_api_key_posts_are_open(client: TestClient) -> None:
    assert client.post("/api/sync").json()["status"] == "disabled"
    assert client.post("/api/regenerate").status_code == 200


def test_unknown_paths_are_404_json_and_bad_input_422_with_a_reason(client: TestClient) -> None:
    for path in ("/api/nothing-here", "/nothing", "/api/clients/client-999"):
        missing = client.get(path)
        assert missing.status_code == 404, path
        assert missing.headers["content-type"] == "application/json"
        assert path.rsplit("/", 1)[-1] in missing.json()["detail"]
    for path, parameter in (
        ("/api/clients?limit=-1", "limit"),
        ("/api/clients?limit=lots", "limit"),
        ("/api/leads?offset=-5", "offset"),
        ("/api/vendors?order=sideways", "order"),
    ):
        bad = client.get(path)
        assert bad.status_code == 422, path
        assert bad.headers["content-type"] == "application/json"
        reason = bad.json()["detail"][0]
        assert reason["loc"] == ["query", parameter]
        assert reason["msg"]
    body = client.post("/api/generate-report", json={"pageType": "weather"})
    assert body.status_code == 422
    assert body.json()["detail"][0]["loc"] == ["body", "pageType"]
    wrong_method = client.delete("/api/clients")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET"


# --- documentation -------------------------------------------------------------------------------


def test_docs_and_redoc_render_from_the_app_itself(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page)
        assert html.status_code == 200
        assert html.headers["content-type"].startswith("text/html")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", html.text, re.IGNORECASE), "nothing remote"
        assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
        assert any(asset.endswith(".js") for asset in assets), page
        for asset in assets:
            assert asset.startswith("/static-offline-docs/"), asset
            fetched = client.get(asset)
            assert fetched.status_code == 200, asset
            assert len(fetched.content) > 1000, asset
        assert "/openapi.json" in html.text
    redirect = client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200
    assert "http" not in redirect.text


def test_openapi_documents_every_endpoint_and_model(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/", "/health", "/api/stats", "/api/regenerate", "/api/sync", "/api/generate-report"):
        assert path in paths
    for kind in ENTITY_MODELS:
        assert f"/api/{kind}" in paths
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            assert operation.get("description"), (method, path)
    schemas = spec["components"]["schemas"]
    for model in documented_models():
        schema = schemas[model.__name__]
        assert schema.get("description"), model.__name__
        undocumented = [name for name, field in schema["properties"].items() if not field.get("description")]
        assert undocumented == [], (model.__name__, undocumented)
    for service_model in ("RootInfo", "Health", "Stats", "RegenerateResult"):
        assert schemas[service_model].get("description"), service_model


def documented_models() -> list[type[BaseModel]]:
    """The seven entities and the objects nested in them."""
    found: list[type[BaseModel]] = []
    pending: list[type[BaseModel]] = list(ENTITY_MODELS.values())
    while pending:
        model = pending.pop()
        found.append(model)
        for info in model.model_fields.values():
            for inner in getattr(info.annotation, "__args__", ()):
                if isinstance(inner, type) and issubclass(inner, BaseModel) and inner not in found:
                    pending.append(inner)
    return found


def test_an_unexpected_error_is_a_500_json_without_a_traceback(app: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise KeyError("the secret internals")

    app.add_api_route("/api/broken", broken, methods=["GET"])
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/broken")
        assert client.get("/health").status_code == 200  # and the service carries on
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "internal error; see the service log"}
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    logged = [record for record in caplog.records if record.getMessage() == "unhandled error on GET /api/broken"]
    assert len(logged) == 1
    assert logged[0].exc_info is not None


def test_an_empty_world_answers_zeros_everywhere(tmp_path: Any) -> None:
    counts = {
        f"{kind}_count": 0 for kind in ("client", "license", "lead", "technician", "department", "vendor", "contract")
    }
    with TestClient(main.create_app(make_settings(reports_dir=tmp_path, **counts))) as client:
        for kind in ENTITY_MODELS:
            response = client.get(f"/api/{kind}")
            assert response.status_code == 200
            assert response.json() == []
        stats = client.get("/api/stats")
        assert stats.status_code == 200
        assert set(stats.json()["counts"].values()) == {0}
        assert set(client.get("/health").json()["data_counts"].values()) == {0}
        history = client.get("/api/history")
        assert history.status_code == 200
        points = history.json()["points"]
    assert points
    for point in points:
        figures = {name: point[name] for name in KPI_NAMES}
        assert figures == dict.fromkeys(KPI_NAMES, 0), point  # no NaN, no division by zero: nothing at all
