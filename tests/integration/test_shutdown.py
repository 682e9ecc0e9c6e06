"""SIGTERM on a real server process: requests in flight finish, live streams end, exit code 0."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx

import data_generator as dg
from history import MAX_WORK
from tests.support.servers import PROJECT, free_port, process_environment, wait_until_healthy

EARLY = datetime(2025, 3, 1, tzinfo=UTC)
STEP = timedelta(minutes=10)


def output_of_stopped(process: subprocess.Popen[bytes]) -> str:
    """Everything the process wrote, once it has stopped (killed if it still runs)."""
    if process.poll() is None:
        process.kill()
        process.wait()
    if process.stdout is None:
        return ""
    with process.stdout:
        return process.stdout.read().decode()


def test_sigterm_drains_requests_ends_streams_and_exits_zero() -> None:
    port = free_port()
    env = process_environment(port, UPDATE_INTERVAL_SECONDS="0.5")
    process = subprocess.Popen(
        [sys.executable, "main.py"], cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    results: dict[str, object] = {}
    try:
        wait_until_healthy(base, process)

        def slow_request() -> None:
            results["slow"] = httpx.get(f"{base}/api/clients?delay=1500", timeout=10).status_code

        def follow_events() -> None:
            events = 0
            with httpx.stream("GET", f"{base}/api/events", timeout=15) as stream:
                for line in stream.iter_lines():
                    events += line.startswith("event: tick")
            results["stream_ended_after_events"] = events

        threads = [threading.Thread(target=slow_request), threading.Thread(target=follow_events)]
        for thread in threads:
            thread.start()
        time.sleep(1.2)
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=9)
        for thread in threads:
            thread.join(timeout=5)
    finally:
        log = output_of_stopped(process)
    assert exit_code == 0, log
    # The stream ended at the signal, so uvicorn never had to give up on it and cancel what was running.
    assert "timeout graceful shutdown exceeded" not in log, log
    assert results["slow"] == 200
    assert isinstance(results["stream_ended_after_events"], int)
    assert results["stream_ended_after_events"] >= 1
    assert "Traceback" not in log
    assert "Application shutdown complete" in log


def test_sigterm_with_the_largest_cold_history_in_flight_exits_zero_in_time_without_a_500() -> None:
    port = free_port()
    counts = {"CLIENT_COUNT": "2000", "LICENSE_COUNT": "3000", "LEAD_COUNT": "2500", "TECHNICIAN_COUNT": "1500"}
    counts |= {"DEPARTMENT_COUNT": "600", "VENDOR_COUNT": "1500", "CONTRACT_COUNT": "2000"}
    env = process_environment(port, SIMULATOR_SEED="3", **counts)
    items = sum(int(count) for count in counts.values())
    points = MAX_WORK // items  # the most one request may ask for at these counts
    process = subprocess.Popen(
        [sys.executable, "main.py"], cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    results: dict[str, object] = {}
    try:
        wait_until_healthy(base, process, timeout=60)
        # A range far from now at 10-minute steps: nothing has computed it before.
        params = {"from": dg.iso_time(EARLY), "to": dg.iso_time(EARLY + STEP * (points - 1)), "step": "10m"}

        def cold_history() -> None:
            try:
                results["history"] = httpx.get(f"{base}/api/history", params=params, timeout=20).status_code
            except httpx.HTTPError as exc:
                results["history"] = type(exc).__name__

        thread = threading.Thread(target=cold_history)
        thread.start()
        time.sleep(0.3)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=10)
        took = time.monotonic() - signalled
        thread.join(timeout=5)
    finally:
        log = output_of_stopped(process)
    assert exit_code == 0, log
    assert took < 10, log
    assert results["history"] == 200, (results, log)
    assert " 500" not in log, log
    assert "Traceback" not in log, log
