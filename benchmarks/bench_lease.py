"""One writer for many processes: DynamoDB writes per tick with 1, 2 and 4 processes, and the hand-over time.

moto's server runs in this process and logs who sent each request (every service process has an access key of
its own). In both write modes (fenced: TransactWriteItems behind the lease's check, the default; unfenced:
BatchWriteItem) and for 1, 2 and 4 uvicorn processes on the same tables, at default and 100x counts, it prints
the write requests and items DynamoDB received per tick once every process agrees on the writer, split into item
writes (transactions or batches) and lease writes, the reads, how many processes wrote items, how many items were
written more than once (an item at the tick it changed, a KPI point at its time) and how many item writes DynamoDB
refused. Then it kills the writer (SIGKILL, and separately SIGTERM) and prints the time from the signal to the
successor's first item write.

    .venv/bin/python -m benchmarks.bench_lease [--ticks 10] [--rounds 3] [--scales 1,100] [--modes fenced,unfenced]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx

from config import load_settings
from rules import SINGULAR
from tests.support.recording_moto import RecordingMoto
from tests.support.servers import service_process

SEED = 20250115
LEASE_TICKS = 4


def stats(base: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{base}/api/stats", timeout=30).json()
    return answer


def wait_for(condition: Any, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def environment(moto: RecordingMoto, key: str, scale: int, interval: float, fenced: bool) -> dict[str, str]:
    counts = load_settings(_env_file=None).entity_counts
    return {
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-2",
        "AWS_ENDPOINT_URL_DYNAMODB": moto.endpoint,
        "DYNAMODB_ENABLED": "true",
        "DYNAMODB_LEASE_TICKS": str(LEASE_TICKS),
        "DYNAMODB_FENCED_WRITES": str(fenced).lower(),
        "SIMULATOR_SEED": str(SEED),
        "UPDATE_INTERVAL_SECONDS": str(interval),
        "REPORTS_DIR": "/tmp/prism-bench-lease-reports",
        **{f"{SINGULAR[kind].upper()}_COUNT": str(count * scale) for kind, count in counts.items()},
    }


@contextmanager
def processes(
    moto: RecordingMoto, count: int, scale: int, interval: float, fenced: bool
) -> Iterator[list[tuple[str, Any, str]]]:
    """`count` service processes, the first one the writer with its first sync done, the others agreeing."""
    with ExitStack() as stack:
        started = []
        for number in range(count):
            key = f"BENCH{number + 1}"
            env = environment(moto, key, scale, interval, fenced)
            base, process = stack.enter_context(service_process(env, healthy_within=120))
            started.append((base, process, key))
            if number == 0:
                wait_for(lambda: stats(started[0][0])["dynamodb"]["last_sync_result"] == "ok")
        holder = stats(started[0][0])["dynamodb"]["process_id"]
        wait_for(lambda: all(stats(base)["dynamodb"]["lease_holder"] == holder for base, _, _ in started))
        yield started


def writes_per_tick(
    moto: RecordingMoto, count: int, scale: int, interval: float, ticks: int, fenced: bool
) -> dict[str, float]:
    moto.reset()
    with processes(moto, count, scale, interval, fenced) as started:
        writer = started[0][0]
        first = stats(writer)["tick"]
        wait_for(lambda: stats(writer)["tick"] >= first + 2)  # past the start-up's own syncs
        since, start_tick = moto.mark(), stats(writer)["tick"]
        wait_for(lambda: stats(writer)["tick"] >= start_tick + ticks)
        end_tick = stats(writer)["tick"]
        log = moto.received(since)
        senders = {entry.sender for entry in log if entry.landed}
    elapsed = end_tick - start_tick
    kinds = Counter(
        "item writes" if entry.writes_items else "lease" if entry.on_lease else entry.operation for entry in log
    )
    items = sum(entry.items for entry in log if entry.landed)
    puts = [put_key(table, request) for entry in log if entry.landed for table, request in entry.item_requests()]
    writes = kinds["item writes"] + kinds["lease"] + kinds["PutItem"] + kinds["UpdateItem"]
    return {
        "write requests": writes / elapsed,
        "item writes": kinds["item writes"] / elapsed,
        "lease writes": kinds["lease"] / elapsed,
        "items": items / elapsed,
        "reads": (kinds["GetItem"] + kinds["Scan"] + kinds["DescribeTable"]) / elapsed,
        "item writers": len(senders),
        "items written twice": len(puts) - len(set(puts)),
        "refused": sum(1 for entry in log if entry.writes_items and not entry.landed),
    }


def put_key(table: str, request: dict[str, Any]) -> tuple[str, str, str]:
    """What a put writes (an entity item at the tick it last changed, a KPI point at its time), or what a delete
    removes (a closed lead or a churned client)."""
    if "DeleteRequest" in request:
        return table, request["DeleteRequest"]["Key"]["id"]["S"], "deleted"
    item = request["PutRequest"]["Item"]
    if "metricType" in item:
        return table, item["metricType"]["S"], item["timestamp"]["N"]
    return table, item["id"]["S"], item["lastUpdated"]["S"]


def hand_over(moto: RecordingMoto, how: signal.Signals, interval: float, fenced: bool) -> float:
    """Seconds from the signal to the writer to the successor's first item write."""
    moto.reset()
    with processes(moto, 2, 1, interval, fenced) as started:
        (writer, process, _), (_, _, key) = started
        first = stats(writer)["tick"]
        wait_for(lambda: stats(writer)["tick"] >= first + 2)
        since = moto.mark()
        signalled = time.monotonic()
        process.send_signal(how)
        process.wait(timeout=60)

        def successor_wrote() -> bool:
            return any(e.sender == key and e.landed for e in moto.received(since))

        wait_for(successor_wrote, timeout=120)
        first_write = min(e.arrived for e in moto.received(since) if e.sender == key and e.landed)
    return first_write - signalled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scales", default="1,100", help="entity count multiples, comma-separated")
    parser.add_argument("--modes", default="fenced,unfenced", help="write modes, comma-separated")
    args = parser.parse_args()
    scales = [int(scale) for scale in args.scales.split(",")]
    modes = [mode.strip() == "fenced" for mode in args.modes.split(",")]
    moto = RecordingMoto()
    moto.start()
    try:
        for fenced in modes:
            mode = "fenced (TransactWriteItems)" if fenced else "unfenced (BatchWriteItem)"
            for scale in scales:
                interval = 1.0 if scale == 1 else 5.0
                print(f"\n{mode}, {scale}x counts, {interval:g} s ticks, lease {LEASE_TICKS} ticks: DynamoDB per tick")
                for count in (1, 2, 4):
                    figures = writes_per_tick(moto, count, scale, interval, args.ticks, fenced)
                    shown = ", ".join(f"{name} {value:.2f}" for name, value in figures.items())
                    print(f"  {count} process{'es' if count > 1 else ''}: {shown}", flush=True)
        interval = 1.0
        print(
            f"\nhand-over, 2 processes, {interval:g} s ticks, lease {LEASE_TICKS} ticks ({LEASE_TICKS * interval:g} s)"
        )
        for fenced in modes:
            for how in (signal.SIGKILL, signal.SIGTERM):
                times = [hand_over(moto, how, interval, fenced) for _ in range(args.rounds)]
                print(
                    f"  {'fenced' if fenced else 'unfenced'}, {how.name}: signal to the successor's first item write: "
                    f"median {statistics.median(times):.2f} s, max {max(times):.2f} s "
                    f"({', '.join(f'{t:.2f}' for t in times)})",
                    flush=True,
                )
    finally:
        moto.stop()


if __name__ == "__main__":
    main()
