"""The writer's lease: which one of many processes serving a generation writes the DynamoDB mirror.

The lease is one item of `{prefix}metrics` (metricType "writer-lease", timestamp 0), taken, renewed and handed
back with conditional writes. Its attributes:

- `holder`: the id of the process holding it (absent when it was handed back);
- `token`: the fencing token, one more on every taking, so it only grows; renewals and the hand-back are
  conditioned on holder *and* token, so a process that lost the lease can never renew it back;
- `beat`: one more on every write of the item (take, renew, hand back);
- `expiresAt`: when the holder reckons it runs out (its own clock; shown to operators, never compared);
- `checks`: bumped by a manual sync of a reader, asking the writer to read its tables back at its next sync.

Clock skew between machines plays no part, because no process compares another's clock with its own:

- the holder counts its lease from the moment it *sent* the renewal that succeeded, on its monotonic clock, and
  writes only while at least a margin (a quarter of the lease) is left;
- a contender takes an unreleased lease only after it has seen the same (token, beat) for a whole lease
  duration on *its* monotonic clock, and its taking is a compare-and-swap on that (token, beat).

The contender first saw the beat after the holder sent it, so it takes at the earliest one lease duration after
the holder's last successful renewal was sent, which is a margin after the holder's last write was sent. What
has to hold is only that two monotonic clocks measure one lease duration alike to within the margin (25 %);
real clocks drift by parts per million. Each write request is checked against the lease just before it leaves
(botocore's before-send event, which also covers botocore's own retries).

That check cannot cover a request that spends longer than the margin between leaving and DynamoDB applying it
(the process paused right after the check, a slow network). The fence covers it: with fenced writes (the
default, `DYNAMODB_FENCED_WRITES`) the items go in TransactWriteItems whose first action is `condition_check`,
"holder = me AND token = the token I took", evaluated by DynamoDB when it applies the transaction and isolated
from the lease's own conditional updates. A taking always adds one to the token, so once another process has
taken the lease every late transaction of the old holder is refused whole. The check carries no time: DynamoDB's
conditions cannot read the server's clock, and a "now" written by the sender is frozen in the request, so it
would pass exactly for the late request it is meant to stop. Skew between clocks thus plays no part in the fence
at all; time only decides when a holder stops *sending* (the margin above) and when a contender may take over.
A refusal makes the writer a reader at once (`refused`).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import ClientError

from config import now_utc

logger = logging.getLogger("prism.lease")

LEASE_KEY: dict[str, dict[str, str]] = {"metricType": {"S": "writer-lease"}, "timestamp": {"N": "0"}}
# The holder renews this often and stops writing this long before its lease could run out.
RENEW_FRACTION = 0.25
MARGIN_FRACTION = 0.25

Role = Literal["writer", "reader"]


class LeaseLost(Exception):
    """This process may not write: it does not hold the writer's lease, or the lease may be running out."""


@dataclass(frozen=True, slots=True)
class LeaseItem:
    """The lease item as last read or written."""

    holder: str | None
    token: int
    beat: int
    checks: int
    expires_at: str | None

    @classmethod
    def parse(cls, item: Mapping[str, Any]) -> LeaseItem:
        """The lease from its DynamoDB attributes."""
        return cls(
            holder=item["holder"]["S"] if "holder" in item else None,
            token=int(item.get("token", {}).get("N", 0)),
            beat=int(item.get("beat", {}).get("N", 0)),
            checks=int(item.get("checks", {}).get("N", 0)),
            expires_at=item["expiresAt"]["S"] if "expiresAt" in item else None,
        )


def process_id() -> str:
    """A name for this process in the lease: host, pid and a random part (a pid is reused after a restart)."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def _conditional_failure(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


class WriterLease:
    """This process's side of the writer's lease; `step` is one round of the protocol, in a worker thread."""

    def __init__(
        self,
        client: Any,
        *,
        table: str,
        duration: float,
        poll_every: float,
        ensure_table: Callable[[], None],
        owner: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = now_utc,
    ) -> None:
        self.client = client
        self.table = table
        self.duration = duration
        self.margin = duration * MARGIN_FRACTION
        self.renew_every = duration * RENEW_FRACTION
        self.poll_every = min(poll_every, self.renew_every)
        self.owner = owner or process_id()
        self._ensure_table = ensure_table
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._holding = False
        self._token = 0
        self._valid_until = 0.0  # monotonic; meaningful while holding
        self._seen: tuple[int, int] | None = None  # (token, beat) of the other holder, and since when
        self._seen_at = 0.0
        self._last_step: float | None = None
        self._step_failed = False
        self._checks = 0
        self._check_wanted = False
        self._role: Role = "reader"
        self.view: LeaseItem | None = None
        self.changes = 0

    # --- what the rest of the mirror asks -------------------------------------------------

    @property
    def role(self) -> Role:
        """Whether this process may write now."""
        return "writer" if self.may_write() else "reader"

    def may_write(self) -> bool:
        """Whether this process holds the lease with at least the margin left."""
        return self._holding and self._clock() < self._valid_until - self.margin

    def guard(self) -> None:
        """Raise LeaseLost unless this process may write now (called right before each write request leaves)."""
        if not self.may_write():
            raise LeaseLost("this process does not hold the writer's lease with time to spare; it writes nothing")

    def condition_check(self) -> dict[str, Any]:
        """The first action of a fenced write: it holds only while this process has the lease under its token."""
        self.guard()
        return {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": LEASE_KEY,
                "ConditionExpression": "holder = :me AND #token = :token",
                "ExpressionAttributeNames": {"#token": "token"},
                "ExpressionAttributeValues": {":me": {"S": self.owner}, ":token": {"N": str(self._token)}},
            }
        }

    def refused(self, check: Mapping[str, Any]) -> None:
        """DynamoDB refused a write behind this check: the lease moved on, so write nothing until it is taken again."""
        token = int(check["ConditionCheck"]["ExpressionAttributeValues"][":token"]["N"])
        with self._lock:
            if not self._holding or self._token != token:
                return  # already stepped down, or taken again since under a new token
            self._holding = False
            self.view = None
            self._log_role_change()

    def expires_at(self) -> datetime | None:
        """When the lease runs out: by this process's own reckoning when it holds it, else as the holder wrote."""
        if self._holding:
            return self._wall() + timedelta(seconds=self._valid_until - self._clock())
        if self.view is None or self.view.expires_at is None:
            return None
        return datetime.fromisoformat(self.view.expires_at)

    @property
    def holder(self) -> str | None:
        """The id of the process holding the lease, as far as this process knows."""
        if self._holding:
            return self.owner
        return self.view.holder if self.view is not None else None

    @property
    def token(self) -> int:
        """The fencing token of the lease as last seen."""
        return self._token if self._holding else (self.view.token if self.view is not None else 0)

    def take_check_request(self) -> bool:
        """For the writer's next sync: whether it must read its tables back (it just took the lease, or was asked)."""
        wanted, self._check_wanted = self._check_wanted, False
        return wanted

    def confirm(self, *, force: bool = False) -> bool:
        """Whether this process may write, running a round of the protocol first when one is due."""
        every = self.renew_every if self._holding else self.poll_every
        if force or self._step_failed or self._last_step is None or self._clock() - self._last_step >= every:
            self.step()
        return self.may_write()

    # --- the protocol ---------------------------------------------------------------------

    def step(self) -> None:
        """Renew the lease when this process holds it; otherwise look at it and take it when it is free or dead."""
        with self._lock:
            started = self._clock()
            self._step_failed = True  # until the round finishes
            try:
                self._round(started)
                self._step_failed = False
            finally:
                self._last_step = started
                self._log_role_change()

    def _round(self, started: float) -> None:
        try:
            if self._holding:
                self._renew(started)
            else:
                self._observe_or_take(started)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            self._ensure_table()  # the first process of a new deployment: the metrics table comes first
            self._observe_or_take(self._clock())

    def _renew(self, sent_at: float) -> None:
        try:
            answer = self._update_as_holder("SET beat = beat + :one, expiresAt = :at", self._expiry_text())
        except ClientError as exc:
            if not _conditional_failure(exc):
                raise
            self._holding = False
            self.view = None
            logger.warning("the writer's lease (token %d) was taken by another process", self._token)
            self._observe_or_take(self._clock())
            return
        self._held(LeaseItem.parse(answer["Attributes"]), sent_at)

    def _update_as_holder(self, update: str, expires_at: str) -> Any:
        """One beat of the lease item, made only while this process holds it with the token it took."""
        return self.client.update_item(
            TableName=self.table,
            Key=LEASE_KEY,
            UpdateExpression=update,
            ConditionExpression="holder = :me AND #token = :token",
            ExpressionAttributeNames={"#token": "token"},
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":me": {"S": self.owner},
                ":token": {"N": str(self._token)},
                ":at": {"S": expires_at},
            },
            ReturnValues="ALL_NEW",
        )

    def _held(self, item: LeaseItem, sent_at: float) -> None:
        """Record a successful take or renewal sent at `sent_at`."""
        self._holding = True
        self._token = item.token
        self._valid_until = sent_at + self.duration
        if item.checks != self._checks:
            self._check_wanted = True  # a reader wrote on a manual sync: read the tables back
        self._checks = item.checks
        self.view = item

    def _observe_or_take(self, now: float) -> None:
        found = self.client.get_item(TableName=self.table, Key=LEASE_KEY, ConsistentRead=True).get("Item")
        item = LeaseItem.parse(found) if found is not None else None
        self.view = item
        if item is not None and item.holder == self.owner:
            # Our own taking landed though its answer was lost: renew it (conditionally) before any write.
            self._holding, self._token = True, item.token
            self._valid_until = now  # nothing may be written until the renewal succeeds
            self._renew(self._clock())
            return
        if item is None or item.holder is None:
            self._take(item, now)
            return
        if (item.token, item.beat) != self._seen:
            # Counted from the answer, not the question: the beat may have been written while the read was out.
            self._seen, self._seen_at = (item.token, item.beat), self._clock()
        elif now - self._seen_at >= self.duration:
            logger.info("the writer's lease (holder %s, token %d) was not renewed in time", item.holder, item.token)
            self._take(item, self._clock())

    def _take(self, item: LeaseItem | None, sent_at: float) -> None:
        # A compare-and-swap: the item is still what this process watched (or still absent).
        if item is None:
            condition, values = "attribute_not_exists(metricType)", {}
        else:
            condition = "#token = :token AND beat = :beat"
            values = {":token": {"N": str(item.token)}, ":beat": {"N": str(item.beat)}}
        try:
            answer = self.client.update_item(
                TableName=self.table,
                Key=LEASE_KEY,
                UpdateExpression=(
                    "SET holder = :me, #token = if_not_exists(#token, :zero) + :one, beat = if_not_exists(beat, :zero) "
                    "+ :one, checks = if_not_exists(checks, :zero), expiresAt = :expires, durationSeconds = :duration"
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues={
                    **values,
                    ":me": {"S": self.owner},
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                    ":expires": {"S": self._expiry_text()},
                    ":duration": {"N": repr(float(self.duration))},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not _conditional_failure(exc):
                raise
            return  # another process was quicker: it holds the lease now, we look again next round
        taken = LeaseItem.parse(answer["Attributes"])
        self._checks = taken.checks
        self._held(taken, sent_at)
        self._check_wanted = True  # what the last writer left is unknown: read the tables back first
        self._seen = None

    def _expiry_text(self) -> str:
        return (self._wall() + timedelta(seconds=self.duration)).isoformat()

    def _log_role_change(self) -> None:
        role = self.role
        if role == self._role:
            return
        self._role = role
        self.changes += 1
        if role == "writer":
            logger.info("this process (%s) is now the DynamoDB writer, lease token %d", self.owner, self._token)
        else:
            holder = self.holder if self.holder != self.owner else None
            logger.info("this process (%s) is now a DynamoDB reader; the writer is %s", self.owner, holder or "unknown")

    def release(self) -> None:
        """Hand the lease back (after the last sync), so another process takes it at once."""
        with self._lock:
            if not self._holding:
                return
            self._holding = False  # first: no write may leave from here on
            self._log_role_change()
            try:
                self._update_as_holder(
                    "REMOVE holder SET beat = beat + :one, expiresAt = :at", self._wall().isoformat()
                )
            except ClientError as exc:
                if not _conditional_failure(exc):
                    raise
                return
            logger.info("handed the DynamoDB writer's lease (token %d) back", self._token)

    def request_check(self) -> None:
        """After a reader's manual sync: ask the writer to read its tables back at its next sync."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=LEASE_KEY,
                UpdateExpression="SET checks = checks + :one",
                ConditionExpression="attribute_exists(holder)",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        except ClientError as exc:
            if not _conditional_failure(exc):
                raise
