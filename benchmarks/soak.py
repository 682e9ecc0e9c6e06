"""Soak: run the service for N minutes under steady load while DynamoDB goes away and comes back.

A sub-second tick; every GET endpoint polled; PDF reports rendered concurrently; SSE
subscribers connecting and vanishing; moto's DynamoDB server (over HTTP) stopped and
restarted twice. At the end it prints requests and errors by status, p99 latency per
minute, resident memory after warm-up and at the end, and whether every DynamoDB table
equals the final snapshot.

    .venv/bin/python benchmarks/soak.py --minutes 10
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import httpx
from moto.server import ThreadedMotoServer

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import data_generator as dg  # noqa: E402

GET_PATHS = [
    "/",
    "/health",
    "/api/stats",
    "/api/clients",
    "/api/licenses",
    "/api/leads",
    "/api/technicians",
    "/api/departments",
    "/api/vendors",
    "/api/contracts",
    "/api/clients?status=Active&sort=marginPercentage&order=desc&limit=5",
    "/api/leads/lead-3",
    "/api/history?step=1m",
    "/api/vendors/vendor-2/history?step=30s",
]
PAGE_TYPES = [
    "client-profitability",
    "software-license",
    "sales-pipeline",
    "resource-allocation",
    "departmental-spend",
    "vendor-management",
]
SEED = 424242
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-2"}


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Recorder:
    """Statuses and latencies, by minute of the run."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.statuses: collections.Counter[str] = collections.Counter()
        self.latency_by_minute: dict[int, list[float]] = collections.defaultdict(list)

    def record(self, status: str, seconds: float) -> None:
        self.statuses[status] += 1
        self.latency_by_minute[int((time.monotonic() - self.started) // 60)].append(seconds)


async def poll(client: httpx.AsyncClient, recorder: Recorder, stop: asyncio.Event, offset: int) -> None:
    index = offset
    while not stop.is_set():
        path = GET_PATHS[index % len(GET_PATHS)]
        index += 1
        started = time.perf_counter()
        try:
            response = await client.get(path)
            status = str(response.status_code)
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        recorder.record(status, time.perf_counter() - started)
        await asyncio.sleep(0.02)


async def render_reports(client: httpx.AsyncClient, recorder: Recorder, stop: asyncio.Event) -> None:
    index = 0
    while not stop.is_set():
        started = time.perf_counter()
        try:
            response = await client.post("/api/generate-report", json={"pageType": PAGE_TYPES[index % 6]})
            status = f"report {response.status_code}"
        except httpx.HTTPError as exc:
            status = f"report {type(exc).__name__}"
        recorder.record(status, time.perf_counter() - started)
        index += 1
        await asyncio.sleep(1.0)


async def subscribe_and_vanish(base: str, recorder: Recorder, stop: asyncio.Event) -> None:
    while not stop.is_set():
        events = 0
        try:
            async with (
                httpx.AsyncClient(base_url=base, timeout=10) as client,
                client.stream("GET", "/api/events") as stream,
            ):
                async for line in stream.aiter_lines():
                    events += line.startswith("event: tick")
                    if events >= 3:
                        break  # vanish without a goodbye
            recorder.record("sse ok" if events >= 3 else "sse short", 0.0)
        except httpx.HTTPError as exc:
            recorder.record(f"sse {type(exc).__name__}", 0.0)
        await asyncio.sleep(0.5)


async def flap_dynamodb(moto: list[ThreadedMotoServer], port: int, minutes: float, stop: asyncio.Event) -> None:
    """Stop moto's server at 1/3 and 2/3 of the run for 20 s each, then start it again (empty)."""
    for fraction in (1 / 3, 2 / 3):
        await asyncio.sleep(max(0.0, minutes * 60 * fraction - (time.monotonic() - START)))
        if stop.is_set():
            return
        print(f"[{time.monotonic() - START:6.0f} s] DynamoDB down", flush=True)
        moto[0].stop()
        await asyncio.sleep(20)
        moto[0] = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        moto[0].start()
        # moto keeps its state in this process across a restart; a real outage may lose it all.
        await asyncio.to_thread(httpx.post, f"http://127.0.0.1:{port}/moto-api/reset")
        print(f"[{time.monotonic() - START:6.0f} s] DynamoDB back (empty)", flush=True)


def tables_equal_snapshot(endpoint: str, stats: dict[str, Any]) -> str:
    """Compare every table with the snapshot of the final ticks; say which tick matched, or what differs."""
    dynamodb = boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    scanned = {}
    for kind in dg.ENTITY_KINDS:
        table = dynamodb.Table(f"prism-{kind}")
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = table.scan(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        scanned[kind] = {item["id"]: _plain(item) for item in items}
    generation = dg.Generation(
        seed=stats["seed"],
        epoch=datetime.fromisoformat(stats["epoch"].replace("Z", "+00:00")),
        interval=stats["update_interval"],
        counts=stats["counts"],
        created_at=datetime.fromisoformat(stats["epoch"].replace("Z", "+00:00")),
    )
    for tick in range(stats["tick"], stats["tick"] + 40):
        snapshot = dg.compute_snapshot(generation, tick)
        if all(scanned[k] == {i["id"]: i for i in snapshot.items[k]} for k in dg.ENTITY_KINDS):
            return f"yes (tables equal the snapshot of tick {tick})"
    counts = {k: len(v) for k, v in scanned.items()}
    return f"NO: no tick from {stats['tick']} to {stats['tick'] + 39} matches; items per table {counts}"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


START = time.monotonic()


async def run(minutes: float, port: int, moto_port: int, reports_dir: str) -> None:
    global START
    moto = [ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)]
    moto[0].start()
    endpoint = f"http://127.0.0.1:{moto_port}"
    env = {
        **os.environ,
        **AWS_ENV,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "DYNAMODB_ENABLED": "true",
        "UPDATE_INTERVAL_SECONDS": "0.5",
        "SIMULATOR_SEED": str(SEED),
        "PORT": str(port),
        "REPORTS_DIR": reports_dir,
        "REPORTS_KEEP": "20",
        "MALLOC_ARENA_MAX": "2",  # as the Docker image sets it
    }
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before any load
        [sys.executable, "main.py"], cwd=PROJECT, env=env, stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    recorder = Recorder()
    try:
        async with httpx.AsyncClient(base_url=base, timeout=15) as client:
            for _ in range(200):
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            START = time.monotonic()
            stop = asyncio.Event()
            tasks = [asyncio.create_task(poll(client, recorder, stop, n)) for n in range(8)]
            tasks.append(asyncio.create_task(render_reports(client, recorder, stop)))
            tasks += [asyncio.create_task(subscribe_and_vanish(base, recorder, stop)) for _ in range(4)]
            tasks.append(asyncio.create_task(flap_dynamodb(moto, moto_port, minutes, stop)))
            await asyncio.sleep(min(60.0, minutes * 60 / 4))
            rss_start = rss_mb(server.pid)
            await asyncio.sleep(max(0.0, minutes * 60 - (time.monotonic() - START)))
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            rss_end = rss_mb(server.pid)
            sync = (await client.post("/api/sync")).json()
            stats = (await client.get("/api/stats")).json()
        server.send_signal(signal.SIGTERM)
        exit_code = server.wait(timeout=30)
        print(
            f"\nsoak of {minutes:g} min, tick 0.5 s, 8 pollers, 1 report loop, 4 SSE churners, DynamoDB flapped twice"
        )
        print("requests by status:", dict(sorted(recorder.statuses.items())))
        unexpected = sum(n for s, n in recorder.statuses.items() if s.split()[-1].startswith("5"))
        print("unexpected 5xx:", unexpected)
        for minute, latencies in sorted(recorder.latency_by_minute.items()):
            ordered = sorted(x for x in latencies if x > 0)
            if ordered:
                p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000
                print(f"  minute {minute + 1:>2}: {len(ordered):>6} requests, p99 {p99:.1f} ms")
        growth = (rss_end - rss_start) / rss_start * 100
        print(f"RSS after warm-up {rss_start:.1f} MB, at end {rss_end:.1f} MB ({growth:+.1f}%)")
        print("last manual sync:", {k: sync.get(k) for k in ("error", "itemsPending", "items_pending") if k in sync})
        print("exit code after SIGTERM:", exit_code)
        print("DynamoDB tables equal the final snapshot:", tables_equal_snapshot(endpoint, stats))
    finally:
        if server.poll() is None:
            server.kill()
        moto[0].stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--port", type=int, default=18650)
    parser.add_argument("--moto-port", type=int, default=18651)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as reports_dir:
        asyncio.run(run(args.minutes, args.port, args.moto_port, reports_dir))


if __name__ == "__main__":
    main()
