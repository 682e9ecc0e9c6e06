"""Business scenarios: each moves the figures it names, within its window, ends by itself, breaks no invariant."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import data_generator as dg
import main
from prism.services import services_of
from rules import KPI_NAMES, EntityKind
from simulator import Simulator
from tests.support import make_settings
from tests.support.invariants import check_items, check_snapshot, parse_time
from tests.support.oracles import expected_kpis

COUNTS = make_settings().entity_counts
START, LENGTH = 600_000, 200
END = START + LENGTH
# Samples inside the window where every item has been rebuilt since the scenario reached most of its strength.
INSIDE = (START + 60, START + 110, START + 160)
SEEDS = (77, 3, 20250115)
TARGET = 2  # vendor-3

Figure = Callable[[dg.Snapshot], float]


def world(seed: int) -> dg.Generation:
    return dg.new_generation(counts=COUNTS, interval=30, now=dg.FIXED_EPOCH, seed=seed)


def with_run(generation: dg.Generation, name: str) -> dg.Generation:
    return generation.with_scenario(dg.ScenarioRun(name, START, END, TARGET if name == "vendor-outage" else 0))


def count(kind: EntityKind, field: str, value: Any) -> Figure:
    return lambda snapshot: sum(item[field] == value for item in snapshot.items[kind])


def mean(kind: EntityKind, field: str) -> Figure:
    return lambda snapshot: statistics.fmean(item[field] for item in snapshot.items[kind])


def within_days(kind: EntityKind, field: str, days: int) -> Figure:
    def figure(snapshot: dg.Snapshot) -> float:
        horizon = snapshot.time.date() + timedelta(days=days)
        return sum(date.fromisoformat(item[field]) <= horizon for item in snapshot.items[kind])

    return figure


def one_item(kind: EntityKind, item_id: str, field: str) -> Figure:
    return lambda snapshot: snapshot.by_id(kind)[item_id][field]


def contracts_of_target(field: str) -> Figure:
    def figure(snapshot: dg.Snapshot) -> float:
        hit = [c[field] for c in snapshot.items["contracts"] if c["vendorId"] == f"vendor-{TARGET + 1}"]
        assert hit, "the target vendor has no contract in this world"
        return statistics.fmean(hit)

    return figure


# Per scenario, the figures it names and the way each must move (+1 up, -1 down).
EFFECTS: dict[str, list[tuple[str, Figure, int]]] = {
    "churn-wave": [
        ("mean margin", mean("clients", "marginPercentage"), -1),
        ("At Risk clients", count("clients", "status", "At Risk"), +1),
        ("High churn risk", count("clients", "churnRisk", "High"), +1),
    ],
    "renewal-season": [
        ("contracts Expiring Soon", count("contracts", "status", "Expiring Soon"), +1),
        ("licenses renewing within 90 days", within_days("licenses", "renewalDate", 90), +1),
    ],
    "vendor-outage": [
        ("the vendor's performanceScore", one_item("vendors", f"vendor-{TARGET + 1}", "performanceScore"), -1),
        ("its contracts' slaCompliance", contracts_of_target("slaCompliance"), -1),
    ],
    "budget-freeze": [
        ("departments' actualSpend", mean("departments", "actualSpend"), -1),
        ("departments' variance", mean("departments", "variance"), +1),
    ],
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", list(EFFECTS))
def test_a_scenario_moves_its_figures_inside_its_window_only(name: str, seed: int) -> None:
    calm_world = world(seed)
    stormy_world = with_run(calm_world, name)
    before = START - 1
    assert dg.compute_snapshot(stormy_world, before).items == dg.compute_snapshot(calm_world, before).items
    previous = None
    for tick in INSIDE:
        calm, stormy = dg.compute_snapshot(calm_world, tick), dg.compute_snapshot(stormy_world, tick)
        check_snapshot(stormy, previous)
        previous = stormy
        for label, figure, direction in EFFECTS[name]:
            moved = figure(stormy) - figure(calm)
            assert moved * direction > 0, f"{name} at +{tick - START}: {label} {figure(calm)} -> {figure(stormy)}"
    # It ends by itself: once every item has changed after the end, no trace is left.
    after = END + dg.CHANGE_BLOCK
    assert dg.compute_snapshot(stormy_world, after).items == dg.compute_snapshot(calm_world, after).items


def test_a_churn_wave_squeezes_every_margin_and_puts_clients_at_risk() -> None:
    calm_world = world(SEEDS[0])
    calm, wave = (
        dg.compute_snapshot(calm_world, INSIDE[1]),
        dg.compute_snapshot(with_run(calm_world, "churn-wave"), INSIDE[1]),
    )
    for before, during in zip(calm.items["clients"], wave.items["clients"], strict=True):
        assert during["marginPercentage"] <= before["marginPercentage"]
        assert during["marginPercentage"] < before["marginPercentage"] or before["marginPercentage"] < 6.5
        # The wave squeezes the same clients: nobody leaves because of it.
        assert during["id"] == before["id"]
    assert expected_kpis(wave.items)["atRiskClients"] > expected_kpis(calm.items)["atRiskClients"]
    assert expected_kpis(wave.items)["averageMargin"] < expected_kpis(calm.items)["averageMargin"] - 8


def test_a_vendor_outage_hurts_only_that_vendor_and_its_contracts() -> None:
    calm_world = world(SEEDS[0])
    outage_world = with_run(calm_world, "vendor-outage")
    target = f"vendor-{TARGET + 1}"
    for tick in INSIDE:
        calm, outage = dg.compute_snapshot(calm_world, tick), dg.compute_snapshot(outage_world, tick)
        assert (
            outage.by_id("vendors")[target]["performanceScore"] < calm.by_id("vendors")[target]["performanceScore"] - 15
        )
        for before, during in zip(calm.items["contracts"], outage.items["contracts"], strict=True):
            if during["vendorId"] == target:
                assert during["slaCompliance"] < before["slaCompliance"], during["id"]
            else:
                assert during == before
        others = [v for v in outage.items["vendors"] if v["id"] != target]
        assert others == [v for v in calm.items["vendors"] if v["id"] != target]


def test_a_budget_freeze_turns_every_departments_variance_positive() -> None:
    calm_world = world(SEEDS[0])
    for tick in INSIDE:
        calm = dg.compute_snapshot(calm_world, tick)
        frozen = dg.compute_snapshot(with_run(calm_world, "budget-freeze"), tick)
        for before, during in zip(calm.items["departments"], frozen.items["departments"], strict=True):
            assert during["actualSpend"] < before["actualSpend"]
            assert during["variance"] > max(0, before["variance"])
            assert during["variancePercentage"] > 0


def test_intensity_ramps_up_and_down_inside_the_window() -> None:
    run = dg.ScenarioRun("churn-wave", 100, 200)
    levels = [run.intensity(tick) for tick in range(95, 206)]
    assert levels[:5] == [0.0] * 5
    assert levels[-6:] == [0.0] * 6  # tick 200 is the first after the end
    assert max(levels) == 1.0
    assert all(0 < level <= 1 for level in levels[5:-6])
    assert levels[5:26] == sorted(levels[5:26])
    assert dg.ScenarioRun("churn-wave", 100, 101).intensity(100) == 1.0  # a one-tick scenario acts fully
    generation = world(1).with_scenario(dg.ScenarioRun("vendor-outage", 100, 200, target=4))
    assert generation.scenario_intensity("vendor-outage", 150, target=4) == 1.0
    assert generation.scenario_intensity("vendor-outage", 150, target=3) == 0.0
    assert generation.scenario_intensity("budget-freeze", 150) == 0.0


# --- over HTTP ---------------------------------------------------------------------------------

FAST_TICK = 0.2


@pytest.fixture(scope="module")
def fast_app() -> FastAPI:
    return main.create_app(make_settings(update_interval_seconds=FAST_TICK))


@pytest.fixture(scope="module")
def client(fast_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(fast_app) as test_client:
        yield test_client


def served_generation(client: TestClient) -> dg.Generation:
    """The served world as any client can rebuild it: the generation from /api/stats plus its scenarios."""
    stats = client.get("/api/stats").json()
    epoch = datetime.fromisoformat(stats["epoch"].replace("Z", "+00:00"))
    generation = dg.Generation(stats["seed"], epoch, stats["update_interval"], stats["counts"], epoch)
    for run in client.get("/api/scenarios").json()["runs"]:
        target = int(run["target"].removeprefix("vendor-")) - 1 if run["target"] else 0
        generation = generation.with_scenario(dg.ScenarioRun(run["name"], run["startTick"], run["endTick"], target))
    return generation


@pytest.fixture
def driven() -> Iterator[tuple[TestClient, Simulator, Callable[[int], dict[str, Any]]]]:
    """The app on a clock only the test moves, and a way to tick it to a given tick (no tick task of its own)."""
    moments = [datetime(2026, 3, 2, 9, 0, 5, tzinfo=dg.FIXED_EPOCH.tzinfo)]

    async def never(seconds: float) -> None:
        await asyncio.Event().wait()

    app = main.create_app(
        make_settings(), simulator_factory=lambda s: Simulator(s, clock=lambda: moments[-1], sleep=never)
    )
    with TestClient(app) as test_client:
        simulator: Simulator = services_of(app).simulator

        def tick_to(tick: int) -> dict[str, Any]:
            moments.append(simulator.generation.time_of(tick))
            simulator.step()
            stats: dict[str, Any] = test_client.get("/api/stats").json()
            assert stats["tick"] == tick
            return stats

        yield test_client, simulator, tick_to


def test_the_catalogue_lists_the_four_scenarios(client: TestClient) -> None:
    catalogue = client.get("/api/scenarios").json()
    assert set(catalogue["available"]) == set(EFFECTS)
    assert all(description for description in catalogue["available"].values())


@pytest.mark.slow
def test_a_scenario_started_over_http_runs_in_the_served_world_and_ends_by_itself(
    driven: tuple[TestClient, Simulator, Callable[[int], dict[str, Any]]],
) -> None:
    client, simulator, tick_to = driven
    started = client.post("/api/scenarios", json={"name": "churn-wave", "durationTicks": 12})
    assert started.status_code == 201
    run = started.json()
    assert run["endTick"] - run["startTick"] == 12
    assert run["target"] is None
    assert run["active"] is False  # it starts at the next tick
    assert parse_time(run["startsAt"]) < parse_time(run["endsAt"])
    assert client.get("/api/scenarios").json()["runs"] == [run]

    stats = tick_to(run["startTick"] + 2)
    runs = client.get("/api/scenarios").json()["runs"]
    assert "churn-wave" in stats["scenarios"]
    assert {**run, "active": True} in runs
    generation = served_generation(client)
    response = client.get("/api/clients")
    tick = int(response.headers["x-tick"])
    served = {
        kind: client.get(f"/api/{kind}", params={"at": dg.iso_time(generation.time_of(tick))}).json()
        for kind in dg.ENTITY_KINDS
    }
    assert response.json() == list(dg.compute_snapshot(generation, tick).items["clients"])  # deterministic
    check_items(served, generation.time_of(tick))

    stats = tick_to(run["endTick"])
    assert stats["scenarios"] == []
    assert {**run, "active": False} in client.get("/api/scenarios").json()["runs"]
    # Visible in history: the KPIs of the scenario's ticks are those of the world with the scenario.
    points = client.get(
        "/api/history",
        params={
            "from": run["startsAt"],
            "to": dg.iso_time(generation.time_of(run["endTick"])),
            "step": "30s",
        },
    ).json()["points"]
    assert [point["tick"] for point in points] == list(range(run["startTick"], run["endTick"] + 1))
    for point in points[::3]:
        assert {name: point[name] for name in KPI_NAMES} == expected_kpis(
            dg.compute_snapshot(generation, point["tick"]).items
        )
    announced = [event for event in simulator.events.since(0) if event.kind == "scenario"]
    assert announced[-1].data["scenarios"][-1] == "churn-wave"


def test_a_vendor_outage_names_its_vendor(client: TestClient) -> None:
    chosen = client.post("/api/scenarios", json={"name": "vendor-outage", "durationTicks": 3, "vendorId": "vendor-15"})
    assert chosen.status_code == 201
    assert chosen.json()["target"] == "vendor-15"
    picked = client.post("/api/scenarios", json={"name": "vendor-outage", "durationTicks": 3})
    assert picked.status_code == 201
    assert 1 <= int(picked.json()["target"].removeprefix("vendor-")) <= COUNTS["vendors"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"name": "meteor"}, "name"),
        ({}, "name"),
        ({"name": "churn-wave", "durationTicks": 0}, "durationTicks"),
        ({"name": "churn-wave", "durationTicks": -5}, "durationTicks"),
        ({"name": "churn-wave", "durationTicks": 100_001}, "durationTicks"),
        ({"name": "churn-wave", "durationTicks": "long"}, "durationTicks"),
        ({"name": "vendor-outage", "vendorId": "vendor-16"}, "vendorId"),
        ({"name": "vendor-outage", "vendorId": "vendor-0"}, "vendorId"),
        ({"name": "vendor-outage", "vendorId": "client-1"}, "vendorId"),
        ({"name": "churn-wave", "colour": "red"}, "colour"),
    ],
)
def test_bad_scenario_requests_are_422_naming_the_field(client: TestClient, body: dict[str, Any], named: str) -> None:
    runs = len(client.get("/api/scenarios").json()["runs"])
    response = client.post("/api/scenarios", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == named
    assert len(client.get("/api/scenarios").json()["runs"]) == runs


@pytest.mark.slow
def test_starting_a_scenario_needs_the_api_key_when_one_is_set() -> None:
    app = main.create_app(make_settings(api_key="s3cret"))
    with TestClient(app) as client:
        body = {"name": "budget-freeze", "durationTicks": 5}
        for headers in ({}, {"X-API-Key": "wrong"}):
            refused = client.post("/api/scenarios", json=body, headers=headers)
            assert refused.status_code == 401
            assert refused.json()["detail"]
        assert client.get("/api/scenarios").json()["runs"] == []
        assert client.post("/api/scenarios", json=body, headers={"X-API-Key": "s3cret"}).status_code == 201
        assert len(client.get("/api/scenarios").json()["runs"]) == 1


def test_a_vendor_outage_without_vendors_is_a_422_saying_so(tmp_path: Any) -> None:
    app = main.create_app(make_settings(vendor_count=0, contract_count=0, reports_dir=tmp_path))
    with TestClient(app) as client:
        response = client.post("/api/scenarios", json={"name": "vendor-outage", "durationTicks": 5})
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {"loc": ["body", "name"], "msg": "a vendor outage needs at least one vendor", "type": "value_error"}
        ]
        assert client.get("/api/scenarios").json()["runs"] == []
        assert client.post("/api/scenarios", json={"name": "churn-wave", "durationTicks": 5}).status_code == 201


@pytest.mark.slow
def test_a_scenario_that_loses_the_race_with_a_tick_is_a_409(
    driven: tuple[TestClient, Simulator, Callable[[int], dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, simulator, _ = driven
    tick = client.get("/api/stats").json()["tick"]
    with_scenario = dg.Generation.with_scenario

    def a_tick_meanwhile(generation: dg.Generation, *args: Any, **kwargs: Any) -> dg.Generation:
        simulator.step()  # the world moves on between reading the tick and swapping the generation
        return with_scenario(generation, *args, **kwargs)

    monkeypatch.setattr(dg.Generation, "with_scenario", a_tick_meanwhile)
    response = client.post("/api/scenarios", json={"name": "budget-freeze", "durationTicks": 5})
    assert response.status_code == 409
    assert response.json() == {"detail": "the world moved on while the scenario was being started; try again"}
    monkeypatch.undo()
    assert client.get("/api/scenarios").json()["runs"] == []
    assert client.get("/api/stats").json()["tick"] == tick + 1
    assert client.post("/api/scenarios", json={"name": "budget-freeze", "durationTicks": 5}).status_code == 201
