"""Live features under load: /api/history of 1,000 points, and the SSE subscribers one process holds.

History (default settings: a 30 s tick, default counts), timed from a client:
  - the last 24 hours (960 points at the default step) right after start-up, while the backfill runs;
  - 1,000 points nothing has computed yet (a week back): consecutive ticks, and every 15 minutes;
  - the same ranges again (kept now), and the last 24 hours once the start-up backfill is done.
SSE (a 0.5 s tick): N subscribers on raw sockets from this process (asyncio); checks that every one
receives every tick event and how late; GET list latency p50/p99 measured from a separate process,
without and with the subscribers; the server's CPU and memory with them; subscribers left once gone.

    .venv/bin/python -m benchmarks.bench_live [--subscribers 1000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import httpx

from benchmarks.machine import cpu_seconds, rss_mb

PROJECT = Path(__file__).resolve().parent.parent

LIST_PATHS = ("/api/clients", "/api/clients?status=Active&sort=marginPercentage&order=desc&limit=5")
SSE_TICK_SECONDS = 0.5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A `python main.py` process."""

    base: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    def get(self, path: str, **params: str) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", params=params, timeout=60)

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def errors_logged(self) -> list[str]:
        self.log.seek(0)
        return [line for line in self.log.read().decode(errors="replace").splitlines() if " ERROR " in line]

    def metric(self, name: str) -> float:
        for line in self.get("/metrics").text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise KeyError(name)


@contextmanager
def serving(**env: str) -> Iterator[Server]:
    """`python main.py` on a free loopback port with these settings; stopped afterwards."""
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "DYNAMODB_"))}
    environment.update(
        {"PORT": str(port), "HOST": "127.0.0.1", "DYNAMODB_ENABLED": "false", "LOG_LEVEL": "WARNING", **env}
    )
    with tempfile.TemporaryFile() as log:
        command = [sys.executable, "main.py"]
        process = subprocess.Popen(command, cwd=PROJECT, env=environment, stdout=log, stderr=log)
        server = Server(f"http://127.0.0.1:{port}", process, log)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if server.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.02)
            yield server
        finally:
            process.terminate()
            process.wait(timeout=30)


# --- history -----------------------------------------------------------------------------------


def timed_history(server: Server, repeats: int, **params: str) -> tuple[float, int]:
    """Median milliseconds of /api/history with these parameters, and the points it gave."""
    samples, points = [], 0
    with httpx.Client(base_url=server.base, timeout=120) as client:
        for _ in range(repeats):
            started = time.perf_counter()
            response = client.get("/api/history", params=params)
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            points = len(response.json()["points"])
    return statistics.median(samples), points


def wait_for_backfill(server: Server, timeout: float = 60) -> float:
    """Seconds until the start-up backfill stops growing the kept history."""
    started = time.monotonic()
    kept = -1.0
    while time.monotonic() - started < timeout:
        now_kept = server.metric("prism_history_ticks_kept")
        if now_kept == kept and now_kept > 1:
            break
        kept = now_kept
        time.sleep(1.0)
    return time.monotonic() - started


def bench_history() -> None:
    with serving(SIMULATOR_SEED="11") as server:
        now = datetime.now(UTC)
        day = {"from": (now - timedelta(hours=24)).isoformat()}
        first, points = timed_history(server, 1, **day)
        print(f"/api/history, last 24 h ({points} points), first request after start-up: {first:.0f} ms")
        week_ago = now - timedelta(days=7)
        consecutive = {
            "from": (week_ago - timedelta(seconds=30 * 999)).isoformat(),
            "to": week_ago.isoformat(),
            "step": "30s",
        }
        sparse = {"from": (week_ago - timedelta(minutes=15 * 999)).isoformat(), "to": week_ago.isoformat()}
        sparse["step"] = "15m"
        for label, params in (("consecutive ticks", consecutive), ("every 15 min", sparse)):
            cold, points = timed_history(server, 1, **params)
            warm, _ = timed_history(server, 10, **params)
            print(
                f"/api/history, {points} points of {label} a week back: "
                f"cold {cold:.0f} ms, then kept {warm:.1f} ms (median of 10)"
            )
        waited = wait_for_backfill(server)
        kept = server.metric("prism_history_ticks_kept")
        warm, points = timed_history(server, 20, **day)
        print(
            f"/api/history, last 24 h ({points} points) once the backfill is done "
            f"({kept:.0f} ticks kept, {waited:.0f} s after): {warm:.1f} ms median of 20 (target < 50 ms)"
        )


# --- SSE ---------------------------------------------------------------------------------------


def latency_ms(base: str, count: int) -> dict[str, list[float]]:
    """p50 and p99 milliseconds of each list path, one request at a time."""
    measured = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for path in LIST_PATHS:
            for _ in range(20):
                client.get(path)
            samples = []
            for _ in range(count):
                started = time.perf_counter()
                client.get(path).raise_for_status()
                samples.append((time.perf_counter() - started) * 1000)
            samples.sort()
            measured[path] = [samples[len(samples) // 2], samples[int(len(samples) * 0.99) - 1]]
    return measured


def probe_latency(base: str, count: int) -> dict[str, list[float]]:
    """`latency_ms` in a process of its own, so that this one's subscribers do not slow the client down."""
    command = [sys.executable, __file__, "--probe", base, "--count", str(count)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    measured: dict[str, list[float]] = json.loads(result.stdout)
    return measured


@dataclass
class Subscriber:
    ticks: list[int] = field(default_factory=list)
    lateness_ms: list[float] = field(default_factory=list)
    error: str | None = None


def tick_events(buffer: bytes) -> tuple[list[int], bytes]:
    """Tick numbers of the complete events in a buffer of the raw (chunked) stream, and what is left over."""
    *blocks, rest = buffer.split(b"\n\n")
    ticks = []
    for block in blocks:
        if b"event: tick" in block:
            data = block[block.index(b"data: ") + 6 :].split(b"\n", 1)[0]
            ticks.append(json.loads(data)["tick"])
    return ticks, rest


async def subscribe(port: int, epoch: datetime, interval: float, record: Subscriber, stop: asyncio.Event) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as exc:
        record.error = str(exc)
        return
    writer.write(b"GET /api/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
    await writer.drain()
    buffer = b""
    try:
        while not stop.is_set():
            chunk = await reader.read(65536)
            if not chunk:
                record.error = "closed by the server"
                break
            arrived = datetime.now(UTC)
            ticks, buffer = tick_events(buffer + chunk)
            for tick in ticks:
                record.ticks.append(tick)
                due = epoch + timedelta(seconds=tick * interval)
                record.lateness_ms.append((arrived - due).total_seconds() * 1000)
    finally:
        writer.close()


def observe(base: str, seconds: float) -> list[float]:
    """In a process of its own: how late each tick event reaches one more subscriber, in milliseconds."""
    command = [sys.executable, __file__, "--observe", base, "--seconds", str(seconds)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    lateness: list[float] = json.loads(result.stdout)
    return lateness


def observed_lateness(base: str, seconds: float) -> list[float]:
    stats = httpx.get(f"{base}/api/stats", timeout=10).json()
    epoch = datetime.fromisoformat(stats["epoch"].replace("Z", "+00:00"))
    port = int(base.rsplit(":", 1)[1])
    return asyncio.run(follow_for(port, epoch, float(stats["update_interval"]), seconds))


async def follow_for(port: int, epoch: datetime, interval: float, seconds: float) -> list[float]:
    record, stop = Subscriber(), asyncio.Event()
    task = asyncio.create_task(subscribe(port, epoch, interval, record, stop))
    await asyncio.sleep(seconds)
    stop.set()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return record.lateness_ms


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    if not ordered:
        return "no samples"
    p50, p99 = ordered[len(ordered) // 2], ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {ordered[-1]:.0f} ms"


async def hold(server: Server, port: int, count: int, seconds: float) -> None:
    stats = server.get("/api/stats").json()
    epoch = datetime.fromisoformat(stats["epoch"].replace("Z", "+00:00"))
    records = [Subscriber() for _ in range(count)]
    stop = asyncio.Event()
    rss_before = server.rss_mb()
    opened = time.perf_counter()
    tasks = []
    for index, record in enumerate(records):
        tasks.append(asyncio.create_task(subscribe(port, epoch, SSE_TICK_SECONDS, record, stop)))
        if index % 100 == 99:
            await asyncio.sleep(0.02)
    while (await asyncio.to_thread(server.get, "/api/stats")).json()["sse_subscribers"] < count:
        if time.perf_counter() - opened > 60:
            break
        await asyncio.sleep(0.1)
    connected = time.perf_counter() - opened
    held = (await asyncio.to_thread(server.get, "/api/stats")).json()["sse_subscribers"]
    first_tick = (await asyncio.to_thread(server.get, "/api/stats")).json()["tick"] + 1
    cpu_before, wall_before = server.cpu_seconds(), time.perf_counter()
    during, observed = await asyncio.gather(
        asyncio.to_thread(probe_latency, server.base, 500), asyncio.to_thread(observe, server.base, seconds - 1)
    )
    await asyncio.sleep(max(0.0, seconds - (time.perf_counter() - wall_before)))
    last_tick = (await asyncio.to_thread(server.get, "/api/stats")).json()["tick"] - 1
    cpu = (server.cpu_seconds() - cpu_before) / (time.perf_counter() - wall_before) * 100
    rss_with = server.rss_mb()
    tick_ms = (await asyncio.to_thread(server.get, "/api/stats")).json()["last_tick_duration_ms"]
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    expected = set(range(first_tick, last_tick + 1))
    complete = sum(1 for r in records if expected <= set(r.ticks))
    duplicated = sum(1 for r in records if len(r.ticks) != len(set(r.ticks)))
    errors = sum(1 for r in records if r.error)
    lateness = [ms for r in records for tick, ms in zip(r.ticks, r.lateness_ms, strict=True) if tick in expected]
    print(
        f"SSE: {held} of {count} subscribers held (all connected in {connected:.1f} s), "
        f"{SSE_TICK_SECONDS} s tick, over {len(expected)} ticks"
    )
    print(
        f"  {complete} of {count} received every tick event ({duplicated} with duplicates, {errors} errors); "
        f"received after the tick's time: {percentiles(lateness)} (read by this process), "
        f"{percentiles(observed)} (one more subscriber in a process of its own)"
    )
    print(
        f"  server with them: {cpu:.0f}% of one core, RSS {rss_with:.0f} MB ({rss_before:.0f} MB before), "
        f"last tick {tick_ms:.1f} ms"
    )
    for path, (p50, p99) in during.items():
        print(f"  GET {path} with {held} subscribers: p50 {p50:.2f} ms, p99 {p99:.2f} ms")


def bench_sse(count: int, seconds: float) -> None:
    with serving(SIMULATOR_SEED="11", UPDATE_INTERVAL_SECONDS=str(SSE_TICK_SECONDS)) as server:
        port = int(server.base.rsplit(":", 1)[1])
        time.sleep(8)  # let the start-up backfill settle, so it does not colour either measurement
        idle = probe_latency(server.base, 500)
        for path, (p50, p99) in idle.items():
            print(f"GET {path} without subscribers: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        asyncio.run(hold(server, port, count, seconds))
        deadline = time.monotonic() + 10
        while (left := server.get("/api/stats").json()["sse_subscribers"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        print(f"  subscribers left 10 s after they went: {left}")
        errors = server.errors_logged()
        print(f"  errors the server logged: {len(errors)}" + (f", first: {errors[0]}" if errors else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--skip-history", action="store_true")
    parser.add_argument("--probe", metavar="BASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=500, help=argparse.SUPPRESS)
    parser.add_argument("--observe", metavar="BASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(latency_ms(args.probe, args.count)))
        return
    if args.observe:
        print(json.dumps(observed_lateness(args.observe, args.seconds)))
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.subscribers * 2 + 256)), hard))
    print(f"{os.cpu_count()} cores; Python {sys.version.split()[0]}")
    if not args.skip_history:
        bench_history()
    bench_sse(args.subscribers, args.seconds)


if __name__ == "__main__":
    main()
