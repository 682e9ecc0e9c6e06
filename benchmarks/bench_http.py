"""HTTP throughput of the list endpoints against the smallest possible ASGI app, side by side.

Both servers run under uvicorn with uvloop and httptools, pinned to core 0; wrk runs on
core 1. Prints requests/s and p50/p99 latency at 1, 16 and 64 connections, the ratio
service/minimal, a routed query (filter, sort, page), a browser-style GET (Origin, gzip), and a
paged request at default and 100x counts. Both servers are warmed up before anything is measured.

    .venv/bin/python benchmarks/bench_http.py [--duration 5]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parent.parent
CONNECTIONS = (1, 16, 64)
SCALE_100 = {
    "CLIENT_COUNT": "2000",
    "LICENSE_COUNT": "3000",
    "LEAD_COUNT": "2500",
    "TECHNICIAN_COUNT": "1500",
    "DEPARTMENT_COUNT": "600",
    "VENDOR_COUNT": "1500",
    "CONTRACT_COUNT": "2000",
}


def _pinned(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


@contextmanager
def uvicorn_server(target: str, port: int, env: dict[str, str]) -> Iterator[str]:
    """Run `uvicorn target` pinned to core 0; yield its base URL."""
    command = [
        *_pinned(0),
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    environment = {**os.environ, "DYNAMODB_ENABLED": "false", "SIMULATOR_SEED": "7", **env}
    process = subprocess.Popen(command, cwd=PROJECT, env=environment)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(base + "/api/clients", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


ROUTED = "/api/clients?industry=Healthcare&industry=Technology&sort=annualRevenue&order=desc&limit=5"
BROWSER = {"Origin": "https://dashboard.example.com", "Accept-Encoding": "gzip, deflate, br"}


def wrk(url: str, connections: int, duration: int, headers: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 latency in ms, from one wrk run pinned to core 1."""
    sent = [argument for name, value in (headers or {}).items() for argument in ("-H", f"{name}: {value}")]
    command = [*_pinned(1), "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", *sent, url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    return rps, p50, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=8, help="seconds to let start-up work (history backfill) end")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")

    with tempfile.TemporaryDirectory() as scratch, uvicorn_server("main:app", 18431, {}) as service:
        body = httpx.get(service + "/api/clients").content
        body_file = Path(scratch) / "clients.json"
        body_file.write_bytes(body)
        minimal_env = {"MINIMAL_BODY_FILE": str(body_file), "PYTHONPATH": str(PROJECT / "benchmarks")}
        with uvicorn_server("minimal_app:app", 18432, minimal_env) as minimal:
            time.sleep(args.warmup)
            for server in (service, minimal):  # first requests pay for imports, caches and connection set-up
                wrk(server + "/api/clients", 16, 1)
            wrk(service + ROUTED, 16, 1)
            wrk(service + "/api/clients", 16, 1, BROWSER)
            print(f"GET /api/clients, {len(body)} bytes; servers on core 0, wrk on core 1, {args.duration} s per run")
            print(
                f"{'conns':>5} {'service rps':>12} {'minimal rps':>12} {'ratio':>6} {'p50 ms s/m':>14} {'p99 s/m':>14}"
            )
            for connections in CONNECTIONS:
                wrk(service + "/api/clients", connections, 1)  # warm-up
                s_rps, s_p50, s_p99 = wrk(service + "/api/clients", connections, args.duration)
                m_rps, m_p50, m_p99 = wrk(minimal + "/api/clients", connections, args.duration)
                print(
                    f"{connections:>5} {s_rps:>12.0f} {m_rps:>12.0f} {s_rps / m_rps:>6.2f} "
                    f"{s_p50:>6.2f}/{m_p50:<7.2f} {s_p99:>6.2f}/{m_p99:<7.2f}"
                )
            routed = wrk(service + ROUTED, 16, args.duration)
            browser = wrk(service + "/api/clients", 16, args.duration, BROWSER)
            minimal_browser = wrk(minimal + "/api/clients", 16, args.duration, BROWSER)
            print(
                f"routed {ROUTED} at 16 connections: {routed[0]:.0f} rps (p50 {routed[1]:.2f}, p99 {routed[2]:.2f} ms)"
            )
            print(
                f"browser-style GET /api/clients (Origin, Accept-Encoding: gzip) at 16 connections: service "
                f"{browser[0]:.0f} rps (p99 {browser[2]:.2f} ms), minimal {minimal_browser[0]:.0f} rps"
            )
        paged_default = wrk(service + "/api/clients?limit=100", 16, args.duration)

    with uvicorn_server("main:app", 18433, SCALE_100) as big:
        time.sleep(args.warmup)
        paged_big = wrk(big + "/api/clients?limit=100", 16, args.duration)
    print(
        f"paged /api/clients?limit=100 at 16 connections: default counts {paged_default[0]:.0f} rps "
        f"(p99 {paged_default[2]:.2f} ms), 100x counts {paged_big[0]:.0f} rps (p99 {paged_big[2]:.2f} ms), "
        f"latency ratio p50 {paged_big[1] / paged_default[1]:.2f}"
    )


if __name__ == "__main__":
    main()
