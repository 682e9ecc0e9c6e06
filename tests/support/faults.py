"""Faults injected into a real boto3 client through botocore's event hooks, and a local server answering
like a struggling DynamoDB: what the DynamoDB tests break the mirror with."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any

import data_generator as dg
from dynamodb_client import DynamoDBClient
from tests.support.dynamodb import ITEM_WRITES


def changed_count(snapshot: dg.Snapshot) -> int:
    assert snapshot.changed is not None
    return sum(len(ids) for ids in snapshot.changed.values())


class Faults:
    """Faults injected into a real boto3 client through botocore's event hooks, and what the client sent."""

    def __init__(self, fake_dynamodb: str | None = None) -> None:
        self.fake_dynamodb = fake_dynamodb
        self.down = False
        self.throttles = 0
        self.unprocessed_forever = False
        self.denied: set[str] = set()  # operations answered AccessDeniedException, as IAM would
        self.unprocessed_calls = 0
        self.unprocessed_per_call = 5
        self.delay = 0.0
        # While `gate` is an unset Event, every item write waits inside DynamoDB until the test sets it.
        self.gate: threading.Event | None = None
        self.holding = threading.Event()
        self.held = 0
        self.calls: Counter[str] = Counter()
        self.items_sent = 0
        self.attempts = 0
        self.active = 0
        self.max_active = 0
        self._held_back: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def attach(self, client: DynamoDBClient) -> DynamoDBClient:
        events = client.meta.events
        events.register("before-parameter-build.dynamodb", self._count)
        events.register("after-call.dynamodb.BatchWriteItem", self._report_unprocessed)
        events.register_first("before-send.dynamodb", self._send)
        return client

    def _count(self, params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        self.calls[model.name] += 1
        if model.name == "TransactWriteItems":
            self.items_sent += sum("ConditionCheck" not in action for action in params["TransactItems"])
        if model.name != "BatchWriteItem":
            return
        requests = params["RequestItems"]
        self.items_sent += sum(len(entries) for entries in requests.values())
        if self.unprocessed_calls > 0:
            self.unprocessed_calls -= 1
            self._hold_back(requests)

    def _hold_back(self, requests: dict[str, list[dict[str, Any]]]) -> None:
        """Keep some requests from reaching DynamoDB; after the call they are reported unprocessed."""
        for _ in range(self.unprocessed_per_call):
            table = max(requests, key=lambda name: len(requests[name]))
            if sum(len(entries) for entries in requests.values()) <= 1:
                return
            self._held_back.append((table, requests[table].pop()))
            if not requests[table]:
                del requests[table]

    def _report_unprocessed(self, parsed: dict[str, Any], **kwargs: Any) -> None:
        unprocessed = parsed.setdefault("UnprocessedItems", {})
        for table, request in self._held_back:
            unprocessed.setdefault(table, []).append(request)
        self._held_back.clear()

    def _send(self, request: Any, **kwargs: Any) -> None:
        self.attempts += 1
        if kwargs["event_name"].rsplit(".", 1)[-1] in self.denied:
            assert self.fake_dynamodb is not None
            request.url = f"{self.fake_dynamodb}/denied"
            return
        if self.down:
            request.url = "http://127.0.0.1:9/"  # nothing listens there: a real connection failure
            return
        operation = kwargs["event_name"].rsplit(".", 1)[-1]
        unprocessed = self.unprocessed_forever and operation == "BatchWriteItem"  # transactions have no such answer
        if operation in ITEM_WRITES and (self.throttles > 0 or unprocessed):
            assert self.fake_dynamodb is not None
            if self.throttles > 0:
                self.throttles -= 1
                request.url = f"{self.fake_dynamodb}/throttle"
            else:
                request.url = f"{self.fake_dynamodb}/unprocessed"
            return
        gate = self.gate
        if (self.delay or gate is not None) and operation in ITEM_WRITES:
            with self._lock:
                self.active += 1
                self.max_active = max(self.max_active, self.active)
                self.held += gate is not None
            if gate is not None:
                self.holding.set()
                gate.wait(30)  # bounded, so that a failing test cannot hang the run
            else:
                time.sleep(self.delay)
            with self._lock:
                self.active -= 1


class FakeDynamoDB(BaseHTTPRequestHandler):
    """Answers BatchWriteItem over HTTP as a struggling DynamoDB: throttled, or every item unprocessed."""

    def do_POST(self) -> None:
        sent = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        if self.path == "/unprocessed":
            status, answer = 200, {"UnprocessedItems": sent["RequestItems"]}
        elif self.path == "/denied":
            status, answer = (
                400,
                {
                    "__type": "com.amazon.coral.service#AccessDeniedException",
                    "message": "User: arn:aws:iam::123456789012:user/prism is not authorized to perform this action",
                },
            )
        else:
            status, answer = (
                400,
                {
                    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                    "message": "The level of configured provisioned throughput for the table was exceeded.",
                },
            )
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass
