"""Live features under load: SSE subscribers one process holds, and /api/history of 1,000 points.

Starts `python main.py` with a 0.5 s tick, measures /api/history over the last 24 hours
(1,000 points) just after start-up and once the background backfill is done, then opens N
server-sent-event subscribers, checks each receives tick events, and measures list latency
with and without them.

    .venv/bin/python benchmarks/bench_live.py [--subscribers 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parent.parent
PORT = 18720


def _raise_file_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def latency_ms(client: httpx.Client, path: str, count: int) -> tuple[float, float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.99) - 1)]


def history_ms(client: httpx.Client, count: int = 5) -> tuple[float, int]:
    start = (datetime.now(UTC) - timedelta(hours=24)).isoformat()
    samples, points = [], 0
    for _ in range(count):
        began = time.perf_counter()
        response = client.get("/api/history", params={"from": start})
        response.raise_for_status()
        samples.append((time.perf_counter() - began) * 1000)
        points = len(response.json()["points"])
    return statistics.median(samples), points


async def subscriber(index: int, ticks_seen: list[int], stop: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(b"GET /api/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
    await writer.drain()
    try:
        while not stop.is_set():
            line = await reader.readline()
            if not line:
                break
            if line.startswith(b"event: tick"):
                ticks_seen[index] += 1
    finally:
        writer.close()


async def hold_subscribers(count: int, seconds: float, client: httpx.Client) -> tuple[list[int], tuple[float, float]]:
    ticks_seen = [0] * count
    stop = asyncio.Event()
    tasks = []
    for index in range(count):
        tasks.append(asyncio.create_task(subscriber(index, ticks_seen, stop)))
        if index % 100 == 99:
            await asyncio.sleep(0.05)
    await asyncio.sleep(2)
    # Measured from a thread, while this loop keeps reading every stream.
    during = await asyncio.to_thread(latency_ms, client, "/api/clients", 300)
    await asyncio.sleep(max(0.0, seconds - 2))
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return ticks_seen, during


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    _raise_file_limit()
    env = {
        **os.environ,
        "PORT": str(PORT),
        "UPDATE_INTERVAL_SECONDS": "0.5",
        "SIMULATOR_SEED": "11",
        "DYNAMODB_ENABLED": "false",
    }
    server = subprocess.Popen([sys.executable, "main.py"], cwd=PROJECT, env=env, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=30) as client:
            while True:
                try:
                    client.get("/health").raise_for_status()
                    break
                except httpx.TransportError:
                    time.sleep(0.02)
            cold, points = history_ms(client, 1)
            time.sleep(12)  # the backfill of the last 24 hours finishes in the background
            warm, _ = history_ms(client)
            print(
                f"/api/history, last 24 h, {points} points: first request {cold:.0f} ms, "
                f"warm median {warm:.1f} ms (target < 50 ms)"
            )
            idle = latency_ms(client, "/api/clients", 300)
            seen, during = asyncio.run(hold_subscribers(args.subscribers, args.seconds, client))
            receiving = sum(1 for n in seen if n > 0)
            print(
                f"SSE: {args.subscribers} subscribers held for {args.seconds:g} s with a 0.5 s tick; "
                f"{receiving} received tick events (median {statistics.median(seen):.0f} each)"
            )
            print(
                f"GET /api/clients latency p50/p99: idle {idle[0]:.2f}/{idle[1]:.2f} ms, "
                f"with {args.subscribers} subscribers {during[0]:.2f}/{during[1]:.2f} ms"
            )
            print("subscribers left after they vanished:", client.get("/api/stats").json()["sse_subscribers"])
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
