"""The engine's figures (issue 12's table): cold history and `?at=`, a tick, a direct snapshot, idle CPU and RSS,
and SIGTERM with a cold history in flight, at default and 100x counts; start-up, tick and RSS at 1,000x.

Every request asks for a range nothing has computed before (a week far from the start-up tick, a different one
per run), so the figures are cold. Run it in two trees to compare them:

    .venv/bin/python -m benchmarks.bench_engine [--counts default,100x,1000x] [--timeout 60]
"""

from __future__ import annotations

import argparse
import inspect
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

import data_generator as dg
import history
from benchmarks.machine import cpu_seconds, rss_mb
from config import load_settings
from fastpath import encode_all
from rules import SINGULAR, EntityKind

PROJECT = Path(__file__).resolve().parent.parent

DEFAULT = load_settings(_env_file=None).entity_counts
ENCODE_TAKES_PREVIOUS = "previous" in inspect.signature(encode_all).parameters
SCALES = {"default": 1, "100x": 100, "1000x": 1000}
SEED = 7
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=10)
POINTS = 1000
IDLE_SECONDS = 45


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Server:
    """`python main.py` with a fixed seed and the given counts."""

    def __init__(self, counts: dict[EntityKind, int], port: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DYNAMODB_"))}
        env |= {"PORT": str(port), "HOST": "127.0.0.1", "DYNAMODB_ENABLED": "false", "SIMULATOR_SEED": str(SEED)}
        env |= {f"{SINGULAR[kind].upper()}_COUNT": str(count) for kind, count in counts.items()}
        env["LOG_LEVEL"] = "WARNING"
        self.url = f"http://127.0.0.1:{port}"
        # One client, its connection kept: `httpx.get` makes a client (and an SSL context) per call, some 20 ms
        # that are not the service's.
        self.client = httpx.Client()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "main.py"], cwd=PROJECT, env=env, stderr=subprocess.PIPE, text=True
        )
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if self.process.poll() is not None:
                    raise RuntimeError("the server exited") from None
                time.sleep(0.01)
        self.ready_after = time.perf_counter() - self.started
        self.cpu_at_ready = cpu_seconds(self.process.pid)

    def get(self, path: str, timeout: float) -> tuple[float, int]:
        began = time.perf_counter()
        try:
            status = self.client.get(self.url + path, timeout=timeout).status_code
        except httpx.TimeoutException:
            return float("inf"), 0
        return time.perf_counter() - began, status

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def week(run: int, scale: str) -> tuple[str, str]:
    """A 1,000-point range at 10-minute steps in a week of its own, far from now and from the other runs."""
    start = EPOCH + timedelta(days=40 + 9 * run + 200 * list(SCALES).index(scale))
    return iso(start), iso(start + STEP * (POINTS - 1))


def history_path(run: int, scale: str, points: int) -> str:
    start, _ = week(run, scale)
    end = iso(datetime.fromisoformat(start.replace("Z", "+00:00")) + STEP * (points - 1))
    return f"/api/history?from={start}&to={end}&step=10m"


def median_ms(values: list[float]) -> str:
    value = statistics.median(values)
    return ">timeout" if value == float("inf") else f"{value * 1000:.1f} ms"


def in_process(counts: dict[EntityKind, int], ticks: int) -> tuple[float, float]:
    """Median ms of a tick (advance + encode every list) and of a snapshot computed directly."""
    now = datetime.now(UTC)
    generation = dg.new_generation(counts=counts, interval=30, now=now, seed=SEED)
    world = dg.World(generation)
    start = generation.tick_at(now)
    direct = []
    for n in range(3):
        began = time.perf_counter()
        encode_all(dg.compute_snapshot(generation, start - 5000 - n * 1000, world))
        direct.append(time.perf_counter() - began)
    snapshot = encode_all(dg.compute_snapshot(generation, start, world))
    timings = []
    for _ in range(ticks):
        began = time.perf_counter()
        # As the service ticks; a tree whose encode_all takes no `previous` encodes every list whole.
        advanced = dg.advance(snapshot, world)
        snapshot = encode_all(advanced, snapshot) if ENCODE_TAKES_PREVIOUS else encode_all(advanced)
        timings.append(time.perf_counter() - began)
    return statistics.median(timings) * 1000, statistics.median(direct) * 1000


def sigterm_in_flight(server: Server, scale: str, timeout: float) -> str:
    """Exit status and seconds from SIGTERM to exit with the largest cold history allowed in flight; its answer."""
    items = sum(count * SCALES[scale] for count in DEFAULT.values())
    points = min(POINTS, getattr(history, "MAX_WORK", POINTS * items) // items)
    path = history_path(7, scale, points)
    answer: list[str] = []

    def ask() -> None:
        try:
            answer.append(f"{points} points: {httpx.get(server.url + path, timeout=60).status_code}")
        except httpx.HTTPError as exc:
            answer.append(type(exc).__name__)

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    time.sleep(0.3)
    began = time.perf_counter()
    server.process.send_signal(signal.SIGTERM)
    try:
        code = server.process.wait(timeout=timeout)
        elapsed = f"{time.perf_counter() - began:.2f} s"
    except subprocess.TimeoutExpired:
        server.process.kill()
        code, elapsed = None, f">{timeout:.0f} s (killed)"
    thread.join(5)
    errors = [line for line in (server.process.stderr.read() if server.process.stderr else "").splitlines()]
    fives = sum(" 500" in line or "Traceback" in line for line in errors)
    return f"exit {code} after {elapsed}; the history answer: {answer[:1] or ['none']}; 500s/tracebacks logged: {fives}"


def measure(scale: str, timeout: float) -> None:
    factor = SCALES[scale]
    counts = {kind: count * factor for kind, count in DEFAULT.items()}
    items = sum(counts.values())
    print(f"== {scale} counts ({items:,} items)", flush=True)
    server = Server(counts, 18600 + factor % 97)
    try:
        print(f"  start-up to /health 200: {server.ready_after * 1000:.0f} ms")
        if scale == "1000x":
            time.sleep(5)
            print(f"  RSS idle after 5 s: {rss_mb(server.process.pid):.0f} MB")
            took, status = server.get("/api/clients?limit=50&offset=1000", timeout)
            print(f"  /api/clients page of 50: {took * 1000:.0f} ms ({status})")
            start, end = week(0, scale)
            took, status = server.get(f"/api/history?from={start}&to={end}&step=10m", timeout)
            print(f"  /api/history 1,000 points: {median_ms([took])} ({status})")
            limit = getattr(history, "MAX_WORK", None)
            if limit is not None and limit < POINTS * items:
                took, status = server.get(history_path(1, scale, limit // items), timeout)
                print(f"  /api/history {limit // items} points (the most allowed): {median_ms([took])} ({status})")
        else:
            time.sleep(IDLE_SECONDS)
            cpu = cpu_seconds(server.process.pid)
            print(
                f"  CPU idle in the {IDLE_SECONDS} s after start-up: {cpu - server.cpu_at_ready:.2f} s "
                f"(start-up itself: {server.cpu_at_ready:.2f} s)"
            )
            print(f"  RSS idle: {rss_mb(server.process.pid):.0f} MB")
            runs = [
                server.get("/api/history?from={}&to={}&step=10m".format(*week(run, scale)), timeout) for run in range(3)
            ]
            print(f"  /api/history 1,000 points cold: {median_ms([t for t, _ in runs])} {[s for _, s in runs]}")
            limit = getattr(history, "MAX_WORK", None)
            if limit is not None and limit < POINTS * items:
                runs = [server.get(history_path(run + 10, scale, limit // items), timeout) for run in range(3)]
                print(
                    f"  /api/history {limit // items} points cold (the most allowed): "
                    f"{median_ms([t for t, _ in runs])} {[s for _, s in runs]}"
                )
            runs = [
                server.get(
                    "/api/licenses/license-{}/history?from={}&to={}&step=10m".format(run + 1, *week(run + 3, scale)),
                    timeout,
                )
                for run in range(3)
            ]
            print(
                f"  /api/licenses/{{id}}/history 1,000 points cold: {median_ms([t for t, _ in runs])} "
                f"{[s for _, s in runs]}"
            )
            runs = [
                server.get(f"/api/clients?at={iso(EPOCH + timedelta(days=30 + 3 * run, minutes=7 * run))}", timeout)
                for run in range(5)
            ]
            print(f"  /api/clients?at= cold: {median_ms([t for t, _ in runs])} {[s for _, s in runs]}")
        print(f"  SIGTERM with a cold history in flight: {sigterm_in_flight(server, scale, timeout)}")
    finally:
        server.stop()
    tick, direct = in_process(counts, {1: 400, 100: 40, 1000: 5}[factor])
    print(
        f"  tick (advance + encode): median {tick:.2f} ms; snapshot computed directly: median {direct:.1f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", default="default,100x,1000x")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    for scale in args.counts.split(","):
        measure(scale, args.timeout)


if __name__ == "__main__":
    main()
