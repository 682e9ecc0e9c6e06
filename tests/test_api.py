"""Every endpoint of the read API over HTTP against the real app."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

import main
from models import ENTITY_MODELS
from simulator import Simulator
from tests.conftest import SEED, make_settings
from tests.invariants import check_snapshot

DEFAULT_COUNTS = {
    "clients": 20,
    "licenses": 30,
    "leads": 25,
    "technicians": 15,
    "departments": 6,
    "vendors": 15,
    "contracts": 20,
}
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")


def simulator_of(app: FastAPI) -> Simulator:
    simulator: Simulator = app.state.simulator
    return simulator


def test_root_says_what_runs(client: TestClient) -> None:
    body = client.get("/").json()
    assert body["message"] == "MSP Data Simulator API"
    assert body["status"] == "running"
    assert body["update_interval"] == "30s"
    assert ISO_Z.match(body["last_update"])


def test_health_gives_the_default_counts(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert ISO_Z.match(body["timestamp"])
    assert body["data_counts"] == DEFAULT_COUNTS


def test_stats_has_the_original_fields_and_the_simulations_clock(client: TestClient, app: FastAPI) -> None:
    body = client.get("/api/stats").json()
    assert body["counts"] == DEFAULT_COUNTS
    assert body["update_interval"] == 30
    assert body["is_running"] is True
    assert body["seed"] == SEED
    snapshot = simulator_of(app).snapshot
    assert body["tick"] == snapshot.tick
    assert body["last_tick_at"] < body["next_tick_at"]
    assert isinstance(body["last_tick_duration_ms"], float)
    assert body["ticks_failed"] == 0
    assert body["dynamodb"] == {"enabled": False, "reason": body["dynamodb"]["reason"]}
    assert "DYNAMODB_ENABLED" in body["dynamodb"]["reason"]


def test_every_list_has_its_count_its_fields_and_the_invariants(client: TestClient, app: FastAPI) -> None:
    served: dict[str, list[dict[str, Any]]] = {}
    for kind, model in ENTITY_MODELS.items():
        response = client.get(f"/api/{kind}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        items = response.json()
        assert len(items) == DEFAULT_COUNTS[kind]
        TypeAdapter(list[model]).validate_python(items)  # type: ignore[valid-type]
        for item in items:
            assert list(item) == list(model.model_fields), "every field, in the documented order"
            for name, value in item.items():
                assert not isinstance(value, str) or model.model_fields[name].annotation is not float, name
        served[kind] = items
    snapshot = simulator_of(app).snapshot_at(int(client.get("/api/clients").headers["x-tick"]))
    assert served == {kind: list(items) for kind, items in snapshot.items.items()}
    check_snapshot(snapshot)
    vendors = {v["id"]: v["name"] for v in served["vendors"]}
    assert all(vendors[c["vendorId"]] == c["vendorName"] for c in served["contracts"])


def test_regenerate_starts_a_new_world_with_the_same_counts(client: TestClient) -> None:
    before = client.get("/api/clients").json()
    response = client.post("/api/regenerate")
    assert response.status_code == 200
    body = response.json()
    assert body["seed"] != SEED
    assert body["counts"] == DEFAULT_COUNTS
    assert client.get("/api/stats").json()["seed"] == body["seed"]
    after = client.get("/api/clients").json()
    assert len(after) == len(before)
    assert [c["name"] for c in after] != [c["name"] for c in before]


def test_cors_preflight_passes_for_the_dashboards_get_from_any_origin(client: TestClient) -> None:
    response = client.options(
        "/api/clients",
        headers={
            "Origin": "https://dashboard.example.com",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "content-type" in response.headers["access-control-allow-headers"].lower()
    simple = client.get("/api/clients", headers={"Origin": "https://dashboard.example.com"})
    assert simple.headers["access-control-allow-origin"] == "*"


def test_cors_origins_come_from_the_settings() -> None:
    app = main.create_app(make_settings(cors_origins="https://prism.example.com"))
    with TestClient(app) as client:
        allowed = client.get("/api/leads", headers={"Origin": "https://prism.example.com"})
        assert allowed.headers["access-control-allow-origin"] == "https://prism.example.com"
        other = client.get("/api/leads", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers


def test_api_key_guards_every_post() -> None:
    with TestClient(main.create_app(make_settings(api_key="s3cret"))) as client:
        for path, body in (("/api/regenerate", None), ("/api/sync", None), ("/api/scenarios", {"name": "churn-wave"})):
            refused = client.post(path, json=body)
            assert refused.status_code == 401, path
            assert "X-API-Key" in refused.json()["detail"]
            assert client.post(path, json=body, headers={"X-API-Key": "wrong"}).status_code == 401
            assert client.post(path, json=body, headers={"X-API-Key": "s3cret"}).status_code in (200, 201), path
        assert client.get("/api/clients").status_code == 200  # reading needs no key
        assert "s3cret" not in client.get("/api/stats").text


def test_unknown_paths_are_404_json_and_bad_input_422_with_a_reason(client: TestClient) -> None:
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no such path: /api/nothing-here"}
    bad = client.get("/api/clients?limit=-1")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "limit"]
    wrong_method = client.delete("/api/clients")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET"


def test_docs_and_redoc_render_from_the_app_itself(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page)
        assert html.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html.text)
        assert assets, page
        for asset in assets:
            assert asset.startswith("/static-offline-docs/"), asset
            assert client.get(asset).status_code == 200


def test_openapi_documents_every_endpoint_and_model(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    for path in ("/", "/health", "/api/stats", "/api/regenerate", "/api/sync", "/api/generate-report", "/metrics"):
        assert path in paths
    for kind, model in ENTITY_MODELS.items():
        assert f"/api/{kind}" in paths
        schema = spec["components"]["schemas"][model.__name__]
        assert schema.get("description")
        undocumented = [name for name, field in schema["properties"].items() if not field.get("description")]
        assert undocumented == [], (kind, undocumented)
