"""The change feed: over a real HTTP connection to the app served by uvicorn, and the event log beneath it."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
import time
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

import fastapi.routing
import httpx
import pytest
import uvicorn
from fastapi import FastAPI

import data_generator as dg
import main
from events import Event, EventLog
from prism.services import services_of
from tests.support import make_settings
from tests.support.servers import free_port

TICK_SECONDS = 0.3
PING_SECONDS = 0.1
# What a served stream waits between keep-alives, read before the module's server shortens it.
SERVED_PING_INTERVAL = fastapi.routing._PING_INTERVAL
SERVED_KEEPALIVE_COMMENT = fastapi.routing.KEEPALIVE_COMMENT
SERVED: dict[str, FastAPI] = {}


@contextmanager
def serving(interval: float) -> Iterator[str]:
    """The app under uvicorn in a thread of this process, so that the keep-alive interval can be patched."""
    app = main.create_app(make_settings(update_interval_seconds=interval))
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn did not start"
        assert time.monotonic() < deadline, "uvicorn did not start in 10 s"
        time.sleep(0.02)
    SERVED[f"http://127.0.0.1:{port}"] = app
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        services_of(app).simulator.begin_shutdown()  # ends the open streams, as main.py does on a stop signal
        server.should_exit = True
        thread.join(timeout=10)
        assert not thread.is_alive(), "uvicorn did not stop"


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    """One server for the module: a tick every 0.3 s, a keep-alive comment after 0.1 s of silence."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fastapi.routing, "_PING_INTERVAL", PING_SECONDS)
        with serving(TICK_SECONDS) as url:
            yield url


class Feed:
    """One connection to /api/events, read event by event."""

    def __init__(self, response: httpx.Response) -> None:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        self._lines = response.iter_lines()
        self.comments: list[str] = []

    def next(self, kinds: tuple[str, ...] = ("tick",)) -> dict[str, Any]:
        """The next event of one of these kinds (others are skipped; comments are counted)."""
        current: dict[str, Any] = {}
        for line in self._lines:
            if line.startswith(":"):
                self.comments.append(line)
            elif line == "":
                if current.get("event") in kinds:
                    return current
                current = {}
            else:
                field, _, value = line.partition(": ")
                current[field] = json.loads(value) if field == "data" else value
                if field == "data":
                    current["data line"] = value
        raise EOFError("the stream ended")

    def until_tick(self, tick: int) -> list[dict[str, Any]]:
        """Every tick event up to and including the one of `tick`."""
        events = [self.next()]
        while events[-1]["data"]["tick"] < tick:
            events.append(self.next())
        return events


@contextmanager
def feed(base: str, headers: dict[str, str] | None = None) -> Iterator[Feed]:
    with httpx.Client(timeout=10) as client, client.stream("GET", f"{base}/api/events", headers=headers) as stream:
        yield Feed(stream)


def stats(base: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{base}/api/stats", timeout=5).json()
    return body


def generation_of(base: str) -> dg.Generation:
    """The served generation, rebuilt from what /api/stats tells any client."""
    served = stats(base)
    epoch = datetime.fromisoformat(served["epoch"].replace("Z", "+00:00"))
    return dg.Generation(served["seed"], epoch, served["update_interval"], served["counts"], epoch)


def wait_for_subscribers(base: str, count: int, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while (current := stats(base)["sse_subscribers"]) != count:
        assert time.monotonic() < deadline, f"{current} subscribers, expected {count}"
        time.sleep(0.05)


def server_tasks(base: str) -> int:
    """How many asyncio tasks the server's event loop holds (a connection left behind would keep one)."""

    async def count() -> int:
        return len(asyncio.all_tasks())

    simulator = services_of(SERVED[base]).started
    loop = simulator._loop if simulator is not None else None
    assert loop is not None
    return asyncio.run_coroutine_threadsafe(count(), loop).result(timeout=5)


def wait_for_tasks(base: str, at_most: int, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while (current := server_tasks(base)) > at_most:
        assert time.monotonic() < deadline, f"{current} tasks on the server's loop, {at_most} before"
        time.sleep(0.05)


def event_key(event: dict[str, Any]) -> tuple[str, str, str]:
    return event["event"], event["id"], json.dumps(event["data"], sort_keys=True)


# --- over HTTP ---------------------------------------------------------------------------------


def test_tick_events_name_exactly_the_ids_that_changed(base: str) -> None:
    with feed(base) as events:
        ticks = [events.next() for _ in range(5)]
    generation = generation_of(base)
    world = dg.World(generation)
    numbers = [event["data"]["tick"] for event in ticks]
    assert numbers == sorted(set(numbers))
    assert numbers[-1] - numbers[0] <= 6  # one event per tick (a late tick may fold two into one)
    for previous, event in zip([None, *ticks], ticks, strict=False):
        tick = event["data"]["tick"]
        assert event["id"] == f"{generation.seed}-{tick}"
        assert event["data"]["time"] == dg.iso_time(generation.time_of(tick))
        assert event["data line"] == json.dumps(event["data"])  # as FastAPI writes a ServerSentEvent's data
        before = tick - 1 if previous is None else previous["data"]["tick"]
        expected = dg.diff_ids(dg.compute_snapshot(generation, before, world), dg.compute_snapshot(generation, tick))
        assert event["data"]["changed"] == expected
        changed = sum(len(ids) for ids in expected.values())
        assert 0 < changed < sum(generation.counts.values()) / 2


def test_keep_alive_comments_arrive_while_nothing_else_does(base: str) -> None:
    with feed(base) as events:
        first = events.next()
        events.comments.clear()
        second = events.next()
    assert second["data"]["tick"] > first["data"]["tick"]
    assert events.comments  # a 0.3 s gap between ticks holds at least one 0.1 s keep-alive
    assert set(events.comments) == {": ping"}


def test_the_keep_alive_interval_is_fifteen_seconds() -> None:
    # The feed relies on FastAPI's own keep-alive: its streaming loop reads these names of fastapi.routing (the
    # copies it imported, not fastapi.sse's). The module's server patches the very same name, and the test above
    # sees the comments on the wire, so this is the value a served stream waits between keep-alives.
    assert SERVED_PING_INTERVAL == 15.0
    assert SERVED_KEEPALIVE_COMMENT == b": ping\n\n"


def test_last_event_id_replays_exactly_the_missed_events(base: str) -> None:
    with feed(base) as steady:
        steady.next()
        with feed(base) as leaving:
            last_seen = leaving.next()
        time.sleep(4 * TICK_SECONDS)
        with feed(base, {"Last-Event-ID": last_seen["id"]}) as back:
            replayed = back.until_tick(last_seen["data"]["tick"] + 5)
        continuous = steady.until_tick(replayed[-1]["data"]["tick"])
    missed = [event for event in continuous if event["data"]["tick"] > last_seen["data"]["tick"]]
    assert [event_key(event) for event in replayed] == [event_key(event) for event in missed]
    assert len(missed) >= 2  # a loaded machine may announce several ticks in one event


@pytest.mark.parametrize("last_event_id", ["1-1", "not an id", "{seed}-1000"])
def test_an_unknown_last_event_id_gets_a_resync_then_the_live_feed(base: str, last_event_id: str) -> None:
    unknown = last_event_id.format(seed=generation_of(base).seed)
    with feed(base, {"Last-Event-ID": unknown}) as events:
        resync = events.next(kinds=("resync", "tick"))
        assert resync["event"] == "resync"
        assert resync["data"]["reason"]
        first, second = events.next(), events.next()
    assert second["data"]["tick"] > first["data"]["tick"]


def test_vanished_clients_leave_no_subscriber_behind(base: str) -> None:
    wait_for_subscribers(base, 0)
    tasks = server_tasks(base)
    for _ in range(4):  # connect, read one event, drop the connection
        with feed(base) as events:
            events.next()
    # And one that vanishes without a goodbye: the connection is reset.
    abrupt = raw_subscriber(base)
    abrupt.recv(4096)
    wait_for_subscribers(base, 1)
    abrupt.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    abrupt.close()
    wait_for_subscribers(base, 0)
    wait_for_tasks(base, tasks)


def raw_subscriber(base: str, receive_buffer: int | None = None) -> socket.socket:
    """A subscriber on a bare socket, which reads only when the test says so."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect((host, int(port)))
    sock.settimeout(5)
    sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
    return sock


def test_a_slow_client_does_not_hold_the_server(base: str) -> None:
    tasks = server_tasks(base)
    slow = raw_subscriber(base, receive_buffer=1024)  # never reads while the test runs
    try:
        wait_for_subscribers(base, 1)
        ticks_before = stats(base)["tick"]
        with feed(base) as other:
            for _ in range(20):
                assert httpx.get(f"{base}/api/clients", timeout=5).status_code == 200
            first = other.next()
            received = other.until_tick(first["data"]["tick"] + 4)
        assert [event["data"]["tick"] for event in received][-1] >= first["data"]["tick"] + 4
        assert stats(base)["tick"] >= ticks_before + 5  # the world kept ticking
        assert stats(base)["sse_subscribers"] == 1
    finally:
        slow.close()
    wait_for_subscribers(base, 0)
    wait_for_tasks(base, tasks)


def test_a_regenerate_is_announced_and_the_feed_carries_on() -> None:
    with serving(TICK_SECONDS) as url, feed(url) as events:
        events.next()
        seed = httpx.post(f"{url}/api/regenerate", timeout=10).json()["seed"]
        announced = events.next(kinds=("regenerate",))
        following = events.next()
    assert announced["data"]["seed"] == seed
    assert announced["id"] == f"{seed}-{announced['data']['tick']}"
    assert following["id"] == f"{seed}-{following['data']['tick']}"
    assert following["data"]["tick"] > announced["data"]["tick"]


# --- the event log -----------------------------------------------------------------------------


def test_the_log_keeps_its_capacity_and_finds_where_to_resume() -> None:
    async def scenario() -> None:
        log = EventLog(capacity=3)
        assert log.position_after(None) == 0
        for tick in range(1, 6):
            log.publish("tick", f"7-{tick}", {"tick": tick})
        assert [event.id for event in log.since(0)] == ["7-3", "7-4", "7-5"]
        assert log.position_after("7-4") == 4
        assert log.position_after("7-2") is None  # dropped from the log: the client must resync
        assert log.position_after(None) == log.last_sequence == 5

    asyncio.run(scenario())


def test_since_gives_exactly_the_newer_events_at_every_position() -> None:
    async def scenario() -> None:
        log = EventLog(capacity=20)
        assert log.since(0) == []
        for tick in range(1, 60):
            log.publish("tick", f"7-{tick}", {"tick": tick})
            kept = log.since(-1)
            assert [event.sequence for event in kept] == list(range(max(1, tick - 19), tick + 1))
            for sequence in range(-1, tick + 2):
                assert log.since(sequence) == [event for event in kept if event.sequence > sequence]

    asyncio.run(scenario())


def test_a_reader_that_falls_behind_is_told_to_resync_and_costs_nothing_meanwhile() -> None:
    async def scenario() -> None:
        log = EventLog(capacity=3)
        log.publish("tick", "7-1", {})
        reader = cast(AsyncGenerator[Event | None, None], log.follow(log.position_after("7-1") or 0))
        pending = asyncio.ensure_future(reader.__anext__())
        await asyncio.sleep(0)
        assert log.subscribers == 1
        assert not pending.done()
        for tick in range(2, 10):  # the reader does not read: nothing queues up for it
            log.publish("tick", f"7-{tick}", {})
        assert len(log.since(0)) == 3
        assert await pending is None  # woken, it finds the log moved past it: resync
        log.publish("tick", "7-10", {})
        event = await reader.__anext__()
        assert event is not None
        assert event.id == "7-10"
        await reader.aclose()
        assert log.subscribers == 0

    asyncio.run(scenario())


def test_closing_the_log_ends_every_reader() -> None:
    async def scenario() -> None:
        log = EventLog(capacity=10)

        async def read_all() -> list[str]:
            return [event.id for event in [e async for e in log.follow(0)] if event is not None]

        readers = [asyncio.ensure_future(read_all()) for _ in range(3)]
        await asyncio.sleep(0)
        log.publish("tick", "1-1", {})
        await asyncio.sleep(0)
        log.close()
        assert await asyncio.wait_for(asyncio.gather(*readers), 2) == [["1-1"]] * 3
        assert log.subscribers == 0

    asyncio.run(scenario())
