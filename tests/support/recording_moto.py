"""moto's DynamoDB server on a loopback port that logs every request it receives, and who sent it.

Each process under test gets an access key of its own, so the log tells which process sent each request; the
log's order is the order moto applied them in. Tests and benchmarks count writes and read the lease's trace. A
test can hold a process's next request of some kind on its way in (`hold`), as a network would that delays it,
and let it reach moto later.
"""

from __future__ import annotations

import copy
import io
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
import moto.dynamodb.models
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from tests.support.servers import free_port

_CREDENTIAL = re.compile(r"Credential=([^/]+)/")
StartResponse = Callable[..., Any]
# The requests that write items: batches unfenced, transactions behind the writer's lease when fenced.
ITEM_WRITES = frozenset({"BatchWriteItem", "TransactWriteItems"})


@dataclass
class Received:
    """One request as the server saw it."""

    seq: int
    sender: str
    operation: str
    body: dict[str, Any]
    status: int = 0
    answer: dict[str, Any] | None = None
    arrived: float = field(default_factory=time.monotonic)

    @property
    def writes_items(self) -> bool:
        """Whether this is a request that writes items (whether or not DynamoDB applied it)."""
        return self.operation in ITEM_WRITES

    @property
    def landed(self) -> bool:
        """Whether this is an item write DynamoDB applied."""
        return self.writes_items and self.status == 200

    def item_requests(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(table, PutRequest or DeleteRequest) of every item this request writes, a transaction's as a batch's."""
        if self.operation == "BatchWriteItem":
            for table, requests in self.body.get("RequestItems", {}).items():
                for request in requests:
                    yield table, request
        if self.operation == "TransactWriteItems":
            for action in self.body.get("TransactItems", []):
                if "Put" in action:
                    yield action["Put"]["TableName"], {"PutRequest": {"Item": action["Put"]["Item"]}}
                elif "Delete" in action:
                    yield action["Delete"]["TableName"], {"DeleteRequest": {"Key": action["Delete"]["Key"]}}

    @property
    def items(self) -> int:
        """Items an item write would write."""
        return sum(1 for _ in self.item_requests())

    @property
    def cancellation_reasons(self) -> list[str]:
        """Why DynamoDB refused a transaction, one code per action (empty for anything else)."""
        return [reason.get("Code", "") for reason in (self.answer or {}).get("CancellationReasons", [])]

    @property
    def on_lease(self) -> bool:
        """Whether this is a write of the writer's lease."""
        key = self.body.get("Key", {})
        return self.operation == "UpdateItem" and key.get("metricType", {}).get("S") == "writer-lease"


class _QuickTransactionBackups:
    """`copy` for moto's DynamoDB backend, which deep-copies every table a transaction touches to roll it back.

    That copy takes seconds once a table holds a few thousand items (the KPI points of a few minutes of fast
    ticks), and every request waits behind it. A transaction of puts, deletes and condition checks (all the
    service sends) only replaces or removes items, so a copy of the table's item mappings is backup enough.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        if not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        backup = copy.copy(value)
        backup.items = type(value.items)(
            value.items.default_factory,
            {key: dict(item) if isinstance(item, dict) else item for key, item in value.items.items()},
        )
        return backup


class RecordingMoto:
    """moto's DynamoDB that can go down and come back on the same port, keeping its tables and its log."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log: list[Received] = []
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self._app = DomainDispatcherApplication(create_backend_app)
        moto.dynamodb.models.copy = _QuickTransactionBackups()  # type: ignore[assignment]
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._holds: list[Hold] = []
        # One request at a time: moto's transactions copy whole tables and would see them change under them, and
        # the log's order is then exactly the order moto applied the requests in.
        self._applying = threading.Lock()

    def start(self) -> None:
        self._server = make_server(
            "127.0.0.1", self.port, self._record, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()

    def reset(self) -> None:
        """Forget every table (moto keeps them per process, across servers)."""
        httpx.post(f"{self.endpoint}/moto-api/reset", timeout=5).raise_for_status()
        with self._lock:
            self.log.clear()

    def client(self) -> Any:
        return boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name="us-east-2",
            aws_access_key_id="observer",
            aws_secret_access_key="testing",
        )

    def mark(self) -> int:
        """The position of the next request in the log."""
        with self._lock:
            return len(self.log) and self.log[-1].seq + 1

    def received(self, since: int = 0) -> list[Received]:
        """The requests received from position `since` on, in the order they arrived."""
        with self._lock:
            return sorted((entry for entry in self.log if entry.seq >= since), key=lambda entry: entry.seq)

    def hold(self, sender: str, operation: str) -> Hold:
        """Keep the next `operation` request of `sender` from reaching moto until the hold is released."""
        held = Hold(sender, operation)
        with self._lock:
            self._holds.append(held)
        return held

    def _held_back(self, sender: str, operation: str, raw: bytes) -> None:
        with self._lock:
            held = next((h for h in self._holds if (h.sender, h.operation) == (sender, operation)), None)
            if held is None:
                return
            self._holds.remove(held)
        held.body = json.loads(raw or b"{}")
        held.arrived.set()
        held.released.wait(120)  # bounded, so that a failing test cannot hang the run

    def _record(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target:
            return self._app(environ, start_response)
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)
        found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        sender, operation = found.group(1) if found else "", target.rpartition(".")[2]
        self._held_back(sender, operation, raw)  # logged when it reaches moto, in the order moto applies it
        with self._applying:
            entry = Received(next(self._counter), sender, operation, json.loads(raw or b"{}"))

            def capture(status: str, headers: Any, *args: Any) -> Any:
                entry.status = int(status.split()[0])
                return start_response(status, headers, *args)

            chunks = list(self._app(environ, capture))
            if entry.on_lease or entry.operation == "TransactWriteItems":
                entry.answer = json.loads(b"".join(chunks) or b"{}")
            with self._lock:
                self.log.append(entry)  # once answered: the log holds what moto did, in the order it did it
        return chunks


@dataclass
class Hold:
    """A request kept on its way to moto: `arrived` once it is held, let through by setting `released`."""

    sender: str
    operation: str
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    body: dict[str, Any] = field(default_factory=dict)


def lease_owners(log: Iterable[Received]) -> Iterator[tuple[int, str | None]]:
    """(position, sender holding the lease from there on, None once handed back) for every successful lease write."""
    for entry in log:
        if entry.on_lease and entry.status == 200 and entry.answer and "Attributes" in entry.answer:
            yield entry.seq, entry.sender if "holder" in entry.answer["Attributes"] else None


def writes_by_non_holders(log: list[Received]) -> list[Received]:
    """Item writes applied for a process that did not hold the lease when moto applied them."""
    owners = list(lease_owners(log))
    wrong = []
    for entry in log:
        if not entry.landed:
            continue
        holder = None
        for seq, owner in owners:
            if seq > entry.seq:
                break
            holder = owner
        if holder != entry.sender:
            wrong.append(entry)
    return wrong


def takings(log: Iterable[Received]) -> list[tuple[int, str | None]]:
    """The lease's changes of hands: (position, new holder or None) each time the holder changed."""
    changes: list[tuple[int, str | None]] = []
    for seq, owner in lease_owners(log):
        if not changes or changes[-1][1] != owner:
            changes.append((seq, owner))
    return changes
