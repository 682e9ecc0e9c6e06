"""The DynamoDB mirror's state and the result of a sync, as `/api/stats` and `POST /api/sync` show them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TableSyncCounts(BaseModel):
    """What one sync did to one table."""

    written: int = Field(0, description="Items put (new or changed since their last successful write).")
    deleted: int = Field(0, description="Items deleted (no longer in the snapshot).")


class SyncResult(BaseModel):
    """Answer of `POST /api/sync`; HTTP 503 when DynamoDB failed, with `error` saying why."""

    status: Literal["ok", "failed", "disabled"] = Field(description="`disabled` when DynamoDB sync is off.")
    message: str = Field(examples=["DynamoDB holds tick 1234"])
    tick: int | None = Field(None, description="The tick the tables were made equal to.")
    tables: dict[str, TableSyncCounts] = Field(
        default_factory=dict, description="Per entity table, and `metrics` for the KPI points appended."
    )
    retries: int = Field(0, description="Requests sent again (throttling, unprocessed items, transient errors).")
    duration_ms: float = Field(0.0, description="How long the sync took.")
    items_pending: int = Field(0, description="Items that still differ from DynamoDB after this sync.")
    error: str | None = Field(None, description="Why the sync failed.")


class DynamoDBStatus(BaseModel):
    """The DynamoDB mirror as `/api/stats` shows it."""

    enabled: bool
    reason: str | None = Field(None, description="Why sync is off.")
    endpoint: str | None = Field(None, description="The DynamoDB endpoint in use.")
    region: str | None = None
    tables: list[str] = Field(default_factory=list)
    syncing: bool = Field(False, description="Whether a sync is running now.")
    last_sync_at: str | None = Field(None, description="When the last sync started.")
    last_sync_result: Literal["ok", "failed"] | None = None
    last_sync_duration_ms: float | None = None
    last_success_at: str | None = Field(None, description="When the last successful sync started.")
    synced_tick: int | None = Field(None, description="The tick the tables held after the last successful sync.")
    last_error: str | None = Field(None, description="Why the last failed sync failed.")
    last_error_at: str | None = None
    consecutive_failures: int = 0
    items_pending: int = Field(0, description="Items written or deleted by no sync yet.")
    metrics_pending: int = Field(0, description="KPI points waiting for the metrics table.")
    metrics_dropped: int = Field(0, description="KPI points given up during a long outage (oldest first).")
    syncs: int = 0
    syncs_failed: int = 0
    items_written: int = 0
    items_deleted: int = 0
    role: Literal["writer", "reader"] | None = Field(
        None, description="`writer` when this process holds the writer's lease and writes the mirror, else `reader`."
    )
    process_id: str | None = Field(None, description="This process's name in the writer's lease.")
    lease_holder: str | None = Field(None, description="The process holding the writer's lease, as last seen.")
    lease_token: int | None = Field(None, description="Fencing token of the lease: one more on every taking.")
    lease_expires_at: str | None = Field(
        None, description="When the lease runs out unrenewed (the holder's reckoning; past when it was handed back)."
    )
