"""moto's DynamoDB server on a loopback port that logs every request it receives, and who sent it.

Each process under test gets an access key of its own, so the log tells which process sent each request; the
log's order is the order the requests arrived in. Tests and benchmarks count writes and read the lease's trace.
"""

from __future__ import annotations

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
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from tests.support.servers import free_port

_CREDENTIAL = re.compile(r"Credential=([^/]+)/")
StartResponse = Callable[..., Any]


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
    def items(self) -> int:
        """Items written by a BatchWriteItem."""
        if self.operation != "BatchWriteItem":
            return 0
        return sum(len(requests) for requests in self.body.get("RequestItems", {}).values())

    @property
    def on_lease(self) -> bool:
        """Whether this is a write of the writer's lease."""
        key = self.body.get("Key", {})
        return self.operation == "UpdateItem" and key.get("metricType", {}).get("S") == "writer-lease"


class RecordingMoto:
    """moto's DynamoDB that can go down and come back on the same port, keeping its tables and its log."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log: list[Received] = []
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self._app = DomainDispatcherApplication(create_backend_app)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

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

    def _record(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target:
            return self._app(environ, start_response)
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)
        sender = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        with self._lock:
            entry = Received(
                next(self._counter),
                sender.group(1) if sender else "",
                target.rpartition(".")[2],
                json.loads(raw or b"{}"),
            )
            self.log.append(entry)

        def capture(status: str, headers: Any, *args: Any) -> Any:
            entry.status = int(status.split()[0])
            return start_response(status, headers, *args)

        chunks = list(self._app(environ, capture))
        if entry.on_lease:
            entry.answer = json.loads(b"".join(chunks) or b"{}")
        return chunks


def lease_owners(log: Iterable[Received]) -> Iterator[tuple[int, str | None]]:
    """(position, sender holding the lease from there on, None once handed back) for every successful lease write."""
    for entry in log:
        if entry.on_lease and entry.status == 200 and entry.answer and "Attributes" in entry.answer:
            yield entry.seq, entry.sender if "holder" in entry.answer["Attributes"] else None


def writes_by_non_holders(log: list[Received]) -> list[Received]:
    """Item writes sent by a process that did not hold the lease when they arrived (by arrival order)."""
    owners = list(lease_owners(log))
    wrong = []
    for entry in log:
        if entry.operation != "BatchWriteItem":
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
