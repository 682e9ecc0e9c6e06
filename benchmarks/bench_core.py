"""Start-up time, tick time and memory of the simulator service.

Prints: time from `python main.py` to the first 200 on /health (median of several runs, with the
time `import main` alone takes), tick time (advance + encoding every list, as the background task
does) at default and 100x counts, a snapshot computed directly at both (start-up, regenerate, `?at=`),
and the server's resident memory right after start and once it is idle (the report warm-up done, no report yet).
The machine's load is printed too: the figures are only comparable on an otherwise idle machine.

    .venv/bin/python -m benchmarks.bench_core
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

import data_generator as dg
from benchmarks.machine import rss_mb
from config import load_settings
from fastpath import encode_all
from rules import EntityKind

PROJECT = Path(__file__).resolve().parent.parent

DEFAULT = load_settings(_env_file=None).entity_counts
HUNDREDFOLD = {kind: count * 100 for kind, count in DEFAULT.items()}
START_UPS = 7
# main.py loads matplotlib and ReportLab in the background 2 s after start-up; they take a few seconds more.
WARM_UP_SECONDS = 4.0


def server_env(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DYNAMODB_"))}
    return {**env, "PORT": str(port), "HOST": "127.0.0.1", "DYNAMODB_ENABLED": "false"}


def start_up(port: int, *, wait_for_warm_up: bool) -> tuple[float, float, float]:
    """Seconds from spawning `python main.py` to the first 200 on /health; RSS then and after the warm-up."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "main.py"], cwd=PROJECT, env=server_env(port), stderr=subprocess.DEVNULL
    )
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5).status_code == 200:
                    elapsed = time.perf_counter() - started
                    break
            except httpx.TransportError:
                if process.poll() is not None:
                    raise RuntimeError("the server exited") from None
                time.sleep(0.005)
        at_start = rss_mb(process.pid)
        return elapsed, at_start, settled_rss(process.pid) if wait_for_warm_up else float("nan")
    finally:
        process.terminate()
        process.wait(timeout=15)


def settled_rss(pid: int) -> float:
    """RSS once the background warm-up is done: no growth over a second."""
    time.sleep(WARM_UP_SECONDS)
    previous, current = 0.0, rss_mb(pid)
    deadline = time.monotonic() + 20
    while current - previous > 0.5 and time.monotonic() < deadline:
        time.sleep(1)
        previous, current = current, rss_mb(pid)
    return current


def import_time() -> float:
    """Seconds for a fresh interpreter to `import main` (settings, models, app factory, routes)."""
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import main"], cwd=PROJECT, env=server_env(18499), check=True)
    return time.perf_counter() - began


def tick_times(counts: dict[EntityKind, int], ticks: int) -> tuple[float, float, float]:
    """Median and 95th percentile ms of one tick (advance + encode), and median ms of a direct snapshot."""
    now = datetime.now(UTC)
    generation = dg.new_generation(counts=counts, interval=30, now=now, seed=7)
    world = dg.World(generation)
    start = generation.tick_at(now)
    direct = []
    for n in range(3):
        began = time.perf_counter()
        encode_all(dg.compute_snapshot(generation, start - n * 1000, world))
        direct.append((time.perf_counter() - began) * 1000)
    snapshot = encode_all(dg.compute_snapshot(generation, start, world))
    timings = []
    for _ in range(ticks):
        began = time.perf_counter()
        snapshot = encode_all(dg.advance(snapshot, world))
        timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95)], statistics.median(direct)


def main() -> None:
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    runs = [start_up(18500 + n, wait_for_warm_up=n == 0) for n in range(START_UPS)]
    startups = sorted(elapsed for elapsed, _, _ in runs)
    imports = statistics.median(import_time() for _ in range(3))
    print(
        f"start-up to first 200 on /health: median {statistics.median(startups) * 1000:.0f} ms, "
        f"best {startups[0] * 1000:.0f} ms over {START_UPS} runs (target < 1000 ms); "
        f"`import main` alone {imports * 1000:.0f} ms"
    )
    print(f"  runs: {', '.join(f'{elapsed * 1000:.0f}' for elapsed, _, _ in runs)} ms")
    at_start = statistics.median(rss for _, rss, _ in runs)
    print(
        f"resident memory: {at_start:.1f} MB at the first 200, {runs[0][2]:.1f} MB idle, before any "
        f"report (target < 100 MB)"
    )
    for label, counts, ticks, target in (("default", DEFAULT, 400, 5), ("100x", HUNDREDFOLD, 30, 300)):
        median, p95, direct = tick_times(dict(counts), ticks)
        items = sum(counts.values())
        print(
            f"tick at {label} counts ({items:,} items): median {median:.2f} ms, p95 {p95:.2f} ms "
            f"(target < {target} ms); snapshot computed directly {direct:.1f} ms"
        )


if __name__ == "__main__":
    main()
