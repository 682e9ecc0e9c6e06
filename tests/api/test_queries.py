"""Lists as a dashboard queries them: filters, sorting, paging and ?at=, against a plain Python reference."""

from __future__ import annotations

import asyncio
import functools
import gzip
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import data_generator as dg
import fastpath
from prism.api import params
from prism.services import services_of
from prism.simulation.items import ItemColumns
from queries import SCALAR_FIELDS, ListQuery, QueryError, _scalar_type, parse_list_query, scalar_fields
from rules import EntityKind
from tests.support import module_app_and_client

Item = dict[str, Any]


# A 30 s tick: consecutive requests of a test nearly always see the same tick.
app, client = module_app_and_client()


def generation_of(app: FastAPI) -> dg.Generation:
    return services_of(app).simulator.generation


def served(client: TestClient, path: str, params: Any = None) -> tuple[list[Item], int, int]:
    """The items of a list answer, its X-Total-Count and its X-Tick."""
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json(), int(response.headers["x-total-count"]), int(response.headers["x-tick"])


def snapshot_of(app: FastAPI, tick: int) -> dg.Snapshot:
    """The snapshot of a tick computed afresh, independently of anything the service keeps."""
    return dg.compute_snapshot(generation_of(app), tick)


def reference(
    items: Sequence[Item],
    *,
    filters: dict[str, list[Any]] | None = None,
    sort: str | None = None,
    descending: bool = False,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[Item], int]:
    """The page and the count before paging, spelled out without the service's code.

    Among equal sort keys the original order is kept, in both directions (as `sorted(reverse=True)` does).
    """
    matched = [item for item in items if all(item[name] in wanted for name, wanted in (filters or {}).items())]
    if sort is not None:
        position = {id(item): index for index, item in enumerate(matched)}

        def compare(a: Item, b: Item) -> int:
            if a[sort] != b[sort]:
                before = a[sort] < b[sort]
                return (1 if before else -1) if descending else (-1 if before else 1)
            return position[id(a)] - position[id(b)]

        matched = sorted(matched, key=functools.cmp_to_key(compare))
    page = matched[offset:] if limit is None else matched[offset : offset + limit]
    return page, len(matched)


# --- filters, sorting and paging ---------------------------------------------------------------

CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("clients", {"sort": "marginPercentage"}, {"sort": "marginPercentage"}),
    ("clients", {"sort": "marginPercentage", "order": "desc"}, {"sort": "marginPercentage", "descending": True}),
    # Few distinct values: long runs of ties, whose order must stay as listed.
    ("clients", {"sort": "contractType"}, {"sort": "contractType"}),
    ("clients", {"sort": "contractType", "order": "desc"}, {"sort": "contractType", "descending": True}),
    ("contracts", {"sort": "autoRenew", "order": "desc"}, {"sort": "autoRenew", "descending": True}),
    (
        "licenses",
        {"sort": "licenseType", "order": "desc", "limit": 9, "offset": 4},
        {"sort": "licenseType", "descending": True, "limit": 9, "offset": 4},
    ),
    ("clients", {"status": "Active"}, {"filters": {"status": ["Active"]}}),
    (
        "clients",
        {"status": ["Active", "At Risk"], "sort": "name"},
        {"filters": {"status": ["Active", "At Risk"]}, "sort": "name"},
    ),
    (
        "clients",
        {"contractType": "Premium", "churnRisk": ["Low", "Medium"]},
        {"filters": {"contractType": ["Premium"], "churnRisk": ["Low", "Medium"]}},
    ),
    ("contracts", {"autoRenew": "true"}, {"filters": {"autoRenew": [True]}}),
    (
        "contracts",
        {"autoRenew": "0", "sort": "value", "order": "desc"},
        {"filters": {"autoRenew": [False]}, "sort": "value", "descending": True},
    ),
    (
        "leads",
        {"stage": ["Proposal", "Negotiation", "Closed Won"], "sort": "probability", "limit": 5},
        {"filters": {"stage": ["Proposal", "Negotiation", "Closed Won"]}, "sort": "probability", "limit": 5},
    ),
    ("technicians", {"sort": "hourlyRate", "offset": 3, "limit": 4}, {"sort": "hourlyRate", "offset": 3, "limit": 4}),
    (
        "vendors",
        {"status": ["active", "under-review"], "sort": "performanceScore"},
        {"filters": {"status": ["active", "under-review"]}, "sort": "performanceScore"},
    ),
    ("departments", {"limit": 0}, {"limit": 0}),
    ("departments", {"offset": 6}, {"offset": 6}),
    ("departments", {"offset": 500, "sort": "budget"}, {"offset": 500, "sort": "budget"}),
    ("licenses", {"offset": 29}, {"offset": 29}),
    ("licenses", {"limit": 100_000}, {"limit": 100_000}),
]


@pytest.mark.parametrize(("kind", "params", "expected"), CASES)
def test_lists_match_a_plain_python_reference(
    client: TestClient, app: FastAPI, kind: EntityKind, params: dict[str, Any], expected: dict[str, Any]
) -> None:
    items, total, tick = served(client, f"/api/{kind}", params)
    page, count = reference(snapshot_of(app, tick).items[kind], **expected)
    assert items == page
    assert total == count


def test_numbers_filter_by_value_whatever_their_spelling(client: TestClient, app: FastAPI) -> None:
    snapshot = dg.compute_snapshot(generation_of(app), served(client, "/api/clients")[2])
    at = dg.iso_time(snapshot.time)
    first = snapshot.items["clients"][0]
    employees = first["employeeCount"]
    for spelling in (str(employees), f"{employees}.0", f"{employees / 10}e1"):
        items, total, _ = served(client, "/api/clients", {"employeeCount": spelling, "at": at})
        assert items == [c for c in snapshot.items["clients"] if c["employeeCount"] == employees]
        assert total == len(items) >= 1
    margin = first["marginPercentage"]
    items, _, _ = served(client, "/api/clients", {"marginPercentage": repr(margin), "at": at})
    assert items == [c for c in snapshot.items["clients"] if c["marginPercentage"] == margin]
    for word, value in (("true", True), ("TRUE", True), ("1", True), ("false", False), ("0", False)):
        items, _, _ = served(client, "/api/contracts", {"autoRenew": word, "at": at})
        assert items == [c for c in snapshot.items["contracts"] if c["autoRenew"] is value]


def test_total_count_is_counted_before_paging(client: TestClient, app: FastAPI) -> None:
    everything, total, tick = served(client, "/api/leads")
    assert total == len(everything) == generation_of(app).counts["leads"]
    pages = []
    for offset in range(0, total + 10, 10):
        page, page_total, page_tick = served(client, "/api/leads", {"limit": 10, "offset": offset, "sort": "value"})
        if page_tick != tick:
            pytest.skip("a tick passed while paging")
        assert page_total == total
        pages.extend(page)
    assert pages == reference(snapshot_of(app, tick).items["leads"], sort="value")[0]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("nonsense=1", "nonsense"),
        ("Status=Available", "Status"),  # field names are case-sensitive
        ("certifications=CISSP", "certifications"),  # a list, not a single value
        ("hourlyRate=cheap", "hourlyRate"),
        ("hourlyRate=", "hourlyRate"),
        ("activeProjects=1.5", "activeProjects"),
        ("activeProjects=true", "activeProjects"),
        ("status=Sleeping", "status"),  # a word outside the field's vocabulary
        ("skillLevel=senior", "skillLevel"),
        ("sort=nope", "sort"),
        ("sort=certifications", "sort"),
        ("order=sideways", "order"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("limit=100001", "limit"),
        ("limit=0.0", "limit"),  # pydantic alone reads a whole float as an int
        ("limit=1e3", "limit"),
        ("offset=2.0", "offset"),
        ("offset=-3", "offset"),
        ("at=yesterday", "at"),
        ("at=0001-01-01T00:00:00%2B01:00", "at"),  # before the calendar starts once in UTC
        ("at=9999-12-31T23:59:59-14:00", "at"),
    ],
)
def test_unknown_fields_and_wrong_values_are_422_naming_them(client: TestClient, query: str, named: str) -> None:
    response = client.get(f"/api/technicians?{query}")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["query", named]
    assert detail[0]["msg"]


def test_booleans_refuse_other_words(client: TestClient) -> None:
    for word in ("yes", "no", "2", ""):
        response = client.get("/api/contracts", params={"autoRenew": word})
        assert response.status_code == 422, word
        assert response.json()["detail"][0]["loc"] == ["query", "autoRenew"]


@pytest.mark.slow
def test_every_scalar_field_can_be_filtered_and_sorted(client: TestClient, app: FastAPI) -> None:
    _, _, tick = served(client, "/api/clients")
    snapshot = snapshot_of(app, tick)
    at = dg.iso_time(snapshot.time)
    for kind, fields in SCALAR_FIELDS.items():
        sample = snapshot.items[kind][-1]
        for field in fields:
            value = sample[field]
            raw = str(value).lower() if isinstance(value, bool) else str(value)
            items, total, _ = served(client, f"/api/{kind}", {field: raw, "at": at, "limit": 3})
            page, count = reference(snapshot.items[kind], filters={field: [value]}, limit=3)
            assert (items, total) == (page, count), (kind, field)
            assert sample in reference(snapshot.items[kind], filters={field: [value]})[0]
            ordered, _, _ = served(client, f"/api/{kind}", {"sort": field, "order": "desc", "at": at})
            assert ordered == reference(snapshot.items[kind], sort=field, descending=True)[0], (kind, field)


# --- time travel -------------------------------------------------------------------------------


def test_at_serves_the_snapshot_of_that_time(client: TestClient, app: FastAPI) -> None:
    generation = generation_of(app)
    now_tick = served(client, "/api/clients")[2]
    tick = now_tick - 600  # five hours back
    moment = generation.time_of(tick)
    just_before = moment - timedelta(microseconds=1)
    for kind in dg.ENTITY_KINDS:
        for when, expected_tick in ((moment, tick), (moment + timedelta(seconds=29), tick), (just_before, tick - 1)):
            response = client.get(f"/api/{kind}", params={"at": when.isoformat()})
            assert response.status_code == 200
            assert int(response.headers["x-tick"]) == expected_tick
            assert response.json() == list(dg.compute_snapshot(generation, expected_tick).items[kind])


def test_at_in_a_world_past_the_size_limit_is_refused_up_front_and_the_present_still_served(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = services_of(app).simulator.snapshot.counts["clients"]
    monkeypatch.setattr(params, "MAX_AT_ITEMS", items - 1)
    now_tick = served(client, "/api/clients")[2]
    earlier = generation_of(app).time_of(now_tick - 100).isoformat()
    refused = client.get("/api/clients", params={"at": earlier})
    assert refused.status_code == 422
    [reason] = refused.json()["detail"]
    assert reason["loc"] == ["query", "at"]
    assert f"at most {items - 1:,} items; clients has {items:,}" in reason["msg"]
    assert client.get("/api/clients/client-1", params={"at": earlier}).status_code == 422
    # An entity within the limit is still served at that time.
    assert services_of(app).simulator.snapshot.counts["departments"] < items - 1
    assert client.get("/api/departments", params={"at": earlier}).status_code == 200
    # The served tick is no computation: asked for by its time, it is answered whatever the size.
    tick = served(client, "/api/clients")[2]
    answered = client.get("/api/clients", params={"at": generation_of(app).time_of(tick).isoformat()})
    if answered.status_code == 422:  # only if a tick came in between, making that one the past
        assert served(client, "/api/clients")[2] > tick
    else:
        assert answered.status_code == 200
        assert int(answered.headers["x-tick"]) == tick


def test_at_accepts_any_offset_and_a_naive_time_as_utc(client: TestClient, app: FastAPI) -> None:
    generation = generation_of(app)
    tick = served(client, "/api/clients")[2] - 100
    moment = generation.time_of(tick)
    spellings = [
        moment.isoformat(),
        dg.iso_time(moment),
        moment.astimezone(timezone(timedelta(hours=-5))).isoformat(),
        moment.replace(tzinfo=None).isoformat(),
    ]
    for spelling in spellings:
        response = client.get("/api/vendors", params={"at": spelling})
        assert int(response.headers["x-tick"]) == tick, spelling


def test_at_combines_with_filters_and_paging(client: TestClient, app: FastAPI) -> None:
    generation = generation_of(app)
    tick = served(client, "/api/clients")[2] - 2000
    snapshot = dg.compute_snapshot(generation, tick)
    params = {"at": dg.iso_time(snapshot.time), "status": ["Active", "Expiring Soon"], "sort": "endDate", "limit": 4}
    items, total, served_tick = served(client, "/api/contracts", params)
    assert served_tick == tick
    assert (items, total) == reference(
        snapshot.items["contracts"], filters={"status": ["Active", "Expiring Soon"]}, sort="endDate", limit=4
    )


def test_at_outside_the_generation_is_422(client: TestClient, app: FastAPI) -> None:
    generation = generation_of(app)
    first = generation.time_of(generation.first_tick)
    assert client.get("/api/clients", params={"at": first.isoformat()}).status_code == 200
    now = datetime.now(UTC)
    for outside in (first - timedelta(seconds=1), now + timedelta(minutes=5), datetime(2001, 1, 1, tzinfo=UTC)):
        for path in ("/api/clients", "/api/clients?limit=2", "/api/technicians/tech-1"):
            refused = client.get(path, params={"at": outside.isoformat()})
            assert refused.status_code == 422, (path, outside)
            assert refused.json()["detail"][0]["loc"] == ["query", "at"]


# --- one item ----------------------------------------------------------------------------------


def test_one_item_is_the_item_of_that_snapshot(client: TestClient, app: FastAPI) -> None:
    generation = generation_of(app)
    for kind in dg.ENTITY_KINDS:
        item_id = client.get(f"/api/{kind}").json()[-1]["id"]
        response = client.get(f"/api/{kind}/{item_id}")
        assert response.status_code == 200
        tick = int(response.headers["x-tick"])
        assert response.json() == dg.compute_snapshot(generation, tick).by_id(kind)[item_id]
    tick = int(response.headers["x-tick"]) - 300
    past = client.get("/api/contracts/contract-3", params={"at": dg.iso_time(generation.time_of(tick))})
    assert int(past.headers["x-tick"]) == tick
    assert past.json() == dg.compute_snapshot(generation, tick).by_id("contracts")["contract-3"]


@pytest.mark.parametrize("missing", ["vendor-16", "vendor-0", "vendor-04", "vendor-", "client-1", "vendor-1x", "x"])
def test_a_missing_item_is_a_404_in_json(client: TestClient, missing: str) -> None:
    response = client.get(f"/api/vendors/{missing}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert missing in response.json()["detail"]


# --- the query model itself, without HTTP -------------------------------------------------------------


def test_scalar_fields_are_the_single_valued_fields_of_the_model_with_their_types() -> None:
    assert _scalar_type(float) is float
    assert _scalar_type(Literal["Active", "At Risk"]) is str  # a vocabulary is a string
    assert _scalar_type(int | None) is None
    assert _scalar_type(list[str]) is None
    fields = scalar_fields("contracts")
    assert {name: fields.get(name) for name in ("value", "noticePeriod", "autoRenew", "status", "vendorName")} == {
        "value": float,
        "noticePeriod": int,
        "autoRenew": bool,
        "status": str,
        "vendorName": str,
    }
    assert "slaMetrics" not in fields
    assert "terms" not in fields
    assert {kind: scalar_fields(kind) for kind in SCALAR_FIELDS} == SCALAR_FIELDS


def parse(kind: EntityKind, *parameters: tuple[str, str]) -> ListQuery:
    return parse_list_query(kind, list(parameters), sort=None, order="asc", offset=0, limit=None)


def test_a_reserved_parameter_before_a_filter_is_skipped_not_the_end_of_the_filters() -> None:
    query = parse("clients", ("limit", "3"), ("status", "At Risk"), ("at", "2025-01-01T00:00:00Z"), ("id", "client-1"))
    assert query.filters == (("status", "At Risk"), ("id", "client-1"))


@pytest.mark.parametrize(
    ("kind", "parameter", "message"),
    [
        ("clients", ("status", "Sleeping"), "status is one of 'Active', 'At Risk', not 'Sleeping'"),
        ("contracts", ("autoRenew", "maybe"), "autoRenew is true or false, not 'maybe'"),
        ("contracts", ("noticePeriod", "30.5"), "noticePeriod is a whole number, not '30.5'"),
        ("contracts", ("value", "lots"), "value is a number, not 'lots'"),
    ],
)
def test_a_wrong_value_is_refused_with_what_the_field_holds(
    kind: EntityKind, parameter: tuple[str, str], message: str
) -> None:
    with pytest.raises(QueryError, match=re.escape(message)) as refused:
        parse(kind, parameter)
    assert refused.value.parameter == parameter[0]
    assert refused.value.message == str(refused.value) == message


def test_at_computes_its_items_and_their_json_off_the_event_loop(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_the_loop: list[bool] = []

    def running_loop() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    def recorded(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            on_the_loop.append(running_loop())
            return original(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(ItemColumns, "items_at", recorded(ItemColumns.items_at))
    monkeypatch.setattr(fastpath, "make_etag", recorded(fastpath.make_etag))  # once per list encoded
    monkeypatch.setattr(gzip, "compress", recorded(gzip.compress))
    now_tick = served(client, "/api/clients")[2]
    on_the_loop.clear()  # what the present cost is not the question here
    for ago in (5_000, 6_000):
        earlier = generation_of(app).time_of(now_tick - ago).isoformat()
        listed = client.get("/api/licenses", params={"at": earlier}, headers={"accept-encoding": "gzip"})
        assert listed.status_code == 200
        assert client.get("/api/leads/lead-1", params={"at": earlier}).status_code in (200, 404)
    assert len(on_the_loop) >= 6  # per time: the licenses, their JSON and its gzip, and the leads
    assert not any(on_the_loop)
