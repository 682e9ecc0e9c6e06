"""The change feed over a real HTTP connection to the app served by uvicorn."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest
import uvicorn

import data_generator as dg
import main
from tests.conftest import make_settings
from tests.servers import free_port


@contextmanager
def serving(interval: float) -> Iterator[str]:
    """The app under uvicorn in a thread of this process (so the keep-alive interval can be patched)."""
    app = main.create_app(make_settings(update_interval_seconds=interval))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Ticking every 0.3 s, keep-alives every 0.5 s."""
    monkeypatch.setattr("fastapi.routing._PING_INTERVAL", 0.5)
    with serving(0.3) as base:
        yield base


def read_events(
    base: str, count: int, headers: dict[str, str] | None = None, kinds: tuple[str, ...] = ("tick",)
) -> tuple[list[dict[str, Any]], int]:
    """The first `count` events of the given kinds, and how many keep-alive comments came with them."""
    events: list[dict[str, Any]] = []
    pings = 0
    current: dict[str, Any] = {}
    with httpx.stream("GET", f"{base}/api/events", headers=headers or {}, timeout=10) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith(":"):
                pings += 1
            elif line.startswith("event: "):
                current["event"] = line.removeprefix("event: ")
            elif line.startswith("data: "):
                current["data"] = json.loads(line.removeprefix("data: "))
            elif line.startswith("id: "):
                current["id"] = line.removeprefix("id: ")
            elif line == "" and current:
                if current.get("event") in kinds:
                    events.append(current)
                current = {}
                if len(events) >= count:
                    break
    return events, pings


def _generation(base: str) -> dg.Generation:
    stats = httpx.get(f"{base}/api/stats").json()
    epoch = datetime.fromisoformat(stats["epoch"].replace("Z", "+00:00"))
    return dg.Generation(stats["seed"], epoch, stats["update_interval"], stats["counts"], epoch)


def test_tick_events_name_exactly_the_ids_that_changed(served: str) -> None:
    events, _ = read_events(served, 4)
    generation = _generation(served)
    ticks = [event["data"]["tick"] for event in events]
    assert ticks == list(range(ticks[0], ticks[0] + 4))
    for event in events:
        tick = event["data"]["tick"]
        assert event["id"] == f"{generation.seed}-{tick}"
        assert event["data"]["time"] == dg.iso_time(generation.time_of(tick))
        before, after = dg.compute_snapshot(generation, tick - 1), dg.compute_snapshot(generation, tick)
        assert event["data"]["changed"] == dg.diff_ids(before, after)


def test_keep_alive_comments_arrive_between_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("fastapi.routing._PING_INTERVAL", 0.3)
    with serving(30) as base:  # no tick for a while: only keep-alives flow
        started = time.perf_counter()
        with httpx.stream("GET", f"{base}/api/events", timeout=10) as stream:
            comments = 0
            for line in stream.iter_lines():
                comments += line.startswith(":")
                if comments == 3:
                    break
        assert comments == 3
        assert time.perf_counter() - started < 5


def test_last_event_id_replays_what_was_missed(served: str) -> None:
    first, _ = read_events(served, 1)
    time.sleep(1.3)  # about four ticks pass while the client is away
    replayed, _ = read_events(served, 4, headers={"Last-Event-ID": first[0]["id"]})
    ticks = [event["data"]["tick"] for event in replayed]
    assert ticks == list(range(first[0]["data"]["tick"] + 1, first[0]["data"]["tick"] + 5))


def test_an_unknown_last_event_id_asks_for_a_resync(served: str) -> None:
    events, _ = read_events(served, 1, headers={"Last-Event-ID": "1-1"}, kinds=("resync",))
    assert events[0]["event"] == "resync"


def test_a_regenerate_is_announced(served: str) -> None:
    result: dict[str, Any] = {}

    def listen() -> None:
        result["events"] = read_events(served, 1, kinds=("regenerate",))[0]

    listener = threading.Thread(target=listen)
    listener.start()
    time.sleep(0.4)
    seed = httpx.post(f"{served}/api/regenerate").json()["seed"]
    listener.join(timeout=10)
    assert result["events"][0]["data"]["seed"] == seed


def test_vanished_and_slow_clients_do_not_hold_the_server(served: str) -> None:
    for _ in range(5):  # connect, read a little, vanish
        with httpx.stream("GET", f"{served}/api/events", timeout=10) as stream:
            next(stream.iter_lines())
    slow = httpx.Client(timeout=10)
    with slow.stream("GET", f"{served}/api/events"):  # never reads
        started = time.perf_counter()
        for _ in range(20):
            assert httpx.get(f"{served}/api/clients").status_code == 200
        assert time.perf_counter() - started < 5
    slow.close()
    deadline = time.monotonic() + 5
    while httpx.get(f"{served}/api/stats").json()["sse_subscribers"] != 0:
        assert time.monotonic() < deadline, "subscribers left behind"
        time.sleep(0.1)
