"""HTTP throughput of the list endpoints against the smallest possible ASGI app, side by side.

Both servers run under uvicorn with uvloop and httptools, pinned to core 0; wrk runs on
core 1. Prints requests/s and p50/p99 latency at 1, 16 and 64 connections, the ratio
service/minimal, a routed query (filter, sort, page) and a browser-style GET (Origin, gzip) against
the minimal app answering the very bytes and headers the service sent, and a paged request at default
and 100x counts. Both servers are warmed up, and the service's process quiet (start-up backfill over),
before anything is measured; a run with socket errors or non-2xx answers says so beside its figures.
The load average is printed beside the figures (other work on the machine skews them).

    .venv/bin/python -m benchmarks.bench_http [--duration 5]
"""

from __future__ import annotations

import argparse
import json
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
from typing import NamedTuple

import httpx

from benchmarks.machine import load_average, wait_until_quiet

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
def uvicorn_server(target: str, port: int, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """Run `uvicorn target` pinned to core 0; yield its base URL and process id."""
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
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


ROUTED = "/api/clients?industry=Healthcare&industry=Technology&sort=annualRevenue&order=desc&limit=5"
BROWSER = {"Origin": "https://dashboard.example.com", "Accept-Encoding": "gzip, deflate, br"}
# What the minimal app answers: (path and query, browser headers or not).
RECORDED = (("/api/clients", False), (ROUTED, False), ("/api/clients", True))
# httpx asks for gzip unless told otherwise; wrk's plain runs send no Accept-Encoding at all.
PLAIN = {"Accept-Encoding": "identity"}
# Headers a server writes itself; every other one the service sent, the minimal app sends too.
OWN_HEADERS = frozenset({"date", "server", "content-length"})


class Run(NamedTuple):
    """One wrk run: requests/s, p50 and p99 latency in ms, and what went wrong (empty when nothing)."""

    rps: float
    p50: float
    p99: float
    trouble: str


def wrk(url: str, connections: int, duration: int, headers: dict[str, str] | None = None) -> Run:
    """One wrk run pinned to core 1."""
    sent = [argument for name, value in (headers or {}).items() for argument in ("-H", f"{name}: {value}")]
    command = [*_pinned(1), "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", *sent, url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    trouble = [
        match.strip()
        for match in re.findall(r"^\s+(Socket errors:.*|Non-2xx or 3xx responses:.*)$", output, re.MULTILINE)
    ]
    return Run(rps, p50, p99, "; ".join(trouble))


def _noted(run: Run) -> str:
    return f"  [{run.trouble}]" if run.trouble else ""


def record_answers(service: str, folder: Path) -> Path:
    """Fetch each compared request from the service; write its raw bytes and headers for the minimal app."""
    answers: dict[str, dict[str, object]] = {}
    for number, (target, browser) in enumerate(RECORDED):
        with httpx.stream("GET", service + target, headers=BROWSER if browser else PLAIN) as response:
            response.raise_for_status()
            body = b"".join(response.iter_raw())  # as sent: still gzipped when it was
            headers = {name: value for name, value in response.headers.items() if name not in OWN_HEADERS}
        body_file = folder / f"answer-{number}"
        body_file.write_bytes(body)
        path, _, query = target.partition("?")
        answers[f"{path}?{query} {'gzip' if browser else 'identity'}"] = {"body": str(body_file), "headers": headers}
        print(
            f"  {'browser ' if browser else ''}GET {target}: {len(body)} bytes, "
            f"{headers.get('content-encoding', 'identity')}"
        )
    manifest = folder / "answers.json"
    manifest.write_text(json.dumps(answers))
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")

    print(f"before: {load_average()}")
    with tempfile.TemporaryDirectory() as scratch, uvicorn_server("main:app", 18431, {}) as (service, service_pid):
        print(wait_until_quiet(service_pid))
        print("recorded answers the minimal app will send:")
        minimal_env = {
            "MINIMAL_ANSWERS": str(record_answers(service, Path(scratch))),
            "PYTHONPATH": str(PROJECT / "benchmarks"),
        }
        with uvicorn_server("minimal_app:app", 18432, minimal_env) as (minimal, _):
            for server in (service, minimal):  # first requests pay for imports, caches and connection set-up
                for target, browser in RECORDED:
                    wrk(server + target, 16, 1, BROWSER if browser else None)
            print(f"\nGET /api/clients; servers on core 0, wrk on core 1, {args.duration} s per run; {load_average()}")
            print(
                f"{'conns':>5} {'service rps':>12} {'minimal rps':>12} {'ratio':>6} {'p50 ms s/m':>14} {'p99 s/m':>14}"
            )
            for connections in CONNECTIONS:
                wrk(service + "/api/clients", connections, 1)  # warm-up
                served = wrk(service + "/api/clients", connections, args.duration)
                least = wrk(minimal + "/api/clients", connections, args.duration)
                print(
                    f"{connections:>5} {served.rps:>12.0f} {least.rps:>12.0f} {served.rps / least.rps:>6.2f} "
                    f"{served.p50:>6.2f}/{least.p50:<7.2f} {served.p99:>6.2f}/{least.p99:<7.2f}"
                    f"{_noted(served)}{_noted(least)}"
                )
            for label, target, headers in (
                (f"routed {ROUTED}", ROUTED, None),
                ("browser-style GET /api/clients (Origin, Accept-Encoding: gzip)", "/api/clients", BROWSER),
            ):
                served = wrk(service + target, 16, args.duration, headers)
                least = wrk(minimal + target, 16, args.duration, headers)
                print(
                    f"{label} at 16 connections: service {served.rps:.0f} rps (p50 {served.p50:.2f}, p99 "
                    f"{served.p99:.2f} ms), minimal {least.rps:.0f} rps (p50 {least.p50:.2f}, p99 {least.p99:.2f} ms), "
                    f"ratio {served.rps / least.rps:.2f}{_noted(served)}{_noted(least)}"
                )
        paged_default = wrk(service + "/api/clients?limit=100", 16, args.duration)

    with uvicorn_server("main:app", 18433, SCALE_100) as (big, big_pid):
        print(f"100x counts: {wait_until_quiet(big_pid)}")
        wrk(big + "/api/clients?limit=100", 16, 1)  # warm-up
        paged_big = wrk(big + "/api/clients?limit=100", 16, args.duration)
    print(
        f"paged /api/clients?limit=100 at 16 connections: default counts {paged_default.rps:.0f} rps "
        f"(p99 {paged_default.p99:.2f} ms), 100x counts {paged_big.rps:.0f} rps (p99 {paged_big.p99:.2f} ms), "
        f"latency ratio p50 {paged_big.p50 / paged_default.p50:.2f}{_noted(paged_default)}{_noted(paged_big)}"
    )
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
