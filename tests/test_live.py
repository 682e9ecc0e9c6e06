"""What a dashboard needs beyond the lists: querying, time travel, history, caching, rehearsal, scenarios."""

from __future__ import annotations

import gzip
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import data_generator as dg
import main
from kpis import KPI_NAMES, compute_kpis
from simulator import Simulator
from tests.conftest import make_settings
from tests.invariants import check_snapshot


def simulator_of(app: FastAPI) -> Simulator:
    simulator: Simulator = app.state.simulator
    return simulator


def served(client: TestClient, path: str, **params: Any) -> tuple[list[dict[str, Any]], int, int]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json(), int(response.headers["x-total-count"]), int(response.headers["x-tick"])


# --- querying -----------------------------------------------------------------------------------


def _reference(
    items: list[dict[str, Any]], *, sort: str | None = None, desc: bool = False, **filters: Any
) -> list[Any]:
    matched = [item for item in items if all(item[name] in values for name, values in filters.items())]
    return sorted(matched, key=lambda item: item[sort], reverse=desc) if sort else matched


@pytest.mark.parametrize(
    ("params", "sort", "desc", "filters"),
    [
        ({"sort": "marginPercentage"}, "marginPercentage", False, {}),
        ({"sort": "contractType", "order": "desc"}, "contractType", True, {}),  # many ties: stable order kept
        ({"status": "Active"}, None, False, {"status": ["Active"]}),
        ({"status": ["Active", "At Risk"], "sort": "name"}, "name", False, {"status": ["Active", "At Risk"]}),
        (
            {"contractType": "Premium", "churnRisk": "Low"},
            None,
            False,
            {"contractType": ["Premium"], "churnRisk": ["Low"]},
        ),
    ],
)
def test_filters_and_sorting_match_a_plain_python_reference(
    client: TestClient, app: FastAPI, params: dict[str, Any], sort: str | None, desc: bool, filters: dict[str, Any]
) -> None:
    items, total, tick = served(client, "/api/clients", **params)
    snapshot = simulator_of(app).snapshot_at(tick)
    expected = _reference(list(snapshot.items["clients"]), sort=sort, desc=desc, **filters)
    assert items == expected
    assert total == len(expected)


def test_filters_on_numbers_and_booleans(client: TestClient, app: FastAPI) -> None:
    contracts, _, tick = served(client, "/api/contracts", autoRenew="false")
    snapshot = simulator_of(app).snapshot_at(tick)
    assert contracts == [c for c in snapshot.items["contracts"] if c["autoRenew"] is False]
    first = snapshot.items["clients"][0]
    by_number, total, _ = served(
        client, "/api/clients", employeeCount=str(first["employeeCount"]), at=dg.iso_time(snapshot.time)
    )
    assert first in by_number
    assert total == sum(c["employeeCount"] == first["employeeCount"] for c in snapshot.items["clients"])


def test_paging_edges(client: TestClient, app: FastAPI) -> None:
    page, total, tick = served(client, "/api/licenses", limit=7, offset=5, sort="totalLicenses")
    everything = _reference(list(simulator_of(app).snapshot_at(tick).items["licenses"]), sort="totalLicenses")
    assert page == everything[5:12]
    assert total == 30
    assert served(client, "/api/licenses", limit=0)[0] == []
    assert served(client, "/api/licenses", limit=0)[1] == 30
    assert served(client, "/api/licenses", offset=500)[0] == []
    assert served(client, "/api/licenses", offset=29)[0] == [
        everything_item for everything_item in simulator_of(app).snapshot.items["licenses"][29:]
    ]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("nonsense=1", "nonsense"),
        ("certifications=CISSP", "certifications"),  # a list, not a single value
        ("hourlyRate=cheap", "hourlyRate"),
        ("activeProjects=1.5", "activeProjects"),
        ("sort=nope", "sort"),
        ("order=sideways", "order"),
        ("limit=-1", "limit"),
        ("offset=-3", "offset"),
    ],
)
def test_unknown_fields_and_wrong_types_are_422_naming_them(client: TestClient, query: str, named: str) -> None:
    response = client.get(f"/api/technicians?{query}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == named


def test_at_serves_the_snapshot_of_that_time(client: TestClient, app: FastAPI) -> None:
    simulator = simulator_of(app)
    moment = simulator.snapshot.time - timedelta(hours=5, seconds=10)
    tick = simulator.generation.tick_at(moment)
    for kind in dg.ENTITY_KINDS:
        response = client.get(f"/api/{kind}", params={"at": moment.isoformat()})
        assert response.status_code == 200
        assert int(response.headers["x-tick"]) == tick
        assert response.json() == list(dg.compute_snapshot(simulator.generation, tick).items[kind])
    for outside in ("2001-01-01T00:00:00Z", (simulator.snapshot.time + timedelta(days=3)).isoformat()):
        refused = client.get("/api/clients", params={"at": outside})
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["query", "at"]


def test_one_item_and_404_for_a_missing_one(client: TestClient, app: FastAPI) -> None:
    response = client.get("/api/vendors/vendor-4")
    assert response.status_code == 200
    snapshot = simulator_of(app).snapshot_at(int(response.headers["x-tick"]))
    assert response.json() == snapshot.by_id("vendors")["vendor-4"]
    for missing in ("vendor-16", "vendor-0", "vendor-04", "client-1", "../etc"):
        answer = client.get(f"/api/vendors/{missing}")
        assert answer.status_code == 404
        assert "detail" in answer.json()


# --- history ------------------------------------------------------------------------------------


def test_history_equals_the_kpis_of_the_snapshots_at_those_ticks(client: TestClient, app: FastAPI) -> None:
    simulator = simulator_of(app)
    end = simulator.snapshot.time
    response = client.get(
        "/api/history", params={"from": (end - timedelta(hours=2)).isoformat(), "to": end.isoformat(), "step": "10m"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["stepSeconds"] == 600
    ticks = [point["tick"] for point in body["points"]]
    assert len(ticks) in (12, 13)
    assert all(tick % 20 == 0 for tick in ticks)  # on the step's fixed grid, so repeated charts hit the cache
    assert ticks == list(range(ticks[0], ticks[-1] + 1, 20))
    assert simulator.generation.time_of(ticks[0]) - (end - timedelta(hours=2)) < timedelta(minutes=10)
    for point in body["points"][::3]:
        kpis = compute_kpis(dg.compute_snapshot(simulator.generation, point["tick"]))
        assert {name: point[name] for name in KPI_NAMES} == kpis
        assert point["time"] == dg.iso_time(simulator.generation.time_of(point["tick"]))


def test_history_limits(client: TestClient, app: FastAPI) -> None:
    end = simulator_of(app).snapshot.time
    default = client.get("/api/history").json()
    assert 100 <= len(default["points"]) <= 1000
    too_many = client.get("/api/history", params={"from": (end - timedelta(days=2)).isoformat(), "step": "30s"})
    assert too_many.status_code == 422
    assert "at most 1000" in too_many.json()["detail"][0]["msg"]
    backwards = client.get(
        "/api/history", params={"from": end.isoformat(), "to": (end - timedelta(hours=1)).isoformat()}
    )
    assert backwards.status_code == 422
    assert client.get("/api/history", params={"step": "soon"}).status_code == 422
    assert client.get("/api/history", params={"from": "1999-01-01T00:00:00Z"}).status_code == 422
    day = client.get("/api/history", params={"from": (end - timedelta(hours=24)).isoformat()})
    assert day.status_code == 200
    assert len(day.json()["points"]) <= 1000


def test_item_history_equals_the_item_in_those_snapshots(client: TestClient, app: FastAPI) -> None:
    simulator = simulator_of(app)
    body = client.get("/api/leads/lead-5/history", params={"step": "15m"}).json()
    assert body["id"] == "lead-5"
    assert len(body["points"]) in (4, 5)
    for point in body["points"]:
        assert point["item"] == dg.compute_snapshot(simulator.generation, point["tick"]).by_id("leads")["lead-5"]
    assert client.get("/api/leads/lead-99/history").status_code == 404


# --- caching and compression -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/clients", "/api/clients?limit=3", "/api/clients/client-2", "/api/history"])
def test_etag_and_304(client: TestClient, path: str) -> None:
    first = client.get(path)
    etag = first.headers["etag"]
    assert first.headers["x-tick"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_large_answers_are_gzipped_for_clients_that_accept_it(client: TestClient) -> None:
    plain = client.get("/api/departments", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    compressed = client.get("/api/departments", headers={"Accept-Encoding": "gzip"})
    assert compressed.headers["content-encoding"] == "gzip"
    assert compressed.json() == plain.json()  # the client decompresses
    assert int(compressed.headers["content-length"]) < len(plain.content) / 3
    assert gzip.decompress(gzip.compress(plain.content)) == plain.content


def test_a_plain_list_is_the_same_bytes_with_and_without_the_fast_path() -> None:
    fast = main.create_app(make_settings())
    slow = main.create_app(make_settings(simulated_latency_ms=1))  # the shortcut is off when GETs are slowed
    with TestClient(fast) as a, TestClient(slow) as b:
        for kind in dg.ENTITY_KINDS:
            x = a.get(f"/api/{kind}", headers={"Origin": "https://x.example"})
            y = b.get(f"/api/{kind}", headers={"Origin": "https://x.example"})
            assert x.headers["content-type"] == y.headers["content-type"] == "application/json"
            if x.headers["x-tick"] == y.headers["x-tick"]:
                assert x.content == y.content
            assert isinstance(x.json(), list)
            for response in (x, y):
                exposed = response.headers["access-control-expose-headers"]
                assert {"X-Total-Count", "X-Tick", "ETag"} <= {h.strip() for h in exposed.split(",")}


# --- rehearsing bad days ------------------------------------------------------------------------


def test_delay_and_fail_bounds(client: TestClient) -> None:
    started = time.perf_counter()
    assert client.get("/api/leads?delay=300").status_code == 200
    assert time.perf_counter() - started >= 0.3
    assert client.get("/api/leads?delay=10001").status_code == 422
    assert client.get("/api/leads?delay=-1").status_code == 422
    failed = client.get("/api/leads?fail=503")
    assert failed.status_code == 503
    assert "503" in failed.json()["detail"]
    assert client.get("/health?fail=418").status_code == 418
    assert client.get("/api/leads?fail=200").status_code == 422
    assert client.get("/api/leads?fail=600").status_code == 422


def test_simulated_latency_slows_every_get() -> None:
    with TestClient(main.create_app(make_settings(simulated_latency_ms=250))) as client:
        started = time.perf_counter()
        assert client.get("/api/clients").status_code == 200
        assert client.get("/health").status_code == 200
        assert time.perf_counter() - started >= 0.5


# --- scenarios ----------------------------------------------------------------------------------

BASE = dg.new_generation(counts=make_settings().entity_counts, interval=30, now=dg.FIXED_EPOCH, seed=77)
START = 600_000


def _with(name: str, target: int = 0) -> dg.Generation:
    return BASE.with_scenario(dg.ScenarioRun(name, START, START + 200, target))


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _window(generation: dg.Generation) -> list[dg.Snapshot]:
    return [dg.compute_snapshot(generation, START + offset) for offset in (60, 100, 140)]


def test_churn_wave_squeezes_margins_and_raises_risk() -> None:
    for calm, wave in zip(_window(BASE), _window(_with("churn-wave")), strict=True):
        check_snapshot(wave)
        margin = _mean([c["marginPercentage"] for c in calm.items["clients"]])
        squeezed = _mean([c["marginPercentage"] for c in wave.items["clients"]])
        assert squeezed < margin - 5
        risky = sum(c["status"] != "Active" for c in wave.items["clients"])
        assert risky > sum(c["status"] != "Active" for c in calm.items["clients"])


def test_renewal_season_pulls_renewals_forward() -> None:
    for calm, season in zip(_window(BASE), _window(_with("renewal-season")), strict=True):
        check_snapshot(season)
        soon = sum(c["status"] != "Active" for c in season.items["contracts"])
        assert soon > sum(c["status"] != "Active" for c in calm.items["contracts"])
        assert min(x["renewalDate"] for x in season.items["licenses"]) <= min(
            x["renewalDate"] for x in calm.items["licenses"]
        )
        assert sorted(x["renewalDate"] for x in season.items["licenses"]) < sorted(
            x["renewalDate"] for x in calm.items["licenses"]
        )


def test_vendor_outage_hurts_one_vendor_and_its_contracts() -> None:
    for calm, outage in zip(_window(BASE), _window(_with("vendor-outage", target=2)), strict=True):
        check_snapshot(outage)
        assert (
            outage.by_id("vendors")["vendor-3"]["performanceScore"]
            < calm.by_id("vendors")["vendor-3"]["performanceScore"] - 15
        )
        assert outage.by_id("vendors")["vendor-1"] == calm.by_id("vendors")["vendor-1"]
        hit = [c["id"] for c in calm.items["contracts"] if c["vendorId"] == "vendor-3"]
        for contract_id in hit:
            assert (
                outage.by_id("contracts")[contract_id]["slaCompliance"]
                < calm.by_id("contracts")[contract_id]["slaCompliance"]
            )


def test_budget_freeze_slows_spending_and_turns_variance_positive() -> None:
    for calm, freeze in zip(_window(BASE), _window(_with("budget-freeze")), strict=True):
        check_snapshot(freeze)
        for before, after in zip(calm.items["departments"], freeze.items["departments"], strict=True):
            assert after["actualSpend"] < before["actualSpend"]
            assert after["variance"] > 0


def test_a_scenario_ends_by_itself() -> None:
    # Every item changes at least once per change block, so a block after the end no trace is left.
    later = START + 200 + dg.CHANGE_BLOCK
    assert dg.compute_snapshot(_with("churn-wave"), later).items == dg.compute_snapshot(BASE, later).items


def test_scenarios_over_http(client: TestClient) -> None:
    catalogue = client.get("/api/scenarios").json()
    assert set(catalogue["available"]) == {"churn-wave", "renewal-season", "vendor-outage", "budget-freeze"}
    assert catalogue["runs"] == []
    started = client.post("/api/scenarios", json={"name": "vendor-outage", "durationTicks": 30, "vendorId": "vendor-2"})
    assert started.status_code == 201
    run = started.json()
    assert run["target"] == "vendor-2"
    assert run["endTick"] - run["startTick"] == 30
    assert client.get("/api/scenarios").json()["runs"] == [{**run, "active": False}]
    for bad in (
        {"name": "meteor"},
        {"name": "churn-wave", "durationTicks": 0},
        {"name": "vendor-outage", "vendorId": "vendor-99"},
    ):
        assert client.post("/api/scenarios", json=bad).status_code == 422
