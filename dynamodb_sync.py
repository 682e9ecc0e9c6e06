"""The DynamoDB mirror's lifetime on the event loop, and which process writes it.

`DynamoDBSync` runs `DynamoMirror`'s syncs in a thread of their own: a sync after every tick without ever delaying
one, a sync on demand, a last bounded sync on shutdown, and the status block of `/api/stats`. With the writer's
lease (`lease.py`) only the process holding it syncs after its ticks; the others write nothing on their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

import data_generator as dg
from config import Settings
from dynamodb_client import (
    ClientFactory,
    DynamoMirror,
    SyncOutcome,
    describe_error,
    disabled_reason,
    make_client,
)
from dynamodb_writes import METRICS
from lease import WriterLease
from models import DynamoDBStatus, SyncResult, TableSyncCounts
from prism.tasks import cancel_and_wait

logger = logging.getLogger("prism.dynamodb")

# Background syncs after a failure wait this long (doubling per failure), so an outage is not hammered.
FAILURE_BASE_DELAY = 0.5
FAILURE_MAX_DELAY = 10.0
SHUTDOWN_SYNC_SECONDS = 4.0
# A reader keeps the KPI points of this many lease durations, for the ticks a dead writer left unwritten.
KPI_KEPT_LEASES = 3


class DynamoDBSync:
    """Runs the mirror's syncs in a thread of their own: after ticks, on demand and at shutdown."""

    def __init__(
        self,
        mirror: DynamoMirror | None,
        *,
        reason: str | None = None,
        region: str | None = None,
        lease: WriterLease | None = None,
        fenced: bool = True,
    ) -> None:
        self.mirror = mirror
        self.reason = reason
        self.region = region
        self.lease = lease
        self.fenced = fenced
        self._keeper: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._lock = asyncio.Lock()
        self._wanted: dg.Snapshot | None = None
        self._latest: dg.Snapshot | None = None
        self._drainer: asyncio.Task[None] | None = None
        self._closed = False

    @classmethod
    def off(cls, reason: str) -> DynamoDBSync:
        """A mirror that does nothing and says why."""
        return cls(None, reason=reason)

    @classmethod
    def open(cls, settings: Settings, client_factory: ClientFactory = make_client) -> DynamoDBSync:
        """The mirror the settings ask for: off with its reason, or on with a client (no network yet)."""
        reason = disabled_reason(settings)
        if reason is not None:
            logger.info("DynamoDB sync is off: %s", reason)
            return cls.off(reason)
        try:
            client = client_factory(settings)
        except Exception as exc:
            logger.error("DynamoDB sync is off: could not build the client: %s", describe_error(exc))
            return cls.off(f"could not build the DynamoDB client: {describe_error(exc)}")
        mirror = DynamoMirror(
            client, prefix=settings.dynamodb_table_prefix, create_tables=settings.dynamodb_create_tables
        )
        lease = WriterLease(
            client,
            table=mirror.tables[METRICS],
            duration=settings.dynamodb_lease_ticks * settings.update_interval_seconds,
            # Twice a tick: a dead writer's successor takes over within the lease and a tick.
            poll_every=settings.update_interval_seconds / 2,
            ensure_table=mirror.ensure_metrics_table,
        )
        logger.info(
            "DynamoDB sync is on: %s, tables %s*, %s",
            client.meta.endpoint_url,
            settings.dynamodb_table_prefix,
            "writes fenced by the writer's lease" if settings.dynamodb_fenced_writes else "writes unfenced (batches)",
        )
        return cls(mirror, region=settings.aws_region, lease=lease, fenced=settings.dynamodb_fenced_writes)

    @property
    def enabled(self) -> bool:
        """Whether syncs reach DynamoDB."""
        return self.mirror is not None

    def start(self, snapshot: dg.Snapshot) -> None:
        """On the running loop: start the mirror's thread and its start-up sync, in the background."""
        if self.mirror is None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prism-dynamodb")
        self.request(snapshot)
        if self.lease is not None:
            self._keeper = asyncio.get_running_loop().create_task(self._keep_lease(self.lease), name="prism-lease")

    async def _keep_lease(self, lease: WriterLease) -> None:
        """Renew the lease (or watch it) on its own clock, in a thread of its own: a long sync never delays it."""
        failing = False
        while True:
            await asyncio.sleep(lease.renew_every if lease.may_write() else lease.poll_every)
            was_writer = lease.may_write()
            try:
                await asyncio.to_thread(lease.step)
            except Exception as exc:
                # Once per outage; the syncs' own status and logs tell the rest.
                (logger.debug if failing else logger.warning)("could not renew or read the writer's lease: %s", exc)
                failing = True
            else:
                failing = False
            if lease.may_write() and not was_writer and self._latest is not None:
                self.request(self._latest)  # a new writer syncs now, not at its next tick (30 s away by default)

    async def on_tick(self, snapshot: dg.Snapshot, previous: dg.Snapshot | None) -> None:
        """Tick listener: queue the tick's KPIs and a sync, returning at once."""
        self.request(snapshot)

    def request(self, snapshot: dg.Snapshot) -> None:
        """Ask for a background sync of this snapshot; syncs asked for while one runs fold into the next."""
        if self.mirror is None or self._executor is None or self._closed:
            return
        self.mirror.record_metrics(snapshot)
        self._wanted = self._latest = snapshot
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.get_running_loop().create_task(self._drain(), name="prism-dynamodb-sync")

    async def _drain(self) -> None:
        while self._wanted is not None:
            await asyncio.sleep(self._failure_delay())
            snapshot, self._wanted = self._wanted, None
            if snapshot is not None:
                await self._run(snapshot, check=False)

    def _failure_delay(self) -> float:
        """Time left to wait before the next background attempt after consecutive failures."""
        mirror = self.mirror
        if mirror is None or mirror.consecutive_failures == 0:
            return 0.0
        delay = min(FAILURE_MAX_DELAY, FAILURE_BASE_DELAY * 2 ** (mirror.consecutive_failures - 1))
        return float(max(0.0, mirror.last_failure_at + delay - time.monotonic()))

    async def _run(
        self,
        snapshot: dg.Snapshot,
        *,
        check: bool,
        deep: bool = False,
        deadline: float | None = None,
        manual: bool = False,
    ) -> SyncOutcome | None:
        if self.mirror is None or self._executor is None:
            raise RuntimeError("the DynamoDB mirror has not started")
        async with self._lock:
            job = functools.partial(
                self._sync_in_role, self.mirror, snapshot, check=check, deep=deep, deadline=deadline, manual=manual
            )
            running = asyncio.get_running_loop().run_in_executor(self._executor, job)
            # Shielded: a caller that gives up does not leave a half-known sync behind.
            return await asyncio.shield(running)

    def _sync_in_role(
        self,
        mirror: DynamoMirror,
        snapshot: dg.Snapshot,
        *,
        check: bool,
        deep: bool,
        deadline: float | None,
        manual: bool,
    ) -> SyncOutcome | None:
        """In the mirror's thread: sync as the lease's holder, write nothing as a reader (unless asked to by hand)."""
        lease = self.lease
        if lease is None:
            return mirror.sync(snapshot, check=check, deep=deep, deadline=deadline)
        try:
            writer = lease.confirm(force=manual)
        except Exception as exc:
            return mirror.sync(snapshot, gate=functools.partial(_raise, exc))  # a failed sync, counted and shown
        if writer:
            fresh = lease.take_check_request()  # just taken, or a reader wrote: read the tables back first
            fence = lease if self.fenced else None
            return mirror.sync(
                snapshot, check=check or fresh, deep=deep or fresh, deadline=deadline, gate=lease.guard, fence=fence
            )
        mirror.keep_recent_metrics(snapshot.time.timestamp() - KPI_KEPT_LEASES * lease.duration)
        if not manual:
            return None
        # Somebody asked for this sync: it writes, and the writer reads its tables back at its next sync, so that
        # a tick older than its own written here does not stay behind.
        outcome = mirror.sync(snapshot, check=True, deep=deep, deadline=deadline)
        with contextlib.suppress(BotoCoreError, ClientError):
            lease.request_check()
        return outcome

    async def exchange_generation(self, local: dg.Generation) -> dg.Generation | None:
        """In the mirror's thread, after any sync already queued: the generation to adopt, if another is newer."""
        if self.mirror is None or self._executor is None or self._closed:
            return None
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.mirror.exchange_generation, local)

    async def sync_now(self, snapshot: dg.Snapshot, *, deep: bool = False) -> SyncResult:
        """Wait for a running sync, then check the tables and sync this snapshot; the answer of POST /api/sync."""
        if self.mirror is None or self._executor is None:
            reason = self.reason or "the DynamoDB mirror has not started"
            return SyncResult(status="disabled", message=f"DynamoDB sync is off: {reason}")
        if self._closed:
            error = "the service is shutting down; its last sync is running"
            return SyncResult(status="failed", message=error, error=error, items_pending=self.mirror.items_pending)
        self.mirror.record_metrics(snapshot)
        outcome = await self._run(snapshot, check=True, deep=deep, manual=True)
        assert outcome is not None  # a manual sync always runs
        return _result(outcome)

    async def close(self, snapshot: dg.Snapshot, *, grace: float | None = None) -> None:
        """Stop background syncs and write the final snapshot, giving up after `grace` seconds."""
        if self.mirror is None or self._executor is None or self._closed:
            return
        grace = SHUTDOWN_SYNC_SECONDS if grace is None else grace
        self._closed = True
        drainer, self._drainer = self._drainer, None
        await cancel_and_wait(drainer)
        deadline = time.monotonic() + grace
        try:
            async with asyncio.timeout(grace):
                outcome = await self._run(snapshot, check=False, deadline=deadline)
                await self._hand_back_lease()
            if outcome is not None and not outcome.ok:
                logger.warning(
                    "last DynamoDB sync failed: %s; %d items and %d KPI points not written",
                    outcome.error,
                    outcome.pending,
                    self.mirror.metrics_pending,
                )
        except TimeoutError:
            logger.warning(
                "last DynamoDB sync did not finish in %g s; %d items and %d KPI points not written",
                grace,
                self.mirror.items_pending,
                self.mirror.metrics_pending,
            )
        finally:
            if self._keeper is not None:
                self._keeper.cancel()
            self.mirror.stop()
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def _hand_back_lease(self) -> None:
        """After the last sync: stop renewing and hand the lease back, so that a successor need not wait for it."""
        keeper, self._keeper = self._keeper, None
        await cancel_and_wait(keeper)
        if self.lease is not None:
            try:
                await asyncio.to_thread(self.lease.release)
            except (BotoCoreError, ClientError) as exc:
                logger.warning("could not hand the writer's lease back (it runs out by itself): %s", exc)

    def status(self) -> DynamoDBStatus:
        """The `dynamodb` block of /api/stats."""
        mirror = self.mirror
        if mirror is None:
            return DynamoDBStatus(enabled=False, reason=self.reason)
        last, success, failure = mirror.last_outcome, mirror.last_success, mirror.last_failure
        return DynamoDBStatus(
            enabled=True,
            endpoint=mirror.client.meta.endpoint_url,
            region=mirror.client.meta.region_name or self.region,
            tables=list(mirror.tables.values()),
            syncing=mirror.syncing,
            last_sync_at=dg.iso_time(last.started_at) if last else None,
            last_sync_result=("ok" if last.ok else "failed") if last else None,
            last_sync_duration_ms=round(last.duration_ms, 3) if last else None,
            last_success_at=dg.iso_time(success.started_at) if success else None,
            synced_tick=success.tick if success else None,
            last_error=failure.error if failure else None,
            last_error_at=dg.iso_time(failure.started_at) if failure else None,
            consecutive_failures=mirror.consecutive_failures,
            items_pending=mirror.items_pending,
            metrics_pending=mirror.metrics_pending,
            metrics_dropped=mirror.metrics_dropped,
            syncs=mirror.syncs,
            syncs_failed=mirror.syncs_failed,
            items_written=mirror.items_written,
            items_deleted=mirror.items_deleted,
            **self._lease_status(),
        )

    def _lease_status(self) -> dict[str, Any]:
        lease = self.lease
        if lease is None:
            return {}
        expires = lease.expires_at()
        return {
            "role": lease.role,
            "process_id": lease.owner,
            "lease_holder": lease.holder,
            "lease_token": lease.token,
            "lease_expires_at": dg.iso_time(expires) if expires is not None else None,
        }


def _raise(exc: BaseException) -> None:
    raise exc


def _result(outcome: SyncOutcome) -> SyncResult:
    tables = {
        kind: TableSyncCounts(written=outcome.written.get(kind, 0), deleted=outcome.deleted.get(kind, 0))
        for kind in (*dg.ENTITY_KINDS, METRICS)
    }
    if outcome.ok:
        message = f"DynamoDB holds tick {outcome.tick}"
    else:
        message = f"DynamoDB sync failed; {outcome.pending} items wait for the next sync"
    return SyncResult(
        status="ok" if outcome.ok else "failed",
        message=message,
        tick=outcome.tick,
        tables=tables,
        retries=outcome.retries,
        duration_ms=round(outcome.duration_ms, 3),
        items_pending=outcome.pending,
        error=outcome.error,
    )
