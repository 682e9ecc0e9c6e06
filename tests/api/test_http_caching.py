"""HTTP edges of the data routes: ETag/304, gzip, the plain-list fast path, CORS exposure, ?delay/?fail."""

from __future__ import annotations

import asyncio
import gzip
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

import data_generator as dg
import fastpath
import main
from models import ENTITY_MODELS
from prism.api.deps import get_sleep
from prism.services import services_of
from rules import EntityKind
from tests.support import make_settings, module_app_and_client

ORIGIN = "https://dashboard.example"
EXPOSED = {"X-Total-Count", "X-Tick", "ETag"}


# A 30 s tick: consecutive requests of a test nearly always see the same tick.
app, client = module_app_and_client()


def header_list(response: Any) -> list[tuple[str, str]]:
    """Every response header, lower-cased names, in a comparable order."""
    return sorted((name.lower(), value) for name, value in response.headers.multi_items())


def same_tick(*responses: Any) -> bool:
    return len({response.headers["x-tick"] for response in responses}) == 1


# --- validators --------------------------------------------------------------------------------

CONDITIONAL_PATHS = [
    "/api/clients",  # the fast path
    "/api/clients?delay=0",  # the same list through the routes
    "/api/clients?limit=3&sort=name",
    "/api/contracts?autoRenew=true",
    "/api/technicians/tech-2",
    "/api/history",
    "/api/history?step=5m",
    "/api/vendors/vendor-1/history?step=10m",
]


@pytest.mark.parametrize("path", CONDITIONAL_PATHS)
def test_a_matching_if_none_match_gets_304_without_a_body(client: TestClient, path: str) -> None:
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert first.headers["x-tick"].isdigit()
    for validator in (etag, f"W/{etag}", f'"stale", {etag}', "*"):
        again = client.get(path, headers={"If-None-Match": validator})
        if not same_tick(first, again):
            continue  # a tick passed in between: a new version, rightly a 200
        assert again.status_code == 304, validator
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["x-tick"] == first.headers["x-tick"]
        assert "content-type" not in again.headers
    assert client.get(path, headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_the_etag_names_the_version_of_the_data(client: TestClient, app: FastAPI) -> None:
    now = services_of(app).simulator.snapshot.time
    hour_ago = dg.iso_time(now.replace(microsecond=0) - timedelta(hours=1))
    day_ago = dg.iso_time(now.replace(microsecond=0) - timedelta(days=1))
    same = [client.get("/api/leads", params={"at": hour_ago}) for _ in range(2)]
    assert same[0].headers["etag"] == same[1].headers["etag"]
    assert same[0].content == same[1].content
    other = client.get("/api/leads", params={"at": day_ago})
    assert other.headers["etag"] != same[0].headers["etag"]
    assert other.content != same[0].content


# --- compression -------------------------------------------------------------------------------


def raw_body(client: TestClient, path: str, headers: dict[str, str]) -> tuple[Any, bytes]:
    """The response and its body exactly as sent, before httpx would decode it."""
    with client.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


@pytest.mark.parametrize("path", ["/api/departments", "/api/departments?delay=0", "/api/clients?sort=name"])
def test_large_answers_are_gzipped_when_the_client_accepts_it(client: TestClient, path: str) -> None:
    plain, plain_body = raw_body(client, path, {"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert int(plain.headers["content-length"]) == len(plain_body)
    for accepted in ("gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "*"):
        packed, packed_body = raw_body(client, path, {"Accept-Encoding": accepted})
        if not same_tick(plain, packed):
            continue
        assert packed.headers["content-encoding"] == "gzip", accepted
        assert int(packed.headers["content-length"]) == len(packed_body)
        assert gzip.decompress(packed_body) == plain_body
        assert len(packed_body) < len(plain_body) / 3
        assert packed.headers["etag"] == plain.headers["etag"]
        assert "Accept-Encoding" in packed.headers["vary"]
    refused, _ = raw_body(client, path, {"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


def test_a_large_list_is_compressed_in_a_worker_thread_not_on_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    compressed_on_the_loop: list[bool] = []
    compress = gzip.compress

    def recording(data: bytes, *args: Any, **kwargs: Any) -> bytes:
        try:
            asyncio.get_running_loop()
            compressed_on_the_loop.append(True)
        except RuntimeError:
            compressed_on_the_loop.append(False)
        return compress(data, *args, **kwargs)

    monkeypatch.setattr(gzip, "compress", recording)
    with TestClient(main.create_app(make_settings(license_count=1000))) as client:
        packed, packed_body = raw_body(client, "/api/licenses", {"Accept-Encoding": "gzip"})
        plain, plain_body = raw_body(client, "/api/licenses", {"Accept-Encoding": "identity"})
    assert len(plain_body) > fastpath.OFF_LOOP_BYTES
    assert packed.headers["content-encoding"] == "gzip"
    if same_tick(plain, packed):
        assert gzip.decompress(packed_body) == plain_body
    assert compressed_on_the_loop == [False]


def test_small_answers_are_not_compressed(client: TestClient) -> None:
    for path in ("/api/technicians/tech-1", "/api/clients?limit=1", "/api/clients?limit=0"):
        response, body = raw_body(client, path, {"Accept-Encoding": "gzip"})
        assert len(body) < 1400
        assert "content-encoding" not in response.headers


# --- old clients and the fast path -------------------------------------------------------------


def models_json(kind: EntityKind, items: Any) -> bytes:
    """What the service answered before any of this: FastAPI's JSON of the list of models."""
    model = ENTITY_MODELS[kind]
    return bytes(JSONResponse([model.model_validate(item).model_dump(mode="json") for item in items]).body)


def test_a_plain_list_is_what_old_clients_always_got(client: TestClient, app: FastAPI) -> None:
    for kind in dg.ENTITY_KINDS:
        for path in (f"/api/{kind}", f"/api/{kind}?delay=0"):  # fast path, then the routes
            response = client.get(path, headers={"Accept-Encoding": "identity"})
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            snapshot = services_of(app).simulator.snapshot_at(int(response.headers["x-tick"]))
            assert isinstance(response.json(), list)
            assert response.content == models_json(kind, snapshot.items[kind])
            assert response.headers["x-total-count"] == str(len(snapshot.items[kind]))


@pytest.mark.slow
def test_without_the_fast_path_a_plain_list_is_the_same() -> None:
    # With SIMULATED_LATENCY_MS the shortcut is off (it would skip the delay); the routes answer alike.
    slowed = main.create_app(make_settings(simulated_latency_ms=1))
    with TestClient(slowed) as client:
        for kind in ("clients", "departments"):
            response = client.get(f"/api/{kind}", headers={"Accept-Encoding": "identity"})
            assert response.headers["content-type"] == "application/json"
            snapshot = services_of(slowed).simulator.snapshot_at(int(response.headers["x-tick"]))
            assert response.content == models_json(kind, snapshot.items[kind])
            assert response.headers["x-total-count"] == str(len(snapshot.items[kind]))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": ORIGIN},
        {"Accept-Encoding": "gzip"},
        {"Origin": ORIGIN, "Accept-Encoding": "gzip, br"},
    ],
)
def test_the_fast_path_answers_exactly_like_the_routes(client: TestClient, headers: dict[str, str]) -> None:
    fast = client.get("/api/technicians", headers=headers)
    routed = client.get("/api/technicians?delay=0", headers=headers)
    if same_tick(fast, routed):
        assert fast.content == routed.content
        assert header_list(fast) == header_list(routed)
    conditional = {**headers, "If-None-Match": fast.headers["etag"]}
    fast_304 = client.get("/api/technicians", headers=conditional)
    routed_304 = client.get("/api/technicians?delay=0", headers=conditional)
    if same_tick(fast, fast_304, routed_304):
        assert fast_304.status_code == routed_304.status_code == 304
        assert header_list(fast_304) == header_list(routed_304)


@pytest.mark.parametrize("origins", ["*", f"{ORIGIN},https://other.example"])
def test_cors_exposes_the_paging_and_caching_headers(origins: str) -> None:
    app = main.create_app(make_settings(cors_origins=origins))
    with TestClient(app) as client:
        for path in ("/api/clients", "/api/clients?limit=2", "/api/technicians/tech-1", "/api/history"):
            response = client.get(path, headers={"Origin": ORIGIN})
            assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)
            exposed = {name.strip() for name in response.headers["access-control-expose-headers"].split(",")}
            assert exposed >= EXPOSED, path
            assert "Origin" in response.headers["vary"], path
        if origins != "*":
            for path in ("/api/clients", "/api/clients?limit=2"):
                stranger = client.get(path, headers={"Origin": "https://evil.example"})
                assert "access-control-allow-origin" not in stranger.headers
                assert "Origin" in stranger.headers["vary"]
        preflight = client.options(
            "/api/clients",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "if-none-match",
            },
        )
        assert preflight.status_code == 200
        assert "if-none-match" in preflight.headers["access-control-allow-headers"].lower()


def test_every_answer_varies_on_origin_so_shared_caches_keep_cors_apart(client: TestClient) -> None:
    # A cached answer to a request without Origin (no CORS headers) must not be reused for a browser's.
    for path in ("/api/clients", "/api/clients?delay=0"):
        response = client.get(path)
        assert "access-control-allow-origin" not in response.headers
        assert "Origin" in response.headers["vary"], path


# --- rehearsing bad days -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("delay=10001", "delay"),
        ("delay=-1", "delay"),
        ("delay=soon", "delay"),
        ("fail=399", "fail"),
        ("fail=600", "fail"),
        ("fail=200", "fail"),
        ("fail=oops", "fail"),
        ("delay=0.0", "delay"),  # pydantic alone reads a whole float as an int
        ("fail=500.0", "fail"),
    ],
)
def test_delay_and_fail_out_of_bounds_are_422(client: TestClient, query: str, named: str) -> None:
    for path in ("/api/leads", "/api/leads/lead-1", "/api/history", "/health"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 422, path
        assert response.json()["detail"][0]["loc"] == ["query", named]


@pytest.mark.parametrize("status", [400, 404, 418, 500, 503, 599])
def test_fail_answers_that_status_with_a_json_body(client: TestClient, status: int) -> None:
    for path in ("/api/leads", "/api/leads/lead-1", "/api/history", "/health"):
        response = client.get(f"{path}?fail={status}")
        assert response.status_code == status
        assert response.headers["content-type"] == "application/json"
        assert str(status) in response.json()["detail"]


def record_waits(app: FastAPI) -> list[float]:
    """The waits rehearsed delays of this app ask for, in order (each one is still waited)."""
    recorded: list[float] = []

    async def record(seconds: float) -> None:
        recorded.append(seconds)
        await asyncio.sleep(seconds)

    app.dependency_overrides[get_sleep] = lambda: record
    return recorded


@pytest.fixture
def waits(app: FastAPI) -> list[float]:
    return record_waits(app)


def test_delay_waits_then_answers(client: TestClient, waits: list[float]) -> None:
    assert client.get("/api/leads?delay=300").status_code == 200
    assert waits == [0.3]
    assert client.get("/api/leads?delay=200&fail=503").status_code == 503
    assert waits == [0.3, 0.2]
    assert client.get("/api/leads").status_code == 200
    assert waits == [0.3, 0.2]


def test_fail_and_delay_leave_other_methods_alone(client: TestClient, waits: list[float]) -> None:
    response = client.post("/api/regenerate?fail=503&delay=2000")
    assert response.status_code == 200
    assert waits == []


@pytest.mark.slow
def test_simulated_latency_slows_every_get(tmp_path: Any) -> None:
    app = main.create_app(make_settings(simulated_latency_ms=200, reports_dir=tmp_path))
    recorded = record_waits(app)
    with TestClient(app) as client:
        for path in ("/api/clients", "/api/clients?limit=1", "/api/technicians/tech-1", "/health"):
            recorded.clear()
            assert client.get(path).status_code == 200
            assert recorded == [0.2], path
        recorded.clear()
        assert client.get("/api/clients?delay=100").status_code == 200
        assert recorded == [0.3]
        recorded.clear()
        assert client.post("/api/regenerate").status_code == 200
        assert recorded == []
