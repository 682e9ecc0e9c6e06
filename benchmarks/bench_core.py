"""Start-up time, tick time and memory of the simulator service.

Prints: time from `python main.py` to the first 200 on /health (median of several runs),
tick time (advance + encoding every list) at default and 100x counts, a snapshot computed
directly at both, and the server's resident memory after start.

    .venv/bin/python benchmarks/bench_core.py
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

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import data_generator as dg  # noqa: E402
from config import load_settings  # noqa: E402
from simulator import encode_all  # noqa: E402

DEFAULT = load_settings(_env_file=None).entity_counts
HUNDREDFOLD = {kind: count * 100 for kind, count in DEFAULT.items()}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_up(port: int) -> tuple[float, float]:
    """Seconds from spawning `python main.py` to the first 200 on /health, and RSS 3 s later."""
    env = {**os.environ, "PORT": str(port), "DYNAMODB_ENABLED": "false"}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "main.py"], cwd=PROJECT, env=env, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5).status_code == 200:
                    elapsed = time.perf_counter() - started
                    break
            except httpx.TransportError:
                time.sleep(0.005)
        time.sleep(3)
        return elapsed, rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=15)


def tick_times(counts: dict[str, int], ticks: int) -> tuple[float, float]:
    """Median ms of one tick (advance + encode) and of a snapshot computed directly."""
    generation = dg.new_generation(counts=counts, interval=30, now=datetime.now(UTC), seed=7)
    world = dg.World(generation)
    start = generation.tick_at(datetime.now(UTC))
    direct = []
    for n in range(3):
        began = time.perf_counter()
        snapshot = encode_all(dg.compute_snapshot(generation, start - n * 1000, world))
        direct.append((time.perf_counter() - began) * 1000)
    snapshot = encode_all(dg.compute_snapshot(generation, start, world))
    timings = []
    for _ in range(ticks):
        began = time.perf_counter()
        snapshot = encode_all(dg.advance(snapshot, world))
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings), statistics.median(direct)


def main() -> None:
    runs = [start_up(18500 + n) for n in range(5)]
    startup = statistics.median(elapsed for elapsed, _ in runs)
    rss = statistics.median(memory for _, memory in runs)
    print(f"start-up to first 200 on /health: median {startup * 1000:.0f} ms over {len(runs)} runs (target < 1000 ms)")
    print(f"resident memory 3 s after start: {rss:.1f} MB (target < 100 MB)")
    tick, direct = tick_times(dict(DEFAULT), 400)
    print(f"tick at default counts (131 items): median {tick:.2f} ms (target < 5 ms); direct snapshot {direct:.1f} ms")
    tick, direct = tick_times(HUNDREDFOLD, 30)
    print(
        f"tick at 100x counts (13,100 items): median {tick:.1f} ms (target < 300 ms); direct snapshot {direct:.0f} ms"
    )


if __name__ == "__main__":
    main()
