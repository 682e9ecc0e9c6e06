"""Prometheus metrics and JSON logs."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from telemetry import JsonLogFormatter
from tests.support import make_settings
from tests.support.servers import PROJECT, free_port, process_environment, wait_until_healthy


def _samples(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def test_metrics_count_requests_by_route_including_the_fast_path(client: TestClient) -> None:
    for _ in range(3):
        assert client.get("/api/clients").status_code == 200
    assert client.get("/api/clients?limit=2").status_code == 200
    assert client.get("/api/technicians/tech-1").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    assert samples['prism_http_requests_total{method="GET",route="/api/clients",status="200"}'] == 4
    assert samples['prism_http_requests_total{method="GET",route="/api/technicians/{item_id}",status="200"}'] == 1
    assert samples['prism_http_requests_total{method="GET",route="unmatched",status="404"}'] == 1
    assert samples['prism_http_request_duration_seconds_count{method="GET",route="/api/clients"}'] >= 1
    assert samples["prism_sse_subscribers"] == 0
    assert samples["prism_ticks_failed"] == 0
    assert "prism_tick" in samples


def test_metrics_observe_tick_durations() -> None:
    from main import create_app

    with TestClient(create_app(make_settings(update_interval_seconds=0.1))) as client:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            samples = _samples(client.get("/metrics").text)
            if samples.get("prism_tick_duration_seconds_count", 0) >= 2:
                break
            time.sleep(0.05)
        assert samples["prism_tick_duration_seconds_count"] >= 2
        assert samples["prism_ticks_computed"] >= 2


def test_json_log_lines_are_single_json_objects() -> None:
    formatter = JsonLogFormatter()
    try:
        raise ValueError("disk on fire")
    except ValueError:
        record = logging.LogRecord("prism", logging.ERROR, __file__, 1, "tick %d failed", (7,), sys.exc_info())
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "prism"
    assert entry["message"] == "tick 7 failed"
    assert "ValueError: disk on fire" in entry["exception"]
    assert entry["time"].endswith("Z")


@pytest.mark.slow
def test_log_format_json_writes_every_line_of_a_served_process_as_json(tmp_path: Any) -> None:
    port = free_port()
    env = process_environment(port, LOG_FORMAT="json", ACCESS_LOG="true", SIMULATOR_SEED="7", REPORTS_DIR=str(tmp_path))
    with open(tmp_path / "log", "w+b") as log:
        process = subprocess.Popen([sys.executable, "main.py"], cwd=PROJECT, env=env, stdout=log, stderr=log)
        try:
            wait_until_healthy(f"http://127.0.0.1:{port}", process, log)
            assert httpx.get(f"http://127.0.0.1:{port}/api/technicians/tech-1", timeout=5).status_code == 200
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        log.seek(0)
        lines = log.read().decode().splitlines()
    entries = [json.loads(line) for line in lines]  # every line, uvicorn's included, is one JSON object
    assert all(set(entry) >= {"time", "level", "logger", "message"} for entry in entries)
    said = {(entry["logger"], entry["message"]) for entry in entries}
    assert ("prism", f"serving generation seed=7 from tick {_served_tick(entries)} every 30s") in said
    assert ("uvicorn.error", "Application startup complete.") in said
    assert any(logger == "uvicorn.access" and "/api/technicians/tech-1" in message for logger, message in said)


def _served_tick(entries: list[dict[str, Any]]) -> str:
    message = next(entry["message"] for entry in entries if entry["message"].startswith("serving generation"))
    return message.split(" from tick ")[1].split(" ")[0]
