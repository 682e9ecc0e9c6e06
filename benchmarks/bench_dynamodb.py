"""DynamoDB mirror against moto's server over HTTP: a full first sync at 100x counts, and a steady-state tick.

moto's server runs in its own process on a loopback port, so client and server do not share a GIL.
Prints items written per second for the first sync at 100x the default counts, then what a tick
writes at default counts (items and requests per tick, against the items the tick changed).

    .venv/bin/python -m benchmarks.bench_dynamodb [--ticks 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import data_generator as dg
from config import load_settings
from dynamodb_client import METRICS, DynamoMirror, make_client, to_item

SEED = 20250115


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's DynamoDB server in a subprocess; yields its endpoint."""
    from tests.support.servers import free_port, wait_until_answering

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{endpoint}/moto-api/", process, timeout=20)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def snapshot_of(scale: int, tick: int = 100_000) -> dg.Snapshot:
    counts = {kind: count * scale for kind, count in load_settings(_env_file=None).entity_counts.items()}
    generation = dg.new_generation(counts=counts, interval=30, now=datetime.now(UTC), seed=SEED)
    return dg.compute_snapshot(generation, tick)


def mirror_for(endpoint: str, prefix: str) -> tuple[DynamoMirror, dict[str, int]]:
    """A mirror with the service's own client, and a counter of the requests it sends."""
    settings = load_settings(_env_file=None, aws_endpoint_url_dynamodb=endpoint, dynamodb_table_prefix=prefix)
    client = make_client(settings)
    requests: dict[str, int] = {}

    def count(model: Any, **kwargs: Any) -> None:
        requests[model.name] = requests.get(model.name, 0) + 1

    client.meta.events.register("before-parameter-build.dynamodb", count)
    return DynamoMirror(client, prefix=prefix, create_tables=True), requests


def first_sync(endpoint: str) -> None:
    snapshot = snapshot_of(100)
    items = sum(snapshot.counts.values())
    started = time.perf_counter()
    for kind in dg.ENTITY_KINDS:
        for item in snapshot.items[kind]:
            to_item(item)
    conversion = time.perf_counter() - started

    mirror, requests = mirror_for(endpoint, "bench100-")
    mirror.sync(snapshot_of(1))  # creates the tables, so that only the writes are timed below
    requests.clear()
    started = time.perf_counter()
    outcome = mirror.sync(snapshot)
    elapsed = time.perf_counter() - started
    assert outcome.ok, outcome.error
    written = sum(count for kind, count in outcome.written.items() if kind != METRICS)
    print(f"full first sync at 100x default counts ({items:,} items, {len(snapshot.counts)} tables):")
    print(f"  {elapsed:.2f} s, {written / elapsed:,.0f} items/s written, {requests.get('BatchWriteItem', 0)} requests")
    print(f"  of which converting items to DynamoDB attributes: {conversion * 1000:.0f} ms")

    started = time.perf_counter()
    outcome = mirror.sync(snapshot, check=True)
    print(
        f"  a checking sync with nothing pending: {(time.perf_counter() - started) * 1000:.0f} ms, "
        f"{sum(outcome.written.values())} items written"
    )


def steady_ticks(endpoint: str, ticks: int) -> None:
    snapshot = snapshot_of(1)
    mirror, requests = mirror_for(endpoint, "bench1-")
    mirror.record_metrics(snapshot)
    assert mirror.sync(snapshot).ok
    items = sum(snapshot.counts.values())
    written, changed, batches, durations = [], [], [], []
    for _ in range(ticks):
        snapshot = dg.advance(snapshot)
        mirror.record_metrics(snapshot)
        requests.clear()
        outcome = mirror.sync(snapshot)
        assert outcome.ok, outcome.error
        assert snapshot.changed is not None
        written.append(sum(count for kind, count in outcome.written.items() if kind != METRICS))
        changed.append(sum(len(ids) for ids in snapshot.changed.values()))
        batches.append(requests.get("BatchWriteItem", 0))
        durations.append(outcome.duration_ms)
    mean = statistics.mean(written)
    print(f"steady-state tick at default counts ({items} items), {ticks} ticks:")
    print(
        f"  entity items written per tick: mean {mean:.1f} ({mean / items:.1%}), min {min(written)}, "
        f"max {max(written)}; items the tick changed: mean {statistics.mean(changed):.1f}"
    )
    print("  plus 10 KPI points per tick to the metrics table")
    print(
        f"  BatchWriteItem requests per tick: mean {statistics.mean(batches):.1f}; "
        f"sync time per tick: median {statistics.median(durations):.0f} ms"
    )
    assert written == changed, "a tick wrote something other than what changed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with moto_server() as endpoint:
        first_sync(endpoint)
        steady_ticks(endpoint, args.ticks)


if __name__ == "__main__":
    main()
