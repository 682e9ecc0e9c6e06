"""How a sync's puts and deletes reach DynamoDB: in batches, or in transactions fenced by the writer's lease.

Unfenced, they go as BatchWriteItem, 25 to a request, and what DynamoDB leaves unprocessed is sent again with
backoff. Fenced, they go as TransactWriteItems whose first action is a ConditionCheck on the lease item (this
process as holder, with the token it took the lease with): DynamoDB applies a transaction only while its sender
still holds the lease it took, so a request that left before a pause and arrives after another process took the
lease is refused whole, and nothing in it is written (`lease.py`). A transaction costs twice the write units of a
batch for the same items, and its check one more.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any, Literal, Protocol

from botocore.exceptions import ClientError

from lease import LeaseLost, WriterLease
from rules import EntityKind

# The tables: one per entity, and the metrics table (KPI points, the generation record and the lease).
TableKind = EntityKind | Literal["metrics"]
METRICS: TableKind = "metrics"

logger = logging.getLogger("prism.dynamodb")

BATCH_SIZE = 25  # BatchWriteItem's limit
TRANSACTION_SIZE = 100  # TransactWriteItems' limit (botocore's service model); the lease's check is one of them
# Items DynamoDB leaves unprocessed, and transactions it cancels on contention, are sent again after full-jitter
# exponential backoff, this many times.
UNPROCESSED_ATTEMPTS = 8
UNPROCESSED_BASE_DELAY = 0.05
UNPROCESSED_MAX_DELAY = 2.0
# Reasons of a cancelled transaction that pass when sent again ("None": that action was not the one at fault).
RETRYABLE_CANCELLATIONS = frozenset({"None", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


class MirrorError(Exception):
    """A sync could not finish; the message says why in one line."""


@dataclass(slots=True)
class Write:
    """One PutRequest or DeleteRequest, with what to remember once it has landed."""

    kind: TableKind
    key: str
    request: Callable[[], dict[str, Any]]
    digest: bytes | None = None


class Progress(Protocol):
    """What a sync counts while its writes go out."""

    retries: int


Landed = Callable[[list[Write]], None]
UnprocessedKeys = Callable[[Mapping[str, Iterable[Mapping[str, Any]]]], Iterable[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class ItemWriter:
    """Sends a sync's writes: BatchWriteItem unfenced, TransactWriteItems behind the lease's check when fenced."""

    client: Any
    tables: Mapping[TableKind, str]
    _: KW_ONLY
    unprocessed_keys: UnprocessedKeys
    stop: threading.Event
    sleep: Callable[[float], object]
    jitter: Callable[[], float]

    def write(
        self,
        writes: list[Write],
        *,
        landed: Landed,
        progress: Progress,
        deadline: float | None,
        fence: WriterLease | None = None,
    ) -> None:
        """Send every write, reporting each as it lands; raises when the rest must wait for a later sync."""
        if fence is None:
            for start in range(0, len(writes), BATCH_SIZE):
                self._batch(writes[start : start + BATCH_SIZE], landed, progress, deadline)
            return
        size = TRANSACTION_SIZE - 1
        for start in range(0, len(writes), size):
            self._transaction(writes[start : start + size], fence, landed, progress, deadline)

    def backoff(self, attempt: int) -> float:
        """Full jitter: a random delay up to an exponentially growing, capped bound."""
        return float(self.jitter() * min(UNPROCESSED_MAX_DELAY, UNPROCESSED_BASE_DELAY * 2**attempt))

    def _stop_when_asked(self, deadline: float | None) -> None:
        if self.stop.is_set() or (deadline is not None and time.monotonic() > deadline):
            raise MirrorError("sync stopped: the service is shutting down")

    def _batch(self, batch: list[Write], landed: Landed, progress: Progress, deadline: float | None) -> None:
        """One BatchWriteItem, then its unprocessed items again with backoff, up to a bound."""
        requests = {(write.kind, write.key): write.request() for write in batch}
        attempt = 0
        while True:
            self._stop_when_asked(deadline)
            grouped: dict[str, list[dict[str, Any]]] = {}
            for write in batch:
                grouped.setdefault(self.tables[write.kind], []).append(requests[(write.kind, write.key)])
            response = self.client.batch_write_item(RequestItems=grouped)
            progress.retries += response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
            unprocessed = set(self.unprocessed_keys(response.get("UnprocessedItems") or {}))
            landed([write for write in batch if (write.kind, write.key) not in unprocessed])
            batch = [write for write in batch if (write.kind, write.key) in unprocessed]
            if not batch:
                return
            attempt += 1
            if attempt >= UNPROCESSED_ATTEMPTS:
                raise MirrorError(
                    f"DynamoDB left {len(batch)} items unprocessed after {attempt} attempts (throttled); "
                    "they stay pending for the next sync"
                )
            progress.retries += 1
            self.sleep(self.backoff(attempt))

    def _transaction(
        self, batch: list[Write], fence: WriterLease, landed: Landed, progress: Progress, deadline: float | None
    ) -> None:
        """One TransactWriteItems led by the lease's check; sent again with backoff when cancelled by contention."""
        actions = [_action(self.tables[write.kind], write.request()) for write in batch]
        attempt = 0
        while True:
            self._stop_when_asked(deadline)
            check = fence.condition_check()  # raises LeaseLost when this process may not write now
            try:
                # botocore adds a ClientRequestToken and keeps it across its own retries: a retry of a transaction
                # that did land is answered as a success without applying it twice.
                response = self.client.transact_write_items(TransactItems=[check, *actions])
            except ClientError as exc:
                reasons = cancellation_reasons(exc)
                if reasons is None:
                    raise
                if reasons[0] == "ConditionalCheckFailed":
                    fence.refused(check)
                    raise LeaseLost(
                        "DynamoDB refused the write: another process took the writer's lease; this one writes "
                        "nothing until it holds the lease again"
                    ) from None
                attempt += 1
                if attempt >= UNPROCESSED_ATTEMPTS or not RETRYABLE_CANCELLATIONS.issuperset(reasons):
                    raise MirrorError(
                        f"DynamoDB cancelled a transaction of {len(batch)} items ({', '.join(sorted(set(reasons)))}) "
                        f"after {attempt} attempts; they stay pending for the next sync"
                    ) from None
                progress.retries += 1
                self.sleep(self.backoff(attempt))
                continue
            progress.retries += response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
            landed(batch)
            return


def cancellation_reasons(exc: ClientError) -> list[str] | None:
    """The reason codes of a cancelled transaction, one per action in order; None for any other error."""
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    return [str(reason.get("Code") or "None") for reason in exc.response.get("CancellationReasons", [])] or ["None"]


def _action(table: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """A BatchWriteItem request as the transaction's action on the same item."""
    if "PutRequest" in request:
        return {"Put": {"TableName": table, "Item": request["PutRequest"]["Item"]}}
    return {"Delete": {"TableName": table, "Key": request["DeleteRequest"]["Key"]}}
