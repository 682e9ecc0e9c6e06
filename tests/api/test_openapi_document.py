"""The OpenAPI document a frontend generates its client from: valid 3.1, readable and unique operation ids,
JSON errors on every 4xx/5xx, the caching and paging headers, and event schemas that fit what is sent."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import TypeAdapter

import data_generator as dg
import events
from models import ENTITY_MODELS, ChangeFeedEvent
from tests.support import current_document, make_settings


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return current_document()


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [operation for path in document["paths"].values() for operation in path.values()]


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_operation_ids_are_unique_camel_case_and_named_after_what_they_do(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for operation in operations(document)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", operation_id) for operation_id in ids), ids
    expected = {"getRoot", "getHealth", "getStats", "getMetrics", "regenerate", "syncNow", "getHistory"}
    expected |= {"streamEvents", "listScenarios", "startScenario", "generateReport"}
    for kind, model in ENTITY_MODELS.items():
        expected |= {f"list{kind.capitalize()}", f"get{model.__name__}", f"get{model.__name__}History"}
    assert set(ids) == expected
    assert {"listTechnicians", "getTechnician", "getTechnicianHistory"} <= set(ids)


def test_every_error_answer_is_a_json_error_body(document: dict[str, Any]) -> None:
    for operation in operations(document):
        errors = {status: answer for status, answer in operation["responses"].items() if status[0] in "45"}
        assert {"4XX", "5XX", "422"} <= set(errors), operation["operationId"]
        for status, answer in errors.items():
            if operation["operationId"] == "syncNow" and status == "503":
                continue  # the sync's own result, saying why DynamoDB failed
            assert answer["content"] == {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


def test_data_answers_describe_their_headers(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        if not path.startswith("/api/") or "get" not in item or path in {"/api/events", "/api/scenarios", "/api/stats"}:
            continue
        operation = item["get"]
        headers = operation["responses"]["200"]["headers"]
        assert {"ETag", "X-Tick"} <= set(headers), path
        assert ("X-Total-Count" in headers) == operation["operationId"].startswith("list"), path


def test_lists_are_arrays_of_their_entity_and_histories_carry_it(document: dict[str, Any]) -> None:
    for kind, model in ENTITY_MODELS.items():
        listed = document["paths"][f"/api/{kind}"]["get"]["responses"]["200"]["content"]["application/json"]
        assert listed["schema"]["items"] == {"$ref": f"#/components/schemas/{model.__name__}"}
        point = document["components"]["schemas"][f"{model.__name__}HistoryPoint"]
        assert point["properties"]["item"]["$ref"] == f"#/components/schemas/{model.__name__}"


def test_the_change_feed_describes_its_events(document: dict[str, Any]) -> None:
    answer = document["paths"]["/api/events"]["get"]["responses"]["200"]["content"]
    assert answer == {"text/event-stream": {"schema": {"$ref": "#/components/schemas/ChangeFeedEvent"}}}
    feed = document["components"]["schemas"]["ChangeFeedEvent"]
    assert set(feed["discriminator"]["mapping"]) == {"tick", "regenerate", "scenario", "resync"}


def test_what_the_feed_sends_fits_the_event_schemas() -> None:
    now = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
    world = dg.World(dg.new_generation(counts=make_settings().entity_counts, interval=30, now=now, seed=7))
    before = dg.compute_snapshot(world.generation, 10, world)
    after = dg.advance(before, world)
    feed: TypeAdapter[Any] = TypeAdapter(ChangeFeedEvent)
    sent = [
        {"event": "tick", "id": events.event_id(after), "data": events.tick_payload(after, before)},
        {"event": "regenerate", "id": events.event_id(after), "data": events.generation_payload(after)},
        {"event": "scenario", "id": events.event_id(after) + "-s1", "data": events.generation_payload(after)},
        {"event": "resync", "data": {"reason": "you fell behind the change feed"}},
    ]
    for event in sent:
        # Strict: no field of the data is left out of its schema.
        parsed = feed.validate_python(event, strict=True)
        assert parsed.model_dump(exclude_unset=True) == event
