"""SIGTERM on a real server process: requests in flight finish, live streams end, exit code 0."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import httpx

from tests.support.servers import PROJECT, free_port, process_environment, wait_until_healthy


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
        if process.poll() is None:
            process.kill()
            process.wait()
    log = process.stdout.read().decode() if process.stdout else ""
    if process.stdout:
        process.stdout.close()
    assert exit_code == 0, log
    # The stream ended at the signal, so uvicorn never had to give up on it and cancel what was running.
    assert "timeout graceful shutdown exceeded" not in log, log
    assert results["slow"] == 200
    assert isinstance(results["stream_ended_after_events"], int)
    assert results["stream_ended_after_events"] >= 1
    assert "Traceback" not in log
    assert "Application shutdown complete" in log
