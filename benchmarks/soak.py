"""Soak: run the service for N minutes under steady load while DynamoDB goes away and comes back.

A sub-second tick; every GET route polled (the 7 lists, each one's items and item histories with
ids taken from the list just fetched, /api/history, /api/stats, /api/scenarios, /metrics, /,
/health); PDF reports rendered concurrently; SSE subscribers connecting and vanishing; moto's
DynamoDB server (over HTTP, in a process of its own) killed and restarted empty twice. At the end it
prints the headline errors (5xx answers and transport errors: timeouts, refused or reset connections,
read errors), requests and errors per route, p50/p95/p99 latency per minute as this client saw it and as
the service measured it (its `prism_http_request_duration_seconds` histogram, scraped each minute: the
time from request to answer inside the service, without this client's own queueing), resident memory
after warm-up and at the end, whether every DynamoDB table equals the final snapshot, and the load average.

    .venv/bin/python -m benchmarks.soak --minutes 10    # --minutes 1.5 for a quick check
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

import boto3
import httpx
from prometheus_client.parser import text_string_to_metric_families

import data_generator as dg
from benchmarks.machine import load_average, rss_mb
from models import PageType
from rules import EntityKind

PROJECT = Path(__file__).resolve().parent.parent

SINGLE_PATHS = [
    "/",
    "/health",
    "/api/stats",
    "/api/scenarios",
    "/metrics",
    "/api/history?step=1m",
    "/api/clients?status=Active&sort=marginPercentage&order=desc&limit=5",
]
ITEM_HISTORY_QUERY = "?step=30s"
PAGE_TYPES = get_args(PageType)
SEED = 424242
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-2"}


class Recorder:
    """Outcomes by route (an HTTP status, or the name of the transport error) and latencies by minute."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.outcomes: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self.latency_by_minute: dict[int, list[float]] = collections.defaultdict(list)
        self.served: list[dict[str, Buckets]] = []  # per route, at the start of each minute and at the end

    def record(self, route: str, outcome: str, seconds: float | None = None) -> None:
        """Count an outcome of a route; a latency, when given, goes into the minute's GET percentiles."""
        self.outcomes[route][outcome] += 1
        if seconds is not None:
            self.latency_by_minute[int((time.monotonic() - self.started) // 60)].append(seconds)


def is_server_error(outcome: str) -> bool:
    """A 5xx answer."""
    return outcome.startswith("5")


def is_transport_error(outcome: str) -> bool:
    """No HTTP answer at all: the name of an httpx error rather than a status (or an SSE `ok`/`short`)."""
    return not outcome[:1].isdigit() and outcome not in ("ok", "short")


async def timed_get(client: httpx.AsyncClient, recorder: Recorder, route: str, path: str) -> httpx.Response | None:
    """GET a path, recording its status (or transport error) under its route; the response when one came."""
    started = time.perf_counter()
    try:
        response = await client.get(path)
    except httpx.HTTPError as exc:  # timeouts, refused and reset connections, read errors: no status at all
        recorder.record(route, type(exc).__name__, time.perf_counter() - started)
        return None
    recorder.record(route, str(response.status_code), time.perf_counter() - started)
    return response


async def poll_entity(client: httpx.AsyncClient, recorder: Recorder, kind: EntityKind, pick: random.Random) -> None:
    """The list of a kind, then one item of it and its history, its id taken from that list."""
    response = await timed_get(client, recorder, f"/api/{kind}", f"/api/{kind}")
    if response is None or response.status_code != 200:
        return
    # Ids of clients and leads change when a client churns or a lead closes: only a served list knows them.
    items = response.json()
    if not items:
        return
    item_id = pick.choice(items)["id"]
    await timed_get(client, recorder, f"/api/{kind}/{{id}}", f"/api/{kind}/{item_id}")
    await timed_get(
        client, recorder, f"/api/{kind}/{{id}}/history", f"/api/{kind}/{item_id}/history{ITEM_HISTORY_QUERY}"
    )


async def poll(client: httpx.AsyncClient, recorder: Recorder, stop: asyncio.Event, offset: int) -> None:
    """Every GET route in turn, starting at a different one for each poller."""
    steps: list[str] = [*dg.ENTITY_KINDS, *SINGLE_PATHS]
    pick = random.Random(offset)
    index = offset
    while not stop.is_set():
        step = steps[index % len(steps)]
        index += 1
        if step in dg.ENTITY_KINDS:
            await poll_entity(client, recorder, step, pick)
        else:
            await timed_get(client, recorder, step, step)
        await asyncio.sleep(0.02)


async def render_reports(client: httpx.AsyncClient, recorder: Recorder, stop: asyncio.Event) -> None:
    index = 0
    while not stop.is_set():
        try:
            response = await client.post("/api/generate-report", json={"pageType": PAGE_TYPES[index % 6]})
            outcome = str(response.status_code)
        except httpx.HTTPError as exc:
            outcome = type(exc).__name__
        recorder.record("POST /api/generate-report", outcome)
        index += 1
        await asyncio.sleep(1.0)


async def subscribe_and_vanish(base: str, recorder: Recorder, stop: asyncio.Event) -> None:
    while not stop.is_set():
        events = 0
        try:
            async with (
                httpx.AsyncClient(base_url=base, timeout=10) as client,
                client.stream("GET", "/api/events") as stream,
            ):
                async for line in stream.aiter_lines():
                    events += line.startswith("event: tick")
                    if events >= 3:
                        break  # vanish without a goodbye
            recorder.record("/api/events", "ok" if events >= 3 else "short")
        except httpx.HTTPError as exc:
            recorder.record("/api/events", type(exc).__name__)
        await asyncio.sleep(0.5)


class Moto:
    """moto's DynamoDB server in a process of its own (not this one: it would share this client's GIL and skew
    every latency measured here). Killed, it loses its tables, as a real outage may."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                httpx.get(f"{self.endpoint}/moto-api/", timeout=0.5)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("moto's server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


async def flap_dynamodb(moto: Moto, minutes: float, stop: asyncio.Event) -> None:
    """Kill moto's server at 1/3 and 2/3 of the run for 20 s each, then start it again (empty)."""
    for fraction in (1 / 3, 2 / 3):
        await asyncio.sleep(max(0.0, minutes * 60 * fraction - (time.monotonic() - START)))
        if stop.is_set():
            return
        print(f"[{time.monotonic() - START:6.0f} s] DynamoDB down", flush=True)
        moto.stop()
        await asyncio.sleep(20)
        await asyncio.to_thread(moto.start)
        print(f"[{time.monotonic() - START:6.0f} s] DynamoDB back (empty)", flush=True)


# Buckets of the service's request-duration histogram: upper bound (seconds) -> cumulative count, GETs only
# (the SSE stream is left out: its "duration" is the subscription's).
Buckets = dict[float, float]


def served_buckets(metrics_text: str) -> dict[str, Buckets]:
    """The service's GET request-duration buckets per route, from a /metrics scrape."""
    by_route: dict[str, Buckets] = collections.defaultdict(lambda: collections.defaultdict(float))
    for family in text_string_to_metric_families(metrics_text):
        if family.name != "prism_http_request_duration_seconds":
            continue
        for sample in family.samples:
            labels = sample.labels
            if sample.name.endswith("_bucket") and labels.get("method") == "GET" and labels["route"] != "/api/events":
                by_route[labels["route"]][float(labels["le"])] += sample.value
    return by_route


def summed(by_route: dict[str, Buckets]) -> Buckets:
    """The buckets of every route together."""
    total: Buckets = collections.defaultdict(float)
    for buckets in by_route.values():
        for bound, count in buckets.items():
            total[bound] += count
    return total


async def scrape_each_minute(client: httpx.AsyncClient, recorder: Recorder, stop: asyncio.Event) -> None:
    """The service's histogram at the start of every minute and once more at the end."""
    minute = 0
    while True:
        recorder.served.append(served_buckets((await client.get("/metrics")).text))
        if stop.is_set():
            return
        minute += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(0.0, START + 60 * minute - time.monotonic()))


def bucket_quantile(before: Buckets, after: Buckets, share: float) -> tuple[float, float]:
    """(requests, the upper bound of the bucket holding the quantile) of the requests between two scrapes."""
    bounds = sorted(after)
    counts = [after[bound] - before.get(bound, 0.0) for bound in bounds]
    total = counts[-1] if counts else 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if total and count >= share * total:
            return total, bound
    return total, float("inf")


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def print_outcomes(recorder: Recorder) -> None:
    """The headline errors, then requests and errors per route, then GET latency per minute."""
    every = collections.Counter[str]()
    for outcomes in recorder.outcomes.values():
        every.update(outcomes)
    server_errors = sum(n for outcome, n in every.items() if is_server_error(outcome))
    transport_errors = sum(n for outcome, n in every.items() if is_transport_error(outcome))
    print(
        f"errors: {server_errors + transport_errors} of {every.total()} requests "
        f"({server_errors} 5xx, {transport_errors} transport: timeouts, connection and read errors)"
    )
    print(f"{'route':70} {'requests':>8} {'5xx':>5} {'transport':>9}  outcomes")
    for route, outcomes in sorted(recorder.outcomes.items()):
        print(
            f"  {route:68} {outcomes.total():>8} {sum(n for o, n in outcomes.items() if is_server_error(o)):>5} "
            f"{sum(n for o, n in outcomes.items() if is_transport_error(o)):>9}  {dict(sorted(outcomes.items()))}"
        )
    print("GET latency per minute (every GET, errors included):")
    for minute, latencies in sorted(recorder.latency_by_minute.items()):
        ordered = sorted(latencies)
        p50, p95, p99 = (_percentile(ordered, share) * 1000 for share in (0.5, 0.95, 0.99))
        print(
            f"  minute {minute + 1:>2}: {len(ordered):>6} requests, "
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms"
        )
    print("GET latency per minute inside the service (its histogram; the bucket's upper bound):")
    for minute, (before, after) in enumerate(itertools.pairwise(map(summed, recorder.served)), start=1):
        total, _ = bucket_quantile(before, after, 1.0)
        bounds = [bucket_quantile(before, after, share)[1] * 1000 for share in (0.5, 0.95, 0.99)]
        print(
            f"  minute {minute:>2}: {total:>6.0f} requests, "
            + ", ".join(f"p{name} <= {bound:g} ms" for name, bound in zip((50, 95, 99), bounds, strict=True))
        )
    print("the whole run inside the service, by route (bucket upper bounds):")
    for route, buckets in sorted((recorder.served[-1] if recorder.served else {}).items()):
        total, _ = bucket_quantile({}, buckets, 1.0)
        p50, p99 = (bucket_quantile({}, buckets, share)[1] * 1000 for share in (0.5, 0.99))
        print(f"  {route:40} {total:>7.0f} requests, p50 <= {p50:g} ms, p99 <= {p99:g} ms")


def tables_equal_snapshot(endpoint: str, stats: dict[str, Any]) -> str:
    """Compare every table with the snapshot of the final ticks; say which tick matched, or what differs."""
    dynamodb = boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    scanned = {}
    for kind in dg.ENTITY_KINDS:
        table = dynamodb.Table(f"prism-{kind}")
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = table.scan(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        scanned[kind] = {item["id"]: _plain(item) for item in items}
    generation = dg.Generation(
        seed=stats["seed"],
        epoch=datetime.fromisoformat(stats["epoch"].replace("Z", "+00:00")),
        interval=stats["update_interval"],
        counts=stats["counts"],
        created_at=datetime.fromisoformat(stats["epoch"].replace("Z", "+00:00")),
    )
    for tick in range(stats["tick"], stats["tick"] + 40):
        snapshot = dg.compute_snapshot(generation, tick)
        if all(scanned[k] == {i["id"]: i for i in snapshot.items[k]} for k in dg.ENTITY_KINDS):
            return f"yes (tables equal the snapshot of tick {tick})"
    counts = {k: len(v) for k, v in scanned.items()}
    return f"NO: no tick from {stats['tick']} to {stats['tick'] + 39} matches; items per table {counts}"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


START = time.monotonic()


async def run(minutes: float, port: int, moto_port: int, reports_dir: str, *, reports: bool = True) -> None:
    global START
    moto = Moto(moto_port)
    moto.start()
    endpoint = moto.endpoint
    env = {
        **os.environ,
        **AWS_ENV,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "DYNAMODB_ENABLED": "true",
        "UPDATE_INTERVAL_SECONDS": "0.5",
        "SIMULATOR_SEED": str(SEED),
        "PORT": str(port),
        "REPORTS_DIR": reports_dir,
        "REPORTS_KEEP": "20",
        "MALLOC_ARENA_MAX": "2",  # as the Docker image sets it
    }
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before any load
        [sys.executable, "main.py"], cwd=PROJECT, env=env, stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    recorder = Recorder()
    try:
        async with httpx.AsyncClient(base_url=base, timeout=15) as client:
            for _ in range(200):
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            print(f"soak starts: {load_average()}", flush=True)
            START = recorder.started = time.monotonic()
            stop = asyncio.Event()
            tasks = [asyncio.create_task(poll(client, recorder, stop, n)) for n in range(8)]
            if reports:
                tasks.append(asyncio.create_task(render_reports(client, recorder, stop)))
            tasks += [asyncio.create_task(subscribe_and_vanish(base, recorder, stop)) for _ in range(4)]
            tasks.append(asyncio.create_task(flap_dynamodb(moto, minutes, stop)))
            tasks.append(asyncio.create_task(scrape_each_minute(client, recorder, stop)))
            await asyncio.sleep(min(60.0, minutes * 60 / 4))
            rss_start = rss_mb(server.pid)
            await asyncio.sleep(max(0.0, minutes * 60 - (time.monotonic() - START)))
            stop.set()
            for task, result in zip(tasks, await asyncio.gather(*tasks, return_exceptions=True), strict=True):
                if isinstance(result, BaseException):  # a load task that died would quietly lighten the load
                    print(f"load task {task.get_name()} died: {result!r}")
            rss_end = rss_mb(server.pid)
            # moto, in a process of its own on a busy machine, can be slow to answer: the last sync may take a while,
            # and the figures above are printed whatever it says.
            began = time.monotonic()
            try:
                sync = (await client.post("/api/sync", timeout=120)).json()
            except httpx.HTTPError as exc:
                sync = {"error": f"{type(exc).__name__} after {time.monotonic() - began:.0f} s"}
            stats = (await client.get("/api/stats")).json()
        server.send_signal(signal.SIGTERM)
        exit_code = server.wait(timeout=30)
        print(
            f"\nsoak of {minutes:g} min, tick 0.5 s, 8 pollers, {1 if reports else 0} report loop, 4 SSE churners, "
            "DynamoDB flapped twice"
        )
        print_outcomes(recorder)
        growth = (rss_end - rss_start) / rss_start * 100
        print(f"RSS after warm-up {rss_start:.1f} MB, at end {rss_end:.1f} MB ({growth:+.1f}%)")
        print("last manual sync:", {k: sync.get(k) for k in ("error", "itemsPending", "items_pending") if k in sync})
        print("exit code after SIGTERM:", exit_code)
        print("DynamoDB tables equal the final snapshot:", tables_equal_snapshot(endpoint, stats))
        print(f"at the end: {load_average()}")
    finally:
        if server.poll() is None:
            server.kill()
        moto.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--port", type=int, default=18650)
    parser.add_argument("--moto-port", type=int, default=18651)
    parser.add_argument("--no-reports", action="store_true", help="leave the report loop out (to see what it costs)")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request it answers
    with tempfile.TemporaryDirectory() as reports_dir:
        asyncio.run(run(args.minutes, args.port, args.moto_port, reports_dir, reports=not args.no_reports))


if __name__ == "__main__":
    main()
