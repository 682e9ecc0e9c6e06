"""KPI and item history: equal to the snapshots at those ticks, on a fixed grid, within the limits."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import data_generator as dg
from history import MAX_POINTS, MAX_WORK, Cancelled, KpiSeries, check_work, parse_step, plan_ticks
from prism.services import services_of
from prism.simulation.series import KpiColumns, Row
from rules import KPI_NAMES
from tests.support import make_settings, module_app_and_client
from tests.support.oracles import expected_kpis

GENERATION = dg.new_generation(counts=make_settings().entity_counts, interval=30, now=dg.FIXED_EPOCH, seed=5)


# A 30 s tick: consecutive requests of a test nearly always see the same tick.
app, client = module_app_and_client()


def generation_of(app: FastAPI) -> dg.Generation:
    return services_of(app).simulator.generation


def history(client: TestClient, path: str = "/api/history", **params: str) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    body["x-tick"] = int(response.headers["x-tick"])
    return body


def iso(generation: dg.Generation, tick: int) -> str:
    return dg.iso_time(generation.time_of(tick))


def kpis_at(generation: dg.Generation, tick: int) -> dict[str, float]:
    """The KPIs of a tick, worked out from its items by the test's own arithmetic."""
    return expected_kpis(dg.compute_snapshot(generation, tick).items)


# --- KPI history over HTTP ---------------------------------------------------------------------


def test_history_equals_the_kpis_of_the_snapshots_at_those_ticks(client: TestClient, app: FastAPI) -> None:
    generation = generation_of(app)
    end = history(client)["x-tick"]
    start = end - 240  # two hours
    body = history(client, **{"from": iso(generation, start), "to": iso(generation, end), "step": "10m"})
    assert body["stepSeconds"] == 600
    ticks = [point["tick"] for point in body["points"]]
    # On the step's fixed grid (multiples of 20 ticks), so a chart polled again asks for the same ticks.
    assert ticks == list(range(-(-start // 20) * 20, end + 1, 20))
    assert body["start"] == iso(generation, ticks[0])
    assert body["end"] == iso(generation, ticks[-1])
    for point in body["points"]:
        assert point["time"] == iso(generation, point["tick"])
        assert {name: point[name] for name in KPI_NAMES} == kpis_at(generation, point["tick"])


def test_the_default_is_the_last_hour_tick_by_tick(client: TestClient, app: FastAPI) -> None:
    generation = generation_of(app)
    body = history(client)
    ticks = [point["tick"] for point in body["points"]]
    assert ticks == list(range(ticks[-1] - 120, ticks[-1] + 1))
    assert ticks[-1] == body["x-tick"]
    assert body["stepSeconds"] == 30
    for point in body["points"][::40]:
        assert {name: point[name] for name in KPI_NAMES} == kpis_at(generation, point["tick"])


def test_history_reaches_back_to_the_start_of_the_generation(client: TestClient, app: FastAPI) -> None:
    generation = generation_of(app)
    first = generation.first_tick
    body = history(client, **{"from": iso(generation, first), "to": iso(generation, first + 60), "step": "15m"})
    assert [point["tick"] for point in body["points"]] == [t for t in range(first, first + 61) if t % 30 == 0]
    for point in body["points"]:
        assert {name: point[name] for name in KPI_NAMES} == kpis_at(generation, point["tick"])


def test_exactly_the_point_limit_is_served_and_one_more_is_422(client: TestClient, app: FastAPI) -> None:
    generation = generation_of(app)
    end = history(client)["x-tick"]
    window = {"to": iso(generation, end), "step": "30s"}
    body = history(client, **{"from": iso(generation, end - (MAX_POINTS - 1)), **window})
    assert len(body["points"]) == MAX_POINTS
    too_many = client.get("/api/history", params={"from": iso(generation, end - MAX_POINTS), **window})
    assert too_many.status_code == 422
    detail = too_many.json()["detail"][0]
    assert detail["loc"] == ["query", "step"]
    assert "at most 1000" in detail["msg"]


def _limits(generation: dg.Generation, end: int) -> list[tuple[dict[str, str], str]]:
    first = generation.time_of(generation.first_tick)
    return [
        ({"from": iso(generation, end - 5000), "to": iso(generation, end), "step": "30s"}, "step"),
        ({"from": dg.iso_time(datetime.now(UTC) - timedelta(days=30)), "step": "1m"}, "step"),
        ({"from": iso(generation, end), "to": iso(generation, end - 120)}, "from"),
        ({"from": dg.iso_time(first - timedelta(seconds=1))}, "from"),
        ({"from": "1999-01-01T00:00:00Z", "to": "1999-01-02T00:00:00Z"}, "to"),
        ({"to": dg.iso_time(datetime.now(UTC) + timedelta(minutes=10))}, "to"),
        ({"from": "last tuesday"}, "from"),
        ({"from": "0001-01-01T00:00:00+01:00"}, "from"),  # before the calendar starts once in UTC
        ({"to": "9999-12-31T23:59:59-14:00"}, "to"),
        *(({"step": step}, "step") for step in ("soon", "0", "-5m", "nan", "inf", "1e300", "99999999999d", "", "5x")),
    ]


@pytest.mark.slow
def test_history_limits_are_422_naming_the_parameter(client: TestClient, app: FastAPI) -> None:
    generation = generation_of(app)
    end = history(client)["x-tick"]
    for path in ("/api/history", "/api/technicians/tech-1/history"):
        for params, named in _limits(generation, end):
            response = client.get(path, params=params)
            assert response.status_code == 422, (path, params)
            assert response.json()["detail"][0]["loc"] == ["query", named], (path, params)


# --- item history over HTTP --------------------------------------------------------------------


@pytest.mark.slow
def test_item_history_equals_the_item_in_those_snapshots(client: TestClient, app: FastAPI) -> None:
    generation = generation_of(app)
    end = history(client)["x-tick"]
    params = {"from": iso(generation, end - 90), "to": iso(generation, end), "step": "15m"}
    for kind in dg.ENTITY_KINDS:
        item_id = dg.compute_snapshot(generation, end).items[kind][1]["id"]
        body = history(client, f"/api/{kind}/{item_id}/history", **params)
        assert body["id"] == item_id
        assert body["entity"] == kind
        assert body["stepSeconds"] == 900
        assert [point["tick"] for point in body["points"]] == [t for t in range(end - 90, end + 1) if t % 30 == 0]
        for point in body["points"]:
            assert point["time"] == iso(generation, point["tick"])
            assert point["item"] == dg.compute_snapshot(generation, point["tick"]).by_id(kind)[item_id]


def test_item_history_tick_by_tick_follows_every_change(client: TestClient, app: FastAPI) -> None:
    generation = generation_of(app)
    body = history(client, "/api/technicians/tech-7/history", step="30s")
    points = body["points"]
    assert len(points) == 121
    snapshot = dg.compute_snapshot(generation, points[0]["tick"])
    for point in points:
        while snapshot.tick < point["tick"]:
            snapshot = dg.advance(snapshot)
        assert point["item"] == snapshot.by_id("technicians")["tech-7"]
    changes = {point["item"]["lastUpdated"] for point in points}
    assert len(changes) > 1  # the item moved within the hour


@pytest.mark.parametrize("missing", ["client-99999999", "client-0", "client-01", "lead-1", "client-", "client-1e3"])
def test_item_history_of_a_missing_item_is_404(client: TestClient, missing: str) -> None:
    response = client.get(f"/api/clients/{missing}/history")
    assert response.status_code == 404
    assert missing in response.json()["detail"]


# --- the pieces --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 30), ("30s", 30), ("5m", 300), ("1h", 3600), ("1d", 86_400), ("1.5m", 90), (" 2H ", 7200), ("0.5", 0.5)],
)
def test_steps_are_read_with_their_unit(text: str, seconds: float) -> None:
    assert parse_step(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "0", "-1m", "nan", "inf", "1e400", "1e300", "9e9d", "m", "5x", "1h30m"])
def test_bad_steps_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="step"):
        parse_step(text)


def test_planned_ticks_sit_on_the_steps_grid_within_the_limit() -> None:
    g = GENERATION
    assert plan_ticks(g, g.time_of(1001), g.time_of(1100), timedelta(minutes=5)) == range(1010, 1101, 10)
    # Before the epoch too: the grid is multiples of the stride, whatever the sign.
    assert plan_ticks(g, g.time_of(-25), g.time_of(-1), timedelta(minutes=5)) == range(-20, 0, 10)
    # A step shorter than a tick is one tick; a step longer than the range still gives a point.
    assert plan_ticks(g, g.time_of(7), g.time_of(9), timedelta(seconds=1)) == range(7, 10)
    assert plan_ticks(g, g.time_of(7), g.time_of(9), timedelta(days=1)) == range(9, 10, 2880)
    assert len(plan_ticks(g, g.time_of(0), g.time_of(MAX_POINTS - 1), timedelta(seconds=30))) == MAX_POINTS
    with pytest.raises(ValueError, match="at most 1000"):
        plan_ticks(g, g.time_of(0), g.time_of(MAX_POINTS), timedelta(seconds=30))


def test_without_a_step_the_smallest_stride_that_fits_is_chosen() -> None:
    g = GENERATION
    for span in (1, 999, 1000, 1001, 2880, 20_160, 200_000):
        ticks = plan_ticks(g, g.time_of(50_000 - span), g.time_of(50_000), None)
        assert len(ticks) <= MAX_POINTS
        assert ticks[-1] >= 50_000 - ticks.step
        fewer_would_not_fit = ticks.step == 1 or (span + 1) / (ticks.step - 1) > MAX_POINTS
        assert fewer_would_not_fit, span


@pytest.mark.parametrize("interval", [0.1, 0.2, 0.3, 0.5, 7.3, 30, 86_400])
def test_a_tick_is_read_back_from_its_own_time_at_any_interval(interval: float) -> None:
    # Sub-second ticks number in the hundreds of millions by now: ?at=, from and to must still land on them.
    g = dg.new_generation(counts=GENERATION.counts, interval=interval, now=dg.FIXED_EPOCH, seed=5)
    now = g.tick_at(datetime(2026, 11, 28, tzinfo=UTC))
    microsecond = timedelta(microseconds=1)
    for tick in (*range(now - 300, now), *range(-300, 300)):
        moment = g.time_of(tick)
        assert g.tick_at(moment) == tick
        assert g.tick_at(moment - microsecond) == tick - 1
        assert g.first_tick_from(moment) == tick
        assert g.first_tick_from(moment + microsecond) == tick + 1


def test_the_series_equals_fresh_snapshots_tick_by_tick_and_across_a_long_range() -> None:
    series = KpiSeries()
    for ticks in (range(70_000, 70_060, 3), range(-20_000, 90_000, 997)):
        rows = series.rows(GENERATION, ticks)
        for tick, row in zip(ticks, rows, strict=True):
            assert dict(zip(KPI_NAMES, row, strict=True)) == kpis_at(GENERATION, tick)


def test_a_later_request_computes_only_the_ticks_no_earlier_one_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[list[int]] = []
    computed_rows = KpiColumns.rows

    def recording(self: KpiColumns, ticks: list[int], stop: threading.Event | None = None) -> list[Row]:
        asked.append(list(ticks))
        return computed_rows(self, ticks, stop)

    monkeypatch.setattr(KpiColumns, "rows", recording)
    series, world = KpiSeries(kept=100), dg.World(GENERATION)
    first = series.rows(GENERATION, range(70_000, 70_600, 10), world)
    later = series.rows(GENERATION, range(70_020, 70_620, 10), world)  # the same chart, two points on
    assert asked == [list(range(70_000, 70_600, 10)), [70_600, 70_610]]
    assert later[:-2] == first[2:]
    for tick, row in zip(range(70_020, 70_620, 10), later, strict=True):
        assert dict(zip(KPI_NAMES, row, strict=True)) == kpis_at(GENERATION, tick)
    assert len(series) == 62
    series.rows(GENERATION, range(80_000, 80_050), world)
    assert len(series) == 100  # 12 rows over: those asked for longest ago (70,000 to 70,110) are forgotten
    calls = len(asked)
    series.rows(GENERATION, range(70_120, 70_620, 10), world)
    assert len(asked) == calls  # all still kept
    series.rows(GENERATION, range(70_090, 70_130, 10), world)
    assert asked[-1] == [70_090, 70_100, 70_110]
    scenario = GENERATION.with_scenario(dg.ScenarioRun("churn-wave", 70_000, 70_100))
    stormy = series.rows(scenario, range(70_020, 70_040, 10), dg.World(scenario))
    assert asked[-1] == [70_020, 70_030]  # another world: nothing of the old one is served
    assert [dict(zip(KPI_NAMES, row, strict=True)) for row in stormy] == [
        kpis_at(scenario, tick) for tick in (70_020, 70_030)
    ]


def test_a_history_over_too_many_points_times_items_is_refused_naming_the_limit() -> None:
    big = dg.new_generation(counts={kind: 10_000 for kind in dg.ENTITY_KINDS}, interval=30, now=dg.FIXED_EPOCH, seed=5)
    check_work(big, range(0, MAX_WORK // 70_000))
    with pytest.raises(ValueError, match=r"1000 points x 70000 items; at most 3,000,000 \(points x items, 42 points"):
        check_work(big, range(1000))


def test_a_series_called_off_stops_between_chunks() -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        KpiSeries().rows(GENERATION, range(0, 20_000, 20), stop=stop)
